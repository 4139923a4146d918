//! Access tokens (JWT, HS256 only, short-lived) and refresh tokens (random, opaque, stored
//! hashed).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ISSUER: &str = "diaspora-directory";
pub const AUDIENCE: &str = "diaspora-directory-api";
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// A session ends this long after sign-in, however often it is refreshed.
pub const SESSION_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);

/// What an access token says about its holder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Platform moderator when the token was issued (login or refresh): a revoked right lasts
    /// at most one access-token lifetime.
    #[serde(default)]
    pub moderator: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidToken(String);

/// Signs and checks access tokens with the configured secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl AccessTokens {
    pub fn new(secret: &[u8]) -> Self {
        // One algorithm, fixed: a token claiming any other (`none` included) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        AccessTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A signed token for `user`, valid for [`ACCESS_TTL`] from `now` (Unix seconds).
    pub fn issue(&self, user: Uuid, moderator: bool, now: i64) -> String {
        let claims = Claims {
            sub: user,
            iat: now,
            exp: now + ACCESS_TTL.as_secs() as i64,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            moderator,
        };
        // HS256 over a small struct cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))
    }
}

/// A new refresh token: what the client gets, and the hash the database keeps.
pub fn new_refresh_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let tokens = AccessTokens::new(SECRET);
        let user = Uuid::new_v4();
        let claims = tokens.verify(&tokens.issue(user, true, now())).unwrap();
        assert_eq!(claims.sub, user);
        assert!(claims.moderator);
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.exp - claims.iat, ACCESS_TTL.as_secs() as i64);
    }

    #[test]
    fn expired_foreign_and_tampered_tokens_are_refused() {
        let tokens = AccessTokens::new(SECRET);
        let user = Uuid::new_v4();
        let expired = tokens.issue(user, false, now() - 3600);
        assert!(tokens.verify(&expired).is_err());
        let other = AccessTokens::new(b"another-secret-another-secret-!!");
        assert!(tokens.verify(&other.issue(user, false, now())).is_err());
        let good = tokens.issue(user, false, now());
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&serde_json::json!({
                "sub": user, "iat": now(), "exp": now() + 600,
                "iss": ISSUER, "aud": AUDIENCE, "moderator": true
            }))
            .unwrap(),
        );
        parts[1] = &forged;
        assert!(tokens.verify(&parts.join(".")).is_err(), "payload swapped");
    }

    #[test]
    fn other_algorithms_and_none_are_refused() {
        let tokens = AccessTokens::new(SECRET);
        let claims = serde_json::json!({
            "sub": Uuid::new_v4(), "iat": now(), "exp": now() + 600,
            "iss": ISSUER, "aud": AUDIENCE
        });
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(tokens.verify(&hs512).is_err());
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert!(tokens.verify(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, hb) = new_refresh_token();
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert_eq!(hash_refresh_token(&a), ha);
        assert_eq!(a.len(), 43);
    }
}
