//! Storage: the PostgreSQL pool, migrations, and one module of queries per aggregate.
//! The only part of the crate that knows diesel.

pub mod accounts;
pub mod changes;
pub mod crises;
pub mod discovery;
pub mod duplicates;
pub mod engagements;
pub mod introductions;
pub mod merges;
pub mod migrate;
pub mod organizations;
pub mod postings;
pub mod privacy;
pub mod reference;
pub mod retention;
pub mod schema;
pub mod stats;

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{self, Object};

use crate::error::ApiError;

pub type Pool = deadpool::Pool<AsyncPgConnection>;
pub type Connection = Object<AsyncPgConnection>;

/// How long a request waits for a free connection before it gets a 503.
const POOL_WAIT: Duration = Duration::from_secs(5);
/// How long opening a new connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the pool. No connection is opened here: the first request (or `/readyz`) does.
pub fn pool(database_url: &str, size: usize) -> Result<Pool, deadpool::BuildError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    deadpool::Pool::builder(manager)
        .max_size(size)
        .runtime(::deadpool::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
}

/// A connection for one request. Failing to get one means the database is down or saturated:
/// that is a 503 the client may retry, not a 500.
pub async fn connection(pool: &Pool) -> Result<Connection, ApiError> {
    pool.get()
        .await
        .map_err(|e| ApiError::unavailable("acquiring a database connection", e))
}

/// What a write that raced a merge is told (migration 000013's trigger refused it).
const MERGED_MEANWHILE: &str = "The organization was merged into another while this request was handled, and nothing was saved: read it again (its id now leads to the survivor) and repeat the request there.";

/// A query failure nobody expected: a 500 with the cause logged, unless the connection was lost
/// (a database restart), which is a 503 the client may retry, or a write raced a merge (409).
pub fn query_failed(context: &'static str) -> impl FnOnce(diesel::result::Error) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    move |e| match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
            ApiError::unavailable(context, e)
        }
        Error::DatabaseError(DatabaseErrorKind::CheckViolation, ref info)
            if info.constraint_name() == Some("organization_not_merged") =>
        {
            ApiError::Conflict(MERGED_MEANWHILE.to_owned())
        }
        e => ApiError::internal(context, e),
    }
}

/// One connection outside the pool, for command-line tools.
pub async fn connect(url: &str) -> Result<diesel_async::AsyncPgConnection, migrate::SetupError> {
    use diesel_async::AsyncConnection;
    diesel_async::AsyncPgConnection::establish(url)
        .await
        .map_err(|e| migrate::SetupError::Connect {
            target: migrate::redacted(url),
            cause: e.to_string(),
        })
}

/// `SELECT 1`: is the database answering?
pub async fn ping(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<()> {
    use diesel_async::RunQueryDsl;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
        .get_result::<i32>(conn)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_lost_connection_is_unavailable_and_anything_else_internal() {
        let lost = Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection".to_owned()),
        );
        assert_eq!(query_failed("test")(lost).code(), ErrorCode::Unavailable);
        let other = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("relation does not exist".to_owned()),
        );
        assert_eq!(query_failed("test")(other).code(), ErrorCode::Internal);
    }
}
