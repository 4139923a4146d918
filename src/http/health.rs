//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::Problem;
use crate::db::{self, Pool};
use crate::error::ApiError;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` (process up) or `ready` (database reachable).
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness
///
/// The process is up and serving HTTP. Does not touch the database.
#[utoipa::path(
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process is up", body = HealthStatus))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(HealthStatus {
            status: "ok".to_owned(),
        })
}

/// Readiness
///
/// The database answers a query. 503 (problem+json) when it does not: take the instance out of
/// rotation until it does.
#[utoipa::path(
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "The database is reachable", body = HealthStatus),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&pool).await?;
    db::ping(&mut conn)
        .await
        .map_err(|e| ApiError::unavailable("readiness check", e))?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(HealthStatus {
            status: "ready".to_owned(),
        }))
}
