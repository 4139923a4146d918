//! `GET /v1/admin/organizations/{id}/duplicates`: likely duplicates of an organization, with
//! the reasons, for moderators deciding on a merge.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::organizations::{organization_not_found, require_moderator, uuid_param};
use super::paging::Page;
use super::problem::Problem;
use crate::db::duplicates::{self as queries, Candidate};
use crate::db::{self, Pool};
use crate::error::ApiError;

/// At most this many candidates, strongest first.
const MAX_CANDIDATES: i64 = 20;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DuplicateReason {
    /// `identifier` (the same external identifier), `website_domain`, `similar_name` (names,
    /// acronyms and alternate names, accents and case ignored), `acronym`, or
    /// `residence_country` (never a reason alone).
    pub criterion: String,
    /// What matched: the identifier, the domain, the similarity (0 to 1)...
    pub detail: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DuplicateCandidate {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    /// Any status: drafts and archived organizations are candidates too.
    pub status: String,
    pub reasons: Vec<DuplicateReason>,
}

impl From<Candidate> for DuplicateCandidate {
    fn from(c: Candidate) -> Self {
        let reason = |criterion: &str, detail: String| DuplicateReason {
            criterion: criterion.to_owned(),
            detail,
        };
        let mut reasons = Vec::new();
        if let Some(id) = c.same_identifier {
            reasons.push(reason("identifier", id));
        }
        if let Some(domain) = c.same_domain {
            reasons.push(reason("website_domain", domain));
        }
        if c.name_similarity >= queries::NAME_SIMILARITY {
            reasons.push(reason("similar_name", format!("{:.2}", c.name_similarity)));
        }
        if c.same_acronym {
            reasons.push(reason("acronym", c.acronym.clone().unwrap_or_default()));
        }
        if c.same_residence {
            reasons.push(reason("residence_country", "the same".to_owned()));
        }
        DuplicateCandidate {
            id: c.id,
            slug: c.slug,
            name: c.name,
            acronym: c.acronym,
            status: c.status,
            reasons,
        }
    }
}

/// Likely duplicates (moderators)
///
/// Other organizations, in any status, that share an external identifier or a website domain
/// with this one, or whose name (with acronym and alternate names) is similar, or whose acronym
/// is the same; a shared country of residence adds weight. Strongest first, at most 20.
#[utoipa::path(
    tag = "moderation",
    operation_id = "list_duplicates",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "Candidates with their reasons (one page)", body = Page<DuplicateCandidate>),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/organizations/{id}/duplicates")]
pub async fn list_duplicates(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let mut conn = db::connection(&pool).await?;
    require_moderator(&mut conn, caller, id).await?;
    crate::db::organizations::find_organization(&mut conn, Some(id), "")
        .await
        .map_err(db::query_failed("loading an organization"))?
        .ok_or_else(organization_not_found)?;
    let candidates = queries::duplicates(&mut conn, id, MAX_CANDIDATES)
        .await
        .map_err(db::query_failed("finding duplicates"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(Page::complete(
            candidates
                .into_iter()
                .map(DuplicateCandidate::from)
                .collect(),
        )))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_duplicates);
}
