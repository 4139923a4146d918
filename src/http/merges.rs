//! `POST /v1/admin/organizations/{id}/merge`: a moderator merges a duplicate into the
//! organization that survives; and what the merged organization's id and slug answer from then
//! on, on every route under them: a permanent redirect (308) to the survivor for reads, a 409
//! naming it for writes.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::extract::Json;
use super::organizations::{
    OrganizationView, audit_entry, is_slug_shaped, require_moderator, uuid_param,
};
use super::problem::Problem;
use crate::db::merges::{self as queries, Caps, MergeOutcome};
use crate::db::{self, Pool};
use crate::domain::merge::absorb;
use crate::domain::organization::limits;
use crate::error::{ApiError, FieldError};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The organization that survives: it receives everything, and the merged one's id and
    /// slug redirect to it.
    pub into: Uuid,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergedOrganization {
    pub id: Uuid,
    /// Answers `308` to the survivor from now on, as does the id.
    pub slug: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MovedCounts {
    /// Members (one already in the survivor keeps the higher of its two roles).
    pub members: i64,
    pub contacts: i64,
    pub engagements: i64,
    pub needs: i64,
    pub offers: i64,
    /// Contact requests with other organizations, with their messages, notifications and
    /// release records.
    pub contact_requests: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergeView {
    /// The merged organization: archived, and redirecting to the survivor.
    pub merged: MergedOrganization,
    /// The survivor as it now is: its profile absorbed the merged one's (names become alternate
    /// names; lists are joined; its own single values win).
    pub into: OrganizationView,
    pub moved: MovedCounts,
    /// Contact requests that stay with the merged organization: those between the two, and
    /// pending ones whose other side already has a pending request with the survivor.
    pub contact_requests_left: i64,
    /// Of those, the pending ones, now closed: withdrawn where the merged organization had sent
    /// them, declined where it had received them; the other side is notified.
    pub contact_requests_closed: i64,
}

fn survivor_error(detail: String, message: &str) -> ApiError {
    ApiError::validation(detail, vec![FieldError::new("into", message)])
}

/// Merge a duplicate (moderators)
///
/// Merges this organization into `into`, in one transaction: the survivor's profile absorbs
/// this one's (names become alternate names, capabilities are joined by sector, countries,
/// languages and identifiers are joined, its own single values win); members, contact persons,
/// engagements, needs, offers and contact requests with other organizations (their messages,
/// notifications and release records too) move to it. A partner of this organization (an
/// accepted introduction) thereby becomes a partner of the survivor. Pending requests that
/// cannot move are closed, the other side notified, and an open verification request is
/// rejected. This organization is archived for good; under its id and slug, reads answer
/// `308 Permanent Redirect` to the survivor (when it is published) and writes a 409 naming it.
/// Recorded in the audit log of both; the change feed shows this one deleted and the survivor
/// updated. A moderator who is a member of either leaves it to another moderator.
#[utoipa::path(
    tag = "moderation",
    operation_id = "merge_organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization to merge (the duplicate)")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "Merged: what moved, and the survivor", body = MergeView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator, or a member of either organization", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This organization was already merged (the detail names its survivor)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`into` is this organization, names no organization, or one archived or merged; or together they would exceed a limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/organizations/{id}/merge")]
pub async fn merge_organizations(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let into = body.0.into;
    let mut conn = db::connection(&pool).await?;
    let conflicted =
        "You are a member of an organization in this merge: another moderator merges it.";
    if require_moderator(&mut conn, caller, id).await?.is_member() {
        return Err(ApiError::Forbidden(conflicted.to_owned()));
    }
    if require_moderator(&mut conn, caller, into)
        .await?
        .is_member()
    {
        return Err(ApiError::Forbidden(conflicted.to_owned()));
    }
    if into == id {
        return Err(survivor_error(
            "An organization cannot be merged into itself.".to_owned(),
            "is this organization: name the one that survives",
        ));
    }
    let book = crate::db::reference::code_book(&mut conn)
        .await
        .map_err(db::query_failed("reading country and language codes"))?;
    let caps = Caps {
        members: limits::MEMBERS,
        contacts: limits::CONTACTS,
    };
    let audit = audit_entry(
        caller,
        true,
        "organization.merged",
        id,
        Some(into),
        serde_json::Value::Null,
    );
    let outcome = queries::merge(
        &mut conn,
        id,
        into,
        caps,
        |survivor, merged| absorb(survivor, merged).validate(&book.known),
        audit,
    )
    .await
    .map_err(db::query_failed("merging organizations"))?;
    let merged = match outcome {
        MergeOutcome::Done(merged) => merged,
        MergeOutcome::Missing => {
            return Err(ApiError::NotFound(format!(
                "No organization has the id {id}."
            )));
        }
        MergeOutcome::AlreadyMerged(survivor) => {
            return Err(ApiError::Conflict(format!(
                "This organization was already merged into {survivor}; to merge further, merge that one."
            )));
        }
        MergeOutcome::SurvivorMissing => {
            return Err(survivor_error(
                "The survivor does not exist.".to_owned(),
                "names no organization",
            ));
        }
        MergeOutcome::SurvivorMerged(next) => {
            return Err(survivor_error(
                format!("The survivor was itself merged into {next}: merge into that one."),
                "was merged into another organization",
            ));
        }
        MergeOutcome::SurvivorArchived => {
            return Err(survivor_error(
                "The survivor is archived: publish it (or save it as a draft) first, or merge the other way.".to_owned(),
                "is archived",
            ));
        }
        MergeOutcome::TooMany { what, total, max } => {
            return Err(survivor_error(
                format!(
                    "Together the two organizations have {total} {what}; one may have at most {max}. Remove some first."
                ),
                "would exceed a limit",
            ));
        }
        MergeOutcome::Refused(errors) => {
            return Err(ApiError::validation(
                "The joined profile would be invalid (each field named in `errors`): edit either profile first.",
                errors,
            ));
        }
    };
    tracing::info!(
        organization_id = %merged.merged_id,
        into = %merged.survivor.id,
        members = merged.moved.members,
        contacts = merged.moved.contacts,
        engagements = merged.moved.engagements,
        needs = merged.moved.needs,
        offers = merged.moved.offers,
        contact_requests = merged.moved.contact_requests,
        "organization merged"
    );
    let moved = &merged.moved;
    let view = MergeView {
        merged: MergedOrganization {
            id: merged.merged_id,
            slug: merged.merged_slug.clone(),
        },
        moved: MovedCounts {
            members: moved.members,
            contacts: moved.contacts,
            engagements: moved.engagements,
            needs: moved.needs,
            offers: moved.offers,
            contact_requests: moved.contact_requests,
        },
        contact_requests_left: merged.contact_requests_left,
        contact_requests_closed: merged.contact_requests_closed,
        into: OrganizationView::of(merged.survivor, Utc::now()),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(view))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(merge_organizations);
}

// ------------------------------------------------------------ the redirect

/// Splits a path under an organization (`/v1/organizations/{key}...` or
/// `/v1/admin/organizations/{key}/...`) into what comes before the key, the key, and the rest.
/// The merge itself is not redirected: merging a merged organization is a 409, not a merge of
/// its survivor. Works on route templates too (the key is then `{id}`).
pub fn organization_key(path: &str) -> Option<(&str, &str, &str)> {
    let prefix = ["/v1/organizations/", "/v1/admin/organizations/"]
        .into_iter()
        .find(|p| path.starts_with(p))?;
    let tail = &path[prefix.len()..];
    let (key, rest) = tail.split_at(tail.find('/').unwrap_or(tail.len()));
    (!key.is_empty() && rest != "/merge").then_some((prefix, key, rest))
}

/// What a request that found no organization gets when its key names a merged one.
enum Answer {
    /// GET and HEAD: `308` to the same route under the (published) survivor, query kept.
    Redirect(String),
    /// Other methods: a 409 naming the survivor. Clients repeat a 308 with the same method and
    /// body, and a DELETE or PATCH meant for the duplicate must not reach the survivor unseen.
    Refuse(ApiError),
}

async fn answer_for(pool: &Pool, method: &Method, path: &str, query: &str) -> Option<Answer> {
    let (prefix, key, rest) = organization_key(path)?;
    let id = Uuid::parse_str(key).ok();
    if id.is_none() && !is_slug_shaped(key) {
        return None;
    }
    let looked_up = match db::connection(pool).await {
        Ok(mut conn) => queries::survivor_of(&mut conn, id, key)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let survivor = match looked_up {
        Ok(found) => found?,
        Err(e) => {
            tracing::warn!(error = %e, "could not look up a merged organization; answering 404");
            return None;
        }
    };
    // A duplicate that was never public stays unseen, as it was.
    if !survivor.merged_was_public {
        return None;
    }
    let new_key = if id.is_some() {
        survivor.id.to_string()
    } else {
        survivor.slug.clone()
    };
    if matches!(*method, Method::GET | Method::HEAD) {
        // An unpublished survivor stays unseen: its slug would tell its name.
        if !survivor.published {
            return None;
        }
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        return Some(Answer::Redirect(format!("{prefix}{new_key}{rest}{query}")));
    }
    let whom = if survivor.published {
        format!("organization {} ({prefix}{new_key})", survivor.id)
    } else {
        "another organization".to_owned()
    };
    Some(Answer::Refuse(ApiError::Conflict(format!(
        "This organization was merged into {whom}. Nothing was done: if the request is meant for that organization, send it there."
    ))))
}

/// Middleware: a 404 under a merged organization's id or slug becomes, for GET and HEAD, a
/// `308 Permanent Redirect` to the same route under its survivor (when that one is published),
/// and for other methods a 409 naming the survivor. Handlers answer 404 for a merged
/// organization (`find_organization` never returns one), so only requests that would fail
/// pay for the look-up.
pub async fn redirect_merged(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let pool = req.app_data::<web::Data<Pool>>().cloned();
    let res = next.call(req).await?.map_into_boxed_body();
    if res.status() != StatusCode::NOT_FOUND {
        return Ok(res);
    }
    let Some(pool) = pool else {
        return Ok(res);
    };
    let request = res.request();
    let answer = answer_for(
        &pool,
        request.method(),
        request.path(),
        request.query_string(),
    )
    .await;
    Ok(match answer {
        None => res,
        Some(Answer::Redirect(location)) => {
            tracing::debug!(%location, "merged organization: redirecting to its survivor");
            res.into_response(
                HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, location))
                    .finish(),
            )
        }
        Some(Answer::Refuse(problem)) => res.into_response(problem.error_response()),
    })
}

#[cfg(test)]
mod tests {
    use super::organization_key;

    #[test]
    fn paths_under_an_organization_are_split_at_its_key() {
        assert_eq!(
            organization_key("/v1/organizations/abc"),
            Some(("/v1/organizations/", "abc", ""))
        );
        assert_eq!(
            organization_key("/v1/organizations/abc/contacts/x"),
            Some(("/v1/organizations/", "abc", "/contacts/x"))
        );
        assert_eq!(
            organization_key("/v1/admin/organizations/{id}/duplicates"),
            Some(("/v1/admin/organizations/", "{id}", "/duplicates"))
        );
        assert_eq!(organization_key("/v1/admin/organizations/abc/merge"), None);
        assert_eq!(organization_key("/v1/organizations"), None);
        assert_eq!(organization_key("/v1/organizations/"), None);
        assert_eq!(organization_key("/v1/crises/abc"), None);
    }
}
