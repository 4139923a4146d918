//! Introductions: contact requests, their message threads, the notifications they leave and
//! the record of contact persons released through them. Each event and its notification are
//! written in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    contact_releases, contact_request_messages, contact_requests, notification_reads,
    notifications, organization_members, organizations,
};
use crate::domain::introduction::{
    ContactRequest, Decision, Message, NewRequest, Notification, NotificationKind, Release, Status,
};

/// Which requests a list shows, relative to the caller's organizations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailbox {
    /// Received by one of them.
    Inbox,
    /// Sent by one of them.
    Outbox,
    /// Either.
    Both,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = contact_requests, check_for_backend(diesel::pg::Pg))]
struct RequestRow {
    id: Uuid,
    seq: i64,
    from_organization_id: Uuid,
    to_organization_id: Uuid,
    created_by: Option<Uuid>,
    subject: String,
    message: String,
    sector: Option<String>,
    crisis_id: Option<Uuid>,
    status: String,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    need_id: Option<Uuid>,
    offer_id: Option<Uuid>,
}

fn corrupt(what: &str, value: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("unknown {what} {value:?}").into())
}

/// The rows with their organizations' names (one query for all of them).
async fn with_names(
    conn: &mut AsyncPgConnection,
    rows: Vec<RequestRow>,
) -> QueryResult<Vec<ContactRequest>> {
    let ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.from_organization_id, r.to_organization_id])
        .collect();
    let names: HashMap<Uuid, String> = organizations::table
        .filter(organizations::id.eq_any(&ids))
        .select((organizations::id, organizations::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
    rows.into_iter()
        .map(|r| {
            Ok(ContactRequest {
                id: r.id,
                seq: r.seq,
                from_organization_name: name(&r.from_organization_id),
                from_organization_id: r.from_organization_id,
                to_organization_name: name(&r.to_organization_id),
                to_organization_id: r.to_organization_id,
                created_by: r.created_by,
                subject: r.subject,
                message: r.message,
                sector: r.sector,
                crisis_id: r.crisis_id,
                need_id: r.need_id,
                offer_id: r.offer_id,
                status: Status::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
                decided_by: r.decided_by,
                decided_at: r.decided_at,
                created_at: r.created_at,
            })
        })
        .collect()
}

async fn notify(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    kind: NotificationKind,
    contact_request_id: Uuid,
    message_id: Option<Uuid>,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::organization_id.eq(organization_id),
            notifications::kind.eq(kind.as_str()),
            notifications::contact_request_id.eq(contact_request_id),
            notifications::message_id.eq(message_id),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub enum Created {
    Sent(Box<ContactRequest>),
    /// The sending organization has sent its daily quota; it may send again at this instant.
    CapReached {
        retry_at: DateTime<Utc>,
    },
    /// A request between the two organizations is already pending.
    Duplicate,
    /// The sending organization no longer exists (it was merged into another).
    SenderGone,
    /// The receiving organization was merged into another meanwhile.
    RecipientGone,
    /// The cited need (`need_id`) or offer (`offer_id`) was removed after it was checked.
    CitationGone(&'static str),
}

/// Sends a request, unless the sender has sent `daily_cap` requests in the last 24 hours or a
/// request between the two is pending; notifies the receiving organization. The sender's row is
/// locked while its quota is counted, so concurrent requests cannot both take the last one.
pub async fn create_request(
    conn: &mut AsyncPgConnection,
    new: &NewRequest,
    created_by: Uuid,
    daily_cap: i64,
) -> QueryResult<Created> {
    let result = conn
        .transaction(async |conn| {
            // Both organizations, in id order (so A asking B while B asks A cannot deadlock):
            // the sender FOR NO KEY UPDATE, which serialises its quota count without blocking
            // key checks; the recipient FOR SHARE, which waits for a merge in progress. Either
            // one merged meanwhile is gone.
            let mut ids = [new.from_organization_id, new.to_organization_id];
            ids.sort();
            for id in ids {
                let query = organizations::table
                    .filter(organizations::id.eq(id))
                    .filter(organizations::merged_into.is_null())
                    .select(organizations::id);
                let found: Option<Uuid> = if id == new.from_organization_id {
                    query.for_no_key_update().first(conn).await.optional()?
                } else {
                    query.for_share().first(conn).await.optional()?
                };
                if found.is_none() {
                    return Ok(if id == new.from_organization_id {
                        Created::SenderGone
                    } else {
                        Created::RecipientGone
                    });
                }
            }
            let window_start = Utc::now() - Duration::days(1);
            let recent: Vec<DateTime<Utc>> = contact_requests::table
                .filter(contact_requests::from_organization_id.eq(new.from_organization_id))
                .filter(contact_requests::created_at.gt(window_start))
                .order(contact_requests::created_at.asc())
                .select(contact_requests::created_at)
                .limit(daily_cap.max(1))
                .load(conn)
                .await?;
            if i64::try_from(recent.len()).unwrap_or(i64::MAX) >= daily_cap {
                let oldest = recent.iter().min().copied().unwrap_or_else(Utc::now);
                return Ok(Created::CapReached {
                    retry_at: oldest + Duration::days(1),
                });
            }
            let row: RequestRow = diesel::insert_into(contact_requests::table)
                .values((
                    contact_requests::from_organization_id.eq(new.from_organization_id),
                    contact_requests::to_organization_id.eq(new.to_organization_id),
                    contact_requests::created_by.eq(created_by),
                    contact_requests::subject.eq(&new.subject),
                    contact_requests::message.eq(&new.message),
                    contact_requests::sector.eq(&new.sector),
                    contact_requests::crisis_id.eq(new.crisis_id),
                    contact_requests::need_id.eq(new.need_id),
                    contact_requests::offer_id.eq(new.offer_id),
                ))
                .returning(RequestRow::as_returning())
                .get_result(conn)
                .await?;
            notify(
                conn,
                row.to_organization_id,
                NotificationKind::RequestReceived,
                row.id,
                None,
            )
            .await?;
            let mut requests = with_names(conn, vec![row]).await?;
            Ok(requests
                .pop()
                .map_or(Created::SenderGone, |r| Created::Sent(Box::new(r))))
        })
        .await;
    match result {
        // The pending-pair index: the other organization asked first, at the same moment.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(Created::Duplicate),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            info,
        )) if info
            .constraint_name()
            .is_some_and(|c| c.contains("need_id")) =>
        {
            Ok(Created::CitationGone("need_id"))
        }
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            info,
        )) if info
            .constraint_name()
            .is_some_and(|c| c.contains("offer_id")) =>
        {
            Ok(Created::CitationGone("offer_id"))
        }
        other => other,
    }
}

pub async fn find_request(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<ContactRequest>> {
    let row: Option<RequestRow> = contact_requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) => Ok(with_names(conn, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// Requests of `organizations` (the caller's), newest first, before `before` (a `seq`);
/// `limit + 1` at most. Also how many there are in all.
pub async fn list_requests(
    conn: &mut AsyncPgConnection,
    organizations: &[Uuid],
    mailbox: Mailbox,
    status: Option<Status>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<ContactRequest>, i64)> {
    let filtered = || {
        let mut q = contact_requests::table.into_boxed();
        q = match mailbox {
            Mailbox::Inbox => q.filter(contact_requests::to_organization_id.eq_any(organizations)),
            Mailbox::Outbox => {
                q.filter(contact_requests::from_organization_id.eq_any(organizations))
            }
            Mailbox::Both => q.filter(
                contact_requests::to_organization_id
                    .eq_any(organizations)
                    .or(contact_requests::from_organization_id.eq_any(organizations)),
            ),
        };
        if let Some(s) = status {
            q = q.filter(contact_requests::status.eq(s.as_str()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn).await?;
    let mut q = filtered();
    if let Some(before) = before {
        q = q.filter(contact_requests::seq.lt(before));
    }
    let rows: Vec<RequestRow> = q
        .order(contact_requests::seq.desc())
        .limit(limit + 1)
        .select(RequestRow::as_select())
        .load(conn)
        .await?;
    Ok((with_names(conn, rows).await?, total))
}

pub enum Decided {
    Done(Box<ContactRequest>),
    /// Someone decided first: the request is in this status now.
    Stale(Status),
    Missing,
}

/// Moves a pending request to the decision's outcome, and notifies the other side, atomically:
/// the `UPDATE` only matches a pending request, so of two concurrent decisions one wins and the
/// other finds the request decided.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    decision: Decision,
    actor: Uuid,
) -> QueryResult<Decided> {
    conn.transaction(async |conn| {
        let row: Option<RequestRow> = diesel::update(
            contact_requests::table
                .filter(contact_requests::id.eq(id))
                .filter(contact_requests::status.eq(Status::Pending.as_str())),
        )
        .set((
            contact_requests::status.eq(decision.outcome().as_str()),
            contact_requests::decided_by.eq(actor),
            contact_requests::decided_at.eq(diesel::dsl::now),
        ))
        .returning(RequestRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
        let Some(row) = row else {
            let status: Option<String> = contact_requests::table
                .find(id)
                .select(contact_requests::status)
                .first(conn)
                .await
                .optional()?;
            return Ok(match status {
                Some(s) => Decided::Stale(Status::parse(&s).ok_or_else(|| corrupt("status", &s))?),
                None => Decided::Missing,
            });
        };
        let told = match decision {
            Decision::Withdraw => row.to_organization_id,
            Decision::Accept | Decision::Decline => row.from_organization_id,
        };
        notify(
            conn,
            told,
            NotificationKind::of_decision(decision),
            row.id,
            None,
        )
        .await?;
        Ok(with_names(conn, vec![row])
            .await?
            .pop()
            .map_or(Decided::Missing, |r| Decided::Done(Box::new(r))))
    })
    .await
}

// ---------------------------------------------------------------- messages

#[derive(Queryable, Selectable)]
#[diesel(table_name = contact_request_messages, check_for_backend(diesel::pg::Pg))]
struct MessageRow {
    id: Uuid,
    seq: i64,
    contact_request_id: Uuid,
    author_organization_id: Uuid,
    author_user_id: Option<Uuid>,
    body: String,
    created_at: DateTime<Utc>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Message {
        Message {
            id: r.id,
            seq: r.seq,
            contact_request_id: r.contact_request_id,
            author_organization_id: r.author_organization_id,
            author_user_id: r.author_user_id,
            body: r.body,
            created_at: r.created_at,
        }
    }
}

pub enum Posted {
    Posted(Message),
    /// Messages need an accepted request; this one is in this status.
    NotAccepted(Status),
    Missing,
}

/// Adds a message to an accepted request's thread and notifies the other side. The request's
/// row is locked, so a thread's messages are written one at a time, in `seq` order.
pub async fn post_message(
    conn: &mut AsyncPgConnection,
    request_id: Uuid,
    author_organization_id: Uuid,
    author_user_id: Uuid,
    body: &str,
) -> QueryResult<Posted> {
    conn.transaction(async |conn| {
        let request: Option<(String, Uuid, Uuid)> = contact_requests::table
            .find(request_id)
            .select((
                contact_requests::status,
                contact_requests::from_organization_id,
                contact_requests::to_organization_id,
            ))
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some((status, from, to)) = request else {
            return Ok(Posted::Missing);
        };
        let status = Status::parse(&status).ok_or_else(|| corrupt("status", &status))?;
        if status != Status::Accepted {
            return Ok(Posted::NotAccepted(status));
        }
        let row: MessageRow = diesel::insert_into(contact_request_messages::table)
            .values((
                contact_request_messages::contact_request_id.eq(request_id),
                contact_request_messages::author_organization_id.eq(author_organization_id),
                contact_request_messages::author_user_id.eq(author_user_id),
                contact_request_messages::body.eq(body),
            ))
            .returning(MessageRow::as_returning())
            .get_result(conn)
            .await?;
        let other = if author_organization_id == from {
            to
        } else {
            from
        };
        notify(
            conn,
            other,
            NotificationKind::MessageReceived,
            request_id,
            Some(row.id),
        )
        .await?;
        Ok(Posted::Posted(row.into()))
    })
    .await
}

/// A thread's messages, oldest first, after `after` (a `seq`); `limit + 1` at most. Also how
/// many there are in all.
pub async fn list_messages(
    conn: &mut AsyncPgConnection,
    request_id: Uuid,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Message>, i64)> {
    let total: i64 = contact_request_messages::table
        .filter(contact_request_messages::contact_request_id.eq(request_id))
        .count()
        .get_result(conn)
        .await?;
    let mut q = contact_request_messages::table
        .filter(contact_request_messages::contact_request_id.eq(request_id))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(contact_request_messages::seq.gt(after));
    }
    let rows: Vec<MessageRow> = q
        .order(contact_request_messages::seq.asc())
        .limit(limit + 1)
        .select(MessageRow::as_select())
        .load(conn)
        .await?;
    Ok((rows.into_iter().map(Message::from).collect(), total))
}

// ----------------------------------------------------------- notifications

/// The notifications of every organization `user_id` belongs to, newest first, before
/// `before` (a `seq`), only the ones they have not read if `unread_only`; `limit + 1` at most.
/// Also how many there are in all.
pub async fn list_notifications(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Notification>, i64)> {
    let filtered = || {
        let mut q = notifications::table
            .inner_join(
                organization_members::table.on(organization_members::organization_id
                    .eq(notifications::organization_id)
                    .and(organization_members::user_id.eq(user_id))),
            )
            .left_join(
                notification_reads::table.on(notification_reads::notification_id
                    .eq(notifications::id)
                    .and(notification_reads::user_id.eq(user_id))),
            )
            .into_boxed();
        if unread_only {
            q = q.filter(notification_reads::read_at.is_null());
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn).await?;
    let mut q = filtered();
    if let Some(before) = before {
        q = q.filter(notifications::seq.lt(before));
    }
    type Row = (
        Uuid,
        i64,
        Uuid,
        String,
        Option<Uuid>,
        Option<Uuid>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = q
        .order(notifications::seq.desc())
        .limit(limit + 1)
        .select((
            notifications::id,
            notifications::seq,
            notifications::organization_id,
            notifications::kind,
            notifications::contact_request_id,
            notifications::message_id,
            notifications::created_at,
            notification_reads::read_at.nullable(),
        ))
        .load(conn)
        .await?;
    let list = rows
        .into_iter()
        .map(
            |(id, seq, organization_id, kind, request, message, created_at, read_at)| {
                Ok(Notification {
                    id,
                    seq,
                    organization_id,
                    kind: NotificationKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
                    contact_request_id: request,
                    message_id: message,
                    created_at,
                    read_at,
                })
            },
        )
        .collect::<QueryResult<Vec<_>>>()?;
    Ok((list, total))
}

/// Marks a notification read for `user_id`; `false` when it is not addressed to one of their
/// organizations. Marking twice keeps the first time.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    notification_id: Uuid,
) -> QueryResult<bool> {
    let addressed: bool = diesel::select(diesel::dsl::exists(
        notifications::table
            .inner_join(
                organization_members::table
                    .on(organization_members::organization_id.eq(notifications::organization_id)),
            )
            .filter(notifications::id.eq(notification_id))
            .filter(organization_members::user_id.eq(user_id)),
    ))
    .get_result(conn)
    .await?;
    if !addressed {
        return Ok(false);
    }
    diesel::insert_into(notification_reads::table)
        .values((
            notification_reads::notification_id.eq(notification_id),
            notification_reads::user_id.eq(user_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(true)
}

// ---------------------------------------------------------------- releases

/// The most recently accepted request between `organization_id` and an organization
/// `user_id` belongs to: `(request, the user's organization)`.
pub async fn partnership(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> QueryResult<Option<(Uuid, Uuid)>> {
    contact_requests::table
        .inner_join(
            organization_members::table.on(organization_members::user_id.eq(user_id).and(
                organization_members::organization_id
                    .eq(contact_requests::from_organization_id)
                    .or(organization_members::organization_id
                        .eq(contact_requests::to_organization_id)),
            )),
        )
        // The viewer's organization must still be published: a suspended or archived one
        // loses what its introductions released.
        .inner_join(
            organizations::table.on(organizations::id.eq(organization_members::organization_id)),
        )
        .filter(organizations::status.eq("published"))
        .filter(contact_requests::status.eq(Status::Accepted.as_str()))
        .filter(
            contact_requests::from_organization_id
                .eq(organization_id)
                .or(contact_requests::to_organization_id.eq(organization_id)),
        )
        .filter(organization_members::organization_id.ne(organization_id))
        .order((
            contact_requests::decided_at.desc(),
            contact_requests::id.desc(),
        ))
        .select((contact_requests::id, organization_members::organization_id))
        .first(conn)
        .await
        .optional()
}

/// Who saw an organization's contact persons outside it.
pub struct NewRelease<'a> {
    pub organization_id: Uuid,
    pub viewer_user_id: Uuid,
    pub viewer_organization_id: Option<Uuid>,
    pub contact_request_id: Option<Uuid>,
    pub as_moderator: bool,
    pub contact_ids: &'a [Uuid],
}

pub async fn record_release(conn: &mut AsyncPgConnection, r: NewRelease<'_>) -> QueryResult<()> {
    diesel::insert_into(contact_releases::table)
        .values((
            contact_releases::organization_id.eq(r.organization_id),
            contact_releases::viewer_user_id.eq(r.viewer_user_id),
            contact_releases::viewer_organization_id.eq(r.viewer_organization_id),
            contact_releases::contact_request_id.eq(r.contact_request_id),
            contact_releases::as_moderator.eq(r.as_moderator),
            contact_releases::contact_ids.eq(r.contact_ids),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = contact_releases, check_for_backend(diesel::pg::Pg))]
struct ReleaseRow {
    id: i64,
    organization_id: Uuid,
    viewer_user_id: Option<Uuid>,
    viewer_organization_id: Option<Uuid>,
    contact_request_id: Option<Uuid>,
    as_moderator: bool,
    contact_ids: Vec<Uuid>,
    released_at: DateTime<Utc>,
}

/// An organization's releases, newest first, before `before` (an id); `limit + 1` at most.
/// Also how many there are in all.
pub async fn list_releases(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Release>, i64)> {
    let total: i64 = contact_releases::table
        .filter(contact_releases::organization_id.eq(organization_id))
        .count()
        .get_result(conn)
        .await?;
    let mut q = contact_releases::table
        .filter(contact_releases::organization_id.eq(organization_id))
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(contact_releases::id.lt(before));
    }
    let rows: Vec<ReleaseRow> = q
        .order(contact_releases::id.desc())
        .limit(limit + 1)
        .select(ReleaseRow::as_select())
        .load(conn)
        .await?;
    Ok((
        rows.into_iter()
            .map(|r| Release {
                id: r.id,
                organization_id: r.organization_id,
                viewer_user_id: r.viewer_user_id,
                viewer_organization_id: r.viewer_organization_id,
                contact_request_id: r.contact_request_id,
                as_moderator: r.as_moderator,
                contact_ids: r.contact_ids,
                released_at: r.released_at,
            })
            .collect(),
        total,
    ))
}
