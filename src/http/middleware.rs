//! The request boundary: a request id, a tracing span and one log line per request, and the
//! guarantee that every error leaves as problem+json.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

use super::problem::{FrameworkError, ensure_problem};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, for handlers that want to mention it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A client's id is kept when it is sane: 1–128 visible ASCII characters from a safe set, so it
/// can go into logs and headers verbatim. Otherwise a fresh UUID is used.
fn request_id_from(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = request_id_from(&req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    // The path only: query strings may carry search terms people typed.
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.path(),
        request_id = %request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let result = next.call(req).instrument(span.clone()).await;
    let latency_ms = || started.elapsed().as_secs_f64() * 1000.0;
    let res = match result {
        Ok(res) => res.map_into_boxed_body(),
        // An error raised by a middleware (not a handler) arrives unrendered, and the request
        // went with it: hand actix an error that renders itself as a problem.
        Err(err) => {
            let status = err.as_response_error().status_code();
            span.record("status", status.as_u16());
            span.record("latency_ms", latency_ms());
            span.in_scope(|| tracing::warn!(error = %err, "request rejected by middleware"));
            return Err(FrameworkError::new(status, request_id).into());
        }
    };
    let mut res = span.in_scope(|| ensure_problem(res));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = res.status().as_u16();
    span.record("status", status);
    span.record("latency_ms", latency_ms());
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!("request failed");
        } else {
            tracing::info!("request completed");
        }
    });
    Ok(res)
}
