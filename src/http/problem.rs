//! RFC 9457 problem details: how every error leaves the service.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::error::{ApiError, ErrorCode, FieldError, INTERNAL_DETAIL};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error, as RFC 9457 problem details. `code` is the field to switch on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:diaspora-directory:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "Field `origin_countries[1]`: \"ZZ\" is not an ISO 3166-1 code",
    "code": "validation_failed",
    "errors": [{"field": "origin_countries[1]", "message": "\"ZZ\" is not an ISO 3166-1 code"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:diaspora-directory:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary, the same for every problem with this `code`.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, and how to fix it when the caller can.
    pub detail: String,
    /// Stable machine-readable error code.
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    /// Field-level problems, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemFieldError>,
}

/// One invalid field or parameter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProblemFieldError {
    /// The field (`origin_countries[1]`) or query/path parameter (`region`).
    pub field: String,
    pub message: String,
}

fn error_code_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .description(Some("Stable machine-readable error code."))
}

impl Problem {
    pub fn new(code: ErrorCode, status: u16, detail: String, errors: &[FieldError]) -> Self {
        Problem {
            type_: format!("urn:diaspora-directory:problem:{code}"),
            title: code.title().to_owned(),
            status,
            detail,
            code: code.as_str().to_owned(),
            errors: errors
                .iter()
                .map(|e| ProblemFieldError {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
        }
    }
}

/// A problem+json response.
fn problem_response(
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    errors: &[FieldError],
) -> HttpResponse {
    let problem = Problem::new(code, status.as_u16(), detail, errors);
    let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        // The boundary decides what is logged: causes of 5xx, in full; never the request body.
        match self {
            ApiError::Internal { context, cause } => {
                tracing::error!(error = %cause, error.debug = ?cause, context, "request failed");
            }
            ApiError::Unavailable { context, cause } => {
                tracing::warn!(error = %cause, context, "dependency unavailable");
            }
            _ => {}
        }
        let mut response = problem_response(
            self.status_code(),
            self.code(),
            self.public_detail(),
            self.field_errors(),
        );
        match self {
            ApiError::MethodNotAllowed { allow, .. } => {
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    response.headers_mut().insert(header::ALLOW, v);
                }
            }
            ApiError::Unavailable { .. } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            ApiError::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited {
                retry_after_secs, ..
            } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// A problem for a status reached outside our handlers, where no specific detail is known (and
/// for 5xx none may be told).
fn generic_problem(status: StatusCode) -> HttpResponse {
    let code = ErrorCode::for_status(status.as_u16());
    let detail = match code {
        ErrorCode::NotFound => {
            "No resource at this path. The API's routes are listed at /openapi.json and /docs."
                .to_owned()
        }
        _ if status.is_server_error() => INTERNAL_DETAIL.to_owned(),
        _ => format!(
            "The request was rejected ({}).",
            status.canonical_reason().unwrap_or("error")
        ),
    };
    problem_response(status, code, detail, &[])
}

/// Turns an error response that is not yet problem+json (written by actix itself, a middleware
/// or an embedded service) into one with the same status and headers. The original body is
/// dropped: it may be plain text from a library, and for 5xx it must not reach the client.
pub fn ensure_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return res;
    }
    if status.is_server_error() {
        let cause = res.response().error().map(ToString::to_string);
        tracing::error!(
            status = status.as_u16(),
            error = cause.as_deref().unwrap_or("-"),
            "unhandled server error"
        );
    }
    let (req, old) = res.into_parts();
    let mut new = generic_problem(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_ENCODING
            && name != header::CACHE_CONTROL
        {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}

/// An error raised by a middleware rather than a handler, rendered as a problem. Carries only
/// the status and the request id: the original message may be a library's internals.
#[derive(Debug)]
pub struct FrameworkError {
    status: StatusCode,
    request_id: String,
}

impl FrameworkError {
    pub fn new(status: StatusCode, request_id: String) -> Self {
        FrameworkError { status, request_id }
    }
}

impl std::fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request rejected with {}", self.status)
    }
}

impl ResponseError for FrameworkError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = generic_problem(self.status);
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            res.headers_mut()
                .insert(super::middleware::REQUEST_ID_HEADER, v);
        }
        res
    }
}
