//! `/v1/organizations/{id}`: profiles, verification requests, and the moderators' side
//! (`/v1/admin/...`: verification decisions, the audit log).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Caller, MaybeCaller};
use super::codes::{
    ChallengeCode, InterestCode, OrganizationKindCode, SectorCode, SupportTypeCode,
};
use super::extract::{Json, Query};
use super::paging::{self, Page};
use super::problem::Problem;
use crate::db::organizations::{self as queries, Updated, VerificationOutcome};
use crate::db::{self, Connection, Pool};
use crate::domain::organization::{
    Access, AlternateName, AuditEntry, AuditRecord, Capability, Identifier, Organization, Profile,
    ProfileInput, Status, Validator, VerificationStatus, limits, slugify, verification_term,
};
use crate::error::{ApiError, FieldError};

// ------------------------------------------------------------------ views

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlternateNameView {
    #[schema(example = "Asosyasyon Dyaspora pou Sante")]
    pub name: String,
    /// ISO 639 code of the name's language, if known.
    #[schema(example = "ht")]
    pub language: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapabilityView {
    #[schema(example = "health")]
    pub sector: String,
    #[schema(example = json!(["telehealth-helpline", "professional-expertise"]))]
    pub support_types: Vec<String>,
    #[schema(example = "Online consultations by Creole-speaking doctors")]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentifierView {
    /// An org-id.guide list code.
    #[schema(example = "US-EIN")]
    pub scheme: String,
    #[schema(example = "12-3456789")]
    pub value: String,
}

/// Verification by the platform's moderators. An approval lasts a year; once `verified_until`
/// has passed, `status` reads `unverified` again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerificationView {
    #[schema(inline)]
    pub status: VerificationStatusView,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatusView {
    Unverified,
    Pending,
    Verified,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusView {
    Draft,
    Published,
    Archived,
    Suspended,
}

impl From<Status> for StatusView {
    fn from(s: Status) -> Self {
        match s {
            Status::Draft => StatusView::Draft,
            Status::Published => StatusView::Published,
            Status::Archived => StatusView::Archived,
            Status::Suspended => StatusView::Suspended,
        }
    }
}

impl From<StatusView> for Status {
    fn from(s: StatusView) -> Self {
        match s {
            StatusView::Draft => Status::Draft,
            StatusView::Published => Status::Published,
            StatusView::Archived => Status::Archived,
            StatusView::Suspended => Status::Suspended,
        }
    }
}

/// An organization's public profile. Contact persons are never part of it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationView {
    pub id: Uuid,
    /// Derived from the name at creation; never changes.
    #[schema(example = "asosyasyon-sante-dyaspora")]
    pub slug: String,
    #[schema(example = "Asosyasyon Sante Dyaspora")]
    pub name: String,
    #[schema(example = "ASD")]
    pub acronym: Option<String>,
    #[schema(example = "diaspora-organization")]
    pub kind: String,
    pub description: Option<String>,
    pub alternate_names: Vec<AlternateNameView>,
    #[schema(example = 2010)]
    pub founded_year: Option<i64>,
    /// ISO 3166-1 alpha-3: where a diaspora organization is based, or an actor's headquarters.
    #[schema(example = "USA")]
    pub residence_country: Option<String>,
    #[schema(example = "Miami")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-3: the communities of origin the organization serves.
    #[schema(example = json!(["HTI"]))]
    pub origin_countries: Vec<String>,
    /// ISO 3166-1 alpha-3: where it delivers.
    #[schema(example = json!(["HTI", "DOM"]))]
    pub operating_countries: Vec<String>,
    pub capabilities: Vec<CapabilityView>,
    /// ISO 639 codes.
    #[schema(example = json!(["ht", "fr", "en"]))]
    pub languages: Vec<String>,
    #[schema(example = "https://example.org/")]
    pub website: Option<String>,
    pub public_email: Option<String>,
    pub public_phone: Option<String>,
    pub identifiers: Vec<IdentifierView>,
    pub members_count: Option<i64>,
    pub volunteers_count: Option<i64>,
    pub challenges: Vec<String>,
    pub interests: Vec<String>,
    pub status: StatusView,
    pub verification: VerificationView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizationView {
    pub fn of(org: Organization, now: DateTime<Utc>) -> Self {
        let verification = org.verification.at(now);
        let p = org.profile;
        OrganizationView {
            id: org.id,
            slug: org.slug,
            name: p.name,
            acronym: p.acronym,
            kind: p.kind,
            description: p.description,
            alternate_names: p
                .alternate_names
                .into_iter()
                .map(|a| AlternateNameView {
                    name: a.name,
                    language: a.language,
                })
                .collect(),
            founded_year: p.founded_year,
            residence_country: p.residence_country,
            city: p.city,
            origin_countries: p.origin_countries,
            operating_countries: p.operating_countries,
            capabilities: p
                .capabilities
                .into_iter()
                .map(|c| CapabilityView {
                    sector: c.sector,
                    support_types: c.support_types,
                    description: c.description,
                })
                .collect(),
            languages: p.languages,
            website: p.website,
            public_email: p.public_email,
            public_phone: p.public_phone,
            identifiers: p
                .identifiers
                .into_iter()
                .map(|i| IdentifierView {
                    scheme: i.scheme,
                    value: i.value,
                })
                .collect(),
            members_count: p.members_count,
            volunteers_count: p.volunteers_count,
            challenges: p.challenges,
            interests: p.interests,
            status: org.status.into(),
            verification: VerificationView {
                status: match verification.status {
                    VerificationStatus::Unverified => VerificationStatusView::Unverified,
                    VerificationStatus::Pending => VerificationStatusView::Pending,
                    VerificationStatus::Verified => VerificationStatusView::Verified,
                    VerificationStatus::Rejected => VerificationStatusView::Rejected,
                },
                verified_at: verification.verified_at,
                verified_until: verification.verified_until,
            },
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

// ------------------------------------------------------------------ requests

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlternateNameInput {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// ISO 639-1 or 639-3 code, any case.
    #[schema(pattern = "^[A-Za-z]{2,3}$")]
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilityInput {
    /// Each sector at most once per organization.
    pub sector: SectorCode,
    #[schema(min_items = 1, max_items = 11)]
    pub support_types: Vec<SupportTypeCode>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierInput {
    /// An org-id.guide list code: two letters, `-`, the register (`US-EIN`, `GB-CHC`, `XI-IATI`).
    #[schema(pattern = "^[A-Za-z]{2}-[A-Za-z0-9-]{2,16}$", example = "US-EIN")]
    pub scheme: String,
    #[schema(min_length = 1, max_length = 100)]
    pub value: String,
}

/// What a new organization may start as. `archived` and `suspended` cannot be chosen here.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitialStatus {
    Draft,
    Published,
}

/// A new organization. Only `name` and `kind` are required. `verification` is for moderators
/// to decide and cannot be sent; nor can `id`, `slug` or timestamps.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Asosyasyon Sante Dyaspora"
    )]
    pub name: String,
    #[schema(max_length = 30)]
    pub acronym: Option<String>,
    pub kind: OrganizationKindCode,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub alternate_names: Vec<AlternateNameInput>,
    /// From 1800 to the current year.
    #[schema(minimum = 1800, maximum = 2100)]
    pub founded_year: Option<i64>,
    /// Alpha-2 or alpha-3, any case; stored as alpha-3.
    #[schema(pattern = "^[A-Za-z]{2,3}$", example = "US")]
    pub residence_country: Option<String>,
    #[schema(max_length = 100)]
    pub city: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20, example = json!(["HT"]))]
    pub origin_countries: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 50, example = json!(["HTI"]))]
    pub operating_countries: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub capabilities: Vec<CapabilityInput>,
    #[serde(default)]
    #[schema(max_items = 30, example = json!(["ht", "fr"]))]
    pub languages: Vec<String>,
    /// An http(s) address.
    #[schema(max_length = 300, example = "https://example.org")]
    pub website: Option<String>,
    #[schema(max_length = 254)]
    pub public_email: Option<String>,
    #[schema(max_length = 40, example = "+1 305 555 0100")]
    pub public_phone: Option<String>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub identifiers: Vec<IdentifierInput>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub members_count: Option<i64>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub volunteers_count: Option<i64>,
    #[serde(default)]
    #[schema(max_items = 8)]
    pub challenges: Vec<ChallengeCode>,
    #[serde(default)]
    #[schema(max_items = 6)]
    pub interests: Vec<InterestCode>,
    /// `draft` (the default) or `published`.
    pub status: Option<InitialStatus>,
}

/// A partial update: fields left out keep their value; `null` clears an optional field; a list
/// replaces the whole list. Members may set `status` to `draft` or `published`; owners may also
/// archive (or un-archive); only moderators suspend an organization or lift a suspension. `verification`, `id` and
/// `slug` cannot be sent.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 30)]
    pub acronym: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub kind: Option<OrganizationKindCode>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 20)]
    pub alternate_names: Option<Vec<AlternateNameInput>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1800, maximum = 2100)]
    pub founded_year: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z]{2,3}$")]
    pub residence_country: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 20)]
    pub origin_countries: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 50)]
    pub operating_countries: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 20)]
    pub capabilities: Option<Vec<CapabilityInput>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 30)]
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub public_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 40)]
    pub public_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 10)]
    pub identifiers: Option<Vec<IdentifierInput>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000_000)]
    pub members_count: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000_000)]
    pub volunteers_count: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 8)]
    pub challenges: Option<Vec<ChallengeCode>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 6)]
    pub interests: Option<Vec<InterestCode>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub status: Option<StatusView>,
}

fn alternate_names(list: Vec<AlternateNameInput>) -> Vec<AlternateName> {
    list.into_iter()
        .map(|a| AlternateName {
            name: a.name,
            language: a.language,
        })
        .collect()
}

fn capabilities(list: Vec<CapabilityInput>) -> Vec<Capability> {
    list.into_iter()
        .map(|c| Capability {
            sector: c.sector.0,
            support_types: SupportTypeCode::strings(c.support_types),
            description: c.description,
        })
        .collect()
}

fn identifiers(list: Vec<IdentifierInput>) -> Vec<Identifier> {
    list.into_iter()
        .map(|i| Identifier {
            scheme: i.scheme,
            value: i.value,
        })
        .collect()
}

impl CreateOrganizationRequest {
    fn into_input(self) -> (ProfileInput, Status) {
        let status = match self.status {
            Some(InitialStatus::Published) => Status::Published,
            Some(InitialStatus::Draft) | None => Status::Draft,
        };
        let input = ProfileInput {
            name: self.name,
            acronym: self.acronym,
            kind: self.kind.0,
            description: self.description,
            alternate_names: alternate_names(self.alternate_names),
            founded_year: self.founded_year,
            residence_country: self.residence_country,
            city: self.city,
            origin_countries: self.origin_countries,
            operating_countries: self.operating_countries,
            capabilities: capabilities(self.capabilities),
            languages: self.languages,
            website: self.website,
            public_email: self.public_email,
            public_phone: self.public_phone,
            identifiers: identifiers(self.identifiers),
            members_count: self.members_count,
            volunteers_count: self.volunteers_count,
            challenges: ChallengeCode::strings(self.challenges),
            interests: InterestCode::strings(self.interests),
        };
        (input, status)
    }
}

impl UpdateOrganizationRequest {
    /// The current profile with this request's fields written over it.
    fn apply_to(self, mut p: Profile) -> ProfileInput {
        macro_rules! set {
            ($field:ident) => {
                if let Some(v) = self.$field {
                    p.$field = v;
                }
            };
            ($field:ident, $convert:expr) => {
                if let Some(v) = self.$field {
                    p.$field = $convert(v);
                }
            };
        }
        set!(name);
        set!(acronym);
        set!(kind, |k: OrganizationKindCode| k.0);
        set!(description);
        set!(alternate_names, alternate_names);
        set!(founded_year);
        set!(residence_country);
        set!(city);
        set!(origin_countries);
        set!(operating_countries);
        set!(capabilities, capabilities);
        set!(languages);
        set!(website);
        set!(public_email);
        set!(public_phone);
        set!(identifiers, identifiers);
        set!(members_count);
        set!(volunteers_count);
        set!(challenges, ChallengeCode::strings);
        set!(interests, InterestCode::strings);
        p
    }
}

// ------------------------------------------------------------------ shared rules

/// The entity tag of an organization's representation: its version, and whether its
/// verification still holds (which changes with time alone).
pub fn etag(org: &Organization, now: DateTime<Utc>) -> String {
    let verified = if org.verification.is_verified_at(now) {
        "v"
    } else {
        "u"
    };
    format!("\"{}{verified}\"", org.version)
}

/// `If-Match`, as sent.
pub enum IfMatch {
    Absent,
    Any,
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn of(req: &HttpRequest) -> IfMatch {
        let values: Vec<&str> = req
            .headers()
            .get_all(header::IF_MATCH)
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return IfMatch::Absent;
        }
        let tags: Vec<String> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if tags.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(tags)
        }
    }

    pub fn was_sent(&self) -> bool {
        !matches!(self, IfMatch::Absent)
    }

    /// RFC 9110 strong comparison: a weak tag (`W/"..."`) never matches.
    pub fn check(&self, current: &str) -> Result<(), ApiError> {
        match self {
            IfMatch::Tags(tags) if !tags.iter().any(|t| t == current) => {
                Err(ApiError::PreconditionFailed(format!(
                    "The resource has changed since you read it (its ETag is now {current}): read it again, re-apply your change and retry."
                )))
            }
            _ => Ok(()),
        }
    }
}

/// What a write that lost a race answers: 412 when the client asked for a precondition,
/// otherwise 409 (the client can simply retry).
pub fn lost_race(if_match: &IfMatch) -> ApiError {
    if if_match.was_sent() {
        ApiError::PreconditionFailed(
            "The resource changed while your request was being handled: read it again and retry."
                .to_owned(),
        )
    } else {
        ApiError::Conflict(
            "The resource changed while your request was being handled: retry.".to_owned(),
        )
    }
}

pub fn organization_not_found() -> ApiError {
    ApiError::not_found(
        "No organization has this id or slug, or it is not published. Members see their drafts after signing in.",
    )
}

/// A path `{id}` that must be a UUID.
pub fn uuid_param(name: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_parameter(name, format!("{raw:?} is not a UUID (e.g. 0b4f...-...)"))
    })
}

/// Members of the organization, and moderators, may write what it posts or declares (`what`:
/// "post or change its needs"...), unless moderators suspended it (then moderators only). The
/// id must name an organization (422: a moderator passes membership for any id).
pub async fn require_writer(
    conn: &mut Connection,
    caller: Caller,
    organization_id: Uuid,
    what: &str,
) -> Result<(), ApiError> {
    let access = queries::access(conn, caller.user_id, organization_id)
        .await
        .map_err(db::query_failed("checking membership"))?;
    let Some(access) = access.filter(|a| a.is_insider()) else {
        return Err(ApiError::Forbidden(format!(
            "Only the organization's members (or a moderator) {what}."
        )));
    };
    let org = queries::find_organization(conn, Some(organization_id), "")
        .await
        .map_err(db::query_failed("loading an organization"))?
        .ok_or_else(|| {
            ApiError::validation(
                "Invalid fields: organization_id; see `errors`.",
                vec![FieldError::new("organization_id", "names no organization")],
            )
        })?;
    if org.status == Status::Suspended && !access.is_moderator {
        return Err(ApiError::Forbidden(
            "This organization is suspended by the platform's moderators: its members cannot change what it declares until they lift the suspension.".to_owned(),
        ));
    }
    Ok(())
}

/// The account behind a token that no longer exists.
fn account_gone() -> ApiError {
    ApiError::Unauthorized("This account no longer exists.".to_owned())
}

/// The organization, if the caller may see it, with what the caller is to it. Drafts,
/// archived and suspended organizations are 404 to everyone but their members and moderators.
pub async fn load_visible(
    conn: &mut Connection,
    caller: Option<Caller>,
    id: Option<Uuid>,
    slug: &str,
) -> Result<(Organization, Option<Access>), ApiError> {
    let org = queries::find_organization(conn, id, slug)
        .await
        .map_err(db::query_failed("loading an organization"))?
        .ok_or_else(organization_not_found)?;
    let access = match caller {
        Some(c) => Some(
            queries::access(conn, c.user_id, org.id)
                .await
                .map_err(db::query_failed("checking membership"))?
                .ok_or_else(account_gone)?,
        ),
        None => None,
    };
    if org.is_public() || access.is_some_and(Access::is_insider) {
        Ok((org, access))
    } else {
        Err(organization_not_found())
    }
}

/// The caller's access to the organization with this id, for a route only insiders use: 404
/// when they may not see it, 403 when they may see it but are neither member nor moderator.
pub async fn load_for_insider(
    conn: &mut Connection,
    caller: Caller,
    id: Uuid,
    refusal: &str,
) -> Result<(Organization, Access), ApiError> {
    let (org, access) = load_visible(conn, Some(caller), Some(id), "").await?;
    let access = access.ok_or_else(account_gone)?;
    if !access.is_insider() {
        return Err(ApiError::Forbidden(refusal.to_owned()));
    }
    Ok((org, access))
}

pub fn audit_entry(
    caller: Caller,
    as_moderator: bool,
    action: &'static str,
    organization_id: Uuid,
    subject_id: Option<Uuid>,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor_id: caller.user_id,
        as_moderator,
        action,
        organization_id,
        subject_id,
        details,
    }
}

/// Bad query parameters: a 400 naming the first.
pub fn invalid_parameters(errors: Vec<FieldError>) -> ApiError {
    match errors.into_iter().next() {
        Some(e) => ApiError::bad_parameter(&e.field, e.message),
        None => ApiError::bad_request("Invalid parameters."),
    }
}

pub fn invalid_fields(errors: Vec<FieldError>) -> ApiError {
    let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    let detail = format!("Invalid fields: {}; see `errors`.", names.join(", "));
    ApiError::validation(detail, errors)
}

fn with_etag(mut res: HttpResponse, tag: &str) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

async fn validated_profile(
    conn: &mut Connection,
    input: ProfileInput,
) -> Result<Profile, ApiError> {
    let book = crate::db::reference::code_book(conn)
        .await
        .map_err(db::query_failed("reading country and language codes"))?;
    input.validate(&book.known).map_err(invalid_fields)
}

// ------------------------------------------------------------------ handlers

/// Create an organization
///
/// Registers a diaspora organization or a humanitarian actor. The caller becomes its `owner`.
/// It starts as a `draft` (seen only by its members) unless `status: published` is sent. The
/// slug is derived from the name and never changes.
#[utoipa::path(
    tag = "organizations",
    operation_id = "create_organization",
    security(("bearer" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created; `Location` names it", body = OrganizationView,
            headers(("Location" = String, description = "/v1/organizations/{id}"), ("ETag" = String, description = "For If-Match"))),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named in `errors`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations")]
pub async fn create_organization(
    caller: Caller,
    pool: web::Data<Pool>,
    body: Json<CreateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let (input, status) = body.0.into_input();
    let mut conn = db::connection(&pool).await?;
    queries::access(&mut conn, caller.user_id, Uuid::nil())
        .await
        .map_err(db::query_failed("checking the account"))?
        .ok_or_else(account_gone)?;
    let profile = validated_profile(&mut conn, input).await?;
    let org = queries::create_organization(
        &mut conn,
        &profile,
        status,
        &slugify(&profile.name),
        caller.user_id,
    )
    .await
    .map_err(db::query_failed("creating an organization"))?;
    tracing::info!(organization_id = %org.id, slug = %org.slug, status = org.status.as_str(), "organization created");
    let now = Utc::now();
    let tag = etag(&org, now);
    let res = HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/organizations/{}", org.id)))
        .json(OrganizationView::of(org, now));
    Ok(with_etag(res, &tag))
}

/// Could `key` be a slug at all? (Anything else is not looked up.)
pub fn is_slug_shaped(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 80
        && key.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Read an organization
///
/// By id or by slug. Published organizations are public; drafts, archived and suspended ones
/// are seen only by their members and by moderators (404 to anyone else).
#[utoipa::path(
    tag = "organizations",
    operation_id = "get_organization",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The organization's id (UUID) or slug", max_length = 80, example = "asosyasyon-sante-dyaspora")),
    responses(
        (status = 200, description = "The organization", body = OrganizationView),
        (status = 401, description = "A token was sent and is invalid or expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}")]
pub async fn get_organization(
    caller: MaybeCaller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let id = Uuid::parse_str(&key).ok();
    if id.is_none() && !is_slug_shaped(&key) {
        return Err(organization_not_found());
    }
    let mut conn = db::connection(&pool).await?;
    let (org, _) = load_visible(&mut conn, caller.0, id, &key).await?;
    let now = Utc::now();
    let tag = etag(&org, now);
    let cache = if org.is_public() {
        "no-cache"
    } else {
        "private, no-store"
    };
    let res = HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, cache))
        .json(OrganizationView::of(org, now));
    Ok(with_etag(res, &tag))
}

/// Update an organization
///
/// A partial update by an owner, an editor or a moderator: send only the fields to change;
/// `null` clears an optional field; lists are replaced whole. With `If-Match` (the `ETag` of
/// your last read), a change made by someone else in between is refused with 412 instead of
/// being overwritten.
#[utoipa::path(
    tag = "organizations",
    operation_id = "update_organization",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The organization's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version this change is based on"),
    ),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, description = "The updated organization", body = OrganizationView, headers(("ETag" = String))),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner, editor or moderator; an editor archiving; or a member suspending, or editing a suspended organization", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed concurrently (without If-Match): retry", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named in `errors`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizations/{id}")]
pub async fn update_organization(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<UpdateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let if_match = IfMatch::of(&req);
    let mut conn = db::connection(&pool).await?;
    let (org, access) = load_for_insider(
        &mut conn,
        caller,
        id,
        "Only the organization's owners and editors, or a moderator, may edit it.",
    )
    .await?;
    if org.status == Status::Suspended && !access.is_moderator {
        return Err(ApiError::Forbidden(
            "This organization is suspended by the platform's moderators: it cannot be edited until they lift the suspension.".to_owned(),
        ));
    }
    let now = Utc::now();
    let body = body.0;
    let status = match body.status.map(Status::from) {
        Some(Status::Suspended) if !access.is_moderator => {
            return Err(ApiError::Forbidden(
                "Only the platform's moderators suspend organizations.".to_owned(),
            ));
        }
        Some(s) => s,
        None => org.status,
    };
    let archiving = (status == Status::Archived) != (org.status == Status::Archived);
    if archiving && !(access.is_owner() || access.is_moderator) {
        return Err(ApiError::Forbidden(
            "Only the organization's owners, or a moderator, archive it or bring it back."
                .to_owned(),
        ));
    }
    let profile = validated_profile(&mut conn, body.apply_to(org.profile.clone())).await?;
    // After validation: a request that could never succeed is told why (422) rather than to
    // re-read the resource (412).
    if_match.check(&etag(&org, now))?;
    let fields = org.profile.changed_fields(&profile);
    if fields.is_empty() && status == org.status {
        let tag = etag(&org, now);
        return Ok(with_etag(
            HttpResponse::Ok().json(OrganizationView::of(org, now)),
            &tag,
        ));
    }
    let mut details = serde_json::json!({ "fields": fields });
    if status != org.status {
        details["status"] = serde_json::json!({"from": org.status.as_str(), "to": status.as_str()});
    }
    let audit = audit_entry(
        caller,
        !access.is_member(),
        "organization.updated",
        id,
        None,
        details,
    );
    match queries::update_organization(&mut conn, id, org.version, &profile, status, &audit)
        .await
        .map_err(db::query_failed("updating an organization"))?
    {
        Updated::Done(org) => {
            tracing::info!(organization_id = %id, fields = ?fields, status = org.status.as_str(), "organization updated");
            let tag = etag(&org, now);
            Ok(with_etag(
                HttpResponse::Ok().json(OrganizationView::of(org, now)),
                &tag,
            ))
        }
        Updated::Stale => Err(lost_race(&if_match)),
        Updated::Missing => Err(organization_not_found()),
    }
}

/// Archive an organization
///
/// By an owner or a moderator. The organization disappears from public view and search but is
/// kept, with its history, for the audit log; its members still see it and may publish it again.
#[utoipa::path(
    tag = "organizations",
    operation_id = "archive_organization",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The organization's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version being archived"),
    ),
    responses(
        (status = 204, description = "Archived (or already archived)"),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner or moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed concurrently (without If-Match): retry", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}")]
pub async fn archive_organization(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let if_match = IfMatch::of(&req);
    let mut conn = db::connection(&pool).await?;
    let refusal = "Only the organization's owners, or a moderator, may archive it.";
    let (org, access) = load_for_insider(&mut conn, caller, id, refusal).await?;
    if !(access.is_owner() || access.is_moderator) {
        return Err(ApiError::Forbidden(refusal.to_owned()));
    }
    if org.status == Status::Suspended && !access.is_moderator {
        return Err(ApiError::Forbidden(
            "This organization is suspended by the platform's moderators: only they can change its status.".to_owned(),
        ));
    }
    if_match.check(&etag(&org, Utc::now()))?;
    if org.status == Status::Archived {
        return Ok(HttpResponse::NoContent().finish());
    }
    let audit = audit_entry(
        caller,
        !access.is_owner(),
        "organization.archived",
        id,
        None,
        serde_json::json!({"status": {"from": org.status.as_str(), "to": "archived"}}),
    );
    match queries::update_organization(
        &mut conn,
        id,
        org.version,
        &org.profile,
        Status::Archived,
        &audit,
    )
    .await
    .map_err(db::query_failed("archiving an organization"))?
    {
        Updated::Done(_) => {
            tracing::info!(organization_id = %id, "organization archived");
            Ok(HttpResponse::NoContent().finish())
        }
        Updated::Stale => Err(lost_race(&if_match)),
        Updated::Missing => Err(organization_not_found()),
    }
}

/// Renewal opens this long before an approval expires.
fn renewal_window() -> chrono::Duration {
    chrono::Duration::days(60)
}

/// Request verification
///
/// An owner asks the platform's moderators to verify the organization. Its verification reads
/// `pending` until they decide (a still-valid approval stays `verified` while its renewal is
/// pending; renewal opens 60 days before it expires).
#[utoipa::path(
    tag = "organizations",
    operation_id = "request_verification",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 201, description = "Requested; the organization's verification as it now stands", body = VerificationView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner, or the organization is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request is already pending, or the approval is not due for renewal", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/verification-requests")]
pub async fn request_verification(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let mut conn = db::connection(&pool).await?;
    let refusal = "Only the organization's owners may ask for its verification.";
    let (org, access) = load_for_insider(&mut conn, caller, id, refusal).await?;
    if !access.is_owner() {
        return Err(ApiError::Forbidden(refusal.to_owned()));
    }
    if org.status == Status::Suspended {
        return Err(ApiError::Forbidden(
            "This organization is suspended by the platform's moderators: it cannot ask for verification until they lift the suspension.".to_owned(),
        ));
    }
    let now = Utc::now();
    if let Some(until) = org.verification.verified_until
        && org.verification.is_verified_at(now)
        && until - now > renewal_window()
    {
        return Err(ApiError::Conflict(format!(
            "This organization is verified until {}; renewal opens 60 days before that.",
            until.format("%Y-%m-%d")
        )));
    }
    let audit = audit_entry(
        caller,
        false,
        "verification.requested",
        id,
        None,
        serde_json::json!({}),
    );
    match queries::request_verification(&mut conn, id, caller.user_id, None, &audit)
        .await
        .map_err(db::query_failed("requesting verification"))?
    {
        VerificationOutcome::Done(org) => {
            tracing::info!(organization_id = %id, "verification requested");
            Ok(HttpResponse::Created().json(OrganizationView::of(*org, now).verification))
        }
        VerificationOutcome::Conflict => Err(ApiError::Conflict(
            "A verification request for this organization is already pending: the moderators will decide on it."
                .to_owned(),
        )),
        VerificationOutcome::Missing => Err(organization_not_found()),
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationDecisionRequest {
    pub decision: Decision,
    /// Why; required to reject (the owners read it).
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// The moderator account behind `caller`, checked in the database: a moderator whose right was
/// removed loses it at once, not when their token expires. Returns what the moderator is to
/// `organization_id` (`Uuid::nil()` when no organization is concerned).
pub async fn require_moderator(
    conn: &mut Connection,
    caller: Caller,
    organization_id: Uuid,
) -> Result<Access, ApiError> {
    let access = queries::access(conn, caller.user_id, organization_id)
        .await
        .map_err(db::query_failed("checking moderator rights"))?
        .ok_or_else(account_gone)?;
    if access.is_moderator {
        Ok(access)
    } else {
        Err(ApiError::Forbidden(
            "Only the platform's moderators may do this.".to_owned(),
        ))
    }
}

/// Decide on verification (moderators)
///
/// Approves or rejects the organization's pending verification request. Approval verifies it
/// for one year from now; rejection (with a `note` saying why) withdraws any verification.
/// Recorded in the audit log.
#[utoipa::path(
    tag = "moderation",
    operation_id = "decide_verification",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization's id")),
    request_body = VerificationDecisionRequest,
    responses(
        (status = 200, description = "The organization after the decision", body = OrganizationView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator, or a member of this organization", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No verification request is pending", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (a rejection needs a note)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/organizations/{id}/verification")]
pub async fn decide_verification(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<VerificationDecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let mut conn = db::connection(&pool).await?;
    if require_moderator(&mut conn, caller, id).await?.is_member() {
        return Err(ApiError::Forbidden(
            "You are a member of this organization: another moderator decides on its verification."
                .to_owned(),
        ));
    }
    let body = body.0;
    let approve = matches!(body.decision, Decision::Approve);
    let mut v = Validator::default();
    let note = v.optional_text("note", body.note.as_deref(), limits::NOTE);
    if !approve && note.is_none() {
        v.error("note", "is required to reject: tell the owners why");
    }
    v.finish(()).map_err(invalid_fields)?;
    let now = Utc::now();
    let decision = if approve { "approve" } else { "reject" };
    let audit = audit_entry(
        caller,
        true,
        "verification.decided",
        id,
        None,
        serde_json::json!({"decision": decision}),
    );
    match queries::decide_verification(
        &mut conn,
        id,
        approve,
        note.as_deref(),
        now + verification_term(),
        &audit,
    )
    .await
    .map_err(db::query_failed("deciding on verification"))?
    {
        VerificationOutcome::Done(org) => {
            tracing::info!(organization_id = %id, decision, "verification decided");
            let tag = etag(&org, now);
            Ok(with_etag(
                HttpResponse::Ok().json(OrganizationView::of(*org, now)),
                &tag,
            ))
        }
        VerificationOutcome::Conflict => Err(ApiError::Conflict(
            "No verification request is pending for this organization: its owners ask first (POST /v1/organizations/{id}/verification-requests).".to_owned(),
        )),
        VerificationOutcome::Missing => Err(organization_not_found()),
    }
}

/// One audit log entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The account that acted (null if it was deleted since).
    pub actor_id: Option<Uuid>,
    /// The action was allowed by the actor's moderator right.
    pub as_moderator: bool,
    /// `organization.created`, `organization.updated`, `organization.archived`,
    /// `member.added`, `member.role_changed`, `member.removed`, `contact.created`,
    /// `contact.updated`, `contact.deleted`, `verification.requested`, `verification.decided`.
    #[schema(example = "organization.updated")]
    pub action: String,
    pub organization_id: Option<Uuid>,
    /// The member, contact or request concerned, if not the organization itself.
    pub subject_id: Option<Uuid>,
    /// What changed (field names, statuses), never personal data.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditRecord> for AuditEntryView {
    fn from(r: AuditRecord) -> Self {
        AuditEntryView {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            as_moderator: r.as_moderator,
            action: r.action,
            organization_id: r.organization_id,
            subject_id: r.subject_id,
            details: r.details,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries about this organization.
    pub organization_id: Option<Uuid>,
    /// Only entries by this account.
    pub actor_id: Option<Uuid>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// The audit log (moderators)
///
/// Every profile change and moderator action, newest first.
#[utoipa::path(
    tag = "moderation",
    operation_id = "list_audit_log",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<AuditEntryView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "A parameter is invalid (limit, cursor, ids)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/audit-log")]
pub async fn list_audit_log(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (limit, before) = paging::seq_position("audit", query.limit, query.cursor.as_deref())?;
    let mut conn = db::connection(&pool).await?;
    require_moderator(&mut conn, caller, Uuid::nil()).await?;
    let rows = queries::list_audit(
        &mut conn,
        query.organization_id,
        query.actor_id,
        before,
        limit,
    )
    .await
    .map_err(db::query_failed("reading the audit log"))?;
    Ok(paging::respond_seq(
        &req,
        "audit",
        rows,
        limit,
        |r| r.id,
        AuditEntryView::from,
    ))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_organization)
        .service(get_organization)
        .service(update_organization)
        .service(archive_organization)
        .service(request_verification)
        .service(decide_verification)
        .service(list_audit_log);
}
