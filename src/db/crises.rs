//! Crises: registered by moderators, read by everyone. Each write and its audit entry in one
//! transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{audit_log, crises};
use crate::domain::crisis::{Crisis, CrisisFilter, CrisisInput, Status};
use crate::domain::organization::slug_candidates;

#[derive(Queryable, Selectable)]
#[diesel(table_name = crises, check_for_backend(diesel::pg::Pg))]
struct CrisisRow {
    id: Uuid,
    seq: i64,
    slug: String,
    name: String,
    glide: Option<String>,
    hazard: String,
    countries: Vec<String>,
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
    status: String,
    description: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CrisisRow> for Crisis {
    type Error = Error;

    fn try_from(r: CrisisRow) -> QueryResult<Crisis> {
        let status = Status::parse(&r.status).ok_or_else(|| {
            Error::DeserializationError(format!("unknown crisis status {:?}", r.status).into())
        })?;
        Ok(Crisis {
            id: r.id,
            seq: r.seq,
            slug: r.slug,
            input: CrisisInput {
                name: r.name,
                glide: r.glide,
                hazard: r.hazard,
                countries: r.countries,
                started_on: r.started_on,
                ended_on: r.ended_on,
                status,
                description: r.description,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Why a write was refused by a uniqueness rule.
pub enum Write {
    Done(Box<Crisis>),
    /// Another crisis has this GLIDE number.
    GlideTaken,
    /// The crisis changed since the version the write was based on (or is gone).
    Stale,
}

fn is_unique_violation(e: &Error, constraint: &str) -> bool {
    matches!(e, Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

async fn audit(
    conn: &mut AsyncPgConnection,
    actor: Uuid,
    action: &str,
    crisis: Uuid,
    details: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(actor),
            audit_log::as_moderator.eq(true),
            audit_log::action.eq(action),
            audit_log::subject_id.eq(crisis),
            audit_log::details.eq(details),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Registers a crisis, with a slug from `base_slug` (or a numbered or random variant when taken).
pub async fn create_crisis(
    conn: &mut AsyncPgConnection,
    input: &CrisisInput,
    base_slug: &str,
    creator: Uuid,
) -> QueryResult<Write> {
    for slug in slug_candidates(base_slug) {
        let created = conn
            .transaction(async |conn| {
                let row: CrisisRow = diesel::insert_into(crises::table)
                    .values((
                        crises::slug.eq(&slug),
                        crises::name.eq(&input.name),
                        crises::glide.eq(&input.glide),
                        crises::hazard.eq(&input.hazard),
                        crises::countries.eq(&input.countries),
                        crises::started_on.eq(input.started_on),
                        crises::ended_on.eq(input.ended_on),
                        crises::status.eq(input.status.as_str()),
                        crises::description.eq(&input.description),
                        crises::created_by.eq(creator),
                    ))
                    .returning(CrisisRow::as_returning())
                    .get_result(conn)
                    .await?;
                audit(
                    conn,
                    creator,
                    "crisis.created",
                    row.id,
                    serde_json::json!({"slug": slug}),
                )
                .await?;
                Ok::<_, Error>(row)
            })
            .await;
        match created {
            Ok(row) => return Ok(Write::Done(Box::new(row.try_into()?))),
            Err(e) if is_unique_violation(&e, "crises_slug_key") => continue,
            Err(e) if is_unique_violation(&e, "crises_glide_key") => return Ok(Write::GlideTaken),
            Err(e) => return Err(e),
        }
    }
    Err(Error::DatabaseError(
        DatabaseErrorKind::UniqueViolation,
        Box::new("no free slug".to_owned()),
    ))
}

/// By id, or else by slug.
pub async fn find_crisis(
    conn: &mut AsyncPgConnection,
    id: Option<Uuid>,
    slug: &str,
) -> QueryResult<Option<Crisis>> {
    let query = match id {
        Some(id) => crises::table.filter(crises::id.eq(id)).into_boxed(),
        None => crises::table.filter(crises::slug.eq(slug)).into_boxed(),
    };
    query
        .select(CrisisRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Crisis::try_from)
        .transpose()
}

/// The crises with these ids, in no particular order.
pub async fn crises_by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Crisis>> {
    crises::table
        .filter(crises::id.eq_any(ids))
        .select(CrisisRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Crisis::try_from)
        .collect()
}

pub async fn crisis_exists(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(crises::table.filter(crises::id.eq(id))))
        .get_result(conn)
        .await
}

/// Replaces the crisis's fields if it is still at `version`; records which fields changed.
pub async fn update_crisis(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    version: i32,
    input: &CrisisInput,
    changed: &[&str],
    actor: Uuid,
) -> QueryResult<Write> {
    let updated = conn
        .transaction(async |conn| {
            let row: Option<CrisisRow> = diesel::update(
                crises::table
                    .filter(crises::id.eq(id))
                    .filter(crises::version.eq(version)),
            )
            .set((
                crises::name.eq(&input.name),
                crises::glide.eq(&input.glide),
                crises::hazard.eq(&input.hazard),
                crises::countries.eq(&input.countries),
                crises::started_on.eq(input.started_on),
                crises::ended_on.eq(input.ended_on),
                crises::status.eq(input.status.as_str()),
                crises::description.eq(&input.description),
                crises::version.eq(version + 1),
                crises::updated_at.eq(diesel::dsl::now),
            ))
            .returning(CrisisRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
            if let Some(row) = &row {
                audit(
                    conn,
                    actor,
                    "crisis.updated",
                    row.id,
                    serde_json::json!({"fields": changed}),
                )
                .await?;
            }
            Ok::<_, Error>(row)
        })
        .await;
    match updated {
        Ok(Some(row)) => Ok(Write::Done(Box::new(row.try_into()?))),
        Ok(None) => Ok(Write::Stale),
        Err(e) if is_unique_violation(&e, "crises_glide_key") => Ok(Write::GlideTaken),
        Err(e) => Err(e),
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_escaped(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// Crises matching the filter, newest registered first, before `before` (a `seq`); `limit + 1`
/// at most. Also how many match in all.
pub async fn list_crises(
    conn: &mut AsyncPgConnection,
    filter: &CrisisFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Crisis>, i64)> {
    use diesel::PgArrayExpressionMethods;
    use diesel::sql_types::{Bool, Text};
    let filtered = || {
        let mut q = crises::table.into_boxed();
        if let Some(status) = filter.status {
            q = q.filter(crises::status.eq(status.as_str()));
        }
        if !filter.countries.is_empty() {
            q = q.filter(crises::countries.overlaps_with(&filter.countries));
        }
        if !filter.hazards.is_empty() {
            q = q.filter(crises::hazard.eq_any(&filter.hazards));
        }
        if let Some(words) = &filter.q {
            let pattern = format!("%{}%", like_escaped(&words.to_lowercase()));
            q = q.filter(
                diesel::dsl::sql::<Bool>(
                    "dd_unaccent(lower(name || ' ' || coalesce(glide, '') || ' ' || coalesce(description, ''))) \
                     LIKE dd_unaccent(",
                )
                .bind::<Text, _>(pattern)
                .sql(")"),
            );
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn).await?;
    let mut q = filtered();
    if let Some(before) = before {
        q = q.filter(crises::seq.lt(before));
    }
    let rows: Vec<CrisisRow> = q
        .order(crises::seq.desc())
        .limit(limit + 1)
        .select(CrisisRow::as_select())
        .load(conn)
        .await?;
    let list = rows
        .into_iter()
        .map(Crisis::try_from)
        .collect::<QueryResult<Vec<_>>>()?;
    Ok((list, total))
}
