//! The discovery queries: a page of published organizations, the total, and facet counts, all
//! over one filter. Built as SQL text with every value bound as a parameter (never spliced).

use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Double, Integer, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::organizations::OrganizationRow;
use crate::domain::discovery::{After, FacetCount, MAX_FACET_VALUES, OrganizationFilter, Sort};
use crate::domain::organization::Organization;

/// SQL text with positional parameters, numbered as they are bound.
struct Sql<'a> {
    query: BoxedSqlQuery<'a, Pg, SqlQuery>,
    binds: usize,
}

impl<'a> Sql<'a> {
    fn new(text: &str) -> Self {
        Sql {
            query: diesel::sql_query(text).into_boxed(),
            binds: 0,
        }
    }

    fn push(mut self, text: &str) -> Self {
        self.query = self.query.sql(text);
        self
    }

    /// Binds a value; returns the query and the placeholder (`$n`) to write where it goes.
    fn bind<ST, V>(mut self, value: V) -> (Self, String)
    where
        Pg: diesel::sql_types::HasSqlType<ST>,
        V: diesel::serialize::ToSql<ST, Pg> + Send + 'a,
        ST: Send + 'a,
    {
        self.binds += 1;
        self.query = self.query.bind::<ST, V>(value);
        let placeholder = format!("${}", self.binds);
        (self, placeholder)
    }
}

/// Whether the organization's verification holds now (SQL).
pub(super) const VERIFIED: &str =
    "(o.verification_status = 'verified' AND o.verified_until > now())";

/// The filter as SQL conditions on `organizations o`, its values bound to a new query (which
/// holds no text yet). The search terms are bound first, so that the relevance expression can
/// refer to them as `$1` (tsquery text) and `$2` (normalised text). Every placeholder may be
/// used more than once: the ordered page repeats the conditions in both of its halves.
///
/// With `walk`, the filtered columns are wrapped in expressions no index matches, so that
/// PostgreSQL can only test them while walking a name index (see [`Plan`]).
fn conditions<'a>(prefix: &str, filter: &'a OrganizationFilter, walk: bool) -> (Sql<'a>, String) {
    let mut sql = Sql::new(prefix);
    let mut parts = vec!["o.status = 'published'".to_owned()];
    let column = |name: &str, empty: &str| {
        if walk {
            format!("coalesce(o.{name}, {empty})")
        } else {
            format!("o.{name}")
        }
    };
    let kind = column("kind", "''");
    let origin = column("origin_countries", "'{}'");
    let operating = column("operating_countries", "'{}'");
    let residence = column("residence_country", "''");
    let sectors = column("sectors", "'{}'");
    let support_types = column("support_types", "'{}'");
    let languages = column("languages", "'{}'");
    let updated_at = column("updated_at", "'-infinity'");
    if let Some(q) = &filter.q {
        let (s, _) = sql.bind::<Text, _>(q.as_str().to_lowercase());
        let (s, _) = s.bind::<Text, _>(q.as_str().to_lowercase());
        sql = s;
    }
    // (values, column, whether the column is an array)
    let lists: [(&Vec<String>, &str, bool); 7] = [
        (&filter.kinds, &kind, false),
        (&filter.origin_countries, &origin, true),
        (&filter.operating_countries, &operating, true),
        (&filter.residence_countries, &residence, false),
        (&filter.sectors, &sectors, true),
        (&filter.support_types, &support_types, true),
        (&filter.languages, &languages, true),
    ];
    for (values, column, array) in lists {
        if values.is_empty() {
            continue;
        }
        let (s, p) = sql.bind::<Array<Text>, _>(values.as_slice());
        sql = s;
        parts.push(if array {
            format!("{column} && {p}")
        } else {
            format!("{column} = ANY({p})")
        });
    }
    if !filter.countries.is_empty() {
        let (s, p) = sql.bind::<Array<Text>, _>(filter.countries.as_slice());
        sql = s;
        parts.push(format!(
            "({origin} && {p} OR {operating} && {p} OR {residence} = ANY({p}))"
        ));
    }
    match filter.verified {
        Some(true) => parts.push(VERIFIED.to_owned()),
        Some(false) => parts.push(format!("NOT {VERIFIED}")),
        None => {}
    }
    if filter.q.is_some() {
        // A word-prefix match in any text, or a name close enough to the query (typos).
        parts.push(format!(
            "(o.search_document @@ {TSQUERY} OR dd_unaccent($2) <% o.name_search)"
        ));
    }
    if let Some(since) = filter.updated_since {
        let (s, p) = sql.bind::<Timestamptz, _>(since);
        sql = s;
        parts.push(format!("{updated_at} >= {p}"));
    }
    if let Some(crisis) = filter.crisis {
        let (s, p) = sql.bind::<SqlUuid, _>(crisis);
        sql = s;
        parts.push(format!(
            "o.id IN (SELECT e.organization_id FROM engagements e WHERE e.crisis_id = {p})"
        ));
    }
    (sql, parts.join(" AND "))
}

/// `{head} FROM organizations o WHERE` the filter.
fn filtered<'a>(head: &str, filter: &'a OrganizationFilter) -> Sql<'a> {
    let (sql, condition) = conditions("", filter, false);
    sql.push(head)
        .push(&format!(" FROM organizations o WHERE {condition}"))
}

/// The search text (`$1`) as a tsquery of word prefixes (`dd_prefix_tsquery`, migration
/// 000010).
const TSQUERY: &str = "dd_prefix_tsquery($1)";

/// Relevance: full-text rank plus how close the name is to the search text (`$2`); `0`
/// without a search.
fn rank_sql(filter: &OrganizationFilter) -> String {
    if filter.q.is_some() {
        format!(
            "(ts_rank_cd(o.search_document, {TSQUERY})::float8 \
             + word_similarity(dd_unaccent($2), o.name_search)::float8)"
        )
    } else {
        "0::float8".to_owned()
    }
}

#[derive(QueryableByName)]
struct PageRow {
    #[diesel(embed)]
    organization: OrganizationRow,
    #[diesel(sql_type = Double)]
    rank: f64,
    #[diesel(sql_type = Integer)]
    unverified: i32,
}

/// How a page in name order (or verified first, then by name) reaches its rows. PostgreSQL
/// cannot choose well by itself: it estimates how many organizations match several filters as
/// if they were independent, and they are not (an origin country and its language go
/// together), so it misjudges by orders of magnitude. The exact total is known before the page
/// is read (it is counted, or cached), and decides instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Walk the name indexes in order, testing each entry's filtered columns (carried in the
    /// index), until the page is full. Costs about `limit × published ÷ total` index entries:
    /// cheap when matches are many.
    Walk,
    /// Find every match through the filters' own indexes, then sort them. Costs about
    /// `total` table rows: cheap when matches are few.
    Collect,
}

/// From how many matches a page walks the name indexes. At 100,000 published organizations a
/// page of 21 then walks at most 4,200 index entries, against 500 table rows to collect.
pub const WALK_FROM: i64 = 500;

impl Plan {
    /// The plan for a page of `filter`, which matches `total` organizations. Full-text search
    /// always collects: its document is not in the name indexes.
    pub fn for_total(filter: &OrganizationFilter, total: i64) -> Plan {
        if filter.q.is_none() && total >= WALK_FROM {
            Plan::Walk
        } else {
            Plan::Collect
        }
    }
}

/// One page of the filtered organizations in `sort` order, after `after`; `limit + 1` rows at
/// most, so the caller can tell whether another page follows. Each with its sort key.
/// `total` is how many organizations the filter matches (it chooses the [`Plan`]).
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &OrganizationFilter,
    sort: Sort,
    after: Option<&After>,
    limit: i64,
    total: i64,
) -> QueryResult<Vec<(Organization, After)>> {
    let rows = match sort {
        Sort::Name | Sort::VerifiedThenName => {
            let plan = Plan::for_total(filter, total);
            let mut rows: Vec<PageRow> = Vec::new();
            for part in ordered_parts(filter, sort, after) {
                let wanted = limit + 1 - i64::try_from(rows.len()).unwrap_or(i64::MAX);
                if wanted <= 0 {
                    break;
                }
                let sql = ordered_part_sql("", filter, &part, after, wanted, plan);
                rows.extend(sql.query.load::<PageRow>(conn).await?);
            }
            rows
        }
        Sort::Relevance | Sort::UpdatedDesc | Sort::CreatedDesc => {
            sorted_page(conn, filter, sort, after, limit + 1).await?
        }
    };
    rows.into_iter()
        .map(|r| {
            let org = Organization::try_from(r.organization)?;
            let key = match sort {
                Sort::Relevance => After::Relevance(r.rank, org.id),
                Sort::Name => After::Name(org.profile.name.clone(), org.id),
                Sort::UpdatedDesc => After::Updated(org.updated_at, org.id),
                Sort::CreatedDesc => After::Created(org.created_at, org.id),
                Sort::VerifiedThenName => {
                    After::VerifiedThenName(r.unverified, org.profile.name.clone(), org.id)
                }
            };
            Ok((org, key))
        })
        .collect()
}

/// The parts a page in name order (`Sort::Name`) or verified-first order
/// (`Sort::VerifiedThenName`) is read from, in order: `(unverified key, extra condition, whether
/// the position applies)`. Verified-first is the verified organizations, then the others; a
/// part before the position's is skipped.
fn ordered_parts(
    filter: &OrganizationFilter,
    sort: Sort,
    after: Option<&After>,
) -> Vec<(i32, String, bool)> {
    let parts: Vec<(i32, String)> = match sort {
        Sort::VerifiedThenName => [
            (filter.verified != Some(false)).then(|| (0, format!(" AND {VERIFIED}"))),
            (filter.verified != Some(true)).then(|| (1, format!(" AND NOT {VERIFIED}"))),
        ]
        .into_iter()
        .flatten()
        .collect(),
        _ => vec![(0, String::new())],
    };
    let (first_part, positioned) = match after {
        Some(After::VerifiedThenName(unverified, ..)) => (*unverified, true),
        Some(After::Name(..)) => (0, true),
        _ => (0, false),
    };
    parts
        .into_iter()
        .filter(|(unverified, _)| *unverified >= first_part)
        .map(|(unverified, extra)| (unverified, extra, positioned && unverified == first_part))
        .collect()
}

/// `prefix` and the query of one part of a name-ordered page (see [`ordered_parts`]): at most
/// `limit` rows after the position, if it applies. Walking ([`Plan::Walk`]), the part follows a
/// `(name, id)` index that carries the filtered columns, index-only, and stops after `limit`
/// matches; only the page's ids come from the walk, and the rows are read by primary key
/// afterwards. The parts are separate statements, read in turn until the page is full: a
/// `UNION ALL` under one `LIMIT` would rely on the order of its parts, which PostgreSQL does
/// not promise.
fn ordered_part_sql<'a>(
    prefix: &str,
    filter: &'a OrganizationFilter,
    (unverified, extra, positioned): &(i32, String, bool),
    after: Option<&After>,
    limit: i64,
    plan: Plan,
) -> Sql<'a> {
    let (mut sql, condition) = conditions(prefix, filter, plan == Plan::Walk);
    // Collecting sorts on an expression no index supplies, so that no name index is walked.
    let order = match plan {
        Plan::Walk => "o.name, o.id",
        Plan::Collect => "(o.name || ''), o.id",
    };
    let position = match after {
        Some(After::Name(name, id) | After::VerifiedThenName(_, name, id)) if *positioned => {
            let (s, pn) = sql.bind::<Text, _>(name.clone());
            let (s, pi) = s.bind::<SqlUuid, _>(*id);
            sql = s;
            format!(" AND (o.name, o.id) > ({pn}, {pi})")
        }
        _ => String::new(),
    };
    let (sql, pl) = sql.bind::<BigInt, _>(limit);
    sql.push(&format!(
        "SELECT {}, 0::float8 AS rank, {unverified} AS unverified \
         FROM (SELECT o.id, o.name FROM organizations o \
               WHERE {condition}{extra}{position} ORDER BY {order} LIMIT {pl}) AS k \
         JOIN organizations o ON o.id = k.id ORDER BY k.name, k.id",
        OrganizationRow::COLUMNS,
    ))
}

/// A page in an order no index supplies (relevance, dates): every match is read and sorted.
async fn sorted_page(
    conn: &mut AsyncPgConnection,
    filter: &OrganizationFilter,
    sort: Sort,
    after: Option<&After>,
    limit: i64,
) -> QueryResult<Vec<PageRow>> {
    let rank = rank_sql(filter);
    let rank = rank.as_str();
    let head = format!(
        "SELECT {}, {rank} AS rank, 0 AS unverified",
        OrganizationRow::COLUMNS
    );
    let mut sql = filtered(&head, filter);
    if let Some(after) = after {
        sql = match after.clone() {
            After::Relevance(r, id) => {
                let (s, pr) = sql.bind::<Double, _>(r);
                let (s, pi) = s.bind::<SqlUuid, _>(id);
                s.push(&format!(" AND ({rank}, o.id) < ({pr}, {pi})"))
            }
            After::Updated(t, id) => {
                let (s, pt) = sql.bind::<Timestamptz, _>(t);
                let (s, pi) = s.bind::<SqlUuid, _>(id);
                s.push(&format!(" AND (o.updated_at, o.id) < ({pt}, {pi})"))
            }
            After::Created(t, id) => {
                let (s, pt) = sql.bind::<Timestamptz, _>(t);
                let (s, pi) = s.bind::<SqlUuid, _>(id);
                s.push(&format!(" AND (o.created_at, o.id) < ({pt}, {pi})"))
            }
            // Read in index order by `ordered_page`.
            After::Name(..) | After::VerifiedThenName(..) => sql,
        };
    }
    let order = match sort {
        Sort::Relevance => format!(" ORDER BY {rank} DESC, o.id DESC"),
        Sort::UpdatedDesc => " ORDER BY o.updated_at DESC, o.id DESC".to_owned(),
        Sort::CreatedDesc => " ORDER BY o.created_at DESC, o.id DESC".to_owned(),
        Sort::Name | Sort::VerifiedThenName => " ORDER BY o.name, o.id".to_owned(),
    };
    let (sql, pl) = sql.push(&order).bind::<BigInt, _>(limit);
    sql.push(&format!(" LIMIT {pl}")).query.load(conn).await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// How many organizations the filter matches.
pub async fn total(conn: &mut AsyncPgConnection, filter: &OrganizationFilter) -> QueryResult<i64> {
    let row: Count = filtered("SELECT count(*) AS count", filter)
        .query
        .get_result(conn)
        .await?;
    Ok(row.count)
}

#[derive(QueryableByName)]
struct FacetRow {
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The most frequent values of one facet over the filtered set, most frequent first.
/// `facet` is one of [`crate::domain::discovery::FACETS`].
pub async fn facet(
    conn: &mut AsyncPgConnection,
    filter: &OrganizationFilter,
    facet: &str,
) -> QueryResult<Vec<FacetCount>> {
    let expression = match facet {
        "kind" => "o.kind",
        "origin_country" => "unnest(o.origin_countries)",
        "operating_country" => "unnest(o.operating_countries)",
        "residence_country" => "o.residence_country",
        "sector" => "unnest(o.sectors)",
        "support_type" => "unnest(o.support_types)",
        "language" => "unnest(o.languages)",
        _ => return Ok(Vec::new()),
    };
    let sql = filtered(
        &format!("SELECT value, count(*) AS count FROM (SELECT {expression} AS value"),
        filter,
    );
    let (sql, pl) = sql.bind::<BigInt, _>(MAX_FACET_VALUES);
    let rows: Vec<FacetRow> = sql
        .push(&format!(
            ") AS v WHERE value IS NOT NULL GROUP BY value ORDER BY count DESC, value LIMIT {pl}"
        ))
        .query
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| FacetCount {
            value: r.value,
            count: r.count,
        })
        .collect())
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

fn plan_text(lines: Vec<PlanLine>) -> String {
    lines
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `EXPLAIN` of the filter (the query behind `total` and facets), for tests that check every
/// filter is index-backed.
pub async fn explain_filter(
    conn: &mut AsyncPgConnection,
    filter: &OrganizationFilter,
) -> QueryResult<String> {
    let rank = rank_sql(filter);
    let sql = filtered(&format!("EXPLAIN SELECT o.id, {rank} AS rank"), filter);
    Ok(plan_text(sql.query.load(conn).await?))
}

/// `EXPLAIN` of a first page of `limit` in name or verified-then-name order, for tests that
/// check how it is read.
pub async fn explain_ordered_page(
    conn: &mut AsyncPgConnection,
    filter: &OrganizationFilter,
    sort: Sort,
    limit: i64,
    plan: Plan,
) -> QueryResult<String> {
    let mut plans = Vec::new();
    for part in ordered_parts(filter, sort, None) {
        let sql = ordered_part_sql("EXPLAIN ", filter, &part, None, limit, plan);
        plans.push(plan_text(sql.query.load(conn).await?));
    }
    Ok(plans.join("\n"))
}

/// Published organizations worth scoring against a need, best by a coarse score first, at most
/// `limit`. When the need names countries, an organization must relate to one of them;
/// otherwise it must meet at least one criterion. Also how many organizations qualify.
pub async fn match_candidates(
    conn: &mut AsyncPgConnection,
    need: &crate::domain::matching::Need,
    limit: i64,
) -> QueryResult<(Vec<Organization>, i64)> {
    let sectors = need.all_sectors();
    // (values, predicate, how many values matched, weight): the SQL ranks candidates by the
    // share of each criterion met, as the exact score does, so that the best are the ones scored.
    let criteria: [(&[String], &str, &str, f64); 5] = [
        (
            &need.origin_countries,
            "o.origin_countries && {}",
            "cardinality(ARRAY(SELECT unnest(o.origin_countries) INTERSECT SELECT unnest({})))",
            0.35,
        ),
        (
            &sectors,
            "o.sectors && {}",
            "cardinality(ARRAY(SELECT unnest(o.sectors) INTERSECT SELECT unnest({})))",
            0.25,
        ),
        (
            &need.support_types,
            "o.support_types && {}",
            "cardinality(ARRAY(SELECT unnest(o.support_types) INTERSECT SELECT unnest({})))",
            0.2,
        ),
        (
            &need.languages,
            "o.languages && {}",
            "cardinality(ARRAY(SELECT unnest(o.languages) INTERSECT SELECT unnest({})))",
            0.15,
        ),
        (
            &need.residence_countries,
            "o.residence_country = ANY({})",
            "(o.residence_country = ANY({}))::int",
            0.05,
        ),
    ];
    let build = |head: &str| {
        let mut sql = Sql::new(head);
        let mut score: Vec<String> = Vec::new();
        let mut any: Vec<String> = Vec::new();
        let mut required: Vec<String> = Vec::new();
        for (values, clause, count, weight) in criteria {
            if values.is_empty() {
                continue;
            }
            let (s, p) = sql.bind::<Array<Text>, _>(values);
            sql = s;
            let predicate = clause.replace("{}", &p);
            let wanted = values.len().max(1);
            score.push(format!(
                "least({}, {wanted})::float8 / {wanted} * {weight}",
                count.replace("{}", &p)
            ));
            if clause.starts_with("o.origin_countries") {
                required.push(predicate.clone());
            }
            any.push(predicate);
        }
        if !need.countries.is_empty() {
            let (s, p) = sql.bind::<Array<Text>, _>(need.countries.as_slice());
            sql = s;
            score.push(format!(
                "greatest((o.origin_countries && {p})::int * 0.35, \
                 (o.operating_countries && {p})::int * 0.28, \
                 (o.residence_country = ANY({p}))::int * 0.175)"
            ));
            required.push(format!(
                "(o.origin_countries && {p} OR o.operating_countries && {p} OR o.residence_country = ANY({p}))"
            ));
        }
        let condition = if required.is_empty() {
            any.join(" OR ")
        } else {
            required.join(" OR ")
        };
        let score = if score.is_empty() {
            "0".to_owned()
        } else {
            score.join(" + ")
        };
        (sql, condition, score)
    };
    let head = format!(
        "SELECT {}, 0::float8 AS rank, 0 AS unverified",
        OrganizationRow::COLUMNS
    );
    let (sql, condition, score) = build(&head);
    let (sql, pl) = sql
        .push(&format!(
            " FROM organizations o WHERE o.status = 'published' AND ({condition}) \
             ORDER BY {score} DESC, CASE WHEN {VERIFIED} THEN 0 ELSE 1 END, o.name, o.id"
        ))
        .bind::<BigInt, _>(limit);
    let rows: Vec<PageRow> = sql.push(&format!(" LIMIT {pl}")).query.load(conn).await?;
    let organizations = rows
        .into_iter()
        .map(|r| Organization::try_from(r.organization))
        .collect::<QueryResult<Vec<_>>>()?;
    let (sql, condition, _) = build("SELECT count(*) AS count");
    let count: Count = sql
        .push(&format!(
            " FROM organizations o WHERE o.status = 'published' AND ({condition})"
        ))
        .query
        .get_result(conn)
        .await?;
    Ok((organizations, count.count))
}

#[derive(QueryableByName)]
struct OrganizationCandidate {
    #[diesel(embed)]
    organization: OrganizationRow,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    engaged: bool,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Published organizations, other than the need's own, that could answer a need from their
/// profile: related to its country (origin, operations or residence), working in one of its
/// sectors (with relatives), and with no open offer that answers it already (that offer is the
/// match). The best `limit` by a coarse score, each with whether it is engaged in the need's
/// crisis; also how many there are in all.
pub async fn organizations_for_need(
    conn: &mut AsyncPgConnection,
    on: crate::db::postings::MatchOn<'_>,
    limit: i64,
) -> QueryResult<(Vec<(Organization, bool)>, i64)> {
    let engaged = "($5::uuid IS NOT NULL AND EXISTS (SELECT 1 FROM engagements e \
                   WHERE e.crisis_id = $5 AND e.organization_id = o.id))";
    let rows: Vec<OrganizationCandidate> = diesel::sql_query(format!(
        "SELECT {}, {engaged} AS engaged, count(*) OVER () AS total FROM organizations o \
          WHERE o.status = 'published' AND o.id <> $1 AND o.sectors && $2 \
            AND (o.origin_countries && ARRAY[$3] OR o.operating_countries && ARRAY[$3] \
                 OR o.residence_country = $3) \
            AND NOT EXISTS (SELECT 1 FROM postings p WHERE p.organization_id = o.id \
                  AND p.side = 'offer' AND p.country = $3 AND p.sectors && $2 AND {open}) \
          ORDER BY dd_share(o.sectors, $2) * 0.25 + dd_share(o.support_types, $6) * 0.15 \
                   + dd_share(o.languages, $7) * 0.15 + {engaged}::int * 0.10 \
                   + {VERIFIED}::int * 0.05 DESC, o.name, o.id \
          LIMIT $8",
        OrganizationRow::COLUMNS,
        open = super::postings::open_as_of("p", "$4"),
    ))
    .bind::<SqlUuid, _>(on.organization_id)
    .bind::<Array<Text>, _>(on.sectors)
    .bind::<Text, _>(on.country)
    .bind::<diesel::sql_types::Date, _>(on.today)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(on.crisis_id)
    .bind::<Array<Text>, _>(on.support_types)
    .bind::<Array<Text>, _>(on.languages)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    let total = <[_]>::first(&rows).map_or(0, |r| r.total);
    let list = rows
        .into_iter()
        .map(|r| Ok((Organization::try_from(r.organization)?, r.engaged)))
        .collect::<QueryResult<Vec<_>>>()?;
    Ok((list, total))
}

#[derive(QueryableByName)]
struct Generation {
    #[diesel(sql_type = BigInt)]
    generation: i64,
}

/// The discovery generation: a counter every change to `organizations` moves forward in its
/// own transaction (migration 000006), so counts cached under it are current while it holds.
pub async fn generation(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let row: Generation = diesel::sql_query("SELECT generation FROM discovery_generation")
        .get_result(conn)
        .await?;
    Ok(row.generation)
}
