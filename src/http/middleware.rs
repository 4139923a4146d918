//! The request boundary: a request id, a tracing span and one log line per request, and the
//! guarantee that every error leaves as problem+json.

use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
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
    // The path only: query strings may carry search terms people typed. The span is at ERROR
    // level so that it is enabled under any filter that lets errors through: an error logged
    // while handling a request always carries its request id, even with RUST_LOG=warn.
    let span = tracing::error_span!(
        "request",
        method = %req.method(),
        path = %req.path(),
        request_id = %request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    // HEAD is GET without a body (RFC 9110): route it as GET. actix-http remembers the request
    // was HEAD and sends the response's headers only.
    let mut req = req;
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let state = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .cloned();
    let method = req.method().clone();
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
            if let Some(state) = &state {
                let route = None;
                state
                    .metrics
                    .observe(route, &method, status.as_u16(), started.elapsed());
            }
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
    if let Some(state) = &state {
        state.metrics.observe(
            res.request().match_pattern().as_deref(),
            &method,
            status,
            started.elapsed(),
        );
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!("request completed");
        } else {
            tracing::info!("request completed");
        }
    });
    Ok(res)
}

/// Bodies up to this size get an ETag computed from their bytes; larger or streamed ones (bulk
/// exports) pass through untouched so that they stay streamed.
const MAX_ETAG_BODY: u64 = 4 * 1024 * 1024;

/// Conditional GET: every `200 OK` answer to a GET with a body of known size carries an `ETag`
/// (the handler's own, or a weak one hashed from the body), and a request whose
/// `If-None-Match` matches it gets `304 Not Modified` with no body: a field office on a thin link
/// re-downloads reference data only when it changed.
pub async fn conditional_get(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let is_get = req.method() == Method::GET;
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.call(req).await?.map_into_boxed_body();
    if !is_get || res.status() != StatusCode::OK {
        return Ok(res);
    }
    let (req, response) = res.into_parts();
    let (response, etag) = match response.headers().get(header::ETAG).cloned() {
        Some(etag) => (response, etag),
        None => match response.body().size() {
            BodySize::Sized(n) if n <= MAX_ETAG_BODY => {
                let (head, body) = response.into_parts();
                let bytes = actix_web::body::to_bytes(body)
                    .await
                    .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
                let etag = weak_etag(&bytes);
                let mut response = head.set_body(BoxBody::new(bytes));
                response.headers_mut().insert(header::ETAG, etag.clone());
                (response, etag)
            }
            _ => return Ok(ServiceResponse::new(req, response)),
        },
    };
    let matches = if_none_match.is_some_and(|list| etag_matches(&list, &etag));
    if !matches {
        return Ok(ServiceResponse::new(req, response));
    }
    let mut not_modified = HttpResponse::NotModified().finish();
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            not_modified
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, not_modified))
}

fn weak_etag(bytes: &[u8]) -> HeaderValue {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let tag = format!("W/\"{:016x}{:08x}\"", hasher.finish(), bytes.len());
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""))
}

/// RFC 9110 weak comparison against an `If-None-Match` list (or `*`).
fn etag_matches(list: &str, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    list.split(',')
        .any(|candidate| candidate.trim() == "*" || opaque(candidate) == opaque(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_weakly_and_accept_lists_and_star() {
        let tag = weak_etag(b"{\"a\":1}");
        let text = tag.to_str().unwrap().to_owned();
        assert!(text.starts_with("W/\""));
        assert!(etag_matches(&text, &tag));
        assert!(etag_matches(&text.replace("W/", ""), &tag));
        assert!(etag_matches(&format!("\"other\", {text}"), &tag));
        assert!(etag_matches("*", &tag));
        assert!(!etag_matches("\"other\"", &tag));
        assert_ne!(weak_etag(b"{\"a\":2}"), tag);
    }
}
