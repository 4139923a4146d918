//! Likely duplicates of an organization, for moderators: the same external identifier, the same
//! website domain, a similar name or the same acronym; the same country of residence adds
//! weight but is never enough alone.

use diesel::QueryResult;
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Double, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// How similar two normalised names must be (pg_trgm's `similarity`, 0 to 1) to count.
pub const NAME_SIMILARITY: f64 = 0.5;

/// One candidate and what it shares with the organization.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub acronym: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    /// A `scheme:value` identifier both carry, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub same_identifier: Option<String>,
    /// The website domain both use, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub same_domain: Option<String>,
    /// Trigram similarity of the normalised names (name, acronym and alternate names).
    #[diesel(sql_type = Double)]
    pub name_similarity: f64,
    #[diesel(sql_type = Bool)]
    pub same_acronym: bool,
    #[diesel(sql_type = Bool)]
    pub same_residence: bool,
}

/// The website's host without `www.`, lower-cased (SQL over a text column).
fn domain(column: &str) -> String {
    format!(
        "nullif(regexp_replace(lower(substring({column} from '^[a-zA-Z]+://([^/:?#]+)')), '^www\\.', ''), '')"
    )
}

/// Other organizations (any status, except those already merged) that look like `id`, strongest
/// first, at most `limit`.
pub async fn duplicates(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    limit: i64,
) -> QueryResult<Vec<Candidate>> {
    let sql = format!(
        "WITH me AS (SELECT * FROM organizations WHERE id = $1), \
         scored AS ( \
           SELECT o.id, o.slug, o.name, o.acronym, o.status, \
                  (SELECT a->>'scheme' || ':' || (a->>'value') \
                     FROM jsonb_array_elements(o.identifiers) a, me, jsonb_array_elements(me.identifiers) b \
                    WHERE a->>'scheme' = b->>'scheme' AND lower(a->>'value') = lower(b->>'value') LIMIT 1) \
                    AS same_identifier, \
                  CASE WHEN {od} = {md} THEN {od} END AS same_domain, \
                  similarity(o.name_search, me.name_search)::float8 AS name_similarity, \
                  coalesce(lower(o.acronym) = lower(me.acronym), false) AS same_acronym, \
                  coalesce(o.residence_country = me.residence_country, false) AS same_residence \
             FROM organizations o, me WHERE o.id <> me.id AND o.merged_into IS NULL) \
         SELECT * FROM scored \
          WHERE same_identifier IS NOT NULL OR same_domain IS NOT NULL OR same_acronym \
             OR name_similarity >= $2 \
          ORDER BY (same_identifier IS NOT NULL)::int * 4 + (same_domain IS NOT NULL)::int * 2 \
                   + same_acronym::int + same_residence::int + name_similarity DESC, id \
          LIMIT $3",
        od = domain("o.website"),
        md = domain("me.website"),
    );
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(id)
        .bind::<Double, _>(NAME_SIMILARITY)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load(conn)
        .await
}
