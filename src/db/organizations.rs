//! Organizations, their members, contact persons, verification requests and the audit log.
//!
//! Every write that must be atomic with its audit entry (or with a check such as "the last
//! owner stays") runs as one transaction inside a function here, taking plain values: the
//! HTTP layer decides who may act; this module makes the change safely.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    audit_log, organization_contacts, organization_members, organizations, users,
    verification_requests,
};
use crate::domain::organization::{
    Access, AuditEntry, AuditRecord, Contact, ContactDetails, Member, Organization, Profile, Role,
    Status, Verification, VerificationStatus,
};

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::DeserializationError(format!("{what}: {e}").into())
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = organizations, check_for_backend(diesel::pg::Pg))]
pub(super) struct OrganizationRow {
    id: Uuid,
    slug: String,
    name: String,
    acronym: Option<String>,
    kind: String,
    description: Option<String>,
    alternate_names: serde_json::Value,
    founded_year: Option<i32>,
    residence_country: Option<String>,
    city: Option<String>,
    origin_countries: Vec<String>,
    operating_countries: Vec<String>,
    capabilities: serde_json::Value,
    languages: Vec<String>,
    website: Option<String>,
    public_email: Option<String>,
    public_phone: Option<String>,
    identifiers: serde_json::Value,
    members_count: Option<i32>,
    volunteers_count: Option<i32>,
    challenges: Vec<String>,
    interests: Vec<String>,
    status: String,
    verification_status: String,
    verified_at: Option<DateTime<Utc>>,
    verified_until: Option<DateTime<Utc>>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl OrganizationRow {
    /// The columns this row reads, for hand-written SQL over `organizations o`.
    pub(super) const COLUMNS: &'static str = "o.id, o.slug, o.name, o.acronym, o.kind, o.description, \
        o.alternate_names, o.founded_year, o.residence_country, o.city, o.origin_countries, \
        o.operating_countries, o.capabilities, o.languages, o.website, o.public_email, \
        o.public_phone, o.identifiers, o.members_count, o.volunteers_count, o.challenges, \
        o.interests, o.status, o.verification_status, o.verified_at, o.verified_until, \
        o.version, o.created_at, o.updated_at";
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = Error;

    fn try_from(r: OrganizationRow) -> QueryResult<Organization> {
        Ok(Organization {
            id: r.id,
            slug: r.slug,
            profile: Profile {
                name: r.name,
                acronym: r.acronym,
                kind: r.kind,
                description: r.description,
                alternate_names: serde_json::from_value(r.alternate_names)
                    .map_err(|e| corrupt("alternate_names", e))?,
                founded_year: r.founded_year.map(i64::from),
                residence_country: r.residence_country,
                city: r.city,
                origin_countries: r.origin_countries,
                operating_countries: r.operating_countries,
                capabilities: serde_json::from_value(r.capabilities)
                    .map_err(|e| corrupt("capabilities", e))?,
                languages: r.languages,
                website: r.website,
                public_email: r.public_email,
                public_phone: r.public_phone,
                identifiers: serde_json::from_value(r.identifiers)
                    .map_err(|e| corrupt("identifiers", e))?,
                members_count: r.members_count.map(i64::from),
                volunteers_count: r.volunteers_count.map(i64::from),
                challenges: r.challenges,
                interests: r.interests,
            },
            status: Status::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            verification: Verification {
                status: VerificationStatus::parse(&r.verification_status)
                    .ok_or_else(|| corrupt("verification_status", &r.verification_status))?,
                verified_at: r.verified_at,
                verified_until: r.verified_until,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The profile's columns, for INSERT and UPDATE alike (`None` clears a column).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = organizations, treat_none_as_null = true)]
pub(super) struct ProfileColumns<'a> {
    name: &'a str,
    acronym: Option<&'a str>,
    kind: &'a str,
    description: Option<&'a str>,
    alternate_names: serde_json::Value,
    founded_year: Option<i32>,
    residence_country: Option<&'a str>,
    city: Option<&'a str>,
    origin_countries: &'a [String],
    operating_countries: &'a [String],
    capabilities: serde_json::Value,
    languages: &'a [String],
    website: Option<&'a str>,
    public_email: Option<&'a str>,
    public_phone: Option<&'a str>,
    identifiers: serde_json::Value,
    members_count: Option<i32>,
    volunteers_count: Option<i32>,
    challenges: &'a [String],
    interests: &'a [String],
}

fn small_int(n: Option<i64>) -> Option<i32> {
    // Validation bounds every count and year well inside i32.
    n.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

impl<'a> ProfileColumns<'a> {
    pub(super) fn of(p: &'a Profile) -> Self {
        ProfileColumns {
            name: &p.name,
            acronym: p.acronym.as_deref(),
            kind: &p.kind,
            description: p.description.as_deref(),
            alternate_names: serde_json::to_value(&p.alternate_names).unwrap_or_default(),
            founded_year: small_int(p.founded_year),
            residence_country: p.residence_country.as_deref(),
            city: p.city.as_deref(),
            origin_countries: &p.origin_countries,
            operating_countries: &p.operating_countries,
            capabilities: serde_json::to_value(&p.capabilities).unwrap_or_default(),
            languages: &p.languages,
            website: p.website.as_deref(),
            public_email: p.public_email.as_deref(),
            public_phone: p.public_phone.as_deref(),
            identifiers: serde_json::to_value(&p.identifiers).unwrap_or_default(),
            members_count: small_int(p.members_count),
            volunteers_count: small_int(p.volunteers_count),
            challenges: &p.challenges,
            interests: &p.interests,
        }
    }
}

/// What the user is to the organization; `None` when the account no longer exists.
pub async fn access(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> QueryResult<Option<Access>> {
    let row: Option<(bool, Option<String>)> = users::table
        .left_join(
            organization_members::table.on(organization_members::user_id
                .eq(users::id)
                .and(organization_members::organization_id.eq(organization_id))),
        )
        .filter(users::id.eq(user_id))
        .filter(users::erased_at.is_null())
        .select((users::is_moderator, organization_members::role.nullable()))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(is_moderator, role)| Access {
        is_moderator,
        role: role.as_deref().and_then(Role::parse),
    }))
}

pub(super) async fn record(conn: &mut AsyncPgConnection, entry: &AuditEntry) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(entry.actor_id),
            audit_log::as_moderator.eq(entry.as_moderator),
            audit_log::action.eq(entry.action),
            audit_log::organization_id.eq(entry.organization_id),
            audit_log::subject_id.eq(entry.subject_id),
            audit_log::details.eq(&entry.details),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

fn is_unique_violation(e: &Error, constraint: &str) -> bool {
    matches!(e, Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

/// Creates the organization with `creator` as its owner, under the first free slug of
/// `base`, `base-2` ... `base-5`, then `base-` and a random suffix.
pub async fn create_organization(
    conn: &mut AsyncPgConnection,
    profile: &Profile,
    status: Status,
    base_slug: &str,
    creator: Uuid,
) -> QueryResult<Organization> {
    for slug in crate::domain::organization::slug_candidates(base_slug) {
        let columns = ProfileColumns::of(profile);
        let created = conn
            .transaction(async |conn| {
                let row: OrganizationRow = diesel::insert_into(organizations::table)
                    .values((
                        columns,
                        organizations::slug.eq(&slug),
                        organizations::status.eq(status.as_str()),
                        organizations::created_by.eq(creator),
                    ))
                    .returning(OrganizationRow::as_returning())
                    .get_result(conn)
                    .await?;
                diesel::insert_into(organization_members::table)
                    .values((
                        organization_members::organization_id.eq(row.id),
                        organization_members::user_id.eq(creator),
                        organization_members::role.eq(Role::Owner.as_str()),
                        organization_members::added_by.eq(creator),
                    ))
                    .execute(conn)
                    .await?;
                record(
                    conn,
                    &AuditEntry {
                        actor_id: creator,
                        as_moderator: false,
                        action: "organization.created",
                        organization_id: row.id,
                        subject_id: None,
                        details: serde_json::json!({"status": status.as_str(), "slug": slug}),
                    },
                )
                .await?;
                Ok::<_, Error>(row)
            })
            .await;
        match created {
            Ok(row) => return row.try_into(),
            Err(e) if is_unique_violation(&e, "organizations_slug_key") => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::DatabaseError(
        DatabaseErrorKind::UniqueViolation,
        Box::new("no free slug".to_owned()),
    ))
}

/// An organization by id or by slug, whatever its status, unless it was merged into another.
pub async fn find_organization(
    conn: &mut AsyncPgConnection,
    id: Option<Uuid>,
    slug: &str,
) -> QueryResult<Option<Organization>> {
    let query = organizations::table
        .select(OrganizationRow::as_select())
        .into_boxed();
    let query = match id {
        Some(id) => query.filter(organizations::id.eq(id)),
        None => query.filter(organizations::slug.eq(slug)),
    };
    // A merged organization answers as its survivor (a 308, see `http::merges`), never itself.
    let query = query.filter(organizations::merged_into.is_null());
    query
        .first(conn)
        .await
        .optional()?
        .map(Organization::try_from)
        .transpose()
}

/// The organizations with these ids (any status), in no particular order.
pub async fn organizations_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<Organization>> {
    organizations::table
        .filter(organizations::id.eq_any(ids))
        .select(OrganizationRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Organization::try_from)
        .collect()
}

/// What an update found.
pub enum Updated<T> {
    Done(T),
    /// Changed by someone else since `expected_version` was read.
    Stale,
    Missing,
}

/// Writes a new profile and status if the organization is still at `expected_version`.
pub async fn update_organization(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected_version: i32,
    profile: &Profile,
    status: Status,
    audit: &AuditEntry,
) -> QueryResult<Updated<Organization>> {
    let columns = ProfileColumns::of(profile);
    conn.transaction(async |conn| {
        let row: Option<OrganizationRow> = diesel::update(
            organizations::table
                .filter(organizations::id.eq(id))
                .filter(organizations::version.eq(expected_version)),
        )
        .set((
            columns,
            organizations::status.eq(status.as_str()),
            organizations::version.eq(organizations::version + 1),
            organizations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(OrganizationRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
        match row {
            Some(row) => {
                record(conn, audit).await?;
                Ok(Updated::Done(row.try_into()?))
            }
            None => stale_or_missing(conn, id).await,
        }
    })
    .await
}

async fn stale_or_missing<T>(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Updated<T>> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        organizations::table.filter(organizations::id.eq(id)),
    ))
    .get_result(conn)
    .await?;
    Ok(if exists {
        Updated::Stale
    } else {
        Updated::Missing
    })
}

// ---------------------------------------------------------------- members

#[derive(Queryable)]
struct MemberRow {
    user_id: Uuid,
    display_name: String,
    email: String,
    role: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<MemberRow> for Member {
    type Error = Error;

    fn try_from(r: MemberRow) -> QueryResult<Member> {
        Ok(Member {
            user_id: r.user_id,
            display_name: r.display_name,
            email: r.email,
            role: Role::parse(&r.role).ok_or_else(|| corrupt("role", &r.role))?,
            added_at: r.created_at,
        })
    }
}

pub async fn list_members(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
) -> QueryResult<Vec<Member>> {
    organization_members::table
        .inner_join(users::table)
        .filter(organization_members::organization_id.eq(organization_id))
        .order((
            organization_members::created_at.asc(),
            organization_members::user_id.asc(),
        ))
        .select((
            organization_members::user_id,
            users::display_name,
            users::email,
            organization_members::role,
            organization_members::created_at,
        ))
        .load::<MemberRow>(conn)
        .await?
        .into_iter()
        .map(Member::try_from)
        .collect()
}

/// The organizations a user belongs to: (id, name, role).
pub async fn memberships(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<Vec<(Uuid, String, String)>> {
    organization_members::table
        .inner_join(organizations::table)
        .filter(organization_members::user_id.eq(user_id))
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((
            organizations::id,
            organizations::name,
            organization_members::role,
        ))
        .load(conn)
        .await
}

pub async fn find_user_id_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<Uuid>> {
    users::table
        .filter(users::email.eq(email))
        .filter(users::erased_at.is_null())
        .select(users::id)
        .first(conn)
        .await
        .optional()
}

pub enum MemberChange {
    Added(Member),
    RoleChanged(Member),
    Unchanged(Member),
    Removed,
    /// The change would leave the organization without an owner.
    LastOwner,
    /// The organization has [`limits::MEMBERS`](crate::domain::organization::limits::MEMBERS).
    Full,
    NotMember,
    /// The account was erased while it was being added.
    AccountGone,
}

/// Locks the organization's row, so that concurrent member changes see each other's owner
/// counts (two owners cannot both leave at once). FOR NO KEY UPDATE: it serialises these
/// writers without blocking other transactions' key checks (a notification or request naming
/// the organization), which a merge holding other rows may be waiting on.
async fn lock_organization(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    organizations::table
        .filter(organizations::id.eq(id))
        // Re-checked after waiting for a merge in progress: a merged one is gone.
        .filter(organizations::merged_into.is_null())
        .select(organizations::id)
        .for_no_key_update()
        .first::<Uuid>(conn)
        .await
        .optional()
        .map(|r| r.is_some())
}

async fn owner_count(conn: &mut AsyncPgConnection, organization_id: Uuid) -> QueryResult<i64> {
    organization_members::table
        .filter(organization_members::organization_id.eq(organization_id))
        .filter(organization_members::role.eq(Role::Owner.as_str()))
        .count()
        .get_result(conn)
        .await
}

async fn member_role(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Option<Role>> {
    let role: Option<String> = organization_members::table
        .find((organization_id, user_id))
        .select(organization_members::role)
        .first(conn)
        .await
        .optional()?;
    Ok(role.as_deref().and_then(Role::parse))
}

async fn one_member(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Member> {
    organization_members::table
        .inner_join(users::table)
        .filter(organization_members::organization_id.eq(organization_id))
        .filter(organization_members::user_id.eq(user_id))
        .select((
            organization_members::user_id,
            users::display_name,
            users::email,
            organization_members::role,
            organization_members::created_at,
        ))
        .first::<MemberRow>(conn)
        .await?
        .try_into()
}

/// Adds a member, or changes an existing member's role.
pub async fn put_member(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    user_id: Uuid,
    role: Role,
    max_members: i64,
    audit: AuditEntry,
) -> QueryResult<MemberChange> {
    conn.transaction(async |conn| {
        if !lock_organization(conn, organization_id).await? {
            return Ok(MemberChange::NotMember);
        }
        let current = member_role(conn, organization_id, user_id).await?;
        match current {
            Some(r) if r == role => {
                return Ok(MemberChange::Unchanged(
                    one_member(conn, organization_id, user_id).await?,
                ));
            }
            Some(Role::Owner) if owner_count(conn, organization_id).await? <= 1 => {
                return Ok(MemberChange::LastOwner);
            }
            Some(_) => {
                diesel::update(organization_members::table.find((organization_id, user_id)))
                    .set(organization_members::role.eq(role.as_str()))
                    .execute(conn)
                    .await?;
            }
            None => {
                // An account being erased holds its row locked until it is: wait, then refuse
                // it, rather than make an erased account a member.
                let live: Option<Uuid> = users::table
                    .find(user_id)
                    .filter(users::erased_at.is_null())
                    .select(users::id)
                    .for_key_share()
                    .first(conn)
                    .await
                    .optional()?;
                if live.is_none() {
                    return Ok(MemberChange::AccountGone);
                }
                let count: i64 = organization_members::table
                    .filter(organization_members::organization_id.eq(organization_id))
                    .count()
                    .get_result(conn)
                    .await?;
                if count >= max_members {
                    return Ok(MemberChange::Full);
                }
                diesel::insert_into(organization_members::table)
                    .values((
                        organization_members::organization_id.eq(organization_id),
                        organization_members::user_id.eq(user_id),
                        organization_members::role.eq(role.as_str()),
                        organization_members::added_by.eq(audit.actor_id),
                    ))
                    .execute(conn)
                    .await?;
            }
        }
        let mut audit = audit;
        audit.action = if current.is_some() {
            "member.role_changed"
        } else {
            "member.added"
        };
        record(conn, &audit).await?;
        let member = one_member(conn, organization_id, user_id).await?;
        Ok(if current.is_some() {
            MemberChange::RoleChanged(member)
        } else {
            MemberChange::Added(member)
        })
    })
    .await
}

/// Removes a member unless they are the last owner.
pub async fn remove_member(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    user_id: Uuid,
    audit: &AuditEntry,
) -> QueryResult<MemberChange> {
    conn.transaction(async |conn| {
        if !lock_organization(conn, organization_id).await? {
            return Ok(MemberChange::NotMember);
        }
        match member_role(conn, organization_id, user_id).await? {
            None => return Ok(MemberChange::NotMember),
            Some(Role::Owner) if owner_count(conn, organization_id).await? <= 1 => {
                return Ok(MemberChange::LastOwner);
            }
            Some(_) => {}
        }
        diesel::delete(organization_members::table.find((organization_id, user_id)))
            .execute(conn)
            .await?;
        record(conn, audit).await?;
        Ok(MemberChange::Removed)
    })
    .await
}

// ---------------------------------------------------------------- contacts

#[derive(Queryable, Selectable)]
#[diesel(table_name = organization_contacts, check_for_backend(diesel::pg::Pg))]
struct ContactRow {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    role: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    languages: Vec<String>,
    consent_basis: String,
    consent_obtained_at: Option<DateTime<Utc>>,
    purpose: String,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    consent_reviewed_at: Option<DateTime<Utc>>,
}

impl From<ContactRow> for Contact {
    fn from(r: ContactRow) -> Contact {
        Contact {
            id: r.id,
            organization_id: r.organization_id,
            details: ContactDetails {
                name: r.name,
                role: r.role,
                email: r.email,
                phone: r.phone,
                languages: r.languages,
                consent_basis: r.consent_basis,
                consent_obtained_at: r.consent_obtained_at,
                purpose: r.purpose,
            },
            consent_reviewed_at: r.consent_reviewed_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = organization_contacts, treat_none_as_null = true)]
struct ContactColumns<'a> {
    name: &'a str,
    role: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    languages: &'a [String],
    consent_basis: &'a str,
    consent_obtained_at: Option<DateTime<Utc>>,
    purpose: &'a str,
}

impl<'a> ContactColumns<'a> {
    fn of(d: &'a ContactDetails) -> Self {
        ContactColumns {
            name: &d.name,
            role: d.role.as_deref(),
            email: d.email.as_deref(),
            phone: d.phone.as_deref(),
            languages: &d.languages,
            consent_basis: &d.consent_basis,
            consent_obtained_at: d.consent_obtained_at,
            purpose: &d.purpose,
        }
    }
}

pub async fn list_contacts(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
) -> QueryResult<Vec<Contact>> {
    organization_contacts::table
        .filter(organization_contacts::organization_id.eq(organization_id))
        .order((
            organization_contacts::created_at.asc(),
            organization_contacts::id.asc(),
        ))
        .select(ContactRow::as_select())
        .load(conn)
        .await
        .map(|rows| rows.into_iter().map(Contact::from).collect())
}

pub async fn find_contact(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    contact_id: Uuid,
) -> QueryResult<Option<Contact>> {
    organization_contacts::table
        .filter(organization_contacts::organization_id.eq(organization_id))
        .filter(organization_contacts::id.eq(contact_id))
        .select(ContactRow::as_select())
        .first(conn)
        .await
        .optional()
        .map(|r| r.map(Contact::from))
}

/// Adds a contact, unless the organization already has `max` (then `None`).
pub async fn create_contact(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    details: &ContactDetails,
    max: i64,
    audit: AuditEntry,
) -> QueryResult<Option<Contact>> {
    conn.transaction(async |conn| {
        lock_organization(conn, organization_id).await?;
        let count: i64 = organization_contacts::table
            .filter(organization_contacts::organization_id.eq(organization_id))
            .count()
            .get_result(conn)
            .await?;
        if count >= max {
            return Ok(None);
        }
        let row: ContactRow = diesel::insert_into(organization_contacts::table)
            .values((
                ContactColumns::of(details),
                organization_contacts::organization_id.eq(organization_id),
            ))
            .returning(ContactRow::as_returning())
            .get_result(conn)
            .await?;
        let mut audit = audit;
        audit.subject_id = Some(row.id);
        record(conn, &audit).await?;
        Ok(Some(row.into()))
    })
    .await
}

/// Records that an owner confirmed the contact person's consent still holds (now), with its
/// audit entry; `None` when there is no such contact.
pub async fn confirm_consent(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    contact_id: Uuid,
    audit: &AuditEntry,
) -> QueryResult<Option<Contact>> {
    conn.transaction(async |conn| {
        let row: Option<ContactRow> = diesel::update(
            organization_contacts::table
                .filter(organization_contacts::organization_id.eq(organization_id))
                .filter(organization_contacts::id.eq(contact_id)),
        )
        .set((
            organization_contacts::consent_reviewed_at.eq(diesel::dsl::now),
            organization_contacts::version.eq(organization_contacts::version + 1),
            organization_contacts::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ContactRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
        if row.is_some() {
            record(conn, audit).await?;
        }
        Ok(row.map(Contact::from))
    })
    .await
}

pub async fn update_contact(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    contact_id: Uuid,
    expected_version: i32,
    details: &ContactDetails,
    audit: &AuditEntry,
) -> QueryResult<Updated<Contact>> {
    conn.transaction(async |conn| {
        let row: Option<ContactRow> = diesel::update(
            organization_contacts::table
                .filter(organization_contacts::organization_id.eq(organization_id))
                .filter(organization_contacts::id.eq(contact_id))
                .filter(organization_contacts::version.eq(expected_version)),
        )
        .set((
            ContactColumns::of(details),
            organization_contacts::version.eq(organization_contacts::version + 1),
            organization_contacts::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ContactRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
        match row {
            Some(row) => {
                record(conn, audit).await?;
                Ok(Updated::Done(row.into()))
            }
            None => {
                let exists = find_contact(conn, organization_id, contact_id)
                    .await?
                    .is_some();
                Ok(if exists {
                    Updated::Stale
                } else {
                    Updated::Missing
                })
            }
        }
    })
    .await
}

pub async fn delete_contact(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    contact_id: Uuid,
    expected_version: Option<i32>,
    audit: &AuditEntry,
) -> QueryResult<Updated<()>> {
    conn.transaction(async |conn| {
        let mut query = diesel::delete(
            organization_contacts::table
                .filter(organization_contacts::organization_id.eq(organization_id))
                .filter(organization_contacts::id.eq(contact_id)),
        )
        .into_boxed();
        if let Some(v) = expected_version {
            query = query.filter(organization_contacts::version.eq(v));
        }
        if query.execute(conn).await? == 1 {
            record(conn, audit).await?;
            return Ok(Updated::Done(()));
        }
        let exists = find_contact(conn, organization_id, contact_id)
            .await?
            .is_some();
        Ok(if exists {
            Updated::Stale
        } else {
            Updated::Missing
        })
    })
    .await
}

// ---------------------------------------------------------------- verification

pub enum VerificationOutcome {
    Done(Box<Organization>),
    /// A request is already open (on request) / none is open (on decision).
    Conflict,
    Missing,
}

/// Opens a verification request; the organization reads as `pending` unless it is verified.
pub async fn request_verification(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    requested_by: Uuid,
    note: Option<&str>,
    audit: &AuditEntry,
) -> QueryResult<VerificationOutcome> {
    conn.transaction(async |conn| {
        if !lock_organization(conn, organization_id).await? {
            return Ok(VerificationOutcome::Missing);
        }
        let inserted = diesel::insert_into(verification_requests::table)
            .values((
                verification_requests::organization_id.eq(organization_id),
                verification_requests::requested_by.eq(requested_by),
                verification_requests::note.eq(note),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            return Ok(VerificationOutcome::Conflict);
        }
        // A still-valid approval stays visible while its renewal is pending.
        let row: OrganizationRow = diesel::update(organizations::table.find(organization_id))
            .set((
                organizations::verification_status.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                    "CASE WHEN verification_status = 'verified' AND verified_until > now() \
                     THEN 'verified' ELSE 'pending' END",
                )),
                organizations::version.eq(organizations::version + 1),
            ))
            .returning(OrganizationRow::as_returning())
            .get_result(conn)
            .await?;
        record(conn, audit).await?;
        Ok(VerificationOutcome::Done(Box::new(row.try_into()?)))
    })
    .await
}

/// Closes the open request with a moderator's decision. Approval verifies the organization
/// until `verified_until`; rejection withdraws any verification.
pub async fn decide_verification(
    conn: &mut AsyncPgConnection,
    organization_id: Uuid,
    approve: bool,
    note: Option<&str>,
    verified_until: DateTime<Utc>,
    audit: &AuditEntry,
) -> QueryResult<VerificationOutcome> {
    conn.transaction(async |conn| {
        if !lock_organization(conn, organization_id).await? {
            return Ok(VerificationOutcome::Missing);
        }
        let closed = diesel::update(
            verification_requests::table
                .filter(verification_requests::organization_id.eq(organization_id))
                .filter(verification_requests::decision.is_null()),
        )
        .set((
            verification_requests::decision.eq(if approve { "approve" } else { "reject" }),
            verification_requests::decided_by.eq(audit.actor_id),
            verification_requests::decided_at.eq(diesel::dsl::now),
            verification_requests::decision_note.eq(note),
        ))
        .execute(conn)
        .await?;
        if closed == 0 {
            return Ok(VerificationOutcome::Conflict);
        }
        let update = diesel::update(organizations::table.find(organization_id));
        let row: OrganizationRow = if approve {
            update
                .set((
                    organizations::verification_status.eq("verified"),
                    organizations::verified_at.eq(diesel::dsl::now),
                    organizations::verified_until.eq(verified_until),
                    organizations::version.eq(organizations::version + 1),
                ))
                .returning(OrganizationRow::as_returning())
                .get_result(conn)
                .await?
        } else {
            update
                .set((
                    organizations::verification_status.eq("rejected"),
                    organizations::verified_at.eq(None::<DateTime<Utc>>),
                    organizations::verified_until.eq(None::<DateTime<Utc>>),
                    organizations::version.eq(organizations::version + 1),
                ))
                .returning(OrganizationRow::as_returning())
                .get_result(conn)
                .await?
        };
        record(conn, audit).await?;
        Ok(VerificationOutcome::Done(Box::new(row.try_into()?)))
    })
    .await
}

// ---------------------------------------------------------------- audit log

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    as_moderator: bool,
    action: String,
    organization_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    details: serde_json::Value,
}

/// Audit entries newest first, optionally of one organization or one actor, with ids below
/// `before` (the cursor); at most `limit` + 1 so the caller knows whether more follow.
pub async fn list_audit(
    conn: &mut AsyncPgConnection,
    organization_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<AuditRecord>, i64)> {
    let filtered = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(id) = organization_id {
            q = q.filter(audit_log::organization_id.eq(id));
        }
        if let Some(id) = actor_id {
            q = q.filter(audit_log::actor_id.eq(id));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn).await?;
    let mut q = filtered();
    if let Some(before) = before {
        q = q.filter(audit_log::id.lt(before));
    }
    let rows: Vec<AuditRow> = q
        .order(audit_log::id.desc())
        .limit(limit + 1)
        .select(AuditRow::as_select())
        .load(conn)
        .await?;
    let records = rows
        .into_iter()
        .map(|r| AuditRecord {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            as_moderator: r.as_moderator,
            action: r.action,
            organization_id: r.organization_id,
            subject_id: r.subject_id,
            details: r.details,
        })
        .collect();
    Ok((records, total))
}

#[derive(QueryableByName)]
struct KindCounts {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    origin: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    operating: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    residence: i64,
}

/// Published organizations that have the country (alpha-3) as a country of origin, of
/// operation or of residence, per kind: `(kind, origin, operating, residence)`. Kinds with none
/// are absent.
pub async fn country_counts(
    conn: &mut AsyncPgConnection,
    code: &str,
) -> QueryResult<Vec<(String, i64, i64, i64)>> {
    let rows: Vec<KindCounts> = diesel::sql_query(
        "SELECT kind, \
                count(*) FILTER (WHERE origin_countries @> ARRAY[$1::text]) AS origin, \
                count(*) FILTER (WHERE operating_countries @> ARRAY[$1::text]) AS operating, \
                count(*) FILTER (WHERE residence_country = $1) AS residence \
         FROM organizations \
         WHERE status = 'published' \
           AND (origin_countries @> ARRAY[$1::text] \
                OR operating_countries @> ARRAY[$1::text] \
                OR residence_country = $1) \
         GROUP BY kind",
    )
    .bind::<diesel::sql_types::Text, _>(code)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.kind, r.origin, r.operating, r.residence))
        .collect())
}

/// Inserts published organizations with no members in one statement (synthetic data for
/// development and benchmarks); a slug already taken skips its row. Returns rows inserted.
pub async fn insert_published_batch(
    conn: &mut AsyncPgConnection,
    batch: &[(&Profile, &str, bool)],
) -> QueryResult<usize> {
    let now = Utc::now();
    let until = now + chrono::Duration::days(180);
    let rows: Vec<_> = batch
        .iter()
        .map(|(profile, slug, verified)| {
            (
                ProfileColumns::of(profile),
                organizations::slug.eq(*slug),
                organizations::status.eq(Status::Published.as_str()),
                organizations::verification_status.eq(if *verified {
                    VerificationStatus::Verified.as_str()
                } else {
                    VerificationStatus::Unverified.as_str()
                }),
                organizations::verified_at.eq(verified.then_some(now)),
                organizations::verified_until.eq(verified.then_some(until)),
            )
        })
        .collect();
    diesel::insert_into(organizations::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

/// Organizations in the database, whatever their status.
pub async fn count_organizations(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    organizations::table.count().get_result(conn).await
}
