//! `GET /v1/me/export` and `DELETE /v1/me`: the caller's own data, all of it, and its
//! erasure (data protection: access and erasure on request).

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::Problem;
use crate::db::privacy::{self as queries, Erased};
use crate::db::{self, Pool};
use crate::error::ApiError;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedAccount {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub is_moderator: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedMembership {
    pub organization_id: Uuid,
    pub organization_name: String,
    pub role: String,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedMessage {
    pub id: Uuid,
    pub contact_request_id: Uuid,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedRequest {
    pub id: Uuid,
    pub from_organization_id: Uuid,
    pub to_organization_id: Uuid,
    pub subject: String,
    pub message: String,
    pub sent_at: DateTime<Utc>,
}

/// Contact persons another organization showed this account (a partner's, or as a moderator).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedRelease {
    pub organization_id: Uuid,
    pub contact_ids: Vec<Uuid>,
    pub contact_request_id: Option<Uuid>,
    pub released_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedAuditEntry {
    pub action: String,
    pub organization_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl From<(String, Option<Uuid>, DateTime<Utc>)> for ExportedAuditEntry {
    fn from((action, organization_id, at): (String, Option<Uuid>, DateTime<Utc>)) -> Self {
        ExportedAuditEntry {
            action,
            organization_id,
            at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedSession {
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedRecord {
    /// `organization`, `membership` (of someone else, in this organization), `crisis`,
    /// `engagement`, `need`, `offer`, `verification_request` or `contact_request`.
    pub kind: String,
    /// Its id (for a membership, the organization's).
    pub id: Uuid,
    /// What the caller did: `created`, `added a member`, `requested` or `decided`.
    pub role: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedReadMark {
    pub notification_id: Uuid,
    pub read_at: DateTime<Utc>,
}

/// Everything the directory stores about the caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountExport {
    pub account: ExportedAccount,
    pub memberships: Vec<ExportedMembership>,
    /// Messages the caller wrote in introduction threads.
    pub messages: Vec<ExportedMessage>,
    /// Contact requests the caller sent.
    pub contact_requests: Vec<ExportedRequest>,
    /// Contact persons shown to the caller, as the release log recorded it.
    pub contact_releases: Vec<ExportedRelease>,
    /// What the caller did, as the audit log recorded it.
    pub audit_log: Vec<ExportedAuditEntry>,
    /// What others did to the caller's account (added it to an organization, changed its
    /// role, removed it), as the audit log recorded it; not who did it.
    pub audit_log_about: Vec<ExportedAuditEntry>,
    /// Sign-in sessions (refresh-token families); tokens themselves are stored only hashed.
    pub sessions: Vec<ExportedSession>,
    /// Other records that name the caller as who did something (ids only: they may hold other
    /// people's data).
    pub records: Vec<ExportedRecord>,
    /// Notifications the caller marked read.
    pub read_marks: Vec<ExportedReadMark>,
    pub exported_at: DateTime<Utc>,
}

fn account_gone() -> ApiError {
    ApiError::Unauthorized("This account no longer exists.".to_owned())
}

/// Export my data
///
/// Everything stored about the caller: the account, memberships, messages and contact requests
/// sent, contact persons shown to them, their audit-log entries and sessions, the other
/// records that name them (organizations, postings... they created; requests they decided) and
/// the notifications they marked read.
#[utoipa::path(
    tag = "accounts",
    operation_id = "export_me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's data", body = AccountExport,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"my-data.json\"`"))),
        (status = 401, description = "Missing, invalid or expired access token, or an erased account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/export")]
pub async fn export_me(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&pool).await?;
    let d = queries::account_data(&mut conn, caller.user_id)
        .await
        .map_err(db::query_failed("exporting an account's data"))?
        .ok_or_else(account_gone)?;
    let export = AccountExport {
        account: ExportedAccount {
            id: d.id,
            email: d.email,
            display_name: d.display_name,
            is_moderator: d.is_moderator,
            created_at: d.created_at,
            updated_at: d.updated_at,
        },
        memberships: d
            .memberships
            .into_iter()
            .map(
                |(organization_id, organization_name, role, since)| ExportedMembership {
                    organization_id,
                    organization_name,
                    role,
                    since,
                },
            )
            .collect(),
        messages: d
            .messages
            .into_iter()
            .map(|(id, contact_request_id, body, sent_at)| ExportedMessage {
                id,
                contact_request_id,
                body,
                sent_at,
            })
            .collect(),
        contact_requests: d
            .requests
            .into_iter()
            .map(
                |(id, from_organization_id, to_organization_id, subject, message, sent_at)| {
                    ExportedRequest {
                        id,
                        from_organization_id,
                        to_organization_id,
                        subject,
                        message,
                        sent_at,
                    }
                },
            )
            .collect(),
        contact_releases: d
            .releases
            .into_iter()
            .map(
                |(organization_id, contact_ids, contact_request_id, released_at)| ExportedRelease {
                    organization_id,
                    contact_ids,
                    contact_request_id,
                    released_at,
                },
            )
            .collect(),
        audit_log: d.audit.into_iter().map(ExportedAuditEntry::from).collect(),
        audit_log_about: d
            .audit_about
            .into_iter()
            .map(ExportedAuditEntry::from)
            .collect(),
        sessions: d
            .sessions
            .into_iter()
            .map(|(started_at, expires_at, revoked_at)| ExportedSession {
                started_at,
                expires_at,
                revoked_at,
            })
            .collect(),
        records: d
            .records
            .into_iter()
            .map(|r| ExportedRecord {
                kind: r.kind,
                id: r.id,
                role: r.role,
                at: r.at,
            })
            .collect(),
        read_marks: d
            .read_marks
            .into_iter()
            .map(|(notification_id, read_at)| ExportedReadMark {
                notification_id,
                read_at,
            })
            .collect(),
        exported_at: Utc::now(),
    };
    tracing::info!(user = %caller.user_id, "account data exported");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"my-data.json\"",
        ))
        .json(export))
}

/// Erase my account
///
/// Erases the caller's personal data: e-mail, name and password hash are replaced, sessions
/// (refresh tokens), memberships and read marks removed. The audit log, the contact-release log
/// and messages keep the account's id as a pseudonym. Refused (409, naming the organizations)
/// while the caller is the last owner of an organization: make someone else an owner, or
/// archive it, first. Access tokens already issued stop working at once.
#[utoipa::path(
    tag = "accounts",
    operation_id = "erase_me",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "Missing, invalid or expired access token, or an erased account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller is the last owner of an organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me")]
pub async fn erase_me(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&pool).await?;
    match queries::erase_account(&mut conn, caller.user_id)
        .await
        .map_err(db::query_failed("erasing an account"))?
    {
        Erased::Done => {
            tracing::info!(user = %caller.user_id, "account erased");
            Ok(HttpResponse::NoContent().finish())
        }
        Erased::Gone => Err(account_gone()),
        Erased::LastOwner(orgs) => {
            let names: Vec<String> = orgs
                .iter()
                .map(|(id, name)| format!("{name} ({id})"))
                .collect();
            Err(ApiError::Conflict(format!(
                "You are the last owner of {}: add another owner (POST /v1/organizations/{{id}}/members) or archive it first, then erase your account.",
                names.join(", ")
            )))
        }
    }
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_me).service(erase_me);
}
