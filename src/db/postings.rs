//! Needs and offers (one table, `postings`, with a `side`), and the candidates matched
//! against them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{organizations, postings};
use crate::domain::posting::{Posting, PostingFilter, PostingInput, Side, Status};

#[derive(Queryable, Selectable)]
#[diesel(table_name = postings, check_for_backend(diesel::pg::Pg))]
struct PostingRow {
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
        .filter(postings::status.eq("open"))
        .filter(
            postings::valid_until
                .is_null()
                .or(postings::valid_until.ge(today)),
        )
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

/// Open postings of `side` (by published organizations other than `exclude`) in `country`
/// that share a sector with `sectors`, newest first, at most `limit`; each with its
/// organization.
pub async fn counterpart_postings(
    conn: &mut AsyncPgConnection,
    side: Side,
    country: &str,
    sectors: &[String],
    exclude: Uuid,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<(Posting, Poster)>> {
    use diesel::PgArrayExpressionMethods;
    type Org = (
        Uuid,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<(PostingRow, Org)> = postings::table
        .inner_join(organizations::table)
        .filter(postings::side.eq(side.as_str()))
        .filter(postings::country.eq(country))
        .filter(postings::sectors.overlaps_with(sectors))
        .filter(postings::organization_id.ne(exclude))
        .filter(status_in!(today, vec![Status::Open.as_str().to_owned()]))
        .filter(organizations::status.eq("published"))
        .order(postings::seq.desc())
        .limit(limit)
        .select((
            PostingRow::as_select(),
            (
                organizations::id,
                organizations::slug,
                organizations::name,
                organizations::acronym,
                organizations::kind,
                organizations::verification_status,
                organizations::verified_until,
            ),
        ))
        .load(conn)
        .await?;
    let now = Utc::now();
    rows.into_iter()
        .map(|(p, (id, slug, name, acronym, kind, status, until))| {
            Ok((
                Posting::try_from(p)?,
                Poster {
                    id,
                    slug,
                    name,
                    acronym,
                    kind,
                    verified: status == "verified" && until.is_some_and(|u| u > now),
                },
            ))
        })
        .collect()
}
