//! The authenticated caller, from `Authorization: Bearer <access token>`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use uuid::Uuid;

use super::AppState;
use crate::error::ApiError;

/// Who is calling, as their access token says. Extracting it is what makes a route protected:
/// a missing, malformed, expired or forged token is a 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: Uuid,
    pub is_moderator: bool,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(caller(req))
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("authenticating", "AppState is not registered"))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "Sign in first: send `Authorization: Bearer <access token>` (POST /v1/auth/login gives one)."
                    .to_owned(),
            )
        })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "The Authorization header must be `Bearer <access token>`.".to_owned(),
            )
        })?;
    // The reason a token failed stays on the server: it helps an attacker more than a client.
    let claims = state.access_tokens.verify(token).map_err(|e| {
        tracing::debug!(reason = %e, "access token refused");
        ApiError::Unauthorized(
            "The access token is invalid or expired: refresh it (POST /v1/auth/refresh) or sign in again."
                .to_owned(),
        )
    })?;
    Ok(Caller {
        user_id: claims.sub,
        is_moderator: claims.moderator,
    })
}

/// The caller when the request carries a token, `None` when it carries none: for routes that
/// answer everyone but show members more. A token that is sent but invalid is still a 401, so
/// a client with an expired token learns to refresh it instead of silently seeing less.
#[derive(Debug, Clone, Copy)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(if req.headers().contains_key(header::AUTHORIZATION) {
            caller(req).map(|c| MaybeCaller(Some(c)))
        } else {
            Ok(MaybeCaller(None))
        })
    }
}
