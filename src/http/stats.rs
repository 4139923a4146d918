//! `GET /v1/stats`: directory-wide counts, cheap enough for every page view.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::problem::Problem;
use crate::db::stats::Stats;
use crate::db::{self, Pool};
use crate::error::ApiError;

/// How many published organizations have one value.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ValueCount {
    #[schema(example = "HTI")]
    pub value: String,
    pub organizations: i64,
}

/// An active crisis and how many published organizations are engaged in it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActiveCrisisCount {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub glide: Option<String>,
    pub started_on: NaiveDate,
    pub engaged_organizations: i64,
}

/// Counts over the published organizations (each list most frequent first, then by value;
/// an organization counts once per value it has), and the active crises, newest first.
/// Contact persons are never counted or shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatsView {
    /// Published organizations.
    pub organizations: i64,
    pub by_kind: Vec<ValueCount>,
    pub by_origin_country: Vec<ValueCount>,
    pub by_operating_country: Vec<ValueCount>,
    pub by_sector: Vec<ValueCount>,
    pub by_support_type: Vec<ValueCount>,
    pub by_language: Vec<ValueCount>,
    /// The survey's challenges, as organizations reported them.
    pub challenges: Vec<ValueCount>,
    /// The survey's interests.
    pub interests: Vec<ValueCount>,
    pub active_crises: Vec<ActiveCrisisCount>,
}

impl StatsView {
    fn of(stats: &Stats) -> StatsView {
        let list = |attribute: &str| -> Vec<ValueCount> {
            stats
                .distributions
                .iter()
                .find(|d| d.attribute == attribute)
                .map(|d| {
                    d.counts
                        .iter()
                        .map(|(value, n)| ValueCount {
                            value: value.clone(),
                            organizations: *n,
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        StatsView {
            organizations: stats.organizations,
            by_kind: list("kind"),
            by_origin_country: list("origin_country"),
            by_operating_country: list("operating_country"),
            by_sector: list("sector"),
            by_support_type: list("support_type"),
            by_language: list("language"),
            challenges: list("challenge"),
            interests: list("interest"),
            active_crises: stats
                .active_crises
                .iter()
                .map(|c| ActiveCrisisCount {
                    id: c.id,
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                    glide: c.glide.clone(),
                    started_on: c.started_on,
                    engaged_organizations: c.engaged_organizations,
                })
                .collect(),
        }
    }
}

/// Directory statistics
///
/// Counts of published organizations by kind, origin country, operating country, sector,
/// support type and language; the distribution of the survey's challenges and interests; the
/// active crises with how many organizations are engaged in each. Counted once per change to
/// the directory and then served from memory: a request costs one read of a one-row table
/// (the discovery generation, which every write to organizations, engagements and crises
/// moves forward in its own transaction), so the counts are always current. Requests that
/// arrive while a count runs wait for it rather than start their own.
#[utoipa::path(
    tag = "integrators",
    operation_id = "get_stats",
    responses(
        (status = 200, description = "The counts", body = StatsView),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats")]
pub async fn get_stats(
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&pool).await?;
    let generation = crate::db::discovery::generation(&mut conn)
        .await
        .map_err(db::query_failed("reading the discovery generation"))?;
    let stats = state
        .counts
        .stats
        .try_get_with(generation, async {
            crate::db::stats::stats(&mut conn).await.map(Arc::new)
        })
        .await
        .map_err(|e| ApiError::internal("counting the directory", e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(StatsView::of(&stats)))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_stats);
}
