//! Needs and offers (one table, `postings`, with a `side`), and the candidates matched
//! against them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::discovery::VERIFIED;
use super::schema::{organizations, postings};
use crate::domain::posting::{Posting, PostingFilter, PostingInput, Side, Status};

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = postings, check_for_backend(diesel::pg::Pg))]
pub(super) struct PostingRow {
    id: Uuid,
    seq: i64,
    side: String,
    organization_id: Uuid,
    crisis_id: Option<Uuid>,
    country: String,
    admin1: Option<String>,
    sectors: Vec<String>,
    support_types: Vec<String>,
    languages: Vec<String>,
    title: String,
    description: String,
    quantity: Option<String>,
    status: String,
    valid_until: Option<NaiveDate>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, raw: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("unknown posting {what} {raw:?}").into())
}

impl PostingRow {
    /// The columns this row reads, for hand-written SQL over `postings p`.
    const COLUMNS: &'static str = "p.id, p.seq, p.side, p.organization_id, p.crisis_id, \
        p.country, p.admin1, p.sectors, p.support_types, p.languages, p.title, p.description, \
        p.quantity, p.status, p.valid_until, p.version, p.created_at, p.updated_at";
}

impl TryFrom<PostingRow> for Posting {
    type Error = diesel::result::Error;

    fn try_from(r: PostingRow) -> QueryResult<Posting> {
        Ok(Posting {
            id: r.id,
            seq: r.seq,
            side: Side::parse(&r.side).ok_or_else(|| corrupt("side", &r.side))?,
            input: PostingInput {
                organization_id: r.organization_id,
                crisis_id: r.crisis_id,
                country: r.country,
                admin1: r.admin1,
                sectors: r.sectors,
                support_types: r.support_types,
                languages: r.languages,
                title: r.title,
                description: r.description,
                quantity: r.quantity,
                status: Status::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
                valid_until: r.valid_until,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The posting's columns, for INSERT and UPDATE alike (`None` clears a column).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = postings, treat_none_as_null = true)]
struct Columns<'a> {
    crisis_id: Option<Uuid>,
    country: &'a str,
    admin1: Option<&'a str>,
    sectors: &'a [String],
    support_types: &'a [String],
    languages: &'a [String],
    title: &'a str,
    description: &'a str,
    quantity: Option<&'a str>,
    status: &'a str,
    valid_until: Option<NaiveDate>,
}

impl<'a> Columns<'a> {
    fn of(i: &'a PostingInput) -> Self {
        Columns {
            crisis_id: i.crisis_id,
            country: &i.country,
            admin1: i.admin1.as_deref(),
            sectors: &i.sectors,
            support_types: &i.support_types,
            languages: &i.languages,
            title: &i.title,
            description: &i.description,
            quantity: i.quantity.as_deref(),
            status: i.status.as_str(),
            valid_until: i.valid_until,
        }
    }
}

pub async fn create_posting(
    conn: &mut AsyncPgConnection,
    side: Side,
    input: &PostingInput,
    creator: Uuid,
) -> QueryResult<Posting> {
    diesel::insert_into(postings::table)
        .values((
            postings::side.eq(side.as_str()),
            postings::organization_id.eq(input.organization_id),
            postings::created_by.eq(creator),
            Columns::of(input),
        ))
        .returning(PostingRow::as_returning())
        .get_result::<PostingRow>(conn)
        .await?
        .try_into()
}

/// The posting of that side, and whether its organization is published (public).
pub async fn find_posting(
    conn: &mut AsyncPgConnection,
    side: Side,
    id: Uuid,
) -> QueryResult<Option<(Posting, bool)>> {
    let row: Option<(PostingRow, String)> = postings::table
        .inner_join(organizations::table)
        .filter(postings::id.eq(id))
        .filter(postings::side.eq(side.as_str()))
        .select((PostingRow::as_select(), organizations::status))
        .first(conn)
        .await
        .optional()?;
    row.map(|(p, status)| Ok((Posting::try_from(p)?, status == "published")))
        .transpose()
}

/// The organization whose posting of that side `id` is, if any.
pub async fn posting_owner(
    conn: &mut AsyncPgConnection,
    side: Side,
    id: Uuid,
) -> QueryResult<Option<Uuid>> {
    postings::table
        .filter(postings::id.eq(id))
        .filter(postings::side.eq(side.as_str()))
        .select(postings::organization_id)
        .first(conn)
        .await
        .optional()
}

/// The postings with these ids whose organization is published (the public ones).
pub async fn public_postings_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<Posting>> {
    postings::table
        .inner_join(organizations::table)
        .filter(postings::id.eq_any(ids))
        .filter(organizations::status.eq("published"))
        .select(PostingRow::as_select())
        .load::<PostingRow>(conn)
        .await?
        .into_iter()
        .map(Posting::try_from)
        .collect()
}

/// Replaces the posting's fields if it is still at `version`; `None` when it is not.
pub async fn update_posting(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    version: i32,
    input: &PostingInput,
) -> QueryResult<Option<Posting>> {
    diesel::update(
        postings::table
            .filter(postings::id.eq(id))
            .filter(postings::version.eq(version)),
    )
    .set((
        Columns::of(input),
        postings::version.eq(version + 1),
        postings::updated_at.eq(diesel::dsl::now),
    ))
    .returning(PostingRow::as_returning())
    .get_result::<PostingRow>(conn)
    .await
    .optional()?
    .map(Posting::try_from)
    .transpose()
}

/// Deletes the posting if it is still at `version`; whether it did.
pub async fn delete_posting(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    version: i32,
) -> QueryResult<bool> {
    let n = diesel::delete(
        postings::table
            .filter(postings::id.eq(id))
            .filter(postings::version.eq(version)),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Whether the status a posting reads as on `$today` (see
/// [`crate::domain::posting::status_on`]) is one of `$statuses` (a `Vec<String>`), as SQL over
/// `postings`. A macro because the expression's type, binds and all, is not worth spelling.
macro_rules! status_in {
    ($today:expr, $statuses:expr) => {
        sql::<Bool>("(CASE WHEN postings.status = 'open' AND postings.valid_until < ")
            .bind::<Date, _>($today)
            .sql(" THEN 'expired' ELSE postings.status END) = ANY(")
            .bind::<Array<Text>, _>($statuses)
            .sql(")")
    };
}

/// SQL over a posting aliased `alias`: it is open as of the date bound at `today` (a `$n`
/// placeholder), as [`crate::domain::posting::status_on`] reads it. The same rule as
/// `status_in!` with `open`, for hand-written queries.
pub(super) fn open_as_of(alias: &str, today: &str) -> String {
    format!(
        "({alias}.status = 'open' AND ({alias}.valid_until IS NULL OR {alias}.valid_until >= {today}))"
    )
}

/// Published organizations' postings matching the filter, newest first, before `before` (a
/// `seq`); `limit + 1` at most. Also how many match in all.
pub async fn list_postings(
    conn: &mut AsyncPgConnection,
    filter: &PostingFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Posting>, i64)> {
    use diesel::PgArrayExpressionMethods;
    let statuses: Vec<String> = filter
        .statuses
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    let filtered = || {
        let mut q = postings::table
            .inner_join(organizations::table)
            .filter(postings::side.eq(filter.side.as_str()))
            .filter(organizations::status.eq("published"))
            .into_boxed();
        if let Some(crisis) = filter.crisis {
            q = q.filter(postings::crisis_id.eq(crisis));
        }
        if let Some(organization) = filter.organization {
            q = q.filter(postings::organization_id.eq(organization));
        }
        if !filter.countries.is_empty() {
            q = q.filter(postings::country.eq_any(&filter.countries));
        }
        if !filter.sectors.is_empty() {
            q = q.filter(postings::sectors.overlaps_with(&filter.sectors));
        }
        if !filter.support_types.is_empty() {
            q = q.filter(postings::support_types.overlaps_with(&filter.support_types));
        }
        if !filter.languages.is_empty() {
            q = q.filter(postings::languages.overlaps_with(&filter.languages));
        }
        if !statuses.is_empty() {
            q = q.filter(status_in!(filter.today, statuses.clone()));
        }
        if let Some(text) = &filter.q {
            q = q.filter(
                sql::<Bool>("postings.search_document @@ dd_prefix_tsquery(")
                    .bind::<Text, _>(text.as_str().to_owned())
                    .sql(")"),
            );
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn).await?;
    let mut q = filtered();
    if let Some(before) = before {
        q = q.filter(postings::seq.lt(before));
    }
    let rows: Vec<PostingRow> = q
        .order(postings::seq.desc())
        .limit(limit + 1)
        .select(PostingRow::as_select())
        .load(conn)
        .await?;
    let list = rows
        .into_iter()
        .map(Posting::try_from)
        .collect::<QueryResult<Vec<_>>>()?;
    Ok((list, total))
}

/// How many needs and how many offers about the crisis are open today, among published
/// organizations'.
pub async fn open_counts(
    conn: &mut AsyncPgConnection,
    crisis_id: Uuid,
    today: NaiveDate,
) -> QueryResult<(i64, i64)> {
    let rows: Vec<(String, i64)> = postings::table
        .inner_join(organizations::table)
        .filter(postings::crisis_id.eq(crisis_id))
        .filter(status_in!(today, vec![Status::Open.as_str().to_owned()]))
        .filter(organizations::status.eq("published"))
        .group_by(postings::side)
        .select((postings::side, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    let count = |side: Side| {
        rows.iter()
            .find(|(s, _)| s == side.as_str())
            .map_or(0, |(_, n)| *n)
    };
    Ok((count(Side::Need), count(Side::Offer)))
}

/// A posting's organization, as a match shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poster {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: String,
    pub verified: bool,
}

/// What a posting is matched on, for the SQL that finds its counterparts.
#[derive(Debug, Clone, Copy)]
pub struct MatchOn<'a> {
    /// The posting's organization (never its own counterpart).
    pub organization_id: Uuid,
    pub crisis_id: Option<Uuid>,
    pub country: &'a str,
    /// The posting's sectors with their relatives.
    pub sectors: &'a [String],
    pub support_types: &'a [String],
    pub languages: &'a [String],
    pub today: NaiveDate,
}

#[derive(QueryableByName)]
struct CounterpartRow {
    #[diesel(embed)]
    posting: PostingRow,
    #[diesel(sql_type = SqlUuid)]
    org_id: Uuid,
    #[diesel(sql_type = Text)]
    org_slug: String,
    #[diesel(sql_type = Text)]
    org_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    org_acronym: Option<String>,
    #[diesel(sql_type = Text)]
    org_kind: String,
    #[diesel(sql_type = Bool)]
    org_verified: bool,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Open postings of `side`, by published organizations other than the posting's own, in its
/// country and sharing a sector with it: the best `limit` by a coarse score (the shares of
/// sectors, support types and languages met, same crisis, verified, weighted as the exact
/// score is), each with its organization; also how many there are in all.
pub async fn counterpart_postings(
    conn: &mut AsyncPgConnection,
    side: Side,
    on: MatchOn<'_>,
    limit: i64,
) -> QueryResult<(Vec<(Posting, Poster)>, i64)> {
    let rows: Vec<CounterpartRow> = diesel::sql_query(format!(
        "SELECT {}, o.id AS org_id, o.slug AS org_slug, o.name AS org_name, \
                o.acronym AS org_acronym, o.kind AS org_kind, {VERIFIED} AS org_verified, \
                count(*) OVER () AS total \
           FROM postings p JOIN organizations o ON o.id = p.organization_id AND o.status = 'published' \
          WHERE p.side = $1 AND p.country = $2 AND p.sectors && $3 AND p.organization_id <> $4 \
            AND {open} \
          ORDER BY dd_share(p.sectors, $3) * 0.25 + dd_share(p.support_types, $6) * 0.15 \
                   + dd_share(p.languages, $7) * 0.15 + coalesce((p.crisis_id = $8)::int, 0) * 0.10 \
                   + {VERIFIED}::int * 0.05 DESC, p.seq DESC \
          LIMIT $9",
        PostingRow::COLUMNS,
        open = open_as_of("p", "$5"),
    ))
    .bind::<Text, _>(side.as_str())
    .bind::<Text, _>(on.country)
    .bind::<Array<Text>, _>(on.sectors)
    .bind::<SqlUuid, _>(on.organization_id)
    .bind::<Date, _>(on.today)
    .bind::<Array<Text>, _>(on.support_types)
    .bind::<Array<Text>, _>(on.languages)
    .bind::<Nullable<SqlUuid>, _>(on.crisis_id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    let total = <[_]>::first(&rows).map_or(0, |r| r.total);
    let list = rows
        .into_iter()
        .map(|r| {
            Ok((
                Posting::try_from(r.posting)?,
                Poster {
                    id: r.org_id,
                    slug: r.org_slug,
                    name: r.org_name,
                    acronym: r.org_acronym,
                    kind: r.org_kind,
                    verified: r.org_verified,
                },
            ))
        })
        .collect::<QueryResult<Vec<_>>>()?;
    Ok((list, total))
}
