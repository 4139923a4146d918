//! Retention: deleting what has been kept past its purpose (`<binary> purge`, and the server's
//! optional timer). Each kind is deleted in batches, so a large purge never holds long locks,
//! and running it again deletes nothing more: it is safe from cron.

use chrono::{DateTime, Duration, Utc};
use diesel::QueryResult;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::config::RetentionConfig;

/// What is past retention, each kind with the SQL that counts it and deletes a batch of it.
/// `$1` is the cut-off instant; `$2` the batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Contact persons of organizations archived before the cut-off.
    ArchivedContacts,
    /// Contact requests never accepted (pending, declined, withdrawn), sent before the
    /// cut-off; their notifications go with them.
    UnacceptedRequests,
    /// Sign-in sessions (refresh-token families, with their tokens) expired before now.
    ExpiredSessions,
}

impl Kind {
    pub const ALL: [Kind; 3] = [
        Kind::ArchivedContacts,
        Kind::UnacceptedRequests,
        Kind::ExpiredSessions,
    ];

    /// How the kind reads in the command's report.
    pub fn describe(self, policy: &RetentionConfig) -> String {
        match self {
            Kind::ArchivedContacts => format!(
                "contact persons of organizations archived more than {} days ago",
                policy.archived_contacts_days
            ),
            Kind::UnacceptedRequests => format!(
                "contact requests never accepted, sent more than {} days ago",
                policy.contact_requests_days
            ),
            Kind::ExpiredSessions => "expired sign-in sessions".to_owned(),
        }
    }

    fn cutoff(self, policy: &RetentionConfig, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Kind::ArchivedContacts => {
                now - Duration::days(i64::from(policy.archived_contacts_days))
            }
            Kind::UnacceptedRequests => {
                now - Duration::days(i64::from(policy.contact_requests_days))
            }
            Kind::ExpiredSessions => now,
        }
    }

    /// The rows of this kind past `$1`, as `SELECT id FROM ...`.
    fn selection(self) -> &'static str {
        match self {
            Kind::ArchivedContacts => {
                "SELECT c.id FROM organization_contacts c JOIN organizations o ON o.id = c.organization_id \
                  WHERE o.status = 'archived' AND o.archived_at < $1"
            }
            Kind::UnacceptedRequests => {
                "SELECT r.id FROM contact_requests r WHERE r.status <> 'accepted' AND r.created_at < $1"
            }
            Kind::ExpiredSessions => "SELECT f.id FROM refresh_families f WHERE f.expires_at < $1",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Kind::ArchivedContacts => "organization_contacts",
            Kind::UnacceptedRequests => "contact_requests",
            Kind::ExpiredSessions => "refresh_families",
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many rows of `kind` are past retention at `now`.
pub async fn count(
    conn: &mut AsyncPgConnection,
    kind: Kind,
    policy: &RetentionConfig,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let row: Count = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM ({}) past",
        kind.selection()
    ))
    .bind::<Timestamptz, _>(kind.cutoff(policy, now))
    .get_result(conn)
    .await?;
    Ok(row.n)
}

/// Deletes up to `batch` rows of `kind` past retention at `now`; how many it deleted (0 once
/// none is left).
pub async fn delete_batch(
    conn: &mut AsyncPgConnection,
    kind: Kind,
    policy: &RetentionConfig,
    now: DateTime<Utc>,
    batch: i64,
) -> QueryResult<i64> {
    let deleted = diesel::sql_query(format!(
        "DELETE FROM {table} WHERE id IN ({selection} LIMIT $2)",
        table = kind.table(),
        selection = kind.selection()
    ))
    .bind::<Timestamptz, _>(kind.cutoff(policy, now))
    .bind::<BigInt, _>(batch)
    .execute(conn)
    .await?;
    Ok(i64::try_from(deleted).unwrap_or(i64::MAX))
}

/// Deletes everything past retention at `now`, kind by kind, calling `progress` with the kind
/// and the rows deleted after each batch; how many rows of each kind it deleted.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    policy: &RetentionConfig,
    now: DateTime<Utc>,
    mut progress: impl FnMut(Kind, i64),
) -> QueryResult<Vec<(Kind, i64)>> {
    const BATCH: i64 = 1000;
    let mut report = Vec::new();
    for kind in Kind::ALL {
        let mut total = 0;
        loop {
            let n = delete_batch(conn, kind, policy, now, BATCH).await?;
            total += n;
            progress(kind, n);
            if n < BATCH {
                break;
            }
        }
        report.push((kind, total));
    }
    Ok(report)
}
