//! Directory-wide counts (GET /v1/stats): published organizations by each attribute, and
//! active crises with how many organizations are engaged in them.

use chrono::NaiveDate;
use diesel::QueryResult;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// How many published organizations have each value of one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// `kind`, `origin_country`, `operating_country`, `sector`, `support_type`, `language`,
    /// `challenge` or `interest`.
    pub attribute: String,
    /// (value, organizations), most frequent first, then by value.
    pub counts: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveCrisis {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub glide: Option<String>,
    pub started_on: NaiveDate,
    /// Published organizations with at least one engagement in it.
    pub engaged_organizations: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub organizations: i64,
    pub distributions: Vec<Distribution>,
    pub active_crises: Vec<ActiveCrisis>,
}

/// The attributes counted, each as an expression over `organizations o` (arrays unnested).
const ATTRIBUTES: [(&str, &str); 8] = [
    ("kind", "o.kind"),
    ("origin_country", "unnest(o.origin_countries)"),
    ("operating_country", "unnest(o.operating_countries)"),
    ("sector", "unnest(o.sectors)"),
    ("support_type", "unnest(o.support_types)"),
    ("language", "unnest(o.languages)"),
    ("challenge", "unnest(o.challenges)"),
    ("interest", "unnest(o.interests)"),
];

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    attribute: String,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct CrisisRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    glide: Option<String>,
    #[diesel(sql_type = Date)]
    started_on: NaiveDate,
    #[diesel(sql_type = BigInt)]
    engaged_organizations: i64,
}

/// Counts everything in three statements: one pass over the published organizations for all
/// the distributions (a CTE read once), their total, and the active crises.
pub async fn stats(conn: &mut AsyncPgConnection) -> QueryResult<Stats> {
    let selects: Vec<String> = ATTRIBUTES
        .iter()
        .map(|(name, expression)| {
            format!(
                "SELECT '{name}'::text AS attribute, value, count(*) AS count \
                   FROM (SELECT {expression} AS value FROM published o) v \
                  WHERE value IS NOT NULL GROUP BY value"
            )
        })
        .collect();
    let rows: Vec<Row> = diesel::sql_query(format!(
        "WITH published AS MATERIALIZED ( \
           SELECT kind, origin_countries, operating_countries, sectors, support_types, \
                  languages, challenges, interests \
             FROM organizations WHERE status = 'published') \
         {} ORDER BY attribute, count DESC, value",
        selects.join(" UNION ALL ")
    ))
    .load(conn)
    .await?;
    let mut distributions: Vec<Distribution> = ATTRIBUTES
        .iter()
        .map(|(name, _)| Distribution {
            attribute: (*name).to_owned(),
            counts: Vec::new(),
        })
        .collect();
    for r in rows {
        if let Some(d) = distributions
            .iter_mut()
            .find(|d| d.attribute == r.attribute)
        {
            d.counts.push((r.value, r.count));
        }
    }
    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let total: Total =
        diesel::sql_query("SELECT count(*) AS n FROM organizations WHERE status = 'published'")
            .get_result(conn)
            .await?;
    let crises: Vec<CrisisRow> = diesel::sql_query(
        "SELECT c.id, c.slug, c.name, c.glide, c.started_on, \
                count(DISTINCT o.id) AS engaged_organizations \
           FROM crises c \
           LEFT JOIN engagements e ON e.crisis_id = c.id \
           LEFT JOIN organizations o ON o.id = e.organization_id AND o.status = 'published' \
          WHERE c.status = 'active' \
          GROUP BY c.id ORDER BY c.started_on DESC, c.seq DESC",
    )
    .load(conn)
    .await?;
    Ok(Stats {
        organizations: total.n,
        distributions,
        active_crises: crises
            .into_iter()
            .map(|c| ActiveCrisis {
                id: c.id,
                slug: c.slug,
                name: c.name,
                glide: c.glide,
                started_on: c.started_on,
                engaged_organizations: c.engaged_organizations,
            })
            .collect(),
    })
}
