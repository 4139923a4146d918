//! Reference data: countries, languages, sectors, kinds of support, kinds of organization.
//! Seeded by migrations, read-only at run time.

use super::text::SearchText;

/// An ISO 3166-1 country. `code` (alpha-3) is the canonical identifier everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub code: String,
    pub alpha2: String,
    pub numeric: String,
    pub name: String,
    pub official_name: Option<String>,
    pub common_name: Option<String>,
    pub region: Option<String>,
    pub sub_region: Option<String>,
    pub intermediate_region: Option<String>,
}

/// A country code as a caller typed it: alpha-2 or alpha-3, any case. Which country it names
/// (if any) is for the reference table to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountryCodeInput {
    Alpha2(String),
    Alpha3(String),
}

impl CountryCodeInput {
    /// No trimming: `" HT"` is not a code, as the OpenAPI pattern says.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw;
        if !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "{code:?} is not an ISO 3166-1 code: use alpha-3 (HTI) or alpha-2 (HT)"
            ));
        }
        let upper = code.to_ascii_uppercase();
        match upper.len() {
            2 => Ok(Self::Alpha2(upper)),
            3 => Ok(Self::Alpha3(upper)),
            _ => Err(format!(
                "{code:?} is not an ISO 3166-1 code: use alpha-3 (HTI) or alpha-2 (HT)"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Alpha2(c) | Self::Alpha3(c) => c,
        }
    }
}

/// Sector codes as seeded by the migrations, parents before their children (a test checks the
/// two agree). Static so that requests are validated without a query and the OpenAPI document
/// can list them.
pub const SECTOR_CODES: [&str; 16] = [
    "cccm",
    "early-recovery",
    "education",
    "emergency-telecommunications",
    "food-security",
    "health",
    "logistics",
    "nutrition",
    "protection",
    "shelter",
    "wash",
    "health-mhpss",
    "protection-child",
    "protection-gbv",
    "protection-hlp",
    "protection-mine-action",
];

/// Kinds of support, as seeded (a test checks).
pub const SUPPORT_TYPE_CODES: [&str; 11] = [
    "funding",
    "in-kind",
    "professional-expertise",
    "volunteers",
    "translation-interpretation",
    "tutoring-education",
    "telehealth-helpline",
    "local-knowledge-networks",
    "information-advocacy",
    "logistics-transport",
    "training-capacity-building",
];

/// Kinds of organization, as seeded (a test checks).
pub const ORGANIZATION_KIND_CODES: [&str; 11] = [
    "diaspora-organization",
    "international-ngo",
    "national-ngo",
    "un-agency",
    "government",
    "red-cross-red-crescent",
    "private-sector",
    "academic",
    "faith-based",
    "foundation",
    "other",
];

/// Every UN M49 region, sub-region and intermediate region name that a country belongs to, as
/// seeded by the migrations (a test checks the two agree). Static so that the API can reject an
/// unknown region before asking the database, and list the valid ones in its OpenAPI spec.
pub const M49_REGIONS: [&str; 30] = [
    "Africa",
    "Americas",
    "Asia",
    "Australia and New Zealand",
    "Caribbean",
    "Central America",
    "Central Asia",
    "Channel Islands",
    "Eastern Africa",
    "Eastern Asia",
    "Eastern Europe",
    "Europe",
    "Latin America and the Caribbean",
    "Melanesia",
    "Micronesia",
    "Middle Africa",
    "Northern Africa",
    "Northern America",
    "Northern Europe",
    "Oceania",
    "Polynesia",
    "South America",
    "South-eastern Asia",
    "Southern Africa",
    "Southern Asia",
    "Southern Europe",
    "Sub-Saharan Africa",
    "Western Africa",
    "Western Asia",
    "Western Europe",
];

/// Filters of `GET /v1/countries`.
#[derive(Debug, Clone, Default)]
pub struct CountryFilter {
    /// A UN M49 region, sub-region or intermediate region name (one of [`M49_REGIONS`]).
    pub region: Option<String>,
    pub q: Option<SearchText>,
}

/// An ISO 639 language: `code` is 639-1 where it exists, else 639-3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    pub code: String,
    pub alpha3: String,
    pub name: String,
    pub alternate_names: Vec<String>,
    pub is_macrolanguage: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sector {
    pub code: String,
    pub parent_code: Option<String>,
    pub name: String,
    pub hdx_code: Option<String>,
}

/// A sector with the sectors under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectorNode {
    pub sector: Sector,
    pub children: Vec<SectorNode>,
}

/// Arranges sectors (in display order) as a forest; children keep their relative order.
/// Orphans (a parent that is not in the list) become roots rather than disappear.
pub fn sector_tree(sectors: Vec<Sector>) -> Vec<SectorNode> {
    fn build(
        parent: Option<&str>,
        all: &[Sector],
        known: &dyn Fn(&str) -> bool,
    ) -> Vec<SectorNode> {
        all.iter()
            .filter(|s| match (&s.parent_code, parent) {
                (None, None) => true,
                (Some(p), None) => !known(p),
                (Some(p), Some(q)) => p == q,
                (None, Some(_)) => false,
            })
            .map(|s| SectorNode {
                sector: s.clone(),
                children: build(Some(&s.code), all, known),
            })
            .collect()
    }
    let known = |code: &str| sectors.iter().any(|s| s.code == code);
    build(None, &sectors, &known)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportType {
    pub code: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationKind {
    pub code: String,
    pub name: String,
    /// IATI OrganisationType code.
    pub iati_code: String,
    /// HDX organization type code.
    pub hdx_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sector(code: &str, parent: Option<&str>) -> Sector {
        Sector {
            code: code.to_owned(),
            parent_code: parent.map(str::to_owned),
            name: code.to_owned(),
            hdx_code: None,
        }
    }

    #[test]
    fn country_codes_accept_both_lengths_in_any_case() {
        assert_eq!(
            CountryCodeInput::parse("ht").unwrap(),
            CountryCodeInput::Alpha2("HT".into())
        );
        assert_eq!(
            CountryCodeInput::parse("hTi").unwrap(),
            CountryCodeInput::Alpha3("HTI".into())
        );
        for bad in ["", "H", "HAIT", "H1", "ÉT", "H T", " HT", "HTI "] {
            assert!(CountryCodeInput::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn sectors_nest_under_their_parents_in_order() {
        let tree = sector_tree(vec![
            sector("health", None),
            sector("protection", None),
            sector("health-mhpss", Some("health")),
            sector("protection-gbv", Some("protection")),
            sector("protection-child", Some("protection")),
            sector("orphan", Some("missing")),
        ]);
        let roots: Vec<_> = tree.iter().map(|n| n.sector.code.as_str()).collect();
        assert_eq!(roots, ["health", "protection", "orphan"]);
        let protection: Vec<_> = tree[1]
            .children
            .iter()
            .map(|n| n.sector.code.as_str())
            .collect();
        assert_eq!(protection, ["protection-gbv", "protection-child"]);
        assert_eq!(tree[0].children[0].sector.code, "health-mhpss");
    }
}
