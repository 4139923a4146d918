//! An account's own data: everything stored about it (export), and its erasure.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    audit_log, contact_releases, contact_request_messages, contact_requests, notification_reads,
    organization_members, organizations, refresh_families, users,
};

/// A release of contact persons to an account: (organization whose, contact ids, request,
/// when).
pub type Release = (Uuid, Vec<Uuid>, Option<Uuid>, DateTime<Utc>);

/// A sign-in session: (started, expires, revoked).
pub type Session = (DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);

/// Everything stored about one account.
#[derive(Debug, Clone)]
pub struct AccountData {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub is_moderator: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// (organization id, name, role, since)
    pub memberships: Vec<(Uuid, String, String, DateTime<Utc>)>,
    /// (message id, contact request id, body, sent at)
    pub messages: Vec<(Uuid, Uuid, String, DateTime<Utc>)>,
    /// (request id, from organization, to organization, subject, message, sent at)
    pub requests: Vec<(Uuid, Uuid, Uuid, String, String, DateTime<Utc>)>,
    /// Contact persons shown to this account.
    pub releases: Vec<Release>,
    /// What this account did, as the audit log recorded it: (action, organization, at)
    pub audit: Vec<(String, Option<Uuid>, DateTime<Utc>)>,
    /// What others did to this account (added it to an organization, changed its role...), as
    /// the audit log recorded it: (action, organization, at). Not who did it: that is theirs.
    pub audit_about: Vec<(String, Option<Uuid>, DateTime<Utc>)>,
    pub sessions: Vec<Session>,
    /// Other rows that name the account as who did something.
    pub records: Vec<Record>,
    /// Notifications the account marked read: (notification id, when).
    pub read_marks: Vec<(Uuid, DateTime<Utc>)>,
}

/// A row elsewhere that names the account: what it is, its id, what the account did to it,
/// and when. Only ids: the rows themselves may hold other people's data.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Record {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub role: String,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub at: DateTime<Utc>,
}

/// Every column that names a user and is not exported on its own (memberships, messages, sent
/// requests, releases, the audit log and sessions are).
const RECORDS: &str = "\
    SELECT 'organization' AS kind, id, 'created' AS role, created_at AS at \
      FROM organizations WHERE created_by = $1 \
    UNION ALL SELECT 'membership', organization_id, 'added a member', created_at \
      FROM organization_members WHERE added_by = $1 AND user_id <> $1 \
    UNION ALL SELECT 'verification_request', id, 'requested', requested_at \
      FROM verification_requests WHERE requested_by = $1 \
    UNION ALL SELECT 'verification_request', id, 'decided', decided_at \
      FROM verification_requests WHERE decided_by = $1 AND decided_at IS NOT NULL \
    UNION ALL SELECT 'contact_request', id, 'decided', decided_at \
      FROM contact_requests WHERE decided_by = $1 AND decided_at IS NOT NULL \
    UNION ALL SELECT 'crisis', id, 'created', created_at FROM crises WHERE created_by = $1 \
    UNION ALL SELECT 'engagement', id, 'created', created_at FROM engagements WHERE created_by = $1 \
    UNION ALL SELECT side, id, 'created', created_at FROM postings WHERE created_by = $1 \
    ORDER BY at, kind, id";

/// Everything stored about the account, or `None` if it does not exist (or was erased).
pub async fn account_data(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<Option<AccountData>> {
    let Some((id, email, display_name, is_moderator, created_at, updated_at)) = users::table
        .find(user_id)
        .filter(users::erased_at.is_null())
        .select((
            users::id,
            users::email,
            users::display_name,
            users::is_moderator,
            users::created_at,
            users::updated_at,
        ))
        .first::<(Uuid, String, String, bool, DateTime<Utc>, DateTime<Utc>)>(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let memberships = organization_members::table
        .inner_join(organizations::table)
        .filter(organization_members::user_id.eq(user_id))
        .order(organization_members::created_at.asc())
        .select((
            organizations::id,
            organizations::name,
            organization_members::role,
            organization_members::created_at,
        ))
        .load(conn)
        .await?;
    let messages = contact_request_messages::table
        .filter(contact_request_messages::author_user_id.eq(user_id))
        .order(contact_request_messages::seq.asc())
        .select((
            contact_request_messages::id,
            contact_request_messages::contact_request_id,
            contact_request_messages::body,
            contact_request_messages::created_at,
        ))
        .load(conn)
        .await?;
    let requests = contact_requests::table
        .filter(contact_requests::created_by.eq(user_id))
        .order(contact_requests::seq.asc())
        .select((
            contact_requests::id,
            contact_requests::from_organization_id,
            contact_requests::to_organization_id,
            contact_requests::subject,
            contact_requests::message,
            contact_requests::created_at,
        ))
        .load(conn)
        .await?;
    let releases = contact_releases::table
        .filter(contact_releases::viewer_user_id.eq(user_id))
        .order(contact_releases::id.asc())
        .select((
            contact_releases::organization_id,
            contact_releases::contact_ids,
            contact_releases::contact_request_id,
            contact_releases::released_at,
        ))
        .load(conn)
        .await?;
    let audit = audit_log::table
        .filter(audit_log::actor_id.eq(user_id))
        .order(audit_log::id.asc())
        .select((audit_log::action, audit_log::organization_id, audit_log::at))
        .load(conn)
        .await?;
    let audit_about = audit_log::table
        .filter(audit_log::subject_id.eq(user_id))
        .filter(audit_log::actor_id.is_distinct_from(user_id))
        .order(audit_log::id.asc())
        .select((audit_log::action, audit_log::organization_id, audit_log::at))
        .load(conn)
        .await?;
    let sessions = refresh_families::table
        .filter(refresh_families::user_id.eq(user_id))
        .order(refresh_families::created_at.asc())
        .select((
            refresh_families::created_at,
            refresh_families::expires_at,
            refresh_families::revoked_at,
        ))
        .load(conn)
        .await?;
    let records = diesel::sql_query(RECORDS)
        .bind::<diesel::sql_types::Uuid, _>(user_id)
        .load(conn)
        .await?;
    let read_marks = notification_reads::table
        .filter(notification_reads::user_id.eq(user_id))
        .order((
            notification_reads::read_at.asc(),
            notification_reads::notification_id.asc(),
        ))
        .select((
            notification_reads::notification_id,
            notification_reads::read_at,
        ))
        .load(conn)
        .await?;
    Ok(Some(AccountData {
        id,
        email,
        display_name,
        is_moderator,
        created_at,
        updated_at,
        memberships,
        messages,
        requests,
        releases,
        audit,
        audit_about,
        sessions,
        records,
        read_marks,
    }))
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erased {
    Done,
    /// Refused: the account is the last owner of these organizations (id, name).
    LastOwner(Vec<(Uuid, String)>),
    /// No such account (or already erased).
    Gone,
}

/// Erases the account's personal data: its e-mail, name and password hash are replaced, its
/// sessions, memberships and read marks removed, its moderator right revoked. The row stays,
/// so the audit log, contact releases and messages keep its id as a pseudonym. Refused while
/// it is the last owner of an organization: the organizations it owns are locked first, so
/// two owners erasing themselves at once cannot leave an organization without one.
pub async fn erase_account(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Erased> {
    conn.transaction(async |conn| {
        let exists: Option<Uuid> = users::table
            .find(user_id)
            .filter(users::erased_at.is_null())
            .select(users::id)
            .for_update()
            .first(conn)
            .await
            .optional()?;
        if exists.is_none() {
            return Ok(Erased::Gone);
        }
        // Every organization the account belongs to, in any role, locked in id order before
        // its roles are read: a concurrent promotion or removal (which locks the organization
        // too) is then either seen here or waits for this erasure. Archived organizations may
        // be left without an owner.
        let orgs: Vec<Uuid> = organizations::table
            .filter(
                organizations::id.eq_any(
                    organization_members::table
                        .filter(organization_members::user_id.eq(user_id))
                        .select(organization_members::organization_id),
                ),
            )
            .order(organizations::id.asc())
            .select(organizations::id)
            .for_no_key_update()
            .load(conn)
            .await?;
        let owned: Vec<(Uuid, String)> = organizations::table
            .inner_join(organization_members::table)
            .filter(organizations::id.eq_any(&orgs))
            .filter(organizations::status.ne("archived"))
            .filter(organization_members::user_id.eq(user_id))
            .filter(organization_members::role.eq("owner"))
            .order(organizations::id.asc())
            .select((organizations::id, organizations::name))
            .load(conn)
            .await?;
        let mut sole = Vec::new();
        for (id, name) in owned {
            let others: i64 = organization_members::table
                .filter(organization_members::organization_id.eq(id))
                .filter(organization_members::role.eq("owner"))
                .filter(organization_members::user_id.ne(user_id))
                .count()
                .get_result(conn)
                .await?;
            if others == 0 {
                sole.push((id, name));
            }
        }
        if !sole.is_empty() {
            return Ok(Erased::LastOwner(sole));
        }
        diesel::delete(
            organization_members::table.filter(organization_members::user_id.eq(user_id)),
        )
        .execute(conn)
        .await?;
        diesel::delete(refresh_families::table.filter(refresh_families::user_id.eq(user_id)))
            .execute(conn)
            .await?;
        diesel::delete(notification_reads::table.filter(notification_reads::user_id.eq(user_id)))
            .execute(conn)
            .await?;
        diesel::update(users::table.find(user_id))
            .set((
                users::email.eq(format!("erased-{user_id}")),
                users::display_name.eq("Erased account"),
                // Not a hash any password verifies against.
                users::password_hash.eq("$argon2id$erased"),
                users::is_moderator.eq(false),
                users::erased_at.eq(diesel::dsl::now),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(Erased::Done)
    })
    .await
}
