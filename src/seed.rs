//! Synthetic organizations for development and benchmarks: plausible profiles skewed towards
//! the large diasporas, in the languages those communities write in. Deterministic for a seed.

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

use crate::domain::organization::{AlternateName, Capability, Profile, slugify};
use crate::domain::reference::{SECTOR_CODES, SUPPORT_TYPE_CODES};

/// A community of origin: its weight among diaspora organizations, where its diaspora lives,
/// the languages it writes in, and how its people are called in English and (where one of
/// them is spoken) in Spanish or French.
struct Origin {
    code: &'static str,
    weight: u32,
    residences: &'static [&'static str],
    languages: &'static [&'static str],
    people: &'static str,
    people_local: Option<(&'static str, &'static str)>,
}

const ORIGINS: &[Origin] = &[
    Origin {
        code: "HTI",
        weight: 12,
        residences: &["USA", "CAN", "FRA", "DOM", "CHL"],
        languages: &["ht", "fr", "en"],
        people: "Haitian",
        people_local: Some(("fr", "haïtienne")),
    },
    Origin {
        code: "PAK",
        weight: 10,
        residences: &["GBR", "ARE", "SAU", "USA", "CAN"],
        languages: &["ur", "pa", "en"],
        people: "Pakistani",
        people_local: None,
    },
    Origin {
        code: "ECU",
        weight: 8,
        residences: &["ESP", "USA", "ITA"],
        languages: &["es", "qu"],
        people: "Ecuadorian",
        people_local: Some(("es", "ecuatorianos")),
    },
    Origin {
        code: "SYR",
        weight: 8,
        residences: &["DEU", "TUR", "SWE", "LBN", "NLD"],
        languages: &["ar", "kmr", "en"],
        people: "Syrian",
        people_local: None,
    },
    Origin {
        code: "SOM",
        weight: 7,
        residences: &["GBR", "USA", "SWE", "KEN", "CAN"],
        languages: &["so", "ar", "en"],
        people: "Somali",
        people_local: None,
    },
    Origin {
        code: "PHL",
        weight: 9,
        residences: &["USA", "SAU", "ARE", "CAN", "JPN"],
        languages: &["tl", "ceb", "en"],
        people: "Filipino",
        people_local: None,
    },
    Origin {
        code: "MEX",
        weight: 10,
        residences: &["USA", "CAN", "ESP"],
        languages: &["es", "en"],
        people: "Mexican",
        people_local: Some(("es", "mexicanos")),
    },
    Origin {
        code: "IND",
        weight: 9,
        residences: &["USA", "ARE", "GBR", "CAN", "SAU"],
        languages: &["hi", "ta", "te", "bn", "en"],
        people: "Indian",
        people_local: None,
    },
    Origin {
        code: "NGA",
        weight: 6,
        residences: &["GBR", "USA", "CAN", "ZAF"],
        languages: &["yo", "ig", "ha", "en"],
        people: "Nigerian",
        people_local: None,
    },
    Origin {
        code: "COL",
        weight: 6,
        residences: &["ESP", "USA", "VEN", "CHL"],
        languages: &["es"],
        people: "Colombian",
        people_local: Some(("es", "colombianos")),
    },
    Origin {
        code: "AFG",
        weight: 5,
        residences: &["DEU", "IRN", "PAK", "USA", "GBR"],
        languages: &["prs", "ps", "en"],
        people: "Afghan",
        people_local: None,
    },
    Origin {
        code: "UKR",
        weight: 6,
        residences: &["POL", "DEU", "CZE", "CAN", "USA"],
        languages: &["uk", "ru", "en"],
        people: "Ukrainian",
        people_local: None,
    },
    Origin {
        code: "VEN",
        weight: 6,
        residences: &["COL", "PER", "ESP", "USA", "CHL"],
        languages: &["es"],
        people: "Venezuelan",
        people_local: Some(("es", "venezolanos")),
    },
    Origin {
        code: "LBN",
        weight: 4,
        residences: &["FRA", "USA", "BRA", "CAN", "AUS"],
        languages: &["ar", "fr", "en"],
        people: "Lebanese",
        people_local: Some(("fr", "libanaise")),
    },
    Origin {
        code: "ETH",
        weight: 4,
        residences: &["USA", "SAU", "ISR", "GBR"],
        languages: &["am", "om", "ti", "en"],
        people: "Ethiopian",
        people_local: None,
    },
    Origin {
        code: "DOM",
        weight: 3,
        residences: &["USA", "ESP", "PRI"],
        languages: &["es"],
        people: "Dominican",
        people_local: Some(("es", "dominicanos")),
    },
    Origin {
        code: "GTM",
        weight: 3,
        residences: &["USA", "MEX"],
        languages: &["es", "quc"],
        people: "Guatemalan",
        people_local: Some(("es", "guatemaltecos")),
    },
    Origin {
        code: "SLV",
        weight: 3,
        residences: &["USA", "CAN"],
        languages: &["es"],
        people: "Salvadoran",
        people_local: Some(("es", "salvadoreños")),
    },
    Origin {
        code: "SDN",
        weight: 3,
        residences: &["EGY", "SAU", "GBR", "USA"],
        languages: &["ar", "en"],
        people: "Sudanese",
        people_local: None,
    },
    Origin {
        code: "YEM",
        weight: 3,
        residences: &["SAU", "USA", "GBR"],
        languages: &["ar"],
        people: "Yemeni",
        people_local: None,
    },
    Origin {
        code: "MMR",
        weight: 2,
        residences: &["THA", "MYS", "BGD", "USA"],
        languages: &["my", "rhg"],
        people: "Burmese",
        people_local: None,
    },
    Origin {
        code: "BGD",
        weight: 4,
        residences: &["GBR", "SAU", "ARE", "USA", "ITA"],
        languages: &["bn", "en"],
        people: "Bangladeshi",
        people_local: None,
    },
    Origin {
        code: "VNM",
        weight: 3,
        residences: &["USA", "AUS", "FRA", "CAN"],
        languages: &["vi", "en"],
        people: "Vietnamese",
        people_local: None,
    },
    Origin {
        code: "ERI",
        weight: 2,
        residences: &["SWE", "DEU", "GBR", "ISR"],
        languages: &["ti", "ar"],
        people: "Eritrean",
        people_local: None,
    },
];

const CITIES: &[(&str, &[&str])] = &[
    (
        "USA",
        &[
            "Miami",
            "New York",
            "Chicago",
            "Houston",
            "Los Angeles",
            "Boston",
            "Minneapolis",
        ],
    ),
    ("CAN", &["Montréal", "Toronto", "Vancouver", "Ottawa"]),
    ("FRA", &["Paris", "Lyon", "Marseille", "Bordeaux"]),
    ("ESP", &["Madrid", "Barcelona", "Murcia", "Valencia"]),
    ("GBR", &["London", "Birmingham", "Manchester", "Leicester"]),
    ("DEU", &["Berlin", "Hamburg", "München", "Köln"]),
    ("ITA", &["Milano", "Roma", "Genova"]),
    ("SWE", &["Stockholm", "Göteborg", "Malmö"]),
    ("ARE", &["Dubai", "Abu Dhabi"]),
    ("SAU", &["Riyadh", "Jeddah"]),
];

const NOUNS_ES: &[&str] = &[
    "Salud",
    "Solidaridad",
    "Esperanza",
    "Desarrollo",
    "Educación",
    "Ayuda Mutua",
];
const NOUNS_EN: &[&str] = &[
    "Relief",
    "Health",
    "Solidarity",
    "Community",
    "Development",
    "Education",
    "Women's",
    "Youth",
    "Doctors",
    "Engineers",
    "Mutual Aid",
    "Hope",
];
const FORMS_EN: &[&str] = &[
    "Network",
    "Association",
    "Foundation",
    "Alliance",
    "Council",
    "Trust",
];

/// Words per sector for descriptions, in English, Spanish and French.
fn sector_words(sector: &str) -> (&'static str, &'static str, &'static str) {
    match sector {
        s if s.starts_with("health") => (
            "doctors, nurses and online consultations",
            "médicos, psicólogos y consultas en línea",
            "médecins, psychologues et téléconsultations",
        ),
        "education" => (
            "tutors and school kits",
            "tutores y útiles escolares",
            "tuteurs et fournitures scolaires",
        ),
        "food-security" | "nutrition" => (
            "food parcels and nutrition support",
            "kits de alimentos y apoyo nutricional",
            "colis alimentaires et soutien nutritionnel",
        ),
        "shelter" | "cccm" => (
            "shelter materials and housing repair",
            "materiales de refugio y reparación de viviendas",
            "matériaux d'abri et réparation de logements",
        ),
        "wash" => (
            "clean water and hygiene kits",
            "agua potable y kits de higiene",
            "eau potable et kits d'hygiène",
        ),
        "logistics" | "emergency-telecommunications" => (
            "shipping, customs and connectivity",
            "envíos, aduanas y conectividad",
            "expéditions, douanes et connectivité",
        ),
        _ => (
            "protection, legal aid and translation",
            "protección, asesoría legal y traducción",
            "protection, aide juridique et traduction",
        ),
    }
}

/// One synthetic organization: its profile, whether it is verified, and a unique slug.
pub struct SyntheticOrganization {
    pub profile: Profile,
    pub slug: String,
    pub verified: bool,
}

/// Generates `n` organizations from `seed`, numbered from `first` (numbers make slugs unique).
pub struct Generator {
    rng: SmallRng,
    total_weight: u32,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: SmallRng::seed_from_u64(seed),
            total_weight: ORIGINS.iter().map(|o| o.weight).sum(),
        }
    }

    fn origin(&mut self) -> &'static Origin {
        let mut pick = self.rng.gen_range(0..self.total_weight);
        for o in ORIGINS {
            if pick < o.weight {
                return o;
            }
            pick -= o.weight;
        }
        &ORIGINS[0]
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.gen_range(0..items.len())]
    }

    pub fn organization(&mut self, number: u64) -> SyntheticOrganization {
        let origin = self.origin();
        let mut origins = vec![origin.code.to_owned()];
        // Some organizations serve several neighbouring communities.
        for _ in 0..self.rng.gen_range(0..3) {
            let other = self.origin().code.to_owned();
            if !origins.contains(&other) && self.rng.gen_bool(0.3) {
                origins.push(other);
            }
        }
        let residence = self.pick(origin.residences);
        let city = CITIES
            .iter()
            .find(|(c, _)| *c == residence)
            .map(|(_, cities)| self.pick(cities).to_owned());
        let mut languages: Vec<String> = Vec::new();
        for _ in 0..self.rng.gen_range(1..=3) {
            let l = self.pick(origin.languages).to_owned();
            if !languages.contains(&l) {
                languages.push(l);
            }
        }
        let mut sectors: Vec<&str> = SECTOR_CODES.to_vec();
        sectors.shuffle(&mut self.rng);
        // Health and education dominate what diasporas offer.
        if self.rng.gen_bool(0.4) {
            sectors.retain(|s| *s != "health");
            sectors.insert(0, "health");
        }
        let capabilities: Vec<Capability> = sectors
            .iter()
            .take(self.rng.gen_range(1..=4))
            .map(|sector| {
                let mut support: Vec<&str> = SUPPORT_TYPE_CODES.to_vec();
                support.shuffle(&mut self.rng);
                let (en, es, fr) = sector_words(sector);
                Capability {
                    sector: (*sector).to_owned(),
                    support_types: support
                        .iter()
                        .take(self.rng.gen_range(1..=3))
                        .map(|s| (*s).to_owned())
                        .collect(),
                    description: Some(match origin.people_local {
                        Some(("es", _)) => format!("Ofrecemos {es}."),
                        Some(("fr", _)) => format!("Nous offrons {fr}."),
                        _ => format!("We provide {en}."),
                    }),
                }
            })
            .collect();
        let noun = self.pick(NOUNS_EN);
        let noun_es = self.pick(NOUNS_ES);
        let form = self.pick(FORMS_EN);
        let in_city = |prefix: &str| {
            city.as_ref()
                .map(|c| format!(" {prefix} {c}"))
                .unwrap_or_default()
        };
        let (name, alternate) = match (origin.people_local, self.rng.gen_range(0..3)) {
            (Some(("es", people)), 0) => (format!("Asociación de {people}{}", in_city("en")), None),
            (Some(("es", people)), _) => (
                format!("Red de {noun_es} de {people}{}", in_city("en")),
                Some((format!("{} {noun} {form}", origin.people), "en")),
            ),
            (Some(("fr", people)), _) => (
                format!("Association {people}{}", in_city("de")),
                Some((
                    format!("{} Association{}", origin.people, in_city("of")),
                    "en",
                )),
            ),
            _ if origin.code == "HTI" => (
                format!("Asosyasyon Dyaspora Ayisyen{}", in_city("nan")),
                Some((
                    format!("Haitian Diaspora Association{}", in_city("of")),
                    "en",
                )),
            ),
            _ => (
                format!(
                    "{} {noun} {form}{}",
                    origin.people,
                    city.as_ref().map(|c| format!(" {c}")).unwrap_or_default()
                ),
                None,
            ),
        };
        let (en, es, fr) = sector_words(&capabilities[0].sector);
        let description = match origin.people_local {
            Some(("es", people)) => format!(
                "Red de {people}{} que apoya a sus comunidades de origen con {es}.",
                in_city("en")
            ),
            Some(("fr", _)) => format!(
                "Diaspora {}{} : {fr} pour les communautés d'origine.",
                origin.people,
                in_city("de")
            ),
            _ if origin.code == "HTI" => format!(
                "Dyaspora ayisyen{} k ap ede fanmi lakay yo: {en}.",
                in_city("nan")
            ),
            _ => format!(
                "{} diaspora{} supporting communities back home with {en}.",
                origin.people,
                in_city("in")
            ),
        };
        let slug = format!("{}-{number}", slugify(&name));
        SyntheticOrganization {
            profile: Profile {
                name,
                acronym: None,
                kind: if self.rng.gen_bool(0.85) {
                    "diaspora-organization".to_owned()
                } else {
                    self.pick(&[
                        "national-ngo",
                        "international-ngo",
                        "faith-based",
                        "foundation",
                    ])
                    .to_owned()
                },
                description: Some(description),
                alternate_names: alternate
                    .map(|(name, language)| AlternateName {
                        name,
                        language: Some(language.to_owned()),
                    })
                    .into_iter()
                    .collect(),
                founded_year: Some(self.rng.gen_range(1975..=2025)),
                residence_country: Some(residence.to_owned()),
                city,
                operating_countries: origins.clone(),
                origin_countries: origins,
                capabilities,
                languages,
                website: Some(format!("https://example.org/{slug}")),
                public_email: None,
                public_phone: None,
                identifiers: Vec::new(),
                members_count: Some(self.rng.gen_range(5..5000)),
                volunteers_count: Some(self.rng.gen_range(0..500)),
                challenges: vec![
                    self.pick(&[
                        "funding",
                        "logistics",
                        "visibility-recognition",
                        "coordination-with-actors",
                    ])
                    .to_owned(),
                ],
                interests: vec![
                    self.pick(&["partnerships", "training", "funding-opportunities"])
                        .to_owned(),
                ],
            },
            slug,
            verified: self.rng.gen_bool(0.2),
        }
    }
}
