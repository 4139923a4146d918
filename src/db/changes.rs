//! The change feed's queries (the rows are written by triggers: migration 000011).

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryResult, result::Error};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::change::{Change, Entity, Op, Position};

#[derive(QueryableByName)]
struct ChangeRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = Text)]
    entity: String,
    #[diesel(sql_type = SqlUuid)]
    entity_id: Uuid,
    #[diesel(sql_type = Text)]
    op: String,
    #[diesel(sql_type = Timestamptz)]
    changed_at: DateTime<Utc>,
}

fn corrupt(what: &str, raw: &str) -> Error {
    Error::DeserializationError(format!("unknown change {what} {raw:?}").into())
}

/// Up to `limit` changes after `after` (from the start without it), in feed order, among
/// those written by transactions older than every transaction still running.
pub async fn changes_after(
    conn: &mut AsyncPgConnection,
    after: Option<Position>,
    limit: i64,
) -> QueryResult<Vec<Change>> {
    let after = after.unwrap_or(Position { txid: 0, seq: 0 });
    let rows: Vec<ChangeRow> = diesel::sql_query(
        "SELECT seq, txid::text::bigint AS txid, entity, entity_id, op, changed_at FROM changes \
          WHERE (txid, seq) > ($1::text::xid8, $2) \
            AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
          ORDER BY txid, seq LIMIT $3",
    )
    .bind::<Text, _>(after.txid.to_string())
    .bind::<BigInt, _>(after.seq)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Change {
                position: Position {
                    txid: r.txid,
                    seq: r.seq,
                },
                entity: Entity::parse(&r.entity).ok_or_else(|| corrupt("entity", &r.entity))?,
                entity_id: r.entity_id,
                op: Op::parse(&r.op).ok_or_else(|| corrupt("op", &r.op))?,
                changed_at: r.changed_at,
            })
        })
        .collect()
}

/// Whether `position` is a change's (a cursor this server could have issued).
pub async fn position_exists(
    conn: &mut AsyncPgConnection,
    position: Position,
) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    let row: Exists = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM changes WHERE seq = $1 AND txid = $2::text::xid8) AS exists",
    )
    .bind::<BigInt, _>(position.seq)
    .bind::<Text, _>(position.txid.to_string())
    .get_result(conn)
    .await?;
    Ok(row.exists)
}
