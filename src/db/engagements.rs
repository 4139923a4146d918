//! Engagements (who does what where in a crisis) and the 3W matrix built from them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{engagements, organizations};
use crate::domain::engagement::{Engagement, EngagementFilter, EngagementInput, Status, ThreeWRow};

#[derive(Queryable, Selectable)]
#[diesel(table_name = engagements, check_for_backend(diesel::pg::Pg))]
struct EngagementRow {
    id: Uuid,
    seq: i64,
    crisis_id: Uuid,
    organization_id: Uuid,
    sectors: Vec<String>,
    support_types: Vec<String>,
    country: String,
    admin1: Option<String>,
    description: Option<String>,
    status: String,
    started_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn status(raw: &str) -> QueryResult<Status> {
    Status::parse(raw).ok_or_else(|| {
        diesel::result::Error::DeserializationError(
            format!("unknown engagement status {raw:?}").into(),
        )
    })
}

impl TryFrom<EngagementRow> for Engagement {
    type Error = diesel::result::Error;

    fn try_from(r: EngagementRow) -> QueryResult<Engagement> {
        Ok(Engagement {
            id: r.id,
            seq: r.seq,
            crisis_id: r.crisis_id,
            input: EngagementInput {
                organization_id: r.organization_id,
                sectors: r.sectors,
                support_types: r.support_types,
                country: r.country,
                admin1: r.admin1,
                description: r.description,
                status: status(&r.status)?,
                started_on: r.started_on,
                ended_on: r.ended_on,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub async fn create_engagement(
    conn: &mut AsyncPgConnection,
    crisis_id: Uuid,
    input: &EngagementInput,
    creator: Uuid,
) -> QueryResult<Engagement> {
    diesel::insert_into(engagements::table)
        .values((
            engagements::crisis_id.eq(crisis_id),
            engagements::organization_id.eq(input.organization_id),
            engagements::sectors.eq(&input.sectors),
            engagements::support_types.eq(&input.support_types),
            engagements::country.eq(&input.country),
            engagements::admin1.eq(&input.admin1),
            engagements::description.eq(&input.description),
            engagements::status.eq(input.status.as_str()),
            engagements::started_on.eq(input.started_on),
            engagements::ended_on.eq(input.ended_on),
            engagements::created_by.eq(creator),
        ))
        .returning(EngagementRow::as_returning())
        .get_result::<EngagementRow>(conn)
        .await?
        .try_into()
}

pub async fn find_engagement(
    conn: &mut AsyncPgConnection,
    crisis_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Engagement>> {
    engagements::table
        .filter(engagements::id.eq(id))
        .filter(engagements::crisis_id.eq(crisis_id))
        .select(EngagementRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Engagement::try_from)
        .transpose()
}

/// The engagements with these ids whose organization is published (the public ones).
pub async fn public_engagements_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<Engagement>> {
    engagements::table
        .inner_join(organizations::table)
        .filter(engagements::id.eq_any(ids))
        .filter(organizations::status.eq("published"))
        .select(EngagementRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Engagement::try_from)
        .collect()
}

/// Replaces the engagement's fields if it is still at `version`; `None` when it is not.
pub async fn update_engagement(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    version: i32,
    input: &EngagementInput,
) -> QueryResult<Option<Engagement>> {
    diesel::update(
        engagements::table
            .filter(engagements::id.eq(id))
            .filter(engagements::version.eq(version)),
    )
    .set((
        engagements::sectors.eq(&input.sectors),
        engagements::support_types.eq(&input.support_types),
        engagements::country.eq(&input.country),
        engagements::admin1.eq(&input.admin1),
        engagements::description.eq(&input.description),
        engagements::status.eq(input.status.as_str()),
        engagements::started_on.eq(input.started_on),
        engagements::ended_on.eq(input.ended_on),
        engagements::version.eq(version + 1),
        engagements::updated_at.eq(diesel::dsl::now),
    ))
    .returning(EngagementRow::as_returning())
    .get_result::<EngagementRow>(conn)
    .await
    .optional()?
    .map(Engagement::try_from)
    .transpose()
}

/// Deletes the engagement if it is still at `version`; whether it did.
pub async fn delete_engagement(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    version: i32,
) -> QueryResult<bool> {
    let n = diesel::delete(
        engagements::table
            .filter(engagements::id.eq(id))
            .filter(engagements::version.eq(version)),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// A crisis's engagements by published organizations matching the filter, in declaration
/// order, after `after` (a `seq`); `limit + 1` at most. Also how many match in all.
pub async fn list_engagements(
    conn: &mut AsyncPgConnection,
    crisis_id: Uuid,
    filter: &EngagementFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Engagement>, i64)> {
    use diesel::PgArrayExpressionMethods;
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let filtered = || {
        let mut q = engagements::table
            .inner_join(organizations::table)
            .filter(engagements::crisis_id.eq(crisis_id))
            .filter(organizations::status.eq("published"))
            .into_boxed();
        if !filter.sectors.is_empty() {
            q = q.filter(engagements::sectors.overlaps_with(&filter.sectors));
        }
        if !filter.countries.is_empty() {
            q = q.filter(engagements::country.eq_any(&filter.countries));
        }
        if !filter.organization_kinds.is_empty() {
            q = q.filter(organizations::kind.eq_any(&filter.organization_kinds));
        }
        if !statuses.is_empty() {
            q = q.filter(engagements::status.eq_any(&statuses));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn).await?;
    let mut q = filtered();
    if let Some(after) = after {
        q = q.filter(engagements::seq.gt(after));
    }
    let rows: Vec<EngagementRow> = q
        .order(engagements::seq.asc())
        .limit(limit + 1)
        .select(EngagementRow::as_select())
        .load(conn)
        .await?;
    let list = rows
        .into_iter()
        .map(Engagement::try_from)
        .collect::<QueryResult<Vec<_>>>()?;
    Ok((list, total))
}

/// Where a 3W row sits in the matrix's order, for paging.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ThreeWKey {
    pub name: String,
    pub organization_id: Uuid,
    pub sector: String,
    pub country: String,
    pub admin1: String,
}

impl ThreeWKey {
    pub fn of(row: &ThreeWRow) -> ThreeWKey {
        ThreeWKey {
            name: row.organization_name.clone(),
            organization_id: row.organization_id,
            sector: row.sector.clone(),
            country: row.country.clone(),
            admin1: row.admin1.clone().unwrap_or_default(),
        }
    }
}

#[derive(QueryableByName)]
struct ThreeWSqlRow {
    #[diesel(sql_type = SqlUuid)]
    organization_id: Uuid,
    #[diesel(sql_type = Text)]
    organization_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    organization_acronym: Option<String>,
    #[diesel(sql_type = Text)]
    organization_kind: String,
    #[diesel(sql_type = Text)]
    sector: String,
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Text)]
    admin1: String,
    #[diesel(sql_type = Array<Text>)]
    support_types: Vec<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Date>)]
    started_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    ended_on: Option<NaiveDate>,
}

/// The 3W matrix of a crisis: one row per published organization × sector × place (country and
/// admin-1), merging that organization's engagements there, ordered by organization name,
/// then sector and place; after `after`, `limit` rows at most. Organization-level data only.
pub async fn three_w(
    conn: &mut AsyncPgConnection,
    crisis_id: Uuid,
    after: Option<&ThreeWKey>,
    limit: i64,
) -> QueryResult<Vec<ThreeWRow>> {
    // The organization part of the position also bounds the grouping, so that a chunk does
    // not group the whole matrix again.
    let inner = if after.is_some() {
        "AND (o.name, o.id) >= ($2, $3)"
    } else {
        ""
    };
    let position = if after.is_some() {
        "WHERE (m.organization_name, m.organization_id, m.sector, m.country, m.admin1) > ($2, $3, $4, $5, $6)"
    } else {
        ""
    };
    let text = format!(
        "SELECT * FROM ( \
           SELECT o.id AS organization_id, o.name AS organization_name, \
                  o.acronym AS organization_acronym, o.kind AS organization_kind, \
                  s.sector, e.country, coalesce(e.admin1, '') AS admin1, \
                  dd_array_cat_agg(e.support_types) AS support_types, \
                  CASE WHEN bool_or(e.status = 'ongoing') THEN 'ongoing' \
                       WHEN bool_or(e.status = 'planned') THEN 'planned' ELSE 'completed' END AS status, \
                  min(e.started_on) AS started_on, \
                  CASE WHEN bool_or(e.ended_on IS NULL) THEN NULL ELSE max(e.ended_on) END AS ended_on \
             FROM engagements e \
             JOIN organizations o ON o.id = e.organization_id AND o.status = 'published' \
             CROSS JOIN LATERAL unnest(e.sectors) AS s(sector) \
            WHERE e.crisis_id = $1 {inner} \
            GROUP BY o.id, o.name, o.acronym, o.kind, s.sector, e.country, coalesce(e.admin1, '') \
         ) m {position} \
         ORDER BY m.organization_name, m.organization_id, m.sector, m.country, m.admin1 \
         LIMIT {}",
        if after.is_some() { "$7" } else { "$2" }
    );
    let query = diesel::sql_query(text)
        .into_boxed()
        .bind::<SqlUuid, _>(crisis_id);
    let query = match after {
        Some(k) => query
            .bind::<Text, _>(k.name.clone())
            .bind::<SqlUuid, _>(k.organization_id)
            .bind::<Text, _>(k.sector.clone())
            .bind::<Text, _>(k.country.clone())
            .bind::<Text, _>(k.admin1.clone()),
        None => query,
    };
    let rows: Vec<ThreeWSqlRow> = query.bind::<BigInt, _>(limit).load(conn).await?;
    rows.into_iter()
        .map(|r| {
            Ok(ThreeWRow {
                organization_id: r.organization_id,
                organization_name: r.organization_name,
                organization_acronym: r.organization_acronym,
                organization_kind: r.organization_kind,
                sector: r.sector,
                country: r.country,
                admin1: (!r.admin1.is_empty()).then_some(r.admin1),
                support_types: {
                    let mut types = r.support_types;
                    types.sort();
                    types.dedup();
                    types
                },
                status: status(&r.status)?,
                started_on: r.started_on,
                ended_on: r.ended_on,
            })
        })
        .collect()
}

/// How many rows the crisis's 3W matrix has.
pub async fn three_w_count(conn: &mut AsyncPgConnection, crisis_id: Uuid) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let row: Count = diesel::sql_query(
        "SELECT count(*) AS count FROM ( \
           SELECT DISTINCT e.organization_id, s.sector, e.country, coalesce(e.admin1, '') \
             FROM engagements e \
             JOIN organizations o ON o.id = e.organization_id AND o.status = 'published' \
             CROSS JOIN LATERAL unnest(e.sectors) AS s(sector) \
            WHERE e.crisis_id = $1) m",
    )
    .bind::<SqlUuid, _>(crisis_id)
    .get_result(conn)
    .await?;
    Ok(row.count)
}

/// How many published organizations are engaged in the crisis, in all and per sector (most
/// engaged first).
pub async fn engaged_organizations(
    conn: &mut AsyncPgConnection,
    crisis_id: Uuid,
) -> QueryResult<(i64, Vec<(String, i64)>)> {
    #[derive(QueryableByName)]
    struct SectorCount {
        #[diesel(sql_type = Text)]
        sector: String,
        #[diesel(sql_type = BigInt)]
        organizations: i64,
    }
    let total: i64 = engagements::table
        .inner_join(organizations::table)
        .filter(engagements::crisis_id.eq(crisis_id))
        .filter(organizations::status.eq("published"))
        .select(diesel::dsl::count(engagements::organization_id).aggregate_distinct())
        .get_result(conn)
        .await?;
    let rows: Vec<SectorCount> = diesel::sql_query(
        "SELECT s.sector, count(DISTINCT e.organization_id) AS organizations \
           FROM engagements e \
           JOIN organizations o ON o.id = e.organization_id AND o.status = 'published' \
           CROSS JOIN LATERAL unnest(e.sectors) AS s(sector) \
          WHERE e.crisis_id = $1 \
          GROUP BY s.sector ORDER BY organizations DESC, s.sector",
    )
    .bind::<SqlUuid, _>(crisis_id)
    .load(conn)
    .await?;
    Ok((
        total,
        rows.into_iter()
            .map(|r| (r.sector, r.organizations))
            .collect(),
    ))
}
