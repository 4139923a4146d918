//! `/v1/countries`, `/v1/languages`, `/v1/sectors`, `/v1/support-types`, `/v1/organization-kinds`.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::paging::Page;
use super::problem::Problem;
use crate::db::{self, Pool, reference as queries};
use crate::domain::reference::{
    Country, CountryCodeInput, CountryFilter, Language, M49_REGIONS, ORGANIZATION_KIND_CODES,
    OrganizationKind, SectorNode, SupportType, sector_tree,
};
use crate::domain::text::SearchText;
use crate::error::ApiError;

/// Reference data changes only with a deployment: let clients and proxies keep it an hour.
const REFERENCE_CACHE: &str = "public, max-age=3600";
/// A country with its organization counts changes as profiles are published.
const COUNTRY_DETAIL_CACHE: &str = "public, max-age=60";

/// How many published organizations have a country as one of theirs, in each role.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CountryOrganizationCounts {
    /// As a country of origin (diaspora heritage).
    pub origin: i64,
    /// As a country where they operate.
    pub operating: i64,
    /// As the country where they are based.
    pub residence: i64,
}

/// A country, with how many published organizations relate to it, per kind of organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CountryDetailView {
    #[serde(flatten)]
    pub country: CountryView,
    /// One entry per kind of organization (every kind, zeros included).
    #[schema(example = json!({"diaspora-organization": {"origin": 12, "operating": 3, "residence": 0}}))]
    pub organization_counts: std::collections::BTreeMap<String, CountryOrganizationCounts>,
}

fn reference_page<T: Serialize>(data: Vec<T>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, REFERENCE_CACHE))
        .json(Page::complete(data))
}

/// An ISO 3166-1 country with its UN M49 regions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CountryView {
    /// ISO 3166-1 alpha-3: the code used everywhere in this API.
    #[schema(example = "HTI")]
    pub code: String,
    #[schema(example = "HT")]
    pub alpha2: String,
    /// ISO 3166-1 numeric (also the UN M49 country code), three digits.
    #[schema(example = "332")]
    pub numeric: String,
    /// ISO English short name.
    #[schema(example = "Haiti")]
    pub name: String,
    pub official_name: Option<String>,
    pub common_name: Option<String>,
    /// UN M49 region; null for Antarctica.
    #[schema(example = "Americas")]
    pub region: Option<String>,
    /// UN M49 sub-region.
    #[schema(example = "Latin America and the Caribbean")]
    pub sub_region: Option<String>,
    /// UN M49 intermediate region, where M49 has one.
    #[schema(example = "Caribbean")]
    pub intermediate_region: Option<String>,
}

impl From<Country> for CountryView {
    fn from(c: Country) -> Self {
        CountryView {
            code: c.code,
            alpha2: c.alpha2,
            numeric: c.numeric,
            name: c.name,
            official_name: c.official_name,
            common_name: c.common_name,
            region: c.region,
            sub_region: c.sub_region,
            intermediate_region: c.intermediate_region,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountryListQuery {
    /// A UN M49 region, sub-region or intermediate region, as named by M49: `Americas`,
    /// `Caribbean`, `Southern Asia`...
    #[param(inline, schema_with = region_schema)]
    pub region: Option<String>,
    /// Part of a country's name (accents and case ignored), or an exact alpha-2, alpha-3 or
    /// numeric code.
    #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
    /// Accepted like on every list (1–100); reference lists still return every row.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn region_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(M49_REGIONS.iter().copied()))
        .description(Some(
            "A UN M49 region, sub-region or intermediate region, exactly as M49 names it: \
             `Americas`, `Caribbean`, `Southern Asia`...",
        ))
        .build()
}

/// A free-text parameter: absent or blank is no filter; otherwise it must be a valid search.
fn search_param(name: &str, raw: Option<&str>) -> Result<Option<SearchText>, ApiError> {
    match raw {
        Some(s) => SearchText::parse_optional(s).map_err(|why| ApiError::bad_parameter(name, why)),
        None => Ok(None),
    }
}

/// List countries
///
/// Every ISO 3166-1 country (249), by alpha-3 code, in one page.
#[utoipa::path(
    tag = "reference",
    operation_id = "list_countries",
    params(CountryListQuery),
    responses(
        (status = 200, description = "Countries matching the filters", body = Page<CountryView>),
        (status = 400, description = "Unknown region, or a bad or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/countries")]
pub async fn list_countries(
    pool: web::Data<Pool>,
    query: Query<CountryListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    check_limit(query.limit)?;
    let region = match query.region.as_deref() {
        None => None,
        Some(r) if M49_REGIONS.contains(&r) => Some(r.to_owned()),
        Some(r) => {
            let hint = match M49_REGIONS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(r.trim()))
            {
                Some(known) => format!("did you mean {known:?}?"),
                None => format!("use one of: {}", M49_REGIONS.join(", ")),
            };
            return Err(ApiError::bad_parameter(
                "region",
                format!("{r:?} is not a UN M49 region name; {hint}"),
            ));
        }
    };
    let filter = CountryFilter {
        region,
        q: search_param("q", query.q.as_deref())?,
    };
    let mut conn = db::connection(&pool).await?;
    let countries = queries::list_countries(&mut conn, &filter)
        .await
        .map_err(db::query_failed("listing countries"))?;
    Ok(reference_page(
        countries.into_iter().map(CountryView::from).collect(),
    ))
}

/// Get a country
///
/// By alpha-3 (`HTI`) or alpha-2 (`HT`) code, in any case.
#[utoipa::path(
    tag = "reference",
    operation_id = "get_country",
    params(("code" = String, Path, description = "ISO 3166-1 alpha-3 or alpha-2 code, any case", pattern = "^[A-Za-z]{2,3}$", example = "HTI")),
    responses(
        (status = 200, description = "The country, with how many published organizations have it as country of origin, of operation or of residence, per kind", body = CountryDetailView),
        (status = 400, description = "Not a two- or three-letter code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No country has this code", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/countries/{code}")]
pub async fn get_country(
    pool: web::Data<Pool>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code =
        CountryCodeInput::parse(&code).map_err(|why| ApiError::bad_parameter("code", why))?;
    let mut conn = db::connection(&pool).await?;
    let country = queries::find_country(&mut conn, &code)
        .await
        .map_err(db::query_failed("finding a country"))?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No ISO 3166-1 country has the code {:?}. GET /v1/countries lists them all.",
                code.as_str()
            ))
        })?;
    let mut organization_counts: std::collections::BTreeMap<String, CountryOrganizationCounts> =
        ORGANIZATION_KIND_CODES
            .iter()
            .map(|k| ((*k).to_owned(), CountryOrganizationCounts::default()))
            .collect();
    for (kind, origin, operating, residence) in
        crate::db::organizations::country_counts(&mut conn, &country.code)
            .await
            .map_err(db::query_failed("counting organizations of a country"))?
    {
        organization_counts.insert(
            kind,
            CountryOrganizationCounts {
                origin,
                operating,
                residence,
            },
        );
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, COUNTRY_DETAIL_CACHE))
        .json(CountryDetailView {
            country: CountryView::from(country),
            organization_counts,
        }))
}

/// An ISO 639 language.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LanguageView {
    /// ISO 639-1 where it exists, else ISO 639-3: the code used everywhere in this API.
    #[schema(example = "ht")]
    pub code: String,
    /// Three-letter code, for systems that use three letters throughout: ISO 639-3 (for the
    /// one collective ISO 639-1 code, `bh`, its ISO 639-2 code `bih`).
    #[schema(example = "hat")]
    pub alpha3: String,
    /// ISO 639-3 reference name.
    #[schema(example = "Haitian")]
    pub name: String,
    /// Other names from ISO 639-2.
    #[schema(example = json!(["Haitian Creole"]))]
    pub alternate_names: Vec<String>,
    pub is_macrolanguage: bool,
}

impl From<Language> for LanguageView {
    fn from(l: Language) -> Self {
        LanguageView {
            code: l.code,
            alpha3: l.alpha3,
            name: l.name,
            alternate_names: l.alternate_names,
            is_macrolanguage: l.is_macrolanguage,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LanguageListQuery {
    /// Part of a language's name or alternate name (accents and case ignored), or an exact
    /// ISO 639-1 or 639-3 code.
    #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
    /// Accepted like on every list (1–100); reference lists still return every row.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// List languages
///
/// Every ISO 639-1 language and every living ISO 639-3 language (about 7,000), by code, in
/// one page. Use `q` to narrow it.
#[utoipa::path(
    tag = "reference",
    operation_id = "list_languages",
    params(LanguageListQuery),
    responses(
        (status = 200, description = "Languages", body = Page<LanguageView>),
        (status = 400, description = "A bad or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/languages")]
pub async fn list_languages(
    pool: web::Data<Pool>,
    query: Query<LanguageListQuery>,
) -> Result<HttpResponse, ApiError> {
    check_limit(query.0.limit)?;
    let q = search_param("q", query.0.q.as_deref())?;
    let mut conn = db::connection(&pool).await?;
    let languages = queries::list_languages(&mut conn, q.as_ref())
        .await
        .map_err(db::query_failed("listing languages"))?;
    Ok(reference_page(
        languages.into_iter().map(LanguageView::from).collect(),
    ))
}

/// A sector of the taxonomy, with its sub-sectors.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(no_recursion)]
pub struct SectorView {
    #[schema(example = "health")]
    pub code: String,
    /// The sector this one belongs to; null for IASC clusters.
    pub parent_code: Option<String>,
    #[schema(example = "Health")]
    pub name: String,
    /// The HDX / HXL global coordination group code (`#sector` values), where HDX has one.
    #[schema(example = "HEA")]
    pub hdx_code: Option<String>,
    /// Sub-sectors. Filtering by a sector matches its sub-sectors too.
    #[schema(no_recursion)]
    pub children: Vec<SectorView>,
}

impl From<SectorNode> for SectorView {
    fn from(n: SectorNode) -> Self {
        SectorView {
            code: n.sector.code,
            parent_code: n.sector.parent_code,
            name: n.sector.name,
            hdx_code: n.sector.hdx_code,
            children: n.children.into_iter().map(SectorView::from).collect(),
        }
    }
}

/// List sectors
///
/// The IASC clusters, each with its sub-sectors (protection areas of responsibility, MHPSS),
/// as a tree. `total` counts the top-level sectors.
#[utoipa::path(
    tag = "reference",
    operation_id = "list_sectors",
    params(ReferenceListQuery),
    responses(
        (status = 200, description = "The sector tree", body = Page<SectorView>),
        (status = 400, description = "A bad or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sectors")]
pub async fn list_sectors(
    pool: web::Data<Pool>,
    query: Query<ReferenceListQuery>,
) -> Result<HttpResponse, ApiError> {
    check_limit(query.0.limit)?;
    let mut conn = db::connection(&pool).await?;
    let sectors = queries::list_sectors(&mut conn)
        .await
        .map_err(db::query_failed("listing sectors"))?;
    Ok(reference_page(
        sector_tree(sectors)
            .into_iter()
            .map(SectorView::from)
            .collect(),
    ))
}

/// A kind of support an organization can give.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SupportTypeView {
    #[schema(example = "telehealth-helpline")]
    pub code: String,
    pub name: String,
    pub description: String,
}

/// List kinds of support
#[utoipa::path(
    tag = "reference",
    operation_id = "list_support_types",
    params(ReferenceListQuery),
    responses(
        (status = 200, description = "Kinds of support", body = Page<SupportTypeView>),
        (status = 400, description = "A bad or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/support-types")]
pub async fn list_support_types(
    pool: web::Data<Pool>,
    query: Query<ReferenceListQuery>,
) -> Result<HttpResponse, ApiError> {
    check_limit(query.0.limit)?;
    let mut conn = db::connection(&pool).await?;
    let rows = queries::list_support_types(&mut conn)
        .await
        .map_err(db::query_failed("listing support types"))?;
    Ok(reference_page(
        rows.into_iter()
            .map(
                |SupportType {
                     code,
                     name,
                     description,
                 }| SupportTypeView {
                    code,
                    name,
                    description,
                },
            )
            .collect(),
    ))
}

/// A kind of organization, with its IATI and HDX codes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationKindView {
    #[schema(example = "diaspora-organization")]
    pub code: String,
    pub name: String,
    /// IATI OrganisationType code (`10` government ... `90` other).
    #[schema(example = "22")]
    pub iati_code: String,
    /// HDX organization type code (as used by HXL `#org+type`).
    #[schema(example = "441")]
    pub hdx_code: Option<String>,
}

/// List kinds of organization
#[utoipa::path(
    tag = "reference",
    operation_id = "list_organization_kinds",
    params(ReferenceListQuery),
    responses(
        (status = 200, description = "Kinds of organization", body = Page<OrganizationKindView>),
        (status = 400, description = "A bad or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organization-kinds")]
pub async fn list_organization_kinds(
    pool: web::Data<Pool>,
    query: Query<ReferenceListQuery>,
) -> Result<HttpResponse, ApiError> {
    check_limit(query.0.limit)?;
    let mut conn = db::connection(&pool).await?;
    let rows = queries::list_organization_kinds(&mut conn)
        .await
        .map_err(db::query_failed("listing organization kinds"))?;
    Ok(reference_page(
        rows.into_iter()
            .map(
                |OrganizationKind {
                     code,
                     name,
                     iati_code,
                     hdx_code,
                 }| OrganizationKindView {
                    code,
                    name,
                    iati_code,
                    hdx_code,
                },
            )
            .collect(),
    ))
}

/// Parameters of the reference lists that take no filter. Unknown parameters are still refused,
/// like on every route.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReferenceListQuery {
    /// Accepted like on every list (1–100); reference lists still return every row.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The paging convention's `limit` is accepted on reference lists (a generic client sends it)
/// and checked, but every row is returned: the lists are short and clients cache them whole.
fn check_limit(limit: Option<u32>) -> Result<(), ApiError> {
    match limit {
        Some(n) if !(1..=100).contains(&n) => Err(ApiError::bad_parameter(
            "limit",
            format!("{n} is not between 1 and 100"),
        )),
        _ => Ok(()),
    }
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_countries)
        .service(get_country)
        .service(list_languages)
        .service(list_sectors)
        .service(list_support_types)
        .service(list_organization_kinds);
}
