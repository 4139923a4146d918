//! Migrations: every one reverts cleanly, and running them again gives the same schema.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use diaspora_directory::db::migrate;

use crate::harness::TestDb;

#[derive(QueryableByName, Debug, PartialEq)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// A description of the schema from the catalogs: tables, columns, constraints, indexes,
/// extensions. Two databases with equal snapshots have the same schema.
async fn schema_snapshot(conn: &mut AsyncPgConnection) -> Vec<String> {
    let query = "
        SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' ||
               is_nullable || ' ' || coalesce(column_default, '') AS line
          FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' ||
               pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL
        SELECT 'extension ' || extname FROM pg_extension
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text
          FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
        ORDER BY 1";
    diesel::sql_query(query)
        .load::<Line>(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

/// (countries, languages, sectors, support types, organization kinds)
pub async fn reference_counts(conn: &mut AsyncPgConnection) -> (i64, i64, i64, i64, i64) {
    (
        count(conn, "countries").await,
        count(conn, "languages").await,
        count(conn, "sectors").await,
        count(conn, "support_types").await,
        count(conn, "organization_kinds").await,
    )
}

#[tokio::test]
async fn migrations_run_up_down_and_up_again_to_the_same_schema() {
    let db = TestDb::unnamed();
    assert!(migrate::ensure_database(&db.url).await.unwrap(), "created");
    let mut conn = db.connect().await;
    let empty = schema_snapshot(&mut conn).await;

    let applied = migrate::run_pending(&db.url).await.unwrap();
    assert!(!applied.is_empty());
    let first = schema_snapshot(&mut conn).await;
    assert_eq!(reference_counts(&mut conn).await, (249, 7074, 16, 11, 11));

    let reverted = migrate::revert_all(&db.url).await.unwrap();
    assert_eq!(reverted.len(), applied.len(), "every migration reverts");
    let after_down = schema_snapshot(&mut conn).await;
    // Only diesel's own bookkeeping table may remain.
    let leftovers: Vec<_> = after_down
        .iter()
        .filter(|l| !empty.contains(l) && !l.contains("__diesel_schema_migrations"))
        .collect();
    assert!(leftovers.is_empty(), "down.sql left behind: {leftovers:#?}");

    let reapplied = migrate::run_pending(&db.url).await.unwrap();
    assert_eq!(reapplied, applied);
    assert_eq!(schema_snapshot(&mut conn).await, first);
    assert_eq!(reference_counts(&mut conn).await, (249, 7074, 16, 11, 11));
}

#[tokio::test]
async fn ensure_database_is_idempotent_and_migrations_are_too() {
    let db = TestDb::unnamed();
    assert!(migrate::ensure_database(&db.url).await.unwrap());
    assert!(!migrate::ensure_database(&db.url).await.unwrap());
    assert!(!migrate::run_pending(&db.url).await.unwrap().is_empty());
    assert!(migrate::run_pending(&db.url).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_migrators_do_not_collide() {
    let db = TestDb::unnamed();
    migrate::ensure_database(&db.url).await.unwrap();
    let (a, b) = tokio::join!(migrate::run_pending(&db.url), migrate::run_pending(&db.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.is_empty() != b.is_empty(),
        "exactly one of them applied the migrations: {a:?} / {b:?}"
    );
    let mut conn = db.connect().await;
    assert_eq!(reference_counts(&mut conn).await.0, 249);
}
