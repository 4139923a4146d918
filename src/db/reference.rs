//! Queries over the reference tables.

use std::sync::Arc;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;

use super::schema::{countries, languages, organization_kinds, sectors, support_types};
use crate::domain::organization::KnownCodes;
use crate::domain::reference::{
    Country, CountryCodeInput, CountryFilter, Language, OrganizationKind, Sector, SupportType,
};
use crate::domain::text::SearchText;

/// Every country and language code, and the sector tree: what requests' codes are checked
/// and expanded against, hundreds of times a second.
pub struct CodeBook {
    /// alpha-2 and alpha-3 country codes, and ISO 639-1 and 639-3 language codes, each to
    /// its canonical form.
    pub known: KnownCodes,
    /// (code, parent code) of every sector, by code.
    sectors: Vec<(String, Option<String>)>,
}

impl CodeBook {
    /// Each sector given, with itself and its children: `[(requested, [codes])]`, in the
    /// order given.
    pub fn sector_families(&self, wanted: &[String]) -> Vec<(String, Vec<String>)> {
        wanted
            .iter()
            .map(|w| {
                let family = self
                    .sectors
                    .iter()
                    .filter(|(code, parent)| code == w || parent.as_ref() == Some(w))
                    .map(|(code, _)| code.clone())
                    .collect();
                (w.clone(), family)
            })
            .collect()
    }

    /// Each sector given, with itself, its children and its parent: what meets it when needs
    /// and offers are matched (a `health` offer answers a `health-mhpss` need, and back).
    pub fn sector_relatives(&self, wanted: &[String]) -> Vec<(String, Vec<String>)> {
        let mut families = self.sector_families(wanted);
        for (w, family) in &mut families {
            let parent = self
                .sectors
                .iter()
                .find(|(code, _)| code == w)
                .and_then(|(_, parent)| parent.clone());
            family.extend(parent);
        }
        families
    }

    /// Every sector code of the families, once.
    pub fn flatten(families: &[(String, Vec<String>)]) -> Vec<String> {
        let mut all: Vec<String> = families
            .iter()
            .flat_map(|(_, family)| family.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Read once per process. The reference rows come from this binary's own migrations (and
/// change only with a new binary), so every database it serves holds the same ones.
static CODE_BOOK: OnceCell<Arc<CodeBook>> = OnceCell::const_new();

/// The code book, read from the database on first use.
pub async fn code_book(conn: &mut AsyncPgConnection) -> QueryResult<Arc<CodeBook>> {
    CODE_BOOK
        .get_or_try_init(|| async {
            let mut known = KnownCodes::default();
            let rows: Vec<(String, String)> = countries::table
                .select((countries::code, countries::alpha2))
                .load(conn)
                .await?;
            for (code, alpha2) in rows {
                known.countries.insert(alpha2, code.clone());
                known.countries.insert(code.clone(), code);
            }
            let rows: Vec<(String, String)> = languages::table
                .select((languages::code, languages::alpha3))
                .load(conn)
                .await?;
            for (code, alpha3) in rows {
                known.languages.insert(alpha3, code.clone());
                known.languages.insert(code.clone(), code);
            }
            let sectors = sectors::table
                .select((sectors::code, sectors::parent_code))
                .order(sectors::code)
                .load(conn)
                .await?;
            Ok(Arc::new(CodeBook { known, sectors }))
        })
        .await
        .cloned()
}

diesel::define_sql_function! {
    /// PostgreSQL's `unaccent` extension: "Côte" → "Cote".
    fn unaccent(x: Text) -> Text;
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = countries, check_for_backend(diesel::pg::Pg))]
struct CountryRow {
    code: String,
    alpha2: String,
    numeric: String,
    name: String,
    official_name: Option<String>,
    common_name: Option<String>,
    region: Option<String>,
    sub_region: Option<String>,
    intermediate_region: Option<String>,
}

impl From<CountryRow> for Country {
    fn from(r: CountryRow) -> Self {
        Country {
            code: r.code,
            alpha2: r.alpha2,
            numeric: r.numeric,
            name: r.name,
            official_name: r.official_name,
            common_name: r.common_name,
            region: r.region,
            sub_region: r.sub_region,
            intermediate_region: r.intermediate_region,
        }
    }
}

/// Countries matching `filter`, by alpha-3 code (with `q`, an exact code match first).
pub async fn list_countries(
    conn: &mut AsyncPgConnection,
    filter: &CountryFilter,
) -> QueryResult<Vec<Country>> {
    let mut query = countries::table
        .select(CountryRow::as_select())
        .order(countries::code.asc())
        .into_boxed();
    if let Some(region) = &filter.region {
        query = query.filter(
            countries::region
                .eq(region.clone())
                .or(countries::sub_region.eq(region.clone()))
                .or(countries::intermediate_region.eq(region.clone())),
        );
    }
    if let Some(q) = &filter.q {
        // An exact code first: "ht" is Haiti before it is "Bahamas"-like names.
        let code = q.as_str().to_ascii_uppercase();
        query = query.filter(country_matches(q)).order((
            countries::code
                .eq(code.clone())
                .or(countries::alpha2.eq(code))
                .desc(),
            countries::code.asc(),
        ));
    }
    let rows = query.load(conn).await?;
    Ok(rows.into_iter().map(Country::from).collect())
}

/// Name (any of the three), accent- and case-insensitively, or an exact code.
fn country_matches(
    q: &SearchText,
) -> Box<dyn BoxableExpression<countries::table, diesel::pg::Pg, SqlType = Bool>> {
    let pattern = unaccent(q.contains_pattern());
    let code = q.as_str().to_ascii_uppercase();
    Box::new(
        unaccent(countries::name)
            .ilike(pattern.clone())
            .or(unaccent(countries::official_name.assume_not_null()).ilike(pattern.clone()))
            .or(unaccent(countries::common_name.assume_not_null()).ilike(pattern))
            .or(countries::code.eq(code.clone()))
            .or(countries::alpha2.eq(code))
            .or(countries::numeric.eq(q.as_str().to_owned())),
    )
}

/// Every M49 region, sub-region and intermediate region name in use, sorted.
pub async fn region_names(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    diesel::sql_query(
        "SELECT name FROM (
             SELECT region AS name FROM countries
             UNION SELECT sub_region FROM countries
             UNION SELECT intermediate_region FROM countries
         ) r WHERE name IS NOT NULL ORDER BY name",
    )
    .load::<RegionName>(conn)
    .await
    .map(|rows| rows.into_iter().map(|r| r.name).collect())
}

#[derive(QueryableByName)]
struct RegionName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The country an alpha-2 or alpha-3 code names, if any.
pub async fn find_country(
    conn: &mut AsyncPgConnection,
    code: &CountryCodeInput,
) -> QueryResult<Option<Country>> {
    let query = countries::table
        .select(CountryRow::as_select())
        .into_boxed();
    let query = match code {
        CountryCodeInput::Alpha2(c) => query.filter(countries::alpha2.eq(c.clone())),
        CountryCodeInput::Alpha3(c) => query.filter(countries::code.eq(c.clone())),
    };
    Ok(query.first(conn).await.optional()?.map(Country::from))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = languages, check_for_backend(diesel::pg::Pg))]
struct LanguageRow {
    code: String,
    alpha3: String,
    name: String,
    alternate_names: Vec<String>,
    is_macrolanguage: bool,
}

/// Languages by code, optionally those whose name (or alternate name) contains `q`, or whose
/// ISO 639-1/639-3 code is `q` (those first).
pub async fn list_languages(
    conn: &mut AsyncPgConnection,
    q: Option<&SearchText>,
) -> QueryResult<Vec<Language>> {
    let mut query = languages::table
        .select(LanguageRow::as_select())
        .order(languages::code.asc())
        .into_boxed();
    if let Some(q) = q {
        let pattern = unaccent(q.contains_pattern());
        let code = q.as_str().to_ascii_lowercase();
        query = query.filter(
            unaccent(languages::name)
                .ilike(pattern.clone())
                .or(unaccent(sql::<Text>("array_to_string(alternate_names, ' | ')")).ilike(pattern))
                .or(languages::code.eq(code.clone()))
                .or(languages::alpha3.eq(code.clone())),
        );
        // An exact code first: "es" is Spanish before any name containing "es".
        query = query.order((
            languages::code
                .eq(code.clone())
                .or(languages::alpha3.eq(code))
                .desc(),
            languages::code.asc(),
        ));
    }
    let rows = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| Language {
            code: r.code,
            alpha3: r.alpha3,
            name: r.name,
            alternate_names: r.alternate_names,
            is_macrolanguage: r.is_macrolanguage,
        })
        .collect())
}

/// Every sector, parents and children, in display order.
pub async fn list_sectors(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Sector>> {
    let rows: Vec<(String, Option<String>, String, Option<String>)> = sectors::table
        .select((
            sectors::code,
            sectors::parent_code,
            sectors::name,
            sectors::hdx_code,
        ))
        .order((sectors::position.asc(), sectors::code.asc()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(code, parent_code, name, hdx_code)| Sector {
            code,
            parent_code,
            name,
            hdx_code,
        })
        .collect())
}

pub async fn list_support_types(conn: &mut AsyncPgConnection) -> QueryResult<Vec<SupportType>> {
    let rows: Vec<(String, String, String)> = support_types::table
        .select((
            support_types::code,
            support_types::name,
            support_types::description,
        ))
        .order((support_types::position.asc(), support_types::code.asc()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(code, name, description)| SupportType {
            code,
            name,
            description,
        })
        .collect())
}

pub async fn list_organization_kinds(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<OrganizationKind>> {
    let rows: Vec<(String, String, String, Option<String>)> = organization_kinds::table
        .select((
            organization_kinds::code,
            organization_kinds::name,
            organization_kinds::iati_code,
            organization_kinds::hdx_code,
        ))
        .order((
            organization_kinds::position.asc(),
            organization_kinds::code.asc(),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(code, name, iati_code, hdx_code)| OrganizationKind {
            code,
            name,
            iati_code,
            hdx_code,
        })
        .collect())
}
