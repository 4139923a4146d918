//! `GET /metrics`: Prometheus text format. Requests are counted and timed per route pattern
//! (`/v1/organizations/{id}`, never a path with its ids), method and status; the database pool
//! is read at scrape time. No label carries personal data.

use std::time::Duration;

use actix_web::http::{Method, header};
use actix_web::{HttpResponse, get, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::AppState;
use crate::error::ApiError;

/// The label of requests no route matched (scans, typos): one series for all of them.
const UNMATCHED: &str = "unmatched";

/// The server's metrics, registered once per application.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGaugeVec,
    pool_waiting: IntGauge,
    pool_max: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route pattern, method and status.",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to its response's head, by route pattern, method and status.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route", "method", "status"],
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections held by the pool, in use or idle.",
            ),
            &["state"],
        )?;
        let pool_waiting = IntGauge::new(
            "db_pool_waiting",
            "Requests waiting for a database connection.",
        )?;
        let pool_max = IntGauge::new(
            "db_pool_max_connections",
            "The most connections the pool may hold (DATABASE_POOL_SIZE).",
        )?;
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "Always 1; the labels describe the build."),
            &["version", "rustc"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("DD_RUSTC_VERSION")])
            .set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_waiting.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(build_info))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            pool_waiting,
            pool_max,
        })
    }

    /// Counts and times one request. `route` is the pattern that matched, if any.
    pub fn observe(&self, route: Option<&str>, method: &Method, status: u16, elapsed: Duration) {
        let route = route.unwrap_or(UNMATCHED);
        // Only the methods the API answers: anything else is one series, not one per verb
        // a scanner invents.
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PATCH => "PATCH",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::OPTIONS => "OPTIONS",
            _ => "other",
        };
        let status = status.to_string();
        self.requests
            .with_label_values(&[route, method, &status])
            .inc();
        self.latency
            .with_label_values(&[route, method, &status])
            .observe(elapsed.as_secs_f64());
    }

    fn render(&self, pool: &crate::db::Pool) -> Result<String, prometheus::Error> {
        let status = pool.status();
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.pool_connections
            .with_label_values(&["idle"])
            .set(gauge(status.available));
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(gauge(status.size.saturating_sub(status.available)));
        self.pool_waiting.set(gauge(status.waiting));
        self.pool_max.set(gauge(status.max_size));
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// Metrics
///
/// Prometheus text format: `http_requests_total{route,method,status}`,
/// `http_request_duration_seconds{route,method,status}` (a histogram), `db_pool_connections{state}`
/// (`in_use`, `idle`), `db_pool_waiting`, `db_pool_max_connections` and `build_info{version}`.
/// Routes are labelled by their pattern, never by a path with ids in it.
#[utoipa::path(
    tag = "operations",
    operation_id = "metrics",
    responses((status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state
        .metrics
        .render(&state.pool)
        .map_err(|e| ApiError::internal("rendering metrics", e))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, TextEncoder::new().format_type()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text))
}
