//! Creating the database and applying the embedded migrations.

use diesel::{ExpressionMethods as _, QueryDsl as _};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use url::Url;

/// Every migration under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Serialises concurrent migrators (two replicas starting at once) on one database.
const MIGRATION_LOCK_KEY: i64 = 0x4449_4153_504f_5241; // "DIASPORA"

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "cannot connect to PostgreSQL at {target}: {cause}\n\
         Is the server running and DATABASE_URL right? `scripts/ensure-postgres` installs and starts a local one."
    )]
    Connect { target: String, cause: String },
    #[error("DATABASE_URL: {0}")]
    BadUrl(String),
    #[error(
        "creating database {name:?} failed: {cause}\nThe role in DATABASE_URL needs the CREATEDB privilege, or create the database yourself."
    )]
    Create { name: String, cause: String },
    #[error("applying migrations to {target} failed: {cause}")]
    Migrate { target: String, cause: String },
}

/// The URL with any password (in the user part or a `password=` parameter) replaced, for logs
/// and messages.
pub fn redacted(url: &str) -> String {
    let Ok(mut u) = Url::parse(url) else {
        return "<unparseable DATABASE_URL>".to_owned();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// The same server, database `postgres`: where `CREATE DATABASE` is issued from.
fn maintenance_url(url: &str) -> Result<Url, SetupError> {
    let mut u = Url::parse(url).map_err(|e| SetupError::BadUrl(e.to_string()))?;
    u.set_path("/postgres");
    Ok(u)
}

/// Creates the database named in `url` unless it exists. Returns whether it created it.
///
/// Connects to the database itself first: only when PostgreSQL says it does not exist does it go
/// through the `postgres` maintenance database (which a managed server may not let us reach).
pub async fn ensure_database(url: &str) -> Result<bool, SetupError> {
    let name = crate::config::database_name(url).map_err(SetupError::BadUrl)?;
    match AsyncPgConnection::establish(url).await {
        Ok(_) => return Ok(false),
        Err(e) if e.to_string().contains("does not exist") => {}
        Err(e) => {
            return Err(SetupError::Connect {
                target: redacted(url),
                cause: e.to_string(),
            });
        }
    }
    let maintenance = maintenance_url(url)?;
    let mut conn = AsyncPgConnection::establish(maintenance.as_str())
        .await
        .map_err(|e| SetupError::Connect {
            target: redacted(maintenance.as_str()),
            cause: e.to_string(),
        })?;
    if database_exists(&mut conn, &name)
        .await
        .map_err(|e| SetupError::Create {
            name: name.clone(),
            cause: e.to_string(),
        })?
    {
        return Ok(false);
    }
    // CREATE DATABASE takes no bind parameters: the name is quoted as an identifier.
    let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
    match diesel::sql_query(statement).execute(&mut conn).await {
        Ok(_) => Ok(true),
        // Another process won the race: fine, the database is there.
        Err(_) if database_exists(&mut conn, &name).await.unwrap_or(false) => Ok(false),
        Err(e) => Err(SetupError::Create {
            name,
            cause: e.to_string(),
        }),
    }
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> diesel::QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        pg_database::table.filter(pg_database::datname.eq(name.to_owned())),
    ))
    .get_result::<bool>(conn)
    .await
}

diesel::table! {
    pg_database (datname) {
        datname -> Text,
    }
}

/// `"name"` with embedded quotes doubled: safe for any name PostgreSQL accepts.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Applies every pending migration; returns the versions applied.
pub async fn run_pending(url: &str) -> Result<Vec<String>, SetupError> {
    with_migration_connection(url, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|done| done.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every applied migration (newest first); returns the versions reverted. For tests and
/// for operators rebuilding a database from scratch.
pub async fn revert_all(url: &str) -> Result<Vec<String>, SetupError> {
    with_migration_connection(url, |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(|done| done.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Runs `f` on a blocking thread with a synchronous connection (diesel_migrations is sync),
/// holding an advisory lock so that two migrators never interleave.
async fn with_migration_connection<F>(url: &str, f: F) -> Result<Vec<String>, SetupError>
where
    F: FnOnce(&mut AsyncConnectionWrapper<AsyncPgConnection>) -> Result<Vec<String>, BoxError>
        + Send
        + 'static,
{
    let url = url.to_owned();
    let target = redacted(&url);
    tokio::task::spawn_blocking(move || {
        let migrate_err = |cause: String| SetupError::Migrate {
            target: target.clone(),
            cause,
        };
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .map_err(|e| SetupError::Connect {
                    target: target.clone(),
                    cause: e.to_string(),
                })?;
        let lock = diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"));
        diesel::RunQueryDsl::execute(lock, &mut conn).map_err(|e| migrate_err(e.to_string()))?;
        let result = f(&mut conn).map_err(|e| migrate_err(e.to_string()));
        // The lock is released with the session anyway; unlocking early is a courtesy.
        let unlock = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
        let _ = diesel::RunQueryDsl::execute(unlock, &mut conn);
        result
    })
    .await
    .map_err(|e| SetupError::Migrate {
        target: "database".to_owned(),
        cause: format!("migration task failed: {e}"),
    })?
}

/// Creates the database when it is missing and applies pending migrations, logging each step.
pub async fn prepare(url: &str) -> Result<(), SetupError> {
    let target = redacted(url);
    if ensure_database(url).await? {
        tracing::info!(database = %target, "created database");
    }
    let applied = run_pending(url).await?;
    if applied.is_empty() {
        tracing::info!(database = %target, "database schema is up to date");
    } else {
        tracing::info!(database = %target, migrations = ?applied, "applied {} migration(s)", applied.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("dd"), "\"dd\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn passwords_are_redacted() {
        let r = redacted("postgres://u:hunter2@h:5432/db");
        assert!(!r.contains("hunter2"));
        assert!(r.contains("u:***@h:5432/db"));
        assert_eq!(redacted("postgres://u@h/db"), "postgres://u@h/db");
        let q = redacted("postgres://u@h/db?sslmode=require&password=hunter2");
        assert!(!q.contains("hunter2"), "{q}");
        assert!(q.contains("sslmode=require"));
    }
}
