//! `/v1/organizations/{id}/contacts`: named contact persons. Personal data: seen only by the
//! organization's members, the platform's moderators, and members of an organization it
//! accepted an introduction with; never in a profile, list or export. Each time they are shown
//! outside the organization, the release is recorded. Every response here is
//! `Cache-Control: private, no-store`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::codes::ConsentBasisCode;
use super::extract::{Json, Query};
use super::organizations::{
    IfMatch, audit_entry, invalid_fields, load_for_insider, load_visible, lost_race, uuid_param,
};
use super::paging::{self, Page};
use super::problem::Problem;
use crate::db::introductions::{self, NewRelease};
use crate::db::organizations::{self as queries, Updated};
use crate::db::{self, Connection, Pool};
use crate::domain::introduction::Release;
use crate::domain::organization::{Access, Contact, ContactDetails, limits};
use crate::error::ApiError;

const PRIVATE: &str = "private, no-store";

const CONTACTS_PRIVATE: &str = "Contact persons are private: only the organization's members and the platform's moderators see them.";
const CONTACTS_NOT_RELEASED: &str = "Contact persons are private: only the organization's members, the platform's moderators, and members of an organization whose introduction it accepted see them. Ask for an introduction: POST /v1/organizations/{id}/contact-requests.";

/// A named contact person, with why they are in the directory and on what basis.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "Marie Joseph")]
    pub name: String,
    #[schema(example = "Health programme coordinator")]
    pub role: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// ISO 639 codes.
    pub languages: Vec<String>,
    pub consent_basis: ConsentBasisCode,
    pub consent_obtained_at: Option<DateTime<Utc>>,
    #[schema(example = "Coordinates medical supply shipments with partner NGOs")]
    pub purpose: String,
    /// When an owner last confirmed the consent still holds
    /// (`POST .../contacts/{contact_id}/consent-review`).
    pub consent_reviewed_at: Option<DateTime<Utc>>,
    /// Whether the consent, as obtained or last confirmed (else since the person was added),
    /// is older than `CONSENT_REVIEW_DAYS`: an owner should confirm it or remove the person.
    pub consent_review_due: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How long a contact person's consent holds before it is due for review.
fn review_period(state: &AppState) -> chrono::Duration {
    chrono::Duration::days(i64::from(state.consent_review_days))
}

impl ContactView {
    fn of(c: Contact, review_period: chrono::Duration) -> Self {
        let consent_review_due = c.consent_review_due(review_period, Utc::now());
        let d = c.details;
        ContactView {
            id: c.id,
            organization_id: c.organization_id,
            name: d.name,
            role: d.role,
            email: d.email,
            phone: d.phone,
            languages: d.languages,
            consent_basis: ConsentBasisCode(d.consent_basis),
            consent_obtained_at: d.consent_obtained_at,
            purpose: d.purpose,
            consent_reviewed_at: c.consent_reviewed_at,
            consent_review_due,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new contact person. `consent_basis` and `purpose` are required: data protection asks why
/// each person is in the directory. With `consent_basis: consent`, say when it was obtained.
/// Give an email or a phone number (or both).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContactRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 100)]
    pub role: Option<String>,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(max_items = 30)]
    pub languages: Vec<String>,
    pub consent_basis: ConsentBasisCode,
    /// When the person agreed to be listed; required with `consent_basis: consent`.
    pub consent_obtained_at: Option<DateTime<Utc>>,
    /// Why this person is in the directory.
    #[schema(min_length = 1, max_length = 500)]
    pub purpose: String,
}

/// A partial update: fields left out keep their value; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContactRequest {
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub role: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 40)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 30)]
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub consent_basis: Option<ConsentBasisCode>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub consent_obtained_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_length = 1, max_length = 500)]
    pub purpose: Option<String>,
}

impl UpdateContactRequest {
    fn apply_to(self, mut d: ContactDetails) -> ContactDetails {
        if let Some(v) = self.name {
            d.name = v;
        }
        if let Some(v) = self.role {
            d.role = v;
        }
        if let Some(v) = self.email {
            d.email = v;
        }
        if let Some(v) = self.phone {
            d.phone = v;
        }
        if let Some(v) = self.languages {
            d.languages = v;
        }
        if let Some(v) = self.consent_basis {
            d.consent_basis = v.0;
        }
        if let Some(v) = self.consent_obtained_at {
            d.consent_obtained_at = v;
        }
        if let Some(v) = self.purpose {
            d.purpose = v;
        }
        d
    }
}

fn contact_etag(c: &Contact) -> String {
    format!("\"c{}\"", c.version)
}

fn contact_response(
    mut res: actix_web::HttpResponseBuilder,
    contact: Contact,
    state: &AppState,
) -> HttpResponse {
    let tag = contact_etag(&contact);
    res.insert_header((header::CACHE_CONTROL, PRIVATE))
        .insert_header((header::ETAG, tag))
        .json(ContactView::of(contact, review_period(state)))
}

fn contact_not_found() -> ApiError {
    ApiError::not_found("This organization has no contact with this id.")
}

async fn validated(
    conn: &mut Connection,
    input: ContactDetails,
) -> Result<ContactDetails, ApiError> {
    let book = crate::db::reference::code_book(conn)
        .await
        .map_err(db::query_failed("reading language codes"))?;
    input.validate(&book.known).map_err(invalid_fields)
}

/// On what ground the caller reads an organization's contact persons.
enum Reader {
    Member,
    /// A moderator who is not a member.
    Moderator,
    /// A member of `organization`, whose introduction `request` was accepted.
    Partner {
        request: Uuid,
        organization: Uuid,
    },
}

/// 404 when the caller may not see the organization; 403 when they may, but have no ground to
/// read its contacts.
async fn reader(conn: &mut Connection, caller: Caller, id: Uuid) -> Result<Reader, ApiError> {
    let (_, access) = load_visible(conn, Some(caller), Some(id), "").await?;
    match access {
        Some(a) if a.is_member() => return Ok(Reader::Member),
        Some(a) if a.is_moderator => return Ok(Reader::Moderator),
        _ => {}
    }
    match introductions::partnership(conn, caller.user_id, id)
        .await
        .map_err(db::query_failed("checking introductions"))?
    {
        Some((request, organization)) => Ok(Reader::Partner {
            request,
            organization,
        }),
        None => Err(ApiError::Forbidden(CONTACTS_NOT_RELEASED.to_owned())),
    }
}

/// Records that `contacts` of organization `id` were shown to a reader from outside it.
async fn record_release(
    conn: &mut Connection,
    caller: Caller,
    id: Uuid,
    reader: &Reader,
    contacts: &[Uuid],
) -> Result<(), ApiError> {
    let (request, organization, as_moderator) = match reader {
        Reader::Member => return Ok(()),
        Reader::Moderator => (None, None, true),
        Reader::Partner {
            request,
            organization,
        } => (Some(*request), Some(*organization), false),
    };
    if contacts.is_empty() {
        return Ok(());
    }
    introductions::record_release(
        conn,
        NewRelease {
            organization_id: id,
            viewer_user_id: caller.user_id,
            viewer_organization_id: organization,
            contact_request_id: request,
            as_moderator,
            contact_ids: contacts,
        },
    )
    .await
    .map_err(db::query_failed("recording a release of contacts"))?;
    tracing::info!(
        organization = %id,
        viewer = %caller.user_id,
        contacts = contacts.len(),
        as_moderator,
        "contact persons released"
    );
    Ok(())
}

async fn insider(conn: &mut Connection, caller: Caller, id: Uuid) -> Result<Access, ApiError> {
    load_for_insider(conn, caller, id, CONTACTS_PRIVATE)
        .await
        .map(|(_, access)| access)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactListQuery {
    /// `true`: only those whose consent is due for review (obtained or last confirmed longer
    /// ago than `CONSENT_REVIEW_DAYS`); `false`: only the others.
    pub due_for_review: Option<bool>,
}

/// List contact persons
///
/// Private: the organization's members and moderators, and members of an organization whose
/// introduction it accepted (each such view is recorded as a release).
#[utoipa::path(
    tag = "contacts",
    operation_id = "list_contacts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id"), ContactListQuery),
    responses(
        (status = 200, description = "Every contact person (one page)", body = Page<ContactView>),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member, moderator, or member of an organization whose introduction was accepted", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/contacts")]
pub async fn list_contacts(
    caller: Caller,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    query: Query<ContactListQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let due = query.into_inner().due_for_review;
    let mut conn = db::connection(&pool).await?;
    let reader = reader(&mut conn, caller, id).await?;
    let now = Utc::now();
    let contacts: Vec<Contact> = queries::list_contacts(&mut conn, id)
        .await
        .map_err(db::query_failed("listing contacts"))?
        .into_iter()
        .filter(|c| due.is_none_or(|due| c.consent_review_due(review_period(&state), now) == due))
        .collect();
    let ids: Vec<Uuid> = contacts.iter().map(|c| c.id).collect();
    record_release(&mut conn, caller, id, &reader, &ids).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(Page::complete(
            contacts
                .into_iter()
                .map(|c| ContactView::of(c, review_period(&state)))
                .collect(),
        )))
}

/// Add a contact person
///
/// By a member or a moderator; at most 20 per organization.
#[utoipa::path(
    tag = "contacts",
    operation_id = "create_contact",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id")),
    request_body = CreateContactRequest,
    responses(
        (status = 201, description = "Added; `Location` names it", body = ContactView, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member or moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organization has 20 contacts already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named (consent_basis and purpose are required)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/contacts")]
pub async fn create_contact(
    caller: Caller,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<CreateContactRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let b = body.0;
    let mut conn = db::connection(&pool).await?;
    let access = insider(&mut conn, caller, id).await?;
    let details = validated(
        &mut conn,
        ContactDetails {
            name: b.name,
            role: b.role,
            email: b.email,
            phone: b.phone,
            languages: b.languages,
            consent_basis: b.consent_basis.0,
            consent_obtained_at: b.consent_obtained_at,
            purpose: b.purpose,
        },
    )
    .await?;
    let audit = audit_entry(
        caller,
        !access.is_member(),
        "contact.created",
        id,
        None,
        serde_json::json!({"consent_basis": details.consent_basis}),
    );
    let contact = queries::create_contact(&mut conn, id, &details, limits::CONTACTS, audit)
        .await
        .map_err(db::query_failed("adding a contact"))?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "This organization has {} contacts, the most it may have: remove one first.",
                limits::CONTACTS
            ))
        })?;
    tracing::info!(organization_id = %id, contact_id = %contact.id, "contact added");
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/v1/organizations/{id}/contacts/{}", contact.id),
    ));
    Ok(contact_response(res, contact, &state))
}

/// Read a contact person
///
/// Private, like the list: members, moderators and accepted partners (a recorded release).
#[utoipa::path(
    tag = "contacts",
    operation_id = "get_contact",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The organization's id"),
        ("contact_id" = Uuid, Path, description = "The contact's id"),
    ),
    responses(
        (status = 200, description = "The contact person", body = ContactView),
        (status = 400, description = "An id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member, moderator, or member of an organization whose introduction was accepted", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or contact", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/contacts/{contact_id}")]
pub async fn get_contact(
    caller: Caller,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, contact_id) = path.into_inner();
    let id = uuid_param("id", &id)?;
    let contact_id = uuid_param("contact_id", &contact_id)?;
    let mut conn = db::connection(&pool).await?;
    let reader = reader(&mut conn, caller, id).await?;
    let contact = queries::find_contact(&mut conn, id, contact_id)
        .await
        .map_err(db::query_failed("loading a contact"))?
        .ok_or_else(contact_not_found)?;
    record_release(&mut conn, caller, id, &reader, &[contact.id]).await?;
    Ok(contact_response(HttpResponse::Ok(), contact, &state))
}

/// Update a contact person
///
/// A partial update by a member or a moderator; honours `If-Match`.
#[utoipa::path(
    tag = "contacts",
    operation_id = "update_contact",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The organization's id"),
        ("contact_id" = Uuid, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version this change is based on"),
    ),
    request_body = UpdateContactRequest,
    responses(
        (status = 200, description = "The updated contact person", body = ContactView, headers(("ETag" = String))),
        (status = 400, description = "An id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member or moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or contact", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed concurrently (without If-Match): retry", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizations/{id}/contacts/{contact_id}")]
pub async fn update_contact(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
    body: Json<UpdateContactRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, contact_id) = path.into_inner();
    let id = uuid_param("id", &id)?;
    let contact_id = uuid_param("contact_id", &contact_id)?;
    let if_match = IfMatch::of(&req);
    let mut conn = db::connection(&pool).await?;
    let access = insider(&mut conn, caller, id).await?;
    let current = queries::find_contact(&mut conn, id, contact_id)
        .await
        .map_err(db::query_failed("loading a contact"))?
        .ok_or_else(contact_not_found)?;
    let details = validated(&mut conn, body.0.apply_to(current.details.clone())).await?;
    if_match.check(&contact_etag(&current))?;
    if details == current.details {
        return Ok(contact_response(HttpResponse::Ok(), current, &state));
    }
    let audit = audit_entry(
        caller,
        !access.is_member(),
        "contact.updated",
        id,
        Some(contact_id),
        serde_json::json!({}),
    );
    match queries::update_contact(&mut conn, id, contact_id, current.version, &details, &audit)
        .await
        .map_err(db::query_failed("updating a contact"))?
    {
        Updated::Done(contact) => {
            tracing::info!(organization_id = %id, contact_id = %contact_id, "contact updated");
            Ok(contact_response(HttpResponse::Ok(), contact, &state))
        }
        Updated::Stale => Err(lost_race(&if_match)),
        Updated::Missing => Err(contact_not_found()),
    }
}

/// Remove a contact person
///
/// By a member or a moderator; honours `If-Match`. The person's details are deleted, not
/// archived: the audit log keeps only that a contact was removed, and by whom.
#[utoipa::path(
    tag = "contacts",
    operation_id = "delete_contact",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The organization's id"),
        ("contact_id" = Uuid, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version being deleted"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "An id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member or moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or contact", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}/contacts/{contact_id}")]
pub async fn delete_contact(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, contact_id) = path.into_inner();
    let id = uuid_param("id", &id)?;
    let contact_id = uuid_param("contact_id", &contact_id)?;
    let if_match = IfMatch::of(&req);
    let mut conn = db::connection(&pool).await?;
    let access = insider(&mut conn, caller, id).await?;
    let expected = match &if_match {
        IfMatch::Absent | IfMatch::Any => None,
        IfMatch::Tags(_) => {
            let current = queries::find_contact(&mut conn, id, contact_id)
                .await
                .map_err(db::query_failed("loading a contact"))?
                .ok_or_else(contact_not_found)?;
            if_match.check(&contact_etag(&current))?;
            Some(current.version)
        }
    };
    let audit = audit_entry(
        caller,
        !access.is_member(),
        "contact.deleted",
        id,
        Some(contact_id),
        serde_json::json!({}),
    );
    match queries::delete_contact(&mut conn, id, contact_id, expected, &audit)
        .await
        .map_err(db::query_failed("deleting a contact"))?
    {
        Updated::Done(()) => {
            tracing::info!(organization_id = %id, contact_id = %contact_id, "contact deleted");
            Ok(HttpResponse::NoContent().finish())
        }
        Updated::Stale => Err(lost_race(&if_match)),
        Updated::Missing => Err(contact_not_found()),
    }
}

/// A time the organization's contact persons were shown outside it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReleaseView {
    pub released_at: DateTime<Utc>,
    /// The account that saw them (null once that account is erased).
    pub viewer_user_id: Option<Uuid>,
    /// The organization the viewer acted for (null for a moderator).
    pub viewer_organization_id: Option<Uuid>,
    /// The accepted introduction that allowed it (null for a moderator).
    pub contact_request_id: Option<Uuid>,
    pub as_moderator: bool,
    /// The contact persons shown.
    pub contact_ids: Vec<Uuid>,
}

impl From<Release> for ReleaseView {
    fn from(r: Release) -> Self {
        ReleaseView {
            released_at: r.released_at,
            viewer_user_id: r.viewer_user_id,
            viewer_organization_id: r.viewer_organization_id,
            contact_request_id: r.contact_request_id,
            as_moderator: r.as_moderator,
            contact_ids: r.contact_ids,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReleaseQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// Who saw our contact persons
///
/// Owners only: every time the organization's contact persons were shown outside it (to a
/// partner through an accepted introduction, or to a moderator), newest first.
#[utoipa::path(
    tag = "contacts",
    operation_id = "list_contact_releases",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id"), ReleaseQuery),
    responses(
        (status = 200, description = "A page of releases", body = Page<ReleaseView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "The id is not a UUID, or a parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner of the organization", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/contact-releases")]
pub async fn list_contact_releases(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    query: Query<ReleaseQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let q = query.into_inner();
    let (limit, before) = paging::seq_position("contact-releases", q.limit, q.cursor.as_deref())?;
    let mut conn = db::connection(&pool).await?;
    let access = insider(&mut conn, caller, id).await?;
    if !access.is_owner() {
        return Err(ApiError::Forbidden(
            "Only the organization's owners see who was shown its contact persons.".to_owned(),
        ));
    }
    let rows = introductions::list_releases(&mut conn, id, before, limit)
        .await
        .map_err(db::query_failed("listing releases of contacts"))?;
    let mut res = paging::respond_seq(
        &req,
        "contact-releases",
        rows,
        limit,
        |r| r.id,
        ReleaseView::from,
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(PRIVATE),
    );
    Ok(res)
}

/// Confirm a contact person's consent
///
/// By an owner: the person's consent still holds (for example, they were asked again). Sets
/// `consent_reviewed_at` to now, which takes the person off `?due_for_review=true` for
/// `CONSENT_REVIEW_DAYS`. Recorded in the audit log.
#[utoipa::path(
    tag = "contacts",
    operation_id = "confirm_contact_consent",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The organization's id"),
        ("contact_id" = Uuid, Path, description = "The contact person's id"),
    ),
    responses(
        (status = 200, description = "The contact person, confirmed", body = ContactView, headers(("ETag" = String))),
        (status = 400, description = "An id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner of the organization", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or contact", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/contacts/{contact_id}/consent-review")]
pub async fn confirm_contact_consent(
    caller: Caller,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, contact_id) = path.into_inner();
    let id = uuid_param("id", &id)?;
    let contact_id = uuid_param("contact_id", &contact_id)?;
    let mut conn = db::connection(&pool).await?;
    let access = insider(&mut conn, caller, id).await?;
    if !access.is_owner() {
        return Err(ApiError::Forbidden(
            "Only the organization's owners confirm contact persons' consent.".to_owned(),
        ));
    }
    let audit = audit_entry(
        caller,
        false,
        "contact.consent_reviewed",
        id,
        Some(contact_id),
        serde_json::json!({}),
    );
    let contact = queries::confirm_consent(&mut conn, id, contact_id, &audit)
        .await
        .map_err(db::query_failed("confirming a contact's consent"))?
        .ok_or_else(contact_not_found)?;
    tracing::info!(organization_id = %id, contact_id = %contact_id, "contact consent confirmed");
    Ok(contact_response(HttpResponse::Ok(), contact, &state))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_contacts)
        .service(create_contact)
        .service(get_contact)
        .service(update_contact)
        .service(delete_contact)
        .service(confirm_contact_consent)
        .service(list_contact_releases);
}
