//! Organizations: the profile a diaspora organization or humanitarian actor publishes, the rules
//! every field follows, and who may do what to it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::account::{Email, is_hidden};
use super::reference::{ORGANIZATION_KIND_CODES, SECTOR_CODES, SUPPORT_TYPE_CODES};
use crate::error::FieldError;

/// Bounds on every field: the OpenAPI schema states the same numbers.
pub mod limits {
    pub const NAME: usize = 200;
    pub const ACRONYM: usize = 30;
    pub const DESCRIPTION: usize = 5000;
    pub const ALTERNATE_NAMES: usize = 20;
    pub const CITY: usize = 100;
    pub const ORIGIN_COUNTRIES: usize = 20;
    pub const OPERATING_COUNTRIES: usize = 50;
    pub const CAPABILITIES: usize = 20;
    pub const CAPABILITY_DESCRIPTION: usize = 1000;
    pub const LANGUAGES: usize = 30;
    pub const WEBSITE: usize = 300;
    pub const PHONE: usize = 40;
    pub const IDENTIFIERS: usize = 10;
    pub const IDENTIFIER_VALUE: usize = 100;
    pub const COUNT: i64 = 100_000_000;
    pub const FOUNDED_MIN: i32 = 1800;
    pub const SLUG: usize = 60;
    pub const MEMBERS: i64 = 50;
    pub const CONTACTS: i64 = 20;
    pub const CONTACT_ROLE: usize = 100;
    pub const PURPOSE: usize = 500;
    pub const NOTE: usize = 2000;
    /// Consent recorded before the Unix epoch is a typo (and far-away years overflow storage).
    pub const EARLIEST_CONSENT: i64 = 0;
}

/// The engagement profile of the IOM diaspora survey: what holds an organization back.
pub const CHALLENGES: [&str; 8] = [
    "funding",
    "access-to-affected-areas",
    "coordination-with-actors",
    "legal-regulatory",
    "logistics",
    "security",
    "visibility-recognition",
    "capacity-training",
];

/// ...and what it is looking for.
pub const INTERESTS: [&str; 6] = [
    "partnerships",
    "training",
    "funding-opportunities",
    "coordination-platforms",
    "emergency-preparedness",
    "advocacy",
];

/// `draft` and `archived` profiles are seen only by members and moderators; `suspended` ones
/// are set so by moderators, and only moderators lift it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Published,
    Archived,
    Suspended,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Published,
        Status::Archived,
        Status::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
            Status::Archived => "archived",
            Status::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Editor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "owner" => Some(Role::Owner),
            "editor" => Some(Role::Editor),
            _ => None,
        }
    }
}

/// What the caller is to one organization: the basis of every authorization decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Read from the database on each request, so that `moderator remove` takes effect at once.
    pub is_moderator: bool,
    pub role: Option<Role>,
}

impl Access {
    pub fn is_member(self) -> bool {
        self.role.is_some()
    }

    pub fn is_owner(self) -> bool {
        self.role == Some(Role::Owner)
    }

    /// May see the organization whatever its status, and its private contacts.
    pub fn is_insider(self) -> bool {
        self.is_member() || self.is_moderator
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationStatus {
    Unverified,
    Pending,
    Verified,
    Rejected,
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Unverified => "unverified",
            VerificationStatus::Pending => "pending",
            VerificationStatus::Verified => "verified",
            VerificationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            VerificationStatus::Unverified,
            VerificationStatus::Pending,
            VerificationStatus::Verified,
            VerificationStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// How long an approval lasts.
pub fn verification_term() -> chrono::Duration {
    chrono::Duration::days(365)
}

/// A verification as stored. Read it through [`Verification::at`]: an approval past its term is
/// no approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub status: VerificationStatus,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_until: Option<DateTime<Utc>>,
}

impl Verification {
    /// The verification as it stands at `now`.
    pub fn at(&self, now: DateTime<Utc>) -> Verification {
        match (self.status, self.verified_until) {
            (VerificationStatus::Verified, Some(until)) if until > now => self.clone(),
            (VerificationStatus::Verified, _) => Verification {
                status: VerificationStatus::Unverified,
                verified_at: self.verified_at,
                verified_until: self.verified_until,
            },
            _ => self.clone(),
        }
    }

    pub fn is_verified_at(&self, now: DateTime<Utc>) -> bool {
        self.at(now).status == VerificationStatus::Verified
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlternateName {
    pub name: String,
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capability {
    pub sector: String,
    pub support_types: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub scheme: String,
    pub value: String,
}

/// Every field of a profile that its members write. The same shape carries a request's raw
/// values and, once [`ProfileInput::validate`] has accepted them, the stored ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub acronym: Option<String>,
    pub kind: String,
    pub description: Option<String>,
    pub alternate_names: Vec<AlternateName>,
    pub founded_year: Option<i64>,
    pub residence_country: Option<String>,
    pub city: Option<String>,
    pub origin_countries: Vec<String>,
    pub operating_countries: Vec<String>,
    pub capabilities: Vec<Capability>,
    pub languages: Vec<String>,
    pub website: Option<String>,
    pub public_email: Option<String>,
    pub public_phone: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub members_count: Option<i64>,
    pub volunteers_count: Option<i64>,
    pub challenges: Vec<String>,
    pub interests: Vec<String>,
}

/// A profile as sent, not yet checked.
pub type ProfileInput = Profile;

/// Country and language codes a request used, resolved against the reference tables: the
/// input (upper-cased for countries, lower-cased for languages) → the canonical code. A code
/// missing from the map is unknown.
#[derive(Debug, Default)]
pub struct KnownCodes {
    pub countries: HashMap<String, String>,
    pub languages: HashMap<String, String>,
}

impl Profile {
    /// Checks and normalises every field; reports every bad one, each by its JSON path.
    pub fn validate(self, known: &KnownCodes) -> Result<Profile, Vec<FieldError>> {
        let mut v = Validator::default();
        let out = Profile {
            name: v.required_line("name", &self.name, limits::NAME),
            acronym: v.optional_line("acronym", self.acronym.as_deref(), limits::ACRONYM),
            kind: v.code("kind", &self.kind, &ORGANIZATION_KIND_CODES),
            description: v.optional_text(
                "description",
                self.description.as_deref(),
                limits::DESCRIPTION,
            ),
            alternate_names: {
                let within = v.max_items(
                    "alternate_names",
                    self.alternate_names.len(),
                    limits::ALTERNATE_NAMES,
                );
                self.alternate_names
                    .iter()
                    .take(if within { usize::MAX } else { 0 })
                    .enumerate()
                    .map(|(i, a)| AlternateName {
                        name: v.required_line(
                            &format!("alternate_names[{i}].name"),
                            &a.name,
                            limits::NAME,
                        ),
                        language: a.language.as_deref().map(|l| {
                            v.language(&format!("alternate_names[{i}].language"), l, known)
                        }),
                    })
                    .collect()
            },
            founded_year: self.founded_year.inspect(|&y| {
                let this_year = i64::from(Utc::now().year());
                if y < i64::from(limits::FOUNDED_MIN) || y > this_year {
                    v.error(
                        "founded_year",
                        format!("must be between {} and {this_year}", limits::FOUNDED_MIN),
                    );
                }
            }),
            residence_country: self
                .residence_country
                .as_deref()
                .map(|c| v.country("residence_country", c, known)),
            city: v.optional_line("city", self.city.as_deref(), limits::CITY),
            origin_countries: v.countries(
                "origin_countries",
                &self.origin_countries,
                limits::ORIGIN_COUNTRIES,
                known,
            ),
            operating_countries: v.countries(
                "operating_countries",
                &self.operating_countries,
                limits::OPERATING_COUNTRIES,
                known,
            ),
            capabilities: {
                v.max_items(
                    "capabilities",
                    self.capabilities.len(),
                    limits::CAPABILITIES,
                );
                let mut sectors = HashSet::new();
                self.capabilities
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let field = format!("capabilities[{i}]");
                        let sector = v.code(&format!("{field}.sector"), &c.sector, &SECTOR_CODES);
                        if !sectors.insert(c.sector.clone()) {
                            v.error(
                                format!("{field}.sector"),
                                "appears twice: give each sector one capability",
                            );
                        }
                        if c.support_types.is_empty() {
                            v.error(
                                format!("{field}.support_types"),
                                "must name at least one kind of support",
                            );
                        }
                        Capability {
                            sector,
                            support_types: v.codes(
                                &format!("{field}.support_types"),
                                &c.support_types,
                                &SUPPORT_TYPE_CODES,
                            ),
                            description: v.optional_text(
                                &format!("{field}.description"),
                                c.description.as_deref(),
                                limits::CAPABILITY_DESCRIPTION,
                            ),
                        }
                    })
                    .collect()
            },
            languages: v.languages("languages", &self.languages, limits::LANGUAGES, known),
            website: self.website.as_deref().and_then(|w| v.website(w)),
            public_email: self
                .public_email
                .as_deref()
                .and_then(|e| v.email("public_email", e)),
            public_phone: self
                .public_phone
                .as_deref()
                .and_then(|p| v.phone("public_phone", p)),
            identifiers: {
                let within =
                    v.max_items("identifiers", self.identifiers.len(), limits::IDENTIFIERS);
                let mut out: Vec<Identifier> = Vec::new();
                for (i, id) in self
                    .identifiers
                    .iter()
                    .take(if within { usize::MAX } else { 0 })
                    .enumerate()
                {
                    let scheme = id.scheme.trim().to_ascii_uppercase();
                    if !is_org_id_scheme(&scheme) {
                        v.error(
                            format!("identifiers[{i}].scheme"),
                            "must be an org-id.guide list code such as US-EIN, GB-CHC or XI-IATI",
                        );
                    }
                    let value = v.required_line(
                        &format!("identifiers[{i}].value"),
                        &id.value,
                        limits::IDENTIFIER_VALUE,
                    );
                    let id = Identifier { scheme, value };
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
                out
            },
            members_count: self.members_count.inspect(|&n| v.count("members_count", n)),
            volunteers_count: self
                .volunteers_count
                .inspect(|&n| v.count("volunteers_count", n)),
            challenges: v.codes("challenges", &self.challenges, &CHALLENGES),
            interests: v.codes("interests", &self.interests, &INTERESTS),
        };
        v.finish(out)
    }
}

/// org-id.guide list codes: a two-letter jurisdiction (XI, XM for international) and a register.
fn is_org_id_scheme(s: &str) -> bool {
    let Some((country, register)) = s.split_once('-') else {
        return false;
    };
    country.len() == 2
        && country.chars().all(|c| c.is_ascii_uppercase())
        && (2..=16).contains(&register.len())
        && register
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

/// Slugs to try, in order, for a new resource named `base`: `base`, then `base-2` to `base-5`,
/// then three random suffixes.
pub fn slug_candidates(base: &str) -> Vec<String> {
    let mut candidates: Vec<String> = std::iter::once(base.to_owned())
        .chain((2..=5).map(|n| format!("{base}-{n}")))
        .collect();
    for _ in 0..3 {
        candidates.push(format!(
            "{base}-{}",
            &Uuid::new_v4().simple().to_string()[..6]
        ));
    }
    candidates
}

/// A slug from a name: ASCII (transliterated), lower case, words joined by `-`, at most
/// [`limits::SLUG`] characters. Never a UUID, which would be read as an id.
pub fn slugify(name: &str) -> String {
    let ascii = deunicode::deunicode(name).to_ascii_lowercase();
    let mut slug = String::new();
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let extra = usize::from(!slug.is_empty()) + word.len();
        if slug.len() + extra > limits::SLUG {
            if slug.is_empty() {
                slug.push_str(&word[..limits::SLUG]);
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    if slug.is_empty() {
        slug.push_str("organization");
    }
    if Uuid::parse_str(&slug).is_ok() {
        slug.insert_str(0, "org-");
    }
    slug
}

/// Collects field errors while a value is checked, so that a request learns every problem at once.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }

    fn text(&mut self, field: &str, raw: &str, max: usize, multiline: bool) -> String {
        if raw.chars().count() > max {
            self.error(field, format!("must be at most {max} characters"));
        }
        let bad = |c: char| {
            if multiline && matches!(c, '\n' | '\r' | '\t') {
                false
            } else {
                c.is_control() || is_hidden(c)
            }
        };
        if raw.chars().any(bad) {
            self.error(
                field,
                if multiline {
                    "must not contain control or invisible characters (other than line breaks and tabs)"
                } else {
                    "must be one line without control or invisible characters"
                },
            );
        }
        raw.trim().to_owned()
    }

    /// A one-line text that must not be blank.
    pub fn required_line(&mut self, field: &str, raw: &str, max: usize) -> String {
        let out = self.text(field, raw, max, false);
        if out.is_empty() {
            self.error(field, "must not be blank");
        }
        out
    }

    /// A one-line text; blank means absent.
    pub fn optional_line(&mut self, field: &str, raw: Option<&str>, max: usize) -> Option<String> {
        let out = self.text(field, raw?, max, false);
        (!out.is_empty()).then_some(out)
    }

    /// A multi-line text; blank means absent.
    pub fn optional_text(&mut self, field: &str, raw: Option<&str>, max: usize) -> Option<String> {
        let out = self.text(field, raw?, max, true);
        (!out.is_empty()).then_some(out)
    }

    /// A multi-line text that must not be blank.
    pub fn required_text(&mut self, field: &str, raw: &str, max: usize) -> String {
        let out = self.text(field, raw, max, true);
        if out.is_empty() {
            self.error(field, "must not be blank");
        }
        out
    }

    /// Reports a list longer than `max`; returns whether it is within bounds, so that callers
    /// do not spend time (and error lines) on the items of an oversized list.
    pub fn max_items(&mut self, field: &str, len: usize, max: usize) -> bool {
        if len > max {
            self.error(field, format!("must have at most {max} items"));
            return false;
        }
        true
    }

    pub fn code(&mut self, field: &str, raw: &str, allowed: &[&str]) -> String {
        if !allowed.contains(&raw) {
            self.error(
                field,
                format!("{raw:?} is not one of: {}", allowed.join(", ")),
            );
        }
        raw.to_owned()
    }

    /// A list checked item by item with `check` (which reports its own errors), each result
    /// kept once, within `max` items (an oversized list is one error, its items unchecked).
    fn unique_list(
        &mut self,
        field: &str,
        raw: &[String],
        max: usize,
        mut check: impl FnMut(&mut Self, &str, &str) -> String,
    ) -> Vec<String> {
        if !self.max_items(field, raw.len(), max) {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for (i, item) in raw.iter().enumerate() {
            let value = check(self, &format!("{field}[{i}]"), item);
            if !out.contains(&value) {
                out.push(value);
            }
        }
        out
    }

    /// A list of codes from a fixed list, each at most once (duplicates are dropped).
    pub fn codes(&mut self, field: &str, raw: &[String], allowed: &[&str]) -> Vec<String> {
        self.unique_list(field, raw, allowed.len(), |v, f, item| {
            v.code(f, item, allowed)
        })
    }

    pub fn country(&mut self, field: &str, raw: &str, known: &KnownCodes) -> String {
        match known.countries.get(&raw.to_ascii_uppercase()) {
            Some(code) if raw.len() <= 3 => code.clone(),
            _ => {
                self.error(
                    field,
                    format!(
                        "{raw:?} is not an ISO 3166-1 country code: use alpha-3 (HTI) or alpha-2 (HT); GET /v1/countries lists them"
                    ),
                );
                raw.to_owned()
            }
        }
    }

    /// A date within years 1900 to 2100: anything else is a typo (and PostgreSQL refuses
    /// dates before 4713 BC, which chrono parses).
    pub fn date(&mut self, field: &str, date: Option<NaiveDate>) {
        if let Some(d) = date
            && !(1900..=2100).contains(&d.year())
        {
            self.error(field, "must be a date between the years 1900 and 2100");
        }
    }

    /// A country that must also be one of `allowed` (a crisis's countries): an unknown code
    /// and a known one outside the list are each reported.
    pub fn country_within(
        &mut self,
        field: &str,
        raw: &str,
        known: &KnownCodes,
        allowed: &[String],
    ) -> String {
        let before = self.errors.len();
        let country = self.country(field, raw, known);
        if self.errors.len() == before && !allowed.contains(&country) {
            self.error(
                field,
                format!(
                    "{country} is not a country of this crisis ({})",
                    allowed.join(", ")
                ),
            );
        }
        country
    }

    pub fn countries(
        &mut self,
        field: &str,
        raw: &[String],
        max: usize,
        known: &KnownCodes,
    ) -> Vec<String> {
        self.unique_list(field, raw, max, |v, f, item| v.country(f, item, known))
    }

    pub fn language(&mut self, field: &str, raw: &str, known: &KnownCodes) -> String {
        match known.languages.get(&raw.to_ascii_lowercase()) {
            Some(code) if raw.len() <= 3 => code.clone(),
            _ => {
                self.error(
                    field,
                    format!(
                        "{raw:?} is not an ISO 639 language code: use ISO 639-1 (ht) where it exists, else 639-3; GET /v1/languages lists them"
                    ),
                );
                raw.to_owned()
            }
        }
    }

    pub fn languages(
        &mut self,
        field: &str,
        raw: &[String],
        max: usize,
        known: &KnownCodes,
    ) -> Vec<String> {
        self.unique_list(field, raw, max, |v, f, item| v.language(f, item, known))
    }

    fn website(&mut self, raw: &str) -> Option<String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return None;
        }
        if raw.chars().count() > limits::WEBSITE {
            self.error(
                "website",
                format!("must be at most {} characters", limits::WEBSITE),
            );
            return None;
        }
        match url::Url::parse(trimmed) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                if u.as_str().len() > limits::WEBSITE {
                    self.error(
                        "website",
                        format!("must be at most {} characters", limits::WEBSITE),
                    );
                }
                Some(u.to_string())
            }
            _ => {
                self.error(
                    "website",
                    "must be an http(s) address such as https://example.org",
                );
                None
            }
        }
    }

    /// An email address, trimmed and lower-cased; blank means absent.
    pub fn email(&mut self, field: &str, raw: &str) -> Option<String> {
        if raw.trim().is_empty() {
            return None;
        }
        Email::parse(raw)
            .map(|e| e.as_str().to_owned())
            .map_err(|m| self.error(field, m))
            .ok()
    }

    /// A telephone number as people write it: digits, spaces, `+`, `-`, `.`, `(`, `)`; at
    /// least five digits.
    pub fn phone(&mut self, field: &str, raw: &str) -> Option<String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return None;
        }
        let allowed = |c: char| c.is_ascii_digit() || " +-.()".contains(c);
        if raw.chars().count() > limits::PHONE
            || !trimmed.chars().all(allowed)
            || trimmed.chars().filter(char::is_ascii_digit).count() < 5
        {
            self.error(
                field,
                format!(
                    "must be a telephone number of at most {} characters (digits, spaces, + - . ( ) ), such as +509 2813 0000",
                    limits::PHONE
                ),
            );
            return None;
        }
        Some(trimmed.to_owned())
    }

    fn count(&mut self, field: &str, n: i64) {
        if !(0..=limits::COUNT).contains(&n) {
            self.error(field, format!("must be between 0 and {}", limits::COUNT));
        }
    }
}

/// An organization as stored: its profile and what members do not write themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub slug: String,
    pub profile: Profile,
    pub status: Status,
    pub verification: Verification,
    /// Bumped on every change; the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organization {
    /// Seen by anyone, or only by members and moderators?
    pub fn is_public(&self) -> bool {
        self.status == Status::Published
    }
}

impl Profile {
    /// Names of the fields that differ between two profiles (for the audit log: which fields
    /// changed, not their values).
    pub fn changed_fields(&self, other: &Profile) -> Vec<&'static str> {
        let mut out = Vec::new();
        macro_rules! compare {
            ($($f:ident),*) => {
                $(if self.$f != other.$f { out.push(stringify!($f)); })*
            };
        }
        compare!(
            name,
            acronym,
            kind,
            description,
            alternate_names,
            founded_year,
            residence_country,
            city,
            origin_countries,
            operating_countries,
            capabilities,
            languages,
            website,
            public_email,
            public_phone,
            identifiers,
            members_count,
            volunteers_count,
            challenges,
            interests
        );
        out
    }
}

/// A member of an organization, with the account's public name and email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub added_at: DateTime<Utc>,
}

/// A stored contact person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub details: ContactDetails,
    /// When an owner last confirmed the consent still holds.
    pub consent_reviewed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    /// Whether the consent, as obtained or last confirmed (else since the contact was added),
    /// is older than `period` at `now`: an owner should confirm it or remove the person.
    pub fn consent_review_due(&self, period: chrono::Duration, now: DateTime<Utc>) -> bool {
        let last = self
            .consent_reviewed_at
            .or(self.details.consent_obtained_at)
            .unwrap_or(self.created_at);
        last < now - period
    }
}

/// One line of the audit log: who did what, to which organization, when.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub actor_id: Uuid,
    /// The action was allowed because the actor is a moderator (not merely: the actor is one).
    pub as_moderator: bool,
    /// `organization.created`, `organization.updated`, `member.added`, ...
    pub action: &'static str,
    pub organization_id: Uuid,
    /// The member, contact or request the action was about, when not the organization itself.
    pub subject_id: Option<Uuid>,
    /// What changed: field names and states, never personal data.
    pub details: serde_json::Value,
}

/// A recorded audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub as_moderator: bool,
    pub action: String,
    pub organization_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub details: serde_json::Value,
}

/// Named contact persons' consent bases.
pub const CONSENT_BASES: [&str; 3] = ["consent", "legitimate-interest", "public-role"];

/// A named contact person: personal data, private to the organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactDetails {
    pub name: String,
    pub role: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub languages: Vec<String>,
    pub consent_basis: String,
    pub consent_obtained_at: Option<DateTime<Utc>>,
    pub purpose: String,
}

impl ContactDetails {
    pub fn validate(self, known: &KnownCodes) -> Result<ContactDetails, Vec<FieldError>> {
        let mut v = Validator::default();
        let email = self.email.as_deref().and_then(|e| v.email("email", e));
        let phone = self.phone.as_deref().and_then(|p| v.phone("phone", p));
        if email.is_none() && phone.is_none() && v.errors.is_empty() {
            v.error(
                "email",
                "give an email or a phone number: a contact needs a way to be reached",
            );
        }
        let consent_basis = v.code("consent_basis", &self.consent_basis, &CONSENT_BASES);
        if let Some(at) = self.consent_obtained_at {
            let earliest = DateTime::<Utc>::from_timestamp(limits::EARLIEST_CONSENT, 0);
            if at > Utc::now() + chrono::Duration::minutes(5) {
                v.error("consent_obtained_at", "must not be in the future");
            } else if earliest.is_some_and(|e| at < e) {
                v.error("consent_obtained_at", "must be after 1970-01-01");
            }
        } else if consent_basis == "consent" {
            v.error(
                "consent_obtained_at",
                "is required when consent_basis is `consent`: say when the person agreed",
            );
        }
        let out = ContactDetails {
            name: v.required_line("name", &self.name, limits::NAME),
            role: v.optional_line("role", self.role.as_deref(), limits::CONTACT_ROLE),
            email,
            phone,
            languages: v.languages("languages", &self.languages, limits::LANGUAGES, known),
            consent_basis,
            consent_obtained_at: self.consent_obtained_at,
            purpose: v.required_text("purpose", &self.purpose, limits::PURPOSE),
        };
        v.finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownCodes {
        KnownCodes {
            countries: [("HT", "HTI"), ("HTI", "HTI"), ("ES", "ESP"), ("ESP", "ESP")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
            languages: [("ht", "ht"), ("hat", "ht"), ("fr", "fr")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
        }
    }

    fn minimal() -> ProfileInput {
        ProfileInput {
            name: "Asosyasyon Sante".to_owned(),
            kind: "diaspora-organization".to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn slugs_are_ascii_words_and_never_uuids() {
        assert_eq!(slugify("Fundación Rumiñahui"), "fundacion-ruminahui");
        assert_eq!(slugify("  Haïti -- Santé!! "), "haiti-sante");
        assert_eq!(slugify("???"), "organization");
        assert_eq!(
            slugify("123e4567-e89b-12d3-a456-426614174000"),
            "org-123e4567-e89b-12d3-a456-426614174000"
        );
        let long = slugify(&"word ".repeat(40));
        assert!(long.len() <= limits::SLUG && !long.ends_with('-'));
        assert_eq!(slugify(&"x".repeat(100)).len(), limits::SLUG);
    }

    #[test]
    fn codes_are_normalised_and_deduplicated() {
        let mut input = minimal();
        input.residence_country = Some("es".to_owned());
        input.origin_countries = vec!["HT".to_owned(), "hti".to_owned()];
        input.languages = vec!["HAT".to_owned(), "fr".to_owned()];
        let p = input.validate(&known()).unwrap();
        assert_eq!(p.residence_country.as_deref(), Some("ESP"));
        assert_eq!(p.origin_countries, vec!["HTI"]);
        assert_eq!(p.languages, vec!["ht", "fr"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut input = minimal();
        input.name = "  ".to_owned();
        input.kind = "club".to_owned();
        input.origin_countries = vec!["HT".to_owned(), "XX".to_owned()];
        input.capabilities = vec![Capability {
            sector: "health".to_owned(),
            support_types: vec![],
            description: None,
        }];
        input.website = Some("javascript:alert(1)".to_owned());
        input.members_count = Some(-1);
        input.founded_year = Some(3000);
        let errors = input.validate(&known()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "name",
            "kind",
            "origin_countries[1]",
            "capabilities[0].support_types",
            "website",
            "members_count",
            "founded_year",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
    }

    #[test]
    fn expired_verification_reads_as_unverified() {
        let now = Utc::now();
        let v = Verification {
            status: VerificationStatus::Verified,
            verified_at: Some(now - chrono::Duration::days(400)),
            verified_until: Some(now - chrono::Duration::days(35)),
        };
        assert_eq!(v.at(now).status, VerificationStatus::Unverified);
        assert!(!v.is_verified_at(now));
        let fresh = Verification {
            verified_until: Some(now + chrono::Duration::days(1)),
            ..v
        };
        assert!(fresh.is_verified_at(now));
    }

    #[test]
    fn contacts_need_a_basis_a_purpose_and_a_way_to_reach_them() {
        let errors = ContactDetails {
            name: "Marie".to_owned(),
            consent_basis: "consent".to_owned(),
            ..Default::default()
        }
        .validate(&known())
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"purpose"));
        assert!(fields.contains(&"consent_obtained_at"));
        assert!(fields.contains(&"email"));
    }
}
