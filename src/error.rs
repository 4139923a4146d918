//! The one error type every request path returns.
//!
//! Each variant is a decision about what the *client* is told. Internal causes travel inside
//! `Internal` and `Unavailable` so the HTTP boundary can log them, but they are never rendered.
//! No `From` conversion from library errors exists on purpose: a careless `?` must not silently
//! become a 500; the code that raises an error says what it means.

use std::fmt;

/// A field-level validation message (`errors[]` in problem+json).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Stable machine-readable codes: integrators switch on these, so they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadRequest,
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    Unavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::BadRequest,
        ErrorCode::ValidationFailed,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NotAcceptable,
        ErrorCode::Conflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::NotAcceptable => "not_acceptable",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    /// The HTTP status this code is usually sent with. `validation_failed` is 422 for a body and
    /// 400 for a query or path parameter; see [`ApiError::status`].
    pub fn default_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::ValidationFailed => 422,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::NotAcceptable => 406,
            ErrorCode::Conflict => 409,
            ErrorCode::PreconditionFailed => 412,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// Short human title (the problem's `title`): the same for every occurrence of the code.
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::ValidationFailed => "Validation failed",
            ErrorCode::Unauthorized => "Authentication required",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::NotFound => "Not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::NotAcceptable => "Not acceptable",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::PreconditionFailed => "Precondition failed",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::Internal => "Internal server error",
            ErrorCode::Unavailable => "Service unavailable",
        }
    }

    /// The code that fits a status when nothing more specific is known (used when a response
    /// produced outside our handlers, e.g. by a framework layer, is turned into a problem).
    pub fn for_status(status: u16) -> ErrorCode {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.default_status() == status)
            .unwrap_or(if status >= 500 {
                ErrorCode::Internal
            } else {
                ErrorCode::BadRequest
            })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client is told about any 5xx it was not meant to see the cause of.
pub const INTERNAL_DETAIL: &str = "The server failed to handle this request. It has been logged; quote the X-Request-Id header when reporting it.";

/// Boxed cause of an unexpected failure, for the log only.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be parsed at all (a body that is not JSON, a garbled query string).
    #[error("{0}")]
    BadRequest(String),
    /// A query or path parameter is unknown or invalid: 400 `validation_failed`, naming it.
    #[error("{detail}")]
    InvalidParameter {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// A well-formed body with invalid fields: 422 `validation_failed`, naming them.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No valid credentials: 401 with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the right.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (a taken email, the last owner leaving).
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` names a version that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// Too many attempts: 429 with `Retry-After`.
    #[error("{detail}")]
    RateLimited {
        detail: String,
        retry_after_secs: u64,
    },
    #[error("{detail}")]
    MethodNotAllowed { detail: String, allow: Vec<String> },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Something we did not expect: logged with its cause, rendered as a generic 500.
    #[error("internal error: {context}")]
    Internal {
        context: &'static str,
        #[source]
        cause: Cause,
    },
    /// A dependency (the database) is unreachable or saturated: 503, cause logged.
    #[error("unavailable: {context}")]
    Unavailable {
        context: &'static str,
        #[source]
        cause: Cause,
    },
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest(detail.into())
    }

    /// A single bad query or path parameter.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::InvalidParameter {
            detail: format!("Parameter `{field}`: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn validation(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        ApiError::Validation {
            detail: detail.into(),
            errors,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::NotFound(detail.into())
    }

    pub fn internal(context: &'static str, cause: impl Into<Cause>) -> Self {
        ApiError::Internal {
            context,
            cause: cause.into(),
        }
    }

    pub fn unavailable(context: &'static str, cause: impl Into<Cause>) -> Self {
        ApiError::Unavailable {
            context,
            cause: cause.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::InvalidParameter { .. } | ApiError::Validation { .. } => {
                ErrorCode::ValidationFailed
            }
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::PreconditionFailed(_) => ErrorCode::PreconditionFailed,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::Internal { .. } => ErrorCode::Internal,
            ApiError::Unavailable { .. } => ErrorCode::Unavailable,
        }
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::InvalidParameter { .. } => 400,
            other => other.code().default_status(),
        }
    }

    /// What the client may read. Never the cause of a 5xx.
    pub fn public_detail(&self) -> String {
        match self {
            ApiError::Internal { .. } => INTERNAL_DETAIL.to_owned(),
            ApiError::Unavailable { .. } => {
                "The service cannot reach its database right now. Retry in a few seconds."
                    .to_owned()
            }
            other => other.to_string(),
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ApiError::InvalidParameter { errors, .. } | ApiError::Validation { errors, .. } => {
                errors
            }
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_map_back_from_their_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()));
            assert_eq!(ErrorCode::for_status(code.default_status()), code);
        }
        assert_eq!(ErrorCode::for_status(418), ErrorCode::BadRequest);
        assert_eq!(ErrorCode::for_status(502), ErrorCode::Internal);
    }

    #[test]
    fn internal_detail_never_contains_the_cause() {
        let e = ApiError::internal(
            "loading countries",
            "relation \"countries\" does not exist at /srv/app/src/db.rs:12",
        );
        let detail = e.public_detail();
        assert!(!detail.contains("relation"));
        assert!(!detail.contains("/srv"));
        assert_eq!(e.status(), 500);
    }
}
