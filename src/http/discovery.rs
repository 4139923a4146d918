//! `GET /v1/organizations`: the directory's core query. Filters, full-text search, sorts,
//! tamper-proof cursors and facets over published organizations.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::codes::{OrganizationKindCode, SectorCode, SupportTypeCode};
use super::extract::Query;
use super::organizations::OrganizationView;
use super::paging;
use super::problem::Problem;
use crate::db::discovery as queries;
use crate::db::reference::code_book;
use crate::db::{self, Connection, Pool};
use crate::domain::discovery::{
    After, FACETS, FacetCount, MAX_FILTER_VALUES, OrganizationFilter, Sort,
};
use crate::domain::organization::Validator;
use crate::domain::reference::{ORGANIZATION_KIND_CODES, SECTOR_CODES, SUPPORT_TYPE_CODES};
use crate::domain::text::SearchText;
use crate::error::ApiError;

/// A facet's name, as `facets=` takes it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FacetName {
    Kind,
    OriginCountry,
    OperatingCountry,
    ResidenceCountry,
    Sector,
    SupportType,
    Language,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum SortParam {
    #[serde(rename = "relevance")]
    Relevance,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-updated_at")]
    UpdatedDesc,
    #[serde(rename = "-created_at")]
    CreatedDesc,
}

/// Declares a query-string struct that takes discovery's filters (documented once, here) and
/// then the route's own fields, with `filter()` handing the filters to
/// [`organization_filter`]. The list and the bulk export both take them; `serde(flatten)`
/// would not combine with `deny_unknown_fields`, hence a macro.
macro_rules! organization_filter_query {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$own_meta:meta])* pub $own:ident: $own_ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            /// Kinds of organization, comma-separated (any of them).
            #[param(value_type = Option<Vec<OrganizationKindCode>>, style = Form, explode = false)]
            pub kind: Option<String>,
            /// Countries of origin (alpha-3 or alpha-2, any case), comma-separated.
            #[param(value_type = Option<Vec<String>>, style = Form, explode = false, example = "HTI,DOM")]
            pub origin_country: Option<String>,
            /// Countries of operation, comma-separated.
            #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
            pub operating_country: Option<String>,
            /// Countries of residence, comma-separated.
            #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
            pub residence_country: Option<String>,
            /// Countries in any of the three roles, comma-separated.
            #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
            pub country: Option<String>,
            /// Sectors, comma-separated; a parent sector matches its children (`health` finds
            /// `health-mhpss`).
            #[param(value_type = Option<Vec<SectorCode>>, style = Form, explode = false)]
            pub sector: Option<String>,
            /// Kinds of support, comma-separated.
            #[param(value_type = Option<Vec<SupportTypeCode>>, style = Form, explode = false)]
            pub support_type: Option<String>,
            /// Languages (ISO 639-1 or 639-3), comma-separated.
            #[param(value_type = Option<Vec<String>>, style = Form, explode = false, example = "ht")]
            pub language: Option<String>,
            /// `true`: verified and not expired; `false`: the others.
            pub verified: Option<bool>,
            /// Words to find in names, acronyms, alternate names, descriptions and capability
            /// descriptions (accents and case ignored; each word may be a prefix); names also match
            /// with typos.
            #[param(max_length = 200)]
            pub q: Option<String>,
            /// Only organizations changed at or after this instant (RFC 3339).
            pub updated_since: Option<DateTime<Utc>>,
            /// Only organizations engaged in this crisis (its id or slug).
            #[param(max_length = 100)]
            pub crisis: Option<String>,
            $($(#[$own_meta])* pub $own: $own_ty,)*
        }

        impl $name {
            pub fn filter(&self) -> $crate::http::discovery::FilterParams<'_> {
                $crate::http::discovery::FilterParams {
                    kind: self.kind.as_deref(),
                    origin_country: self.origin_country.as_deref(),
                    operating_country: self.operating_country.as_deref(),
                    residence_country: self.residence_country.as_deref(),
                    country: self.country.as_deref(),
                    sector: self.sector.as_deref(),
                    support_type: self.support_type.as_deref(),
                    language: self.language.as_deref(),
                    verified: self.verified,
                    q: self.q.as_deref(),
                    updated_since: self.updated_since,
                    crisis: self.crisis.as_deref(),
                }
            }
        }
    };
}
pub(crate) use organization_filter_query;

organization_filter_query! {
    #[derive(Debug, Deserialize, IntoParams)]
    #[serde(deny_unknown_fields)]
    #[into_params(parameter_in = Query)]
    pub struct OrganizationListQuery {
        /// `relevance` (the default with `q`), `name`, `-updated_at`, `-created_at`. Without `q`
        /// the default is verified organizations first, then by name.
        #[param(inline)]
        pub sort: Option<SortParam>,
        /// Facets to count over the whole filtered set, comma-separated.
        #[param(value_type = Option<Vec<FacetName>>, style = Form, explode = false)]
        pub facets: Option<String>,
        /// Page size, 1 to 100 (default 20).
        #[param(minimum = 1, maximum = 100)]
        pub limit: Option<i64>,
        /// `next_cursor` of the previous page of the same query.
        #[param(max_length = 1000)]
        pub cursor: Option<String>,
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FacetValueView {
    pub value: String,
    pub count: i64,
}

/// A page of organizations, and facet counts when asked for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationPage {
    pub data: Vec<OrganizationView>,
    /// Opaque cursor for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// How many organizations match, across all pages.
    pub total: i64,
    /// Per requested facet, its most frequent values (at most 50) over the whole filtered set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facets: Option<BTreeMap<String, Vec<FacetValueView>>>,
}

/// A comma list: values trimmed, none blank (`kind=` or `kind=a,,b` is a mistake worth
/// reporting, not "no filter"), at most [`MAX_FILTER_VALUES`] values.
pub(super) fn comma_list(name: &str, raw: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let values: Vec<String> = raw.split(',').map(|v| v.trim().to_owned()).collect();
    if values.iter().any(String::is_empty) {
        return Err(ApiError::bad_parameter(
            name,
            "has an empty value: leave the parameter out for no filter",
        ));
    }
    if values.len() > MAX_FILTER_VALUES {
        return Err(ApiError::bad_parameter(
            name,
            format!("at most {MAX_FILTER_VALUES} values"),
        ));
    }
    Ok(values)
}

pub(super) fn codes(
    name: &str,
    raw: Option<&str>,
    allowed: &[&str],
) -> Result<Vec<String>, ApiError> {
    let values = comma_list(name, raw)?;
    if let Some(bad) = values.iter().find(|v| !allowed.contains(&v.as_str())) {
        return Err(ApiError::bad_parameter(
            name,
            format!("{bad:?} is not one of: {}", allowed.join(", ")),
        ));
    }
    Ok(values)
}

/// Parameters whose values must be resolved against the reference tables.
struct Lookups {
    origin: Vec<String>,
    operating: Vec<String>,
    residence: Vec<String>,
    any: Vec<String>,
    languages: Vec<String>,
}

async fn resolve(
    conn: &mut Connection,
    l: Lookups,
) -> Result<
    (
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
    ),
    ApiError,
> {
    let book = code_book(conn)
        .await
        .map_err(db::query_failed("reading country and language codes"))?;
    let known = &book.known;
    // The same lookups as a body's fields get; a query parameter's bad value is a 400 naming
    // the parameter.
    let mut v = Validator::default();
    let mut lookup = |name: &str, values: &[String], language: bool| -> Vec<String> {
        values
            .iter()
            .map(|value| {
                if language {
                    v.language(name, value, known)
                } else {
                    v.country(name, value, known)
                }
            })
            .collect()
    };
    let found = (
        lookup("origin_country", &l.origin, false),
        lookup("operating_country", &l.operating, false),
        lookup("residence_country", &l.residence, false),
        lookup("country", &l.any, false),
        lookup("language", &l.languages, true),
    );
    v.finish(found)
        .map_err(super::organizations::invalid_parameters)
}

/// How long a cached count may be served, at most. Changes to organizations invalidate counts
/// at once (through the generation); this bound is for what changes with time alone: an
/// approval expiring moves an organization out of `verified=true`.
pub const COUNTS_FRESH_FOR: Duration = Duration::from_secs(60);
/// Memory the count cache may hold, in bytes (approximately).
const COUNTS_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// Totals and facet counts of recent list queries, each kept with the discovery generation it
/// was counted at and served only while the generation is unchanged, so a count is exact
/// after any change by any server process. Broad filters match thousands of organizations;
/// without this every page of every request would count them all again. Bounded in memory
/// and in age ([`COUNTS_FRESH_FOR`]).
#[derive(Clone)]
pub struct CountCache {
    /// Filter key → (generation, total).
    totals: moka::sync::Cache<String, (i64, i64)>,
    /// (filter key, facet) → (generation, values).
    facets: moka::sync::Cache<(String, String), CachedFacet>,
    /// The directory-wide counts of `GET /v1/stats`, by the generation they were counted at.
    /// An async cache: requests that miss the same generation at once wait for one count.
    pub(super) stats: moka::future::Cache<i64, Arc<crate::db::stats::Stats>>,
}

/// A facet's values and the generation they were counted at.
type CachedFacet = (i64, Arc<Vec<FacetCount>>);

fn weight(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl Default for CountCache {
    fn default() -> Self {
        CountCache {
            totals: moka::sync::Cache::builder()
                .max_capacity(COUNTS_CACHE_BYTES / 4)
                .weigher(|filter: &String, _: &(i64, i64)| weight(filter.len() + 64))
                .time_to_live(COUNTS_FRESH_FOR)
                .build(),
            facets: moka::sync::Cache::builder()
                .max_capacity(COUNTS_CACHE_BYTES)
                .weigher(
                    |(filter, facet): &(String, String),
                     (_, values): &(i64, Arc<Vec<FacetCount>>)| {
                        weight(
                            filter.len()
                                + facet.len()
                                + 64
                                + values.iter().map(|v| v.value.len() + 48).sum::<usize>(),
                        )
                    },
                )
                .time_to_live(COUNTS_FRESH_FOR)
                .build(),
            stats: moka::future::Cache::builder().max_capacity(2).build(),
        }
    }
}

/// The value under `key` if it was counted at `generation`; otherwise counted now by `count`
/// and kept.
pub(super) async fn cached<K, V, F>(
    cache: &moka::sync::Cache<K, (i64, V)>,
    key: K,
    generation: i64,
    count: F,
) -> Result<V, ApiError>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    F: Future<Output = Result<V, ApiError>>,
{
    if let Some((at, value)) = cache.get(&key)
        && at == generation
    {
        return Ok(value);
    }
    let value = count.await?;
    cache.insert(key, (generation, value.clone()));
    Ok(value)
}

type CursorMac = Hmac<Sha256>;

/// What a cursor carries: where the next page starts, and a fingerprint of the query it
/// belongs to. Signed, so a client can neither forge a position nor reuse a cursor with
/// other filters.
#[derive(Serialize, Deserialize)]
struct CursorPayload {
    q: String,
    a: After,
}

/// The filter's identity, whatever the sort and page: the key of its counts.
fn filter_key(filter: &OrganizationFilter) -> String {
    let digest = Sha256::digest(format!("{filter:?}").as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

fn fingerprint(filter: &OrganizationFilter, sort: Sort) -> String {
    let digest = Sha256::digest(format!("{filter:?}|{sort:?}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

fn sign(secret: &[u8], body: &str) -> Option<CursorMac> {
    let mut mac = CursorMac::new_from_slice(secret).ok()?;
    mac.update(body.as_bytes());
    Some(mac)
}

fn encode_cursor(secret: &[u8], fingerprint: &str, after: After) -> Option<String> {
    let json = serde_json::to_string(&CursorPayload {
        q: fingerprint.to_owned(),
        a: after,
    })
    .ok()?;
    let body = URL_SAFE_NO_PAD.encode(json);
    let tag = sign(secret, &body)?.finalize().into_bytes();
    Some(format!("{body}.{}", URL_SAFE_NO_PAD.encode(&tag[..16])))
}

fn decode_cursor(secret: &[u8], fingerprint: &str, cursor: &str) -> Result<After, ApiError> {
    let foreign = || {
        ApiError::bad_parameter(
            "cursor",
            "is not a cursor of this query: pass back `next_cursor` exactly as received, with the same filters and sort",
        )
    };
    let (body, tag) = cursor.split_once('.').ok_or_else(foreign)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| foreign())?;
    // A shorter tag would be checked on fewer bytes: easier to guess.
    if tag.len() != 16 {
        return Err(foreign());
    }
    sign(secret, body)
        .ok_or_else(foreign)?
        .verify_truncated_left(&tag)
        .map_err(|_| foreign())?;
    let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| foreign())?;
    let payload: CursorPayload = serde_json::from_slice(&json).map_err(|_| foreign())?;
    if payload.q != fingerprint {
        return Err(foreign());
    }
    Ok(payload.a)
}

/// The discovery filters of a request, as sent (lists and export take the same ones).
pub struct FilterParams<'a> {
    pub kind: Option<&'a str>,
    pub origin_country: Option<&'a str>,
    pub operating_country: Option<&'a str>,
    pub residence_country: Option<&'a str>,
    pub country: Option<&'a str>,
    pub sector: Option<&'a str>,
    pub support_type: Option<&'a str>,
    pub language: Option<&'a str>,
    pub verified: Option<bool>,
    pub q: Option<&'a str>,
    pub updated_since: Option<DateTime<Utc>>,
    pub crisis: Option<&'a str>,
}

/// The filters checked (an unknown code is a 400 naming its parameter) and resolved: codes to
/// their canonical form, a parent sector to its family, a crisis's slug to its id.
pub async fn organization_filter(
    conn: &mut Connection,
    p: FilterParams<'_>,
) -> Result<OrganizationFilter, ApiError> {
    let kinds = codes("kind", p.kind, &ORGANIZATION_KIND_CODES)?;
    let sectors = codes("sector", p.sector, &SECTOR_CODES)?;
    let support_types = codes("support_type", p.support_type, &SUPPORT_TYPE_CODES)?;
    let q = match p.q {
        Some(raw) => {
            SearchText::parse_optional(raw).map_err(|why| ApiError::bad_parameter("q", why))?
        }
        None => None,
    };
    if let Some(since) = p.updated_since
        && !(1970..=9999).contains(&chrono::Datelike::year(&since))
    {
        return Err(ApiError::bad_parameter(
            "updated_since",
            "must be an RFC 3339 instant between the years 1970 and 9999",
        ));
    }
    let lookups = Lookups {
        origin: comma_list("origin_country", p.origin_country)?,
        operating: comma_list("operating_country", p.operating_country)?,
        residence: comma_list("residence_country", p.residence_country)?,
        any: comma_list("country", p.country)?,
        languages: comma_list("language", p.language)?,
    };
    let (origin, operating, residence, any, languages) = resolve(conn, lookups).await?;
    let crisis = match p.crisis {
        Some(raw) => Some(super::crises::crisis_param(conn, raw).await?),
        None => None,
    };
    let sectors = if sectors.is_empty() {
        sectors
    } else {
        let book = code_book(conn)
            .await
            .map_err(db::query_failed("reading sector codes"))?;
        crate::db::reference::CodeBook::flatten(&book.sector_families(&sectors))
    };
    Ok(OrganizationFilter {
        kinds,
        origin_countries: origin,
        operating_countries: operating,
        residence_countries: residence,
        countries: any,
        sectors,
        support_types,
        languages,
        verified: p.verified,
        q,
        updated_since: p.updated_since,
        crisis,
    })
}

/// Find organizations
///
/// The directory's core query, public: published organizations only. Filters combine with
/// AND; the values of one comma list with OR. An unknown code is a 400 naming its parameter,
/// never an empty result. Pages follow `next_cursor` (also in the `Link` header), which walks
/// the result set once, in order, even while organizations are added.
#[utoipa::path(
    tag = "discovery",
    operation_id = "list_organizations",
    params(OrganizationListQuery),
    responses(
        (status = 200, description = "A page of organizations", body = OrganizationPage,
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "A parameter is invalid or names an unknown code; or the cursor is not one of this query", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations")]
pub async fn list_organizations(
    req: HttpRequest,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    query: Query<OrganizationListQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = query.into_inner();
    let limit = paging::limit(p.limit)?;
    let facets = codes("facets", p.facets.as_deref(), &FACETS)?;
    let mut conn = db::connection(&pool).await?;
    let filter = organization_filter(&mut conn, p.filter()).await?;
    let sort = match (p.sort, &filter.q) {
        (Some(SortParam::Relevance) | None, Some(_)) => Sort::Relevance,
        (Some(SortParam::Name), _) => Sort::Name,
        (Some(SortParam::UpdatedDesc), _) => Sort::UpdatedDesc,
        (Some(SortParam::CreatedDesc), _) => Sort::CreatedDesc,
        (Some(SortParam::Relevance) | None, None) => Sort::VerifiedThenName,
    };
    let print = fingerprint(&filter, sort);
    let after = p
        .cursor
        .as_deref()
        .map(|c| decode_cursor(&state.cursor_secret, &print, c))
        .transpose()?;
    if after.as_ref().is_some_and(|a| a.sort() != sort) {
        return Err(ApiError::bad_parameter(
            "cursor",
            "belongs to another sort order: pass back `next_cursor` with the same query",
        ));
    }
    let generation = queries::generation(&mut conn)
        .await
        .map_err(db::query_failed("reading the discovery generation"))?;
    let key = filter_key(&filter);
    let total = cached(&state.counts.totals, key.clone(), generation, async {
        queries::total(&mut conn, &filter)
            .await
            .map_err(db::query_failed("counting organizations"))
    })
    .await?;
    let mut rows = queries::page(&mut conn, &filter, sort, after.as_ref(), limit, total)
        .await
        .map_err(db::query_failed("listing organizations"))?;
    let page_size = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > page_size {
        rows.truncate(page_size);
        rows.last()
            .and_then(|(_, key)| encode_cursor(&state.cursor_secret, &print, key.clone()))
    } else {
        None
    };
    let facets = if facets.is_empty() {
        None
    } else {
        let mut out = BTreeMap::new();
        for name in facets {
            let values = cached(
                &state.counts.facets,
                (key.clone(), name.clone()),
                generation,
                async {
                    queries::facet(&mut conn, &filter, &name)
                        .await
                        .map(Arc::new)
                        .map_err(db::query_failed("counting a facet"))
                },
            )
            .await?;
            out.insert(
                name,
                values
                    .iter()
                    .map(|c| FacetValueView {
                        value: c.value.clone(),
                        count: c.count,
                    })
                    .collect(),
            );
        }
        Some(out)
    };
    let now = Utc::now();
    let body = OrganizationPage {
        data: rows
            .into_iter()
            .map(|(org, _)| OrganizationView::of(org, now))
            .collect(),
        next_cursor,
        total,
        facets,
    };
    Ok(paging::respond_with(&req, body.next_cursor.clone(), &body))
}

/// A need to match organizations against. Name at least one criterion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// The community of origin the help is for (alpha-3 or alpha-2, any case).
    #[schema(pattern = "^[A-Za-z]{2,3}$", example = "HT")]
    pub origin_country: Option<String>,
    /// A country the organization relates to in any role (origin counts most, then operations,
    /// then residence).
    #[schema(pattern = "^[A-Za-z]{2,3}$")]
    pub country: Option<String>,
    /// Sectors needed; a parent sector is met by its children.
    #[serde(default)]
    #[schema(max_items = 16)]
    pub sectors: Vec<SectorCode>,
    #[serde(default)]
    #[schema(max_items = 11)]
    pub support_types: Vec<SupportTypeCode>,
    /// Languages needed (ISO 639-1 or 639-3).
    #[serde(default)]
    #[schema(max_items = 30, example = json!(["ht", "fr"]))]
    pub languages: Vec<String>,
    /// Preferred countries of residence (a small bonus).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub residence_countries: Vec<String>,
    /// How many organizations to return, 1 to 100 (default 20).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReasonView {
    /// `origin_country`, `operating_country`, `residence_country`, `sectors`,
    /// `support_types`, `languages` or `residence_countries`.
    pub criterion: String,
    /// The requested values this organization meets.
    pub matched: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchView {
    pub organization: OrganizationView,
    /// How well the organization fits, from 0 to 1: the weighted share of the criteria met
    /// (country 35%, sectors 25%, support 20%, languages 15%, residence 5%, over those asked).
    #[schema(example = 0.875)]
    pub score: f64,
    pub reasons: Vec<ReasonView>,
}

/// Ranked matches (one page: `next_cursor` is always null).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchPage {
    pub data: Vec<MatchView>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// How many published organizations meet at least one criterion (the best 500 are
    /// scored).
    pub total: i64,
}

/// Match organizations to a need
///
/// Ranks published organizations against a need: best fit first, with a `score` and the
/// `reasons` (which criteria matched). At equal fit, verified organizations come first. When a
/// country is given, only organizations related to it are considered.
#[utoipa::path(
    tag = "discovery",
    operation_id = "match_organizations",
    request_body = MatchRequest,
    responses(
        (status = 200, description = "Ranked organizations", body = MatchPage),
        (status = 422, description = "Invalid fields, each named (an unknown country or language code; no criterion at all)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/matches")]
pub async fn match_organizations(
    pool: web::Data<Pool>,
    body: super::extract::Json<MatchRequest>,
) -> Result<HttpResponse, ApiError> {
    use crate::domain::matching::{MAX_CANDIDATES, Need, rank};
    use crate::domain::organization::KnownCodes;
    let b = body.0;
    let mut v = Validator::default();
    let limit = match b.limit {
        None => paging::DEFAULT_LIMIT,
        Some(n) if (1..=paging::MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            v.error(
                "limit",
                format!("must be between 1 and {}", paging::MAX_LIMIT),
            );
            paging::DEFAULT_LIMIT
        }
    };
    let mut conn = db::connection(&pool).await?;
    let book = code_book(&mut conn).await.map_err(db::query_failed(
        "reading country, language and sector codes",
    ))?;
    let known: &KnownCodes = &book.known;
    let origin = b
        .origin_country
        .as_deref()
        .map(|c| v.country("origin_country", c, known));
    let country = b.country.as_deref().map(|c| v.country("country", c, known));
    let mut residences: Vec<String> = Vec::new();
    if v.max_items("residence_countries", b.residence_countries.len(), 20) {
        for (i, c) in b.residence_countries.iter().enumerate() {
            let code = v.country(&format!("residence_countries[{i}]"), c, known);
            if !residences.contains(&code) {
                residences.push(code);
            }
        }
    }
    let languages = v.languages("languages", &b.languages, 30, known);
    let sectors = v.codes("sectors", &SectorCode::strings(b.sectors), &SECTOR_CODES);
    let support_types = v.codes(
        "support_types",
        &SupportTypeCode::strings(b.support_types),
        &SUPPORT_TYPE_CODES,
    );
    let mut need = Need {
        origin_countries: origin.into_iter().collect(),
        countries: country.into_iter().collect(),
        sector_families: Vec::new(),
        support_types,
        languages,
        residence_countries: residences,
    };
    if need.is_empty() && sectors.is_empty() {
        v.error(
            "body",
            "name at least one criterion: origin_country, country, sectors, support_types, languages or residence_countries",
        );
    }
    v.finish(()).map_err(super::organizations::invalid_fields)?;
    if !sectors.is_empty() {
        need.sector_families = book.sector_families(&sectors);
    }
    let (candidates, total) = queries::match_candidates(&mut conn, &need, MAX_CANDIDATES)
        .await
        .map_err(db::query_failed("finding candidates"))?;
    let now = Utc::now();
    let scored = candidates
        .into_iter()
        .filter_map(|org| {
            need.score(&org)
                .map(|(score, reasons)| (org, score, reasons))
        })
        .collect();
    let data = rank(scored, now)
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(20))
        .map(|(org, score, reasons)| MatchView {
            organization: OrganizationView::of(org, now),
            score,
            reasons: reasons
                .into_iter()
                .map(|r| ReasonView {
                    criterion: r.criterion.to_owned(),
                    matched: r.matched,
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(MatchPage {
        data,
        next_cursor: None,
        total,
    }))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_organizations).service(match_organizations);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_signed_and_bound_to_their_query() {
        let secret = b"a secret of the server, 32 bytes long";
        let id = uuid::Uuid::new_v4();
        let cursor = encode_cursor(secret, "query-a", After::Name("Zed".into(), id)).unwrap();
        assert_eq!(
            decode_cursor(secret, "query-a", &cursor).unwrap(),
            After::Name("Zed".into(), id)
        );
        assert!(decode_cursor(secret, "query-b", &cursor).is_err());
        assert!(decode_cursor(b"another secret", "query-a", &cursor).is_err());
        // A forged position with a copied tag is refused.
        let (_, tag) = cursor.split_once('.').unwrap();
        let forged_body = URL_SAFE_NO_PAD.encode(
            serde_json::to_string(&CursorPayload {
                q: "query-a".into(),
                a: After::Name("Aaa".into(), id),
            })
            .unwrap(),
        );
        assert!(decode_cursor(secret, "query-a", &format!("{forged_body}.{tag}")).is_err());
        assert!(decode_cursor(secret, "query-a", "garbage").is_err());
        // A tag cut short (fewer bytes to guess) is refused even when its bytes are right.
        let (body, tag) = cursor.split_once('.').unwrap();
        let short = URL_SAFE_NO_PAD.encode(&URL_SAFE_NO_PAD.decode(tag).unwrap()[..1]);
        assert!(decode_cursor(secret, "query-a", &format!("{body}.{short}")).is_err());
    }

    #[test]
    fn a_relevance_position_survives_the_cursor_exactly() {
        let secret = b"a secret of the server, 32 bytes long";
        let id = uuid::Uuid::new_v4();
        let rank = 0.472_727_283_835_411_07_f64;
        let cursor = encode_cursor(secret, "q", After::Relevance(rank, id)).unwrap();
        match decode_cursor(secret, "q", &cursor).unwrap() {
            After::Relevance(back, _) => assert_eq!(back.to_bits(), rank.to_bits()),
            other => panic!("{other:?}"),
        }
    }
}
