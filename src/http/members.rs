//! `/v1/organizations/{id}/members`: who may edit an organization (editors) and who also
//! manages its members (owners).

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::accounts::{reserve_attempt, throttle_key};
use super::auth::Caller;
use super::extract::Json;
use super::organizations::{audit_entry, invalid_fields, load_for_insider, uuid_param};
use super::paging::Page;
use super::problem::Problem;
use crate::db::accounts::FailureScope;
use crate::db::organizations::{self as queries, MemberChange};
use crate::db::{self, Pool};
use crate::domain::account::{Email, throttle};
use crate::domain::organization::{Member, Role, limits};
use crate::error::{ApiError, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleView {
    /// Edits the profile and manages members.
    Owner,
    /// Edits the profile and its contacts.
    Editor,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => RoleView::Owner,
            Role::Editor => RoleView::Editor,
        }
    }
}

/// A member of an organization. Seen only by the organization's members and moderators.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub role: RoleView,
    pub added_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            user_id: m.user_id,
            display_name: m.display_name,
            email: m.email,
            role: m.role.into(),
            added_at: m.added_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The email of an existing account.
    #[schema(max_length = 254, example = "jean@diaspora-sante.org")]
    pub email: String,
    pub role: RoleView,
}

const MEMBERS_ONLY: &str =
    "Only the organization's members and moderators see or manage its members.";

/// List members
///
/// The organization's owners and editors; seen by its members and moderators.
#[utoipa::path(
    tag = "organizations",
    operation_id = "list_members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "Every member (one page)", body = Page<MemberView>),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member or moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/members")]
pub async fn list_members(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let mut conn = db::connection(&pool).await?;
    load_for_insider(&mut conn, caller, id, MEMBERS_ONLY).await?;
    let members = queries::list_members(&mut conn, id)
        .await
        .map_err(db::query_failed("listing members"))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(Page::complete(
            members.into_iter().map(MemberView::from).collect(),
        )))
}

/// Add a member, or change a member's role
///
/// An owner (or a moderator) adds an existing account as `owner` or `editor`; sending the
/// email of a member changes their role. The last owner cannot be made an editor. Each
/// account may add 30 members per 15 minutes (the answer tells whether an email has an
/// account, which sign-in never does).
#[utoipa::path(
    tag = "organizations",
    operation_id = "add_member",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = MemberView),
        (status = 200, description = "Already a member: the role is now as sent", body = MemberView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner or moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot become an editor; or the organization has 50 members", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, or no account has it", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many members added by this account lately (each answer tells whether an email has an account); see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<AddMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let body = body.0;
    let role = match body.role {
        RoleView::Owner => Role::Owner,
        RoleView::Editor => Role::Editor,
    };
    let mut conn = db::connection(&pool).await?;
    let refusal = "Only the organization's owners, or a moderator, manage its members.";
    let (_, access) = load_for_insider(&mut conn, caller, id, refusal).await?;
    if !(access.is_owner() || access.is_moderator) {
        return Err(ApiError::Forbidden(refusal.to_owned()));
    }
    let email =
        Email::parse(&body.email).map_err(|m| invalid_fields(vec![FieldError::new("email", m)]))?;
    // Whether an email has an account is what sign-in hides; here an owner learns it, so the
    // lookups are counted per account.
    let key = throttle_key(&state, &format!("member-lookup\n{}", caller.user_id));
    reserve_attempt(
        &mut conn,
        &[(
            FailureScope::MemberLookup,
            &key,
            throttle::MAX_MEMBER_LOOKUPS_PER_ACCOUNT,
        )],
        "member-addition",
    )
    .await?;
    let user_id = queries::find_user_id_by_email(&mut conn, email.as_str())
        .await
        .map_err(db::query_failed("looking up an account"))?
        .ok_or_else(|| {
            invalid_fields(vec![FieldError::new(
                "email",
                "no account has this email: ask the person to register first (POST /v1/auth/register)",
            )])
        })?;
    let audit = audit_entry(
        caller,
        !access.is_owner(),
        "member.added",
        id,
        Some(user_id),
        serde_json::json!({"role": role.as_str()}),
    );
    let change = queries::put_member(&mut conn, id, user_id, role, limits::MEMBERS, audit)
        .await
        .map_err(db::query_failed("adding a member"))?;
    match change {
        MemberChange::Added(m) => {
            tracing::info!(organization_id = %id, user_id = %m.user_id, role = m.role.as_str(), "member added");
            Ok(HttpResponse::Created().json(MemberView::from(m)))
        }
        MemberChange::RoleChanged(m) | MemberChange::Unchanged(m) => {
            tracing::info!(organization_id = %id, user_id = %m.user_id, role = m.role.as_str(), "member role set");
            Ok(HttpResponse::Ok().json(MemberView::from(m)))
        }
        MemberChange::LastOwner => Err(last_owner()),
        MemberChange::Full => Err(ApiError::Conflict(format!(
            "This organization has {} members, the most it may have: remove one first.",
            limits::MEMBERS
        ))),
        MemberChange::NotMember => Err(super::organizations::organization_not_found()),
        MemberChange::AccountGone => Err(invalid_fields(vec![FieldError::new(
            "email",
            "no account has this email: ask the person to register first (POST /v1/auth/register)",
        )])),
        MemberChange::Removed => Err(ApiError::internal(
            "adding a member",
            "unexpected outcome of an addition",
        )),
    }
}

fn last_owner() -> ApiError {
    ApiError::Conflict(
        "This is the organization's last owner: make another member an owner first.".to_owned(),
    )
}

/// Remove a member
///
/// Owners (and moderators) remove anyone; any member may remove themselves (leave). The last
/// owner cannot leave.
#[utoipa::path(
    tag = "organizations",
    operation_id = "remove_member",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The organization's id"),
        ("user_id" = Uuid, Path, description = "The member's account id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "An id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither an owner, a moderator, nor the member themselves", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot leave", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}/members/{user_id}")]
pub async fn remove_member(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, user_id) = path.into_inner();
    let id = uuid_param("id", &id)?;
    let user_id = uuid_param("user_id", &user_id)?;
    let mut conn = db::connection(&pool).await?;
    let (_, access) = load_for_insider(&mut conn, caller, id, MEMBERS_ONLY).await?;
    let leaving = user_id == caller.user_id;
    if !(leaving || access.is_owner() || access.is_moderator) {
        return Err(ApiError::Forbidden(
            "Only the organization's owners, or a moderator, remove other members.".to_owned(),
        ));
    }
    let audit = audit_entry(
        caller,
        !(leaving || access.is_owner()),
        "member.removed",
        id,
        Some(user_id),
        serde_json::json!({}),
    );
    match queries::remove_member(&mut conn, id, user_id, &audit)
        .await
        .map_err(db::query_failed("removing a member"))?
    {
        MemberChange::LastOwner => Err(last_owner()),
        MemberChange::NotMember => Err(ApiError::not_found(
            "This account is not a member of the organization.",
        )),
        MemberChange::Removed => {
            tracing::info!(organization_id = %id, user_id = %user_id, "member removed");
            Ok(HttpResponse::NoContent().finish())
        }
        MemberChange::Added(_)
        | MemberChange::RoleChanged(_)
        | MemberChange::Unchanged(_)
        | MemberChange::Full
        | MemberChange::AccountGone => Err(ApiError::internal(
            "removing a member",
            "unexpected outcome of a removal",
        )),
    }
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_members)
        .service(add_member)
        .service(remove_member);
}
