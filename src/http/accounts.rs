//! `/v1/auth/*` and `/v1/me`: accounts, sign-in, token refresh and sign-out.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::extract::Json;
use super::problem::Problem;
use crate::auth::tokens::{self, ACCESS_TTL, REFRESH_TTL, SESSION_MAX_AGE};
use crate::db::accounts::{self as queries, CreateUserError, FailureScope, Rotation};
use crate::db::{self, Pool};
use crate::domain::account::{DisplayName, Email, NewPassword, User, throttle};
use crate::error::{ApiError, FieldError};

/// What a refresh token can be at most: ours are 43 characters.
const MAX_REFRESH_TOKEN_LEN: usize = 128;
/// A password longer than this cannot be right (the contract caps new ones at 128).
const MAX_LOGIN_PASSWORD_LEN: usize = 1024;

// No Debug: these carry passwords and tokens, which must never be printed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Trimmed and lower-cased; unique.
    #[schema(
        example = "marie@diaspora-sante.org",
        max_length = 254,
        pattern = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]+@[^@.\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]+(\.[^@.\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]+)+[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub email: String,
    /// 12 to 128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    #[schema(
        example = "Marie Joseph",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*[^\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF][^\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$"
    )]
    pub display_name: String,
}

/// An account, as its owner sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// Platform moderator (granted on the command line, never through the API).
    pub is_moderator: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            is_moderator: u.is_moderator,
            created_at: u.created_at,
        }
    }
}

/// One organization the user belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembershipView {
    pub organization_id: Uuid,
    pub name: String,
    /// `owner` or `editor`.
    pub role: String,
}

/// The signed-in user and their memberships.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub memberships: Vec<MembershipView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Any string: one that is no email address simply matches no account (401).
    #[schema(example = "marie@diaspora-sante.org", max_length = 254)]
    pub email: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 128)]
    pub refresh_token: String,
}

/// A token pair. Send the access token as `Authorization: Bearer <access_token>`; trade the
/// refresh token (once: it rotates) for a new pair before the access token expires.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    pub refresh_token: String,
}

fn field<T>(errors: &mut Vec<FieldError>, name: &str, parsed: Result<T, String>) -> Option<T> {
    parsed
        .map_err(|message| errors.push(FieldError::new(name, message)))
        .ok()
}

fn unix_now() -> i64 {
    Utc::now().timestamp()
}

fn token_pair(state: &AppState, user: &User, refresh_token: String) -> TokenResponse {
    TokenResponse {
        access_token: state
            .access_tokens
            .issue(user.id, user.is_moderator, unix_now()),
        token_type: "Bearer".to_owned(),
        expires_in: ACCESS_TTL.as_secs(),
        refresh_token,
    }
}

fn from_now(d: std::time::Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero())
}

/// How long a request waits for a hashing slot before it gets a 503.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs Argon2 work on the blocking pool, off the async executor, at most
/// `AppState::hashing`'s permits at a time: each hash takes tens of MiB, and an unbounded
/// number of them would exhaust memory under a flood of sign-ins.
async fn hashing<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = tokio::time::timeout(HASHING_WAIT, state.hashing.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::unavailable("waiting for a password-hashing slot", "busy"))?
        .map_err(|e| ApiError::internal("password-hashing semaphore", e))?;
    let out = web::block(f)
        .await
        .map_err(|e| ApiError::internal("running a blocking task", e));
    drop(permit);
    out
}

/// Records this attempt under every `limits` key first, then counts: concurrent attempts see
/// each other, so a burst cannot slip past a limit before the first failure is written. When a
/// limit is exceeded the attempt is taken back and the answer is 429, with `Retry-After` when
/// the last exceeded limit frees up. Returns the recorded rows: the caller takes them back
/// when the attempt turns out well.
pub(crate) async fn reserve_attempt(
    conn: &mut crate::db::Connection,
    limits: &[(FailureScope, &[u8; 32], i64)],
    what: &str,
) -> Result<Vec<i64>, ApiError> {
    let window = throttle_window();
    let now = Utc::now();
    let mut ids = Vec::with_capacity(limits.len());
    for (scope, key, _) in limits {
        ids.push(
            queries::record_failure(conn, *scope, key, now - window)
                .await
                .map_err(db::query_failed("recording an attempt"))?,
        );
    }
    let mut wait_ms: i64 = 0;
    for (scope, key, max) in limits {
        let (count, oldest) = queries::recent_failures(conn, *scope, key, now - window)
            .await
            .map_err(db::query_failed("counting attempts"))?;
        if count > *max {
            let free_at = oldest.unwrap_or(now) + window;
            wait_ms = wait_ms.max((free_at - now).num_milliseconds().max(1));
            tracing::warn!(?scope, "{what} throttled");
        }
    }
    if wait_ms == 0 {
        return Ok(ids);
    }
    queries::forget_attempts(conn, &ids)
        .await
        .map_err(db::query_failed("taking back a refused attempt"))?;
    let retry_after_secs = ((wait_ms + 999) / 1000).max(1) as u64;
    Err(ApiError::RateLimited {
        detail: format!("Too many {what} attempts; try again in {retry_after_secs} seconds."),
        retry_after_secs,
    })
}

fn throttle_window() -> chrono::Duration {
    chrono::Duration::from_std(throttle::WINDOW).unwrap_or(chrono::Duration::minutes(15))
}

fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| throttle::address_key(a.ip()))
        .unwrap_or_default()
}

/// Register
///
/// Creates an account. The email is trimmed and lower-cased, and must be unused.
#[utoipa::path(
    tag = "accounts",
    operation_id = "register",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account", body = UserView),
        (status = 409, description = "An account with this email exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let email = field(&mut errors, "email", Email::parse(&body.email));
    let password = field(&mut errors, "password", NewPassword::parse(&body.password));
    let name = field(
        &mut errors,
        "display_name",
        DisplayName::parse(&body.display_name),
    );
    let (Some(email), Some(password), Some(name)) = (email, password, name) else {
        return Err(ApiError::validation(
            "Some fields are invalid; see `errors`.",
            errors,
        ));
    };
    let address_key = throttle_key(&state, &client_address(&req));
    {
        // Every registration counts, successful or not: the limit is on sign-ups per address.
        let mut conn = db::connection(&pool).await?;
        reserve_attempt(
            &mut conn,
            &[(
                FailureScope::Registration,
                &address_key,
                throttle::MAX_REGISTRATIONS_PER_ADDRESS,
            )],
            "registration",
        )
        .await?;
    }
    let passwords = state.passwords.clone();
    let hash = hashing(&state, move || passwords.hash(password.expose()))
        .await?
        .map_err(|e| ApiError::internal("hashing a password", e.to_string()))?;
    let mut conn = db::connection(&pool).await?;
    let user = queries::create_user(&mut conn, &email, &hash, &name)
        .await
        .map_err(|e| match e {
            CreateUserError::EmailTaken => ApiError::Conflict(
                "An account with this email already exists: sign in instead.".to_owned(),
            ),
            CreateUserError::Database(e) => db::query_failed("creating an account")(e),
        })?;
    tracing::info!(user_id = %user.id, "account registered");
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/v1/me"))
        .json(UserView::from(user)))
}

/// The token, if it is of a length a refresh token can have (the schema's `maxLength`).
fn refresh_token_field(body: RefreshRequest) -> Result<String, ApiError> {
    if body.refresh_token.chars().count() > MAX_REFRESH_TOKEN_LEN {
        let message = format!("must be at most {MAX_REFRESH_TOKEN_LEN} characters");
        return Err(ApiError::validation(
            format!("Field `refresh_token` {message}."),
            vec![FieldError::new("refresh_token", message)],
        ));
    }
    Ok(body.refresh_token)
}

/// A throttling key: a hash of the value keyed with a server secret, so that the table of
/// counters cannot be reversed into emails and addresses by hashing guesses.
pub(crate) fn throttle_key(state: &AppState, value: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(&state.throttle_secret[..])
        .chain_update(value.as_bytes())
        .finalize()
        .into()
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("The email or the password is wrong.".to_owned())
}

/// Sign in
///
/// Exchanges an email and password for a token pair. A wrong email and a wrong password get the
/// same answer. After repeated failures (5 for one account from one address, 50 for one account,
/// 30 from one address, within 15 minutes) further attempts get 429 with `Retry-After`.
#[utoipa::path(
    tag = "accounts",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    // Not an address: no account can match, and the answer must not differ from any other
    // wrong email (401 after the same work), so it is not a 422.
    let email = Email::parse(&body.email).ok();
    let normalised = email.as_ref().map_or_else(
        || body.email.trim().to_lowercase(),
        |e| e.as_str().to_owned(),
    );
    let address = client_address(&req);
    let account_key = throttle_key(&state, &format!("account\n{normalised}"));
    let pair_key = throttle_key(&state, &format!("pair\n{normalised}\n{address}"));
    let address_key = throttle_key(&state, &format!("address\n{address}"));
    let scopes = [
        (
            FailureScope::AccountAddress,
            &pair_key,
            throttle::MAX_PER_ACCOUNT_ADDRESS,
        ),
        (
            FailureScope::Account,
            &account_key,
            throttle::MAX_PER_ACCOUNT,
        ),
        (
            FailureScope::Address,
            &address_key,
            throttle::MAX_PER_ADDRESS,
        ),
    ];

    let (found, attempt) = {
        let mut conn = db::connection(&pool).await?;
        let attempt = reserve_attempt(&mut conn, &scopes, "sign-in").await?;
        let found = match &email {
            Some(email) => queries::find_credentials(&mut conn, email)
                .await
                .map_err(db::query_failed("looking up an account"))?,
            None => None,
        };
        // The connection goes back to the pool while Argon2 runs.
        (found, attempt)
    };
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let stored_hash = hash.clone();
    let password = body.password;
    let password_for_rehash = password.clone();
    let passwords = state.passwords.clone();
    let verified = hashing(&state, move || {
        password.len() <= MAX_LOGIN_PASSWORD_LEN && passwords.verify(&password, hash.as_deref())
    })
    .await?;
    let mut conn = db::connection(&pool).await?;
    let user = match (verified, user) {
        (true, Some(user)) => user,
        _ => {
            // The attempt recorded up front stays: it was a failure.
            tracing::info!("sign-in failed");
            return Err(invalid_credentials());
        }
    };
    queries::forget_attempts(&mut conn, &attempt)
        .await
        .map_err(db::query_failed("taking back a successful attempt"))?;
    // A hash made at an older cost is upgraded while the password is at hand, so that every
    // account's sign-in costs what an unknown email's does.
    if stored_hash.is_some_and(|h| state.passwords.needs_rehash(&h)) {
        let passwords = state.passwords.clone();
        let password = password_for_rehash;
        if let Ok(Ok(new_hash)) = hashing(&state, move || passwords.hash(&password)).await {
            queries::set_password_hash(&mut conn, user.id, &new_hash)
                .await
                .map_err(db::query_failed("upgrading a password hash"))?;
        }
    }
    for (scope, key) in [
        (FailureScope::AccountAddress, &pair_key),
        (FailureScope::Account, &account_key),
    ] {
        queries::clear_failures(&mut conn, scope, key)
            .await
            .map_err(db::query_failed("clearing sign-in failures"))?;
    }
    let (refresh_token, refresh_hash) = tokens::new_refresh_token();
    queries::start_refresh_family(
        &mut conn,
        user.id,
        &refresh_hash,
        from_now(REFRESH_TTL),
        from_now(SESSION_MAX_AGE),
    )
    .await
    .map_err(db::query_failed("starting a session"))?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(token_pair(&state, &user, refresh_token)))
}

/// Refresh
///
/// Trades a refresh token for a new token pair. The presented token stops working; presenting
/// it again revokes every token of the session (it was copied).
#[utoipa::path(
    tag = "accounts",
    operation_id = "refresh",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or re-used refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a refresh token (too long)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = refresh_token_field(body.0)?;
    let (next, next_hash) = tokens::new_refresh_token();
    let mut conn = db::connection(&pool).await?;
    let rotation = queries::rotate_refresh_token(
        &mut conn,
        &tokens::hash_refresh_token(&presented),
        &next_hash,
        from_now(REFRESH_TTL),
    )
    .await
    .map_err(db::query_failed("rotating a refresh token"))?;
    match rotation {
        Rotation::Rotated { user } => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(token_pair(&state, &user, next))),
        Rotation::Reused => {
            tracing::warn!("refresh token re-used: session revoked");
            Err(ApiError::Unauthorized(
                "This refresh token was already used, so it may have been copied: the whole session is revoked. Sign in again."
                    .to_owned(),
            ))
        }
        Rotation::Invalid => Err(ApiError::Unauthorized(
            "This refresh token is not valid (unknown, expired or revoked): sign in again."
                .to_owned(),
        )),
    }
}

/// Sign out
///
/// Revokes the session the refresh token belongs to (every token of it). Always 204, whether or
/// not the token was known.
#[utoipa::path(
    tag = "accounts",
    operation_id = "logout",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 422, description = "Not a refresh token (too long)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    pool: web::Data<Pool>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = refresh_token_field(body.0)?;
    let mut conn = db::connection(&pool).await?;
    queries::revoke_family_of(&mut conn, &tokens::hash_refresh_token(&presented))
        .await
        .map_err(db::query_failed("revoking a session"))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I
///
/// The signed-in user and the organizations they belong to.
#[utoipa::path(
    tag = "accounts",
    operation_id = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeView),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&pool).await?;
    let user = queries::find_user(&mut conn, caller.user_id)
        .await
        .map_err(db::query_failed("loading the signed-in user"))?
        .ok_or_else(|| ApiError::Unauthorized("This account no longer exists.".to_owned()))?;
    let memberships = crate::db::organizations::memberships(&mut conn, caller.user_id)
        .await
        .map_err(db::query_failed("loading memberships"))?
        .into_iter()
        .map(|(organization_id, name, role)| MembershipView {
            organization_id,
            name,
            role,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(MeView {
            user: user.into(),
            memberships,
        }))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(me);
}

#[cfg(test)]
mod tests {
    use crate::domain::account::{DisplayName, Email};

    /// The patterns in the OpenAPI document are the domain's own rules, word for word.
    #[test]
    fn documented_patterns_are_the_domain_rules() {
        let api = serde_json::to_value(crate::http::api_doc()).unwrap();
        let register = &api["components"]["schemas"]["RegisterRequest"]["properties"];
        assert_eq!(register["email"]["pattern"], Email::PATTERN);
        assert_eq!(register["display_name"]["pattern"], DisplayName::PATTERN);
    }

    /// ...and they mean the same: the pattern matches exactly what the parser accepts.
    #[test]
    fn documented_patterns_accept_what_the_parsers_accept() {
        let email = regex::Regex::new(Email::PATTERN).unwrap();
        for input in [
            "marie@example.org",
            "  Marie@Example.ORG\t",
            "a.b+c@sub.example.co",
            "!#$%&'*+/=?^_`{|}~@x.org",
            "nobody",
            "a@b",
            "a@x..org",
            "a b@x.org",
            "@x.org",
            "a@x.org.",
            "a@b@c.org",
            "ma\u{200B}rie@example.org",
            "\u{FEFF}marie@example.org",
            "\u{85}marie@example.org",
            "marie@example.org\u{3000}",
            "ma\u{1}rie@example.org",
        ] {
            assert_eq!(
                email.is_match(input),
                Email::parse(input).is_ok(),
                "email {input:?}"
            );
        }
        let name = regex::Regex::new(DisplayName::PATTERN).unwrap();
        for input in [
            "Marie",
            "  Marie Joseph ",
            "Ñandú",
            " ",
            "\u{3000}",
            "Ma\u{200B}rie",
            "\u{FEFF}",
            "a\tb",
            "\u{85}Marie",
            "",
        ] {
            assert_eq!(
                name.is_match(input),
                DisplayName::parse(input).is_ok(),
                "display name {input:?}"
            );
        }
    }
}
