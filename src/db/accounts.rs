//! Users, refresh-token families and sign-in failures.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{login_failures, refresh_families, refresh_tokens, users};
use crate::domain::account::{DisplayName, Email, User};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    is_moderator: bool,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            is_moderator: r.is_moderator,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this email exists")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] Error),
}

pub async fn create_user(
    conn: &mut AsyncPgConnection,
    email: &Email,
    password_hash: &str,
    display_name: &DisplayName,
) -> Result<User, CreateUserError> {
    diesel::insert_into(users::table)
        .values((
            users::email.eq(email.as_str()),
            users::password_hash.eq(password_hash),
            users::display_name.eq(display_name.as_str()),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .map(User::from)
        .map_err(|e| match e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                CreateUserError::EmailTaken
            }
            e => CreateUserError::Database(e),
        })
}

pub async fn find_user(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .filter(users::erased_at.is_null())
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
        .map(|r| r.map(User::from))
}

/// The account with this email and its password hash, if there is one.
pub async fn find_credentials(
    conn: &mut AsyncPgConnection,
    email: &Email,
) -> QueryResult<Option<(User, String)>> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .filter(users::erased_at.is_null())
        .select((UserRow::as_select(), users::password_hash))
        .first::<(UserRow, String)>(conn)
        .await
        .optional()
        .map(|r| r.map(|(u, h)| (User::from(u), h)))
}

pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    password_hash: &str,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Grants or revokes moderator rights; false when no account has this email.
pub async fn set_moderator(
    conn: &mut AsyncPgConnection,
    email: &Email,
    moderator: bool,
) -> QueryResult<bool> {
    diesel::update(
        users::table
            .filter(users::email.eq(email.as_str()))
            .filter(users::erased_at.is_null()),
    )
    .set((
        users::is_moderator.eq(moderator),
        users::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Starts a session (a refresh-token family) with its first token.
pub async fn start_refresh_family(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    token_hash: &[u8; 32],
    token_expires_at: DateTime<Utc>,
    family_expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    let token_hash = token_hash.to_vec();
    conn.transaction(async move |conn| {
        // Expired sessions of this user (and their tokens, by cascade) are of no more use.
        diesel::delete(
            refresh_families::table
                .filter(refresh_families::user_id.eq(user_id))
                .filter(refresh_families::expires_at.lt(diesel::dsl::now)),
        )
        .execute(conn)
        .await?;
        let family_id: Uuid = diesel::insert_into(refresh_families::table)
            .values((
                refresh_families::user_id.eq(user_id),
                refresh_families::expires_at.eq(family_expires_at),
            ))
            .returning(refresh_families::id)
            .get_result(conn)
            .await?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::family_id.eq(family_id),
                refresh_tokens::token_hash.eq(&token_hash),
                refresh_tokens::expires_at.eq(token_expires_at.min(family_expires_at)),
            ))
            .execute(conn)
            .await
            .map(|_| ())
    })
    .await
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now used, and `next` (already stored) replaces it.
    Rotated { user: User },
    /// The token had been used before: it was copied. Its whole family is now revoked.
    Reused,
    /// Unknown, expired, or of a revoked or expired session.
    Invalid,
}

/// Rotates the token whose hash is `presented` to `next`. Both this and revocation lock the
/// family row first, so they serialise: of two concurrent uses of one token exactly one rotates
/// (the other revokes the family), and a sign-out racing a refresh also ends the new token.
pub async fn rotate_refresh_token(
    conn: &mut AsyncPgConnection,
    presented: &[u8; 32],
    next: &[u8; 32],
    next_expires_at: DateTime<Utc>,
) -> QueryResult<Rotation> {
    let presented = presented.to_vec();
    let next = next.to_vec();
    conn.transaction(async move |conn| {
        let family_id: Option<Uuid> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&presented))
            .select(refresh_tokens::family_id)
            .first(conn)
            .await
            .optional()?;
        let Some(family_id) = family_id else {
            return Ok(Rotation::Invalid);
        };
        let family: FamilyState = refresh_families::table
            .find(family_id)
            .select((
                refresh_families::user_id,
                refresh_families::expires_at,
                refresh_families::revoked_at,
            ))
            .for_update()
            .first(conn)
            .await?;
        let (user_id, family_expires_at, family_revoked_at) = family;
        if family_revoked_at.is_some() {
            return Ok(Rotation::Invalid);
        }
        // Read under the family lock: a concurrent rotation has committed or not started.
        let (expires_at, used_at): (DateTime<Utc>, Option<DateTime<Utc>>) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&presented))
            .select((refresh_tokens::expires_at, refresh_tokens::used_at))
            .first(conn)
            .await?;
        // A used token is a copy even when it has expired since: check that first.
        if used_at.is_some() {
            revoke_family(conn, family_id).await?;
            return Ok(Rotation::Reused);
        }
        let now = Utc::now();
        if expires_at <= now || family_expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        diesel::update(refresh_tokens::table.filter(refresh_tokens::token_hash.eq(&presented)))
            .set(refresh_tokens::used_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::family_id.eq(family_id),
                refresh_tokens::token_hash.eq(&next),
                refresh_tokens::expires_at.eq(next_expires_at.min(family_expires_at)),
            ))
            .execute(conn)
            .await?;
        // An erased account's session (one that began while it was being erased) ends here.
        let user: Option<UserRow> = users::table
            .find(user_id)
            .filter(users::erased_at.is_null())
            .select(UserRow::as_select())
            .first(conn)
            .await
            .optional()?;
        let Some(user) = user else {
            revoke_family(conn, family_id).await?;
            return Ok(Rotation::Invalid);
        };
        Ok(Rotation::Rotated { user: user.into() })
    })
    .await
}

/// (user, expires_at, revoked_at) of a session.
type FamilyState = (Uuid, DateTime<Utc>, Option<DateTime<Utc>>);

async fn revoke_family(conn: &mut AsyncPgConnection, family_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_families::table
            .find(family_id)
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// Revokes the session the token whose hash is `presented` belongs to (sign-out). False when no
/// token has this hash.
pub async fn revoke_family_of(
    conn: &mut AsyncPgConnection,
    presented: &[u8; 32],
) -> QueryResult<bool> {
    let family: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(presented.as_slice()))
        .select(refresh_tokens::family_id)
        .first(conn)
        .await
        .optional()?;
    match family {
        Some(family_id) => revoke_family(conn, family_id).await.map(|_| true),
        None => Ok(false),
    }
}

/// Which counter a sign-in failure goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureScope {
    /// Failed sign-ins for one email, from anywhere.
    Account,
    /// Failed sign-ins for one email from one address.
    AccountAddress,
    /// Failed sign-ins from one address, for any email.
    Address,
    /// Registrations from one address (attempts, not failures).
    Registration,
    /// Adding members by email, per signed-in account: each answer tells whether an email has
    /// an account, so the number of lookups is bounded.
    MemberLookup,
}

impl FailureScope {
    fn as_str(self) -> &'static str {
        match self {
            FailureScope::Account => "account",
            FailureScope::AccountAddress => "account_address",
            FailureScope::Address => "address",
            FailureScope::Registration => "registration",
            FailureScope::MemberLookup => "member_lookup",
        }
    }
}

/// Failures for this key since `since`, and when the oldest of them happened.
pub async fn recent_failures(
    conn: &mut AsyncPgConnection,
    scope: FailureScope,
    key_hash: &[u8; 32],
    since: DateTime<Utc>,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    login_failures::table
        .filter(login_failures::scope.eq(scope.as_str()))
        .filter(login_failures::key_hash.eq(key_hash.as_slice()))
        .filter(login_failures::failed_at.gt(since))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(login_failures::failed_at),
        ))
        .first(conn)
        .await
}

/// Records an attempt (counted as a failure until [`forget_attempts`] takes it back), and
/// forgets rows older than `forget_before` (any key). Returns the row's id.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    scope: FailureScope,
    key_hash: &[u8; 32],
    forget_before: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(forget_before)))
        .execute(conn)
        .await?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::scope.eq(scope.as_str()),
            login_failures::key_hash.eq(key_hash.as_slice()),
        ))
        .returning(login_failures::id)
        .get_result(conn)
        .await
}

/// Takes back attempts recorded by [`record_failure`] (a sign-in that succeeded, or one refused
/// before it was tried).
pub async fn forget_attempts(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(ids)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A successful sign-in clears the account's failures (not the address's).
pub async fn clear_failures(
    conn: &mut AsyncPgConnection,
    scope: FailureScope,
    key_hash: &[u8; 32],
) -> QueryResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::scope.eq(scope.as_str()))
            .filter(login_failures::key_hash.eq(key_hash.as_slice())),
    )
    .execute(conn)
    .await
    .map(|_| ())
}
