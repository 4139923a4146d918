//! Merging a duplicate organization into another (the survivor), in one transaction: the
//! survivor's profile absorbs the duplicate's; members, contact persons, engagements, needs,
//! offers and contact requests (with their messages, notifications and release records) move
//! to it; the duplicate is archived for good and remembers its survivor.

use diesel::prelude::*;
use diesel::result::Error;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::organizations::{OrganizationRow, ProfileColumns, record};
use super::schema::organizations;
use crate::domain::organization::{AuditEntry, Organization, Profile, Status};

/// What moved from the merged organization to the survivor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    /// Members of the merged organization (one already in the survivor keeps the higher role).
    pub members: i64,
    pub contacts: i64,
    pub engagements: i64,
    pub needs: i64,
    pub offers: i64,
    pub contact_requests: i64,
}

#[derive(Debug)]
pub struct Merged {
    pub merged_id: Uuid,
    pub merged_slug: String,
    pub survivor: Organization,
    pub moved: Moved,
    /// Contact requests that stay with the merged organization: those between the two, and
    /// pending ones whose other side already has a pending request with the survivor.
    pub contact_requests_left: i64,
    /// Of those, the pending ones, now closed: withdrawn when the merged organization had sent
    /// them, declined when it had received them; the other side is notified.
    pub contact_requests_closed: i64,
}

#[derive(Debug)]
pub enum MergeOutcome<E> {
    Done(Box<Merged>),
    /// The organization to merge does not exist.
    Missing,
    /// It was merged already, into this one.
    AlreadyMerged(Uuid),
    /// The survivor does not exist.
    SurvivorMissing,
    /// The survivor was itself merged, into this one.
    SurvivorMerged(Uuid),
    /// The survivor is archived.
    SurvivorArchived,
    /// Together they would have more members or contact persons than one organization may.
    TooMany {
        what: &'static str,
        total: i64,
        max: i64,
    },
    /// The joined profile was refused (`absorb`'s error).
    Refused(E),
}

/// The limits the joined organization must respect.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub members: i64,
    pub contacts: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct PostingCounts {
    #[diesel(sql_type = BigInt)]
    needs: i64,
    #[diesel(sql_type = BigInt)]
    offers: i64,
}

async fn count(
    conn: &mut AsyncPgConnection,
    sql: &'static str,
    from: Uuid,
    into: Uuid,
) -> QueryResult<i64> {
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(from)
        .bind::<SqlUuid, _>(into)
        .get_result::<Count>(conn)
        .await
        .map(|c| c.n)
}

/// How many times a merge is tried when it loses a race it cannot prevent.
const ATTEMPTS: usize = 3;

/// Whether a failed merge is worth trying again: PostgreSQL chose it as a deadlock's victim or
/// a serialization failure, or a request it moved met one committed meanwhile (the pending-pair
/// index), which the next attempt sees and leaves behind.
fn worth_retrying(e: &Error) -> bool {
    use diesel::result::DatabaseErrorKind;
    match e {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some("contact_requests_one_pending_idx")
        }
        // diesel has no kind for 40P01; the server's message names it (in English, unless
        // lc_messages says otherwise: then the merge fails as before, with a 500).
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            info.message().starts_with("deadlock detected")
        }
        _ => false,
    }
}

/// Merges `from` into `into`. `absorb(survivor, merged)` gives the survivor's new profile (or
/// refuses); `audit` is the merged organization's entry (`organization.merged`); the survivor
/// gets an `organization.absorbed` entry by the same actor. A race lost to a concurrent write
/// (see [`worth_retrying`]) is tried again, up to three times in all.
pub async fn merge<E: Send>(
    conn: &mut AsyncPgConnection,
    from: Uuid,
    into: Uuid,
    caps: Caps,
    absorb: impl Fn(&Profile, &Profile) -> Result<Profile, E> + Send + Sync,
    audit: AuditEntry,
) -> QueryResult<MergeOutcome<E>> {
    let mut attempt = 1;
    loop {
        match merge_once(conn, from, into, caps, &absorb, audit.clone()).await {
            Err(e) if attempt < ATTEMPTS && worth_retrying(&e) => {
                tracing::warn!(error = %e, attempt, "merge lost a race; trying again");
                attempt += 1;
            }
            result => return result,
        }
    }
}

async fn merge_once<E: Send>(
    conn: &mut AsyncPgConnection,
    from: Uuid,
    into: Uuid,
    caps: Caps,
    absorb: &(impl Fn(&Profile, &Profile) -> Result<Profile, E> + Send + Sync),
    audit: AuditEntry,
) -> QueryResult<MergeOutcome<E>> {
    conn.transaction(async |conn| {
        // Locks, in an order no other writer reverses: first the duplicate's engagements,
        // postings and contact requests (whose writers lock the row, then read their
        // organization), then both organizations in id order (a merge the other way waits,
        // then sees this one's result). FOR NO KEY UPDATE leaves key checks alone, so requests
        // between organizations (which lock the sender the same way) do not deadlock with it;
        // new members, contacts, engagements and postings wait for it (their triggers read the
        // organization FOR SHARE), then find it merged and fail rather than land on it.
        // The accounts whose memberships move are key-share locked first too: an erasure
        // (which locks the account, then its organizations) then finishes before, or waits.
        for sql in [
            "SELECT 1 AS n FROM users WHERE id IN ( \
               SELECT user_id FROM organization_members WHERE organization_id = $1 \
               UNION SELECT added_by FROM organization_members WHERE organization_id = $1) \
              ORDER BY id FOR KEY SHARE",
            "SELECT 1 AS n FROM engagements WHERE organization_id = $1 ORDER BY id FOR UPDATE",
            "SELECT 1 AS n FROM postings WHERE organization_id = $1 ORDER BY id FOR UPDATE",
            "SELECT 1 AS n FROM contact_requests \
              WHERE from_organization_id = $1 OR to_organization_id = $1 ORDER BY id FOR UPDATE",
        ] {
            diesel::sql_query(sql)
                .bind::<SqlUuid, _>(from)
                .execute(conn)
                .await?;
        }
        let rows: Vec<(OrganizationRow, Option<Uuid>)> = organizations::table
            .filter(organizations::id.eq_any([from, into]))
            .select((OrganizationRow::as_select(), organizations::merged_into))
            .order(organizations::id)
            .for_no_key_update()
            .load(conn)
            .await?;
        let mut merged = None;
        let mut survivor = None;
        for (row, merged_into) in rows {
            let org = Organization::try_from(row)?;
            if org.id == from {
                merged = Some((org, merged_into));
            } else {
                survivor = Some((org, merged_into));
            }
        }
        let Some((merged, merged_into)) = merged else {
            return Ok(MergeOutcome::Missing);
        };
        if let Some(target) = merged_into {
            return Ok(MergeOutcome::AlreadyMerged(target));
        }
        let Some((survivor, survivor_merged_into)) = survivor else {
            return Ok(MergeOutcome::SurvivorMissing);
        };
        if let Some(target) = survivor_merged_into {
            return Ok(MergeOutcome::SurvivorMerged(target));
        }
        if survivor.status == Status::Archived {
            return Ok(MergeOutcome::SurvivorArchived);
        }
        let members = count(
            conn,
            "SELECT count(DISTINCT user_id) AS n FROM organization_members \
              WHERE organization_id IN ($1, $2)",
            from,
            into,
        )
        .await?;
        if members > caps.members {
            return Ok(MergeOutcome::TooMany {
                what: "members",
                total: members,
                max: caps.members,
            });
        }
        let contacts = count(
            conn,
            "SELECT count(*) AS n FROM organization_contacts WHERE organization_id IN ($1, $2)",
            from,
            into,
        )
        .await?;
        if contacts > caps.contacts {
            return Ok(MergeOutcome::TooMany {
                what: "contact persons",
                total: contacts,
                max: caps.contacts,
            });
        }
        let profile = match absorb(&survivor.profile, &merged.profile) {
            Ok(p) => p,
            Err(e) => return Ok(MergeOutcome::Refused(e)),
        };

        let survivor_row: OrganizationRow =
            diesel::update(organizations::table.filter(organizations::id.eq(into)))
                .set((
                    ProfileColumns::of(&profile),
                    organizations::version.eq(organizations::version + 1),
                    organizations::updated_at.eq(diesel::dsl::now),
                ))
                .returning(OrganizationRow::as_returning())
                .get_result(conn)
                .await?;
        let moved = move_everything(conn, from, into).await?;
        let left = close_what_stays(conn, from, into, audit.actor_id).await?;

        // Archived for good, pointing at the survivor; those merged into it earlier now point
        // at the survivor too, so a redirect is always one hop.
        diesel::update(organizations::table.filter(organizations::id.eq(from)))
            .set((
                organizations::status.eq(Status::Archived.as_str()),
                organizations::merged_into.eq(into),
                organizations::merged_was_public.eq(merged.status == Status::Published),
                organizations::version.eq(organizations::version + 1),
                organizations::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        diesel::update(organizations::table.filter(organizations::merged_into.eq(from)))
            .set(organizations::merged_into.eq(into))
            .execute(conn)
            .await?;

        let details = serde_json::json!({
            "into": into,
            "slug": merged.slug,
            "status": {"from": merged.status.as_str(), "to": "archived"},
            "moved": {
                "members": moved.members,
                "contacts": moved.contacts,
                "engagements": moved.engagements,
                "needs": moved.needs,
                "offers": moved.offers,
                "contact_requests": moved.contact_requests,
            },
            "contact_requests_left": left.requests,
            "contact_requests_closed": left.closed,
        });
        record(
            conn,
            &AuditEntry {
                details: details.clone(),
                ..audit.clone()
            },
        )
        .await?;
        let mut absorbed = details;
        absorbed["from"] = serde_json::json!(from);
        absorbed["fields"] = serde_json::json!(survivor.profile.changed_fields(&profile));
        if let Some(map) = absorbed.as_object_mut() {
            map.remove("into");
            map.remove("status");
        }
        record(
            conn,
            &AuditEntry {
                action: "organization.absorbed",
                organization_id: into,
                subject_id: Some(from),
                details: absorbed,
                ..audit
            },
        )
        .await?;
        Ok(MergeOutcome::Done(Box::new(Merged {
            merged_id: from,
            merged_slug: merged.slug,
            survivor: survivor_row.try_into()?,
            moved,
            contact_requests_left: left.requests,
            contact_requests_closed: left.closed,
        })))
    })
    .await
}

/// Moves the merged organization's members, contact persons, engagements, postings and
/// contact requests (with what hangs off them) to the survivor.
async fn move_everything(
    conn: &mut AsyncPgConnection,
    from: Uuid,
    into: Uuid,
) -> Result<Moved, Error> {
    let run = |sql: &'static str| {
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(from)
            .bind::<SqlUuid, _>(into)
    };
    let mut moved = Moved {
        // A member of both keeps the higher of their two roles.
        members: run("WITH gone AS ( \
                DELETE FROM organization_members WHERE organization_id = $1 \
                RETURNING user_id, role, added_by, created_at) \
             INSERT INTO organization_members (organization_id, user_id, role, added_by, created_at) \
             SELECT $2, user_id, role, added_by, created_at FROM gone \
             ON CONFLICT (organization_id, user_id) DO UPDATE \
                SET role = CASE WHEN excluded.role = 'owner' THEN 'owner' \
                                ELSE organization_members.role END")
        .execute(conn)
        .await? as i64,
        contacts: run(
            "UPDATE organization_contacts SET organization_id = $2 WHERE organization_id = $1",
        )
        .execute(conn)
        .await? as i64,
        engagements: run("UPDATE engagements \
                SET organization_id = $2, version = version + 1, updated_at = now() \
              WHERE organization_id = $1")
        .execute(conn)
        .await? as i64,
        ..Moved::default()
    };
    let postings: PostingCounts = run("WITH moved AS ( \
            UPDATE postings SET organization_id = $2, version = version + 1, updated_at = now() \
             WHERE organization_id = $1 RETURNING side) \
         SELECT count(*) FILTER (WHERE side = 'need') AS needs, \
                count(*) FILTER (WHERE side = 'offer') AS offers FROM moved")
    .get_result(conn)
    .await?;
    moved.needs = postings.needs;
    moved.offers = postings.offers;
    // (PostgreSQL runs every data-modifying WITH once, read or not.)
    // Requests with a third organization move, unless pending while that organization already
    // has a pending request with the survivor (one pending request per pair). Their messages'
    // authorship and the merged side's notifications about them move with them.
    moved.contact_requests = run("WITH movable AS ( \
            SELECT r.id FROM contact_requests r \
             WHERE ((r.from_organization_id = $1 AND r.to_organization_id <> $2) \
                 OR (r.to_organization_id = $1 AND r.from_organization_id <> $2)) \
               AND NOT (r.status = 'pending' AND EXISTS ( \
                   SELECT 1 FROM contact_requests p \
                    WHERE p.status = 'pending' \
                      AND least(p.from_organization_id, p.to_organization_id) \
                          = least($2, CASE WHEN r.from_organization_id = $1 \
                                           THEN r.to_organization_id ELSE r.from_organization_id END) \
                      AND greatest(p.from_organization_id, p.to_organization_id) \
                          = greatest($2, CASE WHEN r.from_organization_id = $1 \
                                              THEN r.to_organization_id ELSE r.from_organization_id END)))), \
          requests AS ( \
            UPDATE contact_requests r \
               SET from_organization_id = CASE WHEN r.from_organization_id = $1 THEN $2 \
                                               ELSE r.from_organization_id END, \
                   to_organization_id = CASE WHEN r.to_organization_id = $1 THEN $2 \
                                             ELSE r.to_organization_id END \
              FROM movable m WHERE r.id = m.id RETURNING r.id), \
          messages AS ( \
            UPDATE contact_request_messages SET author_organization_id = $2 \
             WHERE author_organization_id = $1 AND contact_request_id IN (SELECT id FROM requests) \
            RETURNING 1), \
          notices AS ( \
            UPDATE notifications SET organization_id = $2 \
             WHERE organization_id = $1 AND contact_request_id IN (SELECT id FROM requests) \
            RETURNING 1) \
         SELECT count(*) AS n FROM requests")
    .get_result::<Count>(conn)
    .await?
    .n;
    // The record of every release of the merged organization's contact persons goes with
    // them, so its owners (now the survivor's) still see it.
    run("UPDATE contact_releases SET organization_id = $2 WHERE organization_id = $1")
        .execute(conn)
        .await?;
    run(
        "UPDATE contact_releases SET viewer_organization_id = $2 WHERE viewer_organization_id = $1",
    )
    .execute(conn)
    .await?;
    Ok(moved)
}

/// What stays with the merged organization, once closed.
struct Left {
    requests: i64,
    closed: i64,
}

/// Closes what stays with the merged organization and would otherwise wait for ever: its
/// pending contact requests (withdrawn if it sent them, declined if it received them, the other
/// side notified) and its open verification request (rejected, the note naming the survivor).
async fn close_what_stays(
    conn: &mut AsyncPgConnection,
    from: Uuid,
    into: Uuid,
    actor: Uuid,
) -> Result<Left, Error> {
    let closed = diesel::sql_query(
        "WITH closed AS ( \
            UPDATE contact_requests \
               SET status = CASE WHEN from_organization_id = $1 THEN 'withdrawn' ELSE 'declined' END, \
                   decided_at = now(), decided_by = $2 \
             WHERE (from_organization_id = $1 OR to_organization_id = $1) AND status = 'pending' \
            RETURNING id, status, from_organization_id, to_organization_id), \
          notices AS ( \
            INSERT INTO notifications (organization_id, kind, contact_request_id) \
            SELECT CASE WHEN from_organization_id = $1 THEN to_organization_id \
                        ELSE from_organization_id END, \
                   'contact_request.' || status, id FROM closed \
            RETURNING 1) \
         SELECT count(*) AS n FROM closed",
    )
    .bind::<SqlUuid, _>(from)
    .bind::<SqlUuid, _>(actor)
    .get_result::<Count>(conn)
    .await?
    .n;
    diesel::sql_query(
        "UPDATE verification_requests \
            SET decision = 'reject', decided_at = now(), decided_by = $3, \
                decision_note = 'Merged into organization ' || $2::text \
          WHERE organization_id = $1 AND decision IS NULL",
    )
    .bind::<SqlUuid, _>(from)
    .bind::<SqlUuid, _>(into)
    .bind::<SqlUuid, _>(actor)
    .execute(conn)
    .await?;
    let requests = diesel::sql_query(
        "SELECT count(*) AS n FROM contact_requests \
          WHERE from_organization_id = $1 OR to_organization_id = $1",
    )
    .bind::<SqlUuid, _>(from)
    .get_result::<Count>(conn)
    .await?
    .n;
    Ok(Left { requests, closed })
}

/// Where a merged organization went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survivor {
    pub id: Uuid,
    pub slug: String,
    /// Whether it is public (else the redirect would reveal it).
    pub published: bool,
    /// Whether the merged organization was public when merged (else its id and slug would
    /// tell outsiders it existed).
    pub merged_was_public: bool,
}

/// The survivor, when `id` (or, without one, `slug`) names an organization that was merged into
/// another.
pub async fn survivor_of(
    conn: &mut AsyncPgConnection,
    id: Option<Uuid>,
    slug: &str,
) -> QueryResult<Option<Survivor>> {
    let merged = organizations::table
        .select((organizations::merged_into, organizations::merged_was_public))
        .filter(organizations::merged_into.is_not_null())
        .into_boxed();
    let merged = match id {
        Some(id) => merged.filter(organizations::id.eq(id)),
        None => merged.filter(organizations::slug.eq(slug)),
    };
    let Some((Some(survivor), merged_was_public)) = merged
        .first::<(Option<Uuid>, bool)>(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let found: Option<(Uuid, String, String)> = organizations::table
        .filter(organizations::id.eq(survivor))
        .select((
            organizations::id,
            organizations::slug,
            organizations::status,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(id, slug, status)| Survivor {
        id,
        slug,
        published: status == Status::Published.as_str(),
        merged_was_public,
    }))
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::worth_retrying;

    fn db_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn only_lost_races_are_retried() {
        assert!(worth_retrying(&db_error(
            DatabaseErrorKind::Unknown,
            "deadlock detected"
        )));
        assert!(worth_retrying(&db_error(
            DatabaseErrorKind::SerializationFailure,
            "could not serialize access"
        )));
        // A unique violation elsewhere, a constraint, a lost connection: not a race to retry.
        assert!(!worth_retrying(&db_error(
            DatabaseErrorKind::UniqueViolation,
            "duplicate key value violates unique constraint \"organizations_slug_key\""
        )));
        assert!(!worth_retrying(&db_error(
            DatabaseErrorKind::CheckViolation,
            "organization was merged"
        )));
        assert!(!worth_retrying(&db_error(
            DatabaseErrorKind::Unknown,
            "relation does not exist"
        )));
        assert!(!worth_retrying(&Error::NotFound));
    }
}
