//! `/v1/needs` and `/v1/offers`: what organizations need in a place and what they can give
//! there, and the counterparts that match each. Members of an organization (or moderators)
//! write its postings; everyone reads those of published organizations.
//!
//! Needs and offers have the same fields and rules, so one implementation serves both; the
//! [`side_routes`] macro declares each side's routes, with their OpenAPI operations.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Caller, MaybeCaller};
use super::codes::{SectorCode, SupportTypeCode};
use super::discovery::{ReasonView, codes, comma_list};
use super::extract::{Json, Query};
use super::organizations::{
    IfMatch, invalid_fields, invalid_parameters, lost_race, require_writer, uuid_param,
};
use super::paging::{self, Page};
use super::problem::Problem;
use crate::db::postings::{self as queries, MatchOn, Poster};
use crate::db::reference::{CodeBook, code_book};
use crate::db::{self, Connection, Pool};
use crate::domain::matching::{MAX_CANDIDATES, Reason};
use crate::domain::organization::{Organization, Validator};
use crate::domain::posting::{
    Counterpart, Posting, PostingFilter, PostingInput, Side, Status, score,
};
use crate::domain::reference::{SECTOR_CODES, SUPPORT_TYPE_CODES};
use crate::domain::text::SearchText;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostingStatus {
    Open,
    Fulfilled,
    Withdrawn,
    Expired,
}

impl From<Status> for PostingStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Open => PostingStatus::Open,
            Status::Fulfilled => PostingStatus::Fulfilled,
            Status::Withdrawn => PostingStatus::Withdrawn,
            Status::Expired => PostingStatus::Expired,
        }
    }
}

impl From<PostingStatus> for Status {
    fn from(s: PostingStatus) -> Self {
        match s {
            PostingStatus::Open => Status::Open,
            PostingStatus::Fulfilled => Status::Fulfilled,
            PostingStatus::Withdrawn => Status::Withdrawn,
            PostingStatus::Expired => Status::Expired,
        }
    }
}

/// A need or an offer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostingView {
    pub id: Uuid,
    /// The organization that posted it.
    pub organization_id: Uuid,
    /// The crisis it is about.
    pub crisis_id: Option<Uuid>,
    /// Where (ISO 3166-1 alpha-3).
    #[schema(example = "HTI")]
    pub country: String,
    /// An admin-1 area's name or P-code.
    #[schema(example = "Grand'Anse")]
    pub admin1: Option<String>,
    pub sectors: Vec<String>,
    pub support_types: Vec<String>,
    /// Languages it calls for or comes with (ISO 639).
    pub languages: Vec<String>,
    #[schema(example = "Creole-speaking psychologists for Jérémie")]
    pub title: String,
    pub description: String,
    #[schema(example = "3 psychologists, 10 hours a week")]
    pub quantity: Option<String>,
    /// As of today: an open posting whose `valid_until` has passed reads `expired`.
    pub status: PostingStatus,
    /// The last day (UTC) it holds.
    pub valid_until: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PostingView {
    pub fn of(p: Posting, today: NaiveDate) -> Self {
        let status = p.status_on(today).into();
        let i = p.input;
        PostingView {
            id: p.id,
            organization_id: i.organization_id,
            crisis_id: i.crisis_id,
            country: i.country,
            admin1: i.admin1,
            sectors: i.sectors,
            support_types: i.support_types,
            languages: i.languages,
            title: i.title,
            description: i.description,
            quantity: i.quantity,
            status,
            valid_until: i.valid_until,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Today, in UTC: the day `valid_until` is compared with.
fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The ETag covers the status as read today, which changes on expiry with no write.
fn etag(p: &Posting, today: NaiveDate) -> String {
    format!("\"{}-{}\"", p.version, p.status_on(today).as_str())
}

/// `no-cache` for a public posting; `private, no-store` for one only insiders see (a draft
/// organization's), as organizations' own reads do.
fn cache_control(public: bool) -> (header::HeaderName, &'static str) {
    (
        header::CACHE_CONTROL,
        if public {
            "no-cache"
        } else {
            "private, no-store"
        },
    )
}

fn respond(mut res: actix_web::HttpResponseBuilder, p: Posting, public: bool) -> HttpResponse {
    let today = today();
    res.insert_header((header::ETAG, etag(&p, today)))
        .insert_header(cache_control(public))
        .json(PostingView::of(p, today))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePostingRequest {
    /// The organization posting; the caller must be one of its members (or a moderator).
    pub organization_id: Uuid,
    /// The crisis it is about; `country` must then be one of the crisis's.
    pub crisis_id: Option<Uuid>,
    /// Where (alpha-3 or alpha-2).
    #[schema(pattern = "^[A-Za-z]{2,3}$", example = "HTI")]
    pub country: String,
    /// An admin-1 area's name or P-code.
    #[schema(max_length = 100, example = "Grand'Anse")]
    pub admin1: Option<String>,
    #[schema(min_items = 1, max_items = 16)]
    pub sectors: Vec<SectorCode>,
    #[serde(default)]
    #[schema(max_items = 11)]
    pub support_types: Vec<SupportTypeCode>,
    /// ISO 639-1 or 639-3 codes.
    #[serde(default)]
    #[schema(max_items = 30, example = json!(["ht", "fr"]))]
    pub languages: Vec<String>,
    /// One line.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 5000)]
    pub description: String,
    /// Free text: "200 hygiene kits".
    #[schema(max_length = 200)]
    pub quantity: Option<String>,
    /// The last day (UTC) it holds: today or later. A new posting is `open`.
    pub valid_until: Option<NaiveDate>,
}

/// A partial update: fields left out keep their value; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePostingRequest {
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub crisis_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, pattern = "^[A-Za-z]{2,3}$")]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub admin1: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_items = 1, max_items = 16)]
    pub sectors: Option<Vec<SectorCode>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 11)]
    pub support_types: Option<Vec<SupportTypeCode>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 30)]
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_length = 1, max_length = 5000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub quantity: Option<Option<String>>,
    /// `open` again, `fulfilled`, `withdrawn` or `expired`.
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub status: Option<PostingStatus>,
    /// An open posting must hold until today or later.
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_until: Option<Option<NaiveDate>>,
}

fn posting_not_found(side: Side) -> ApiError {
    ApiError::not_found(format!(
        "No {} has this id, or its organization is not public.",
        side.as_str()
    ))
}

fn writers(side: Side) -> &'static str {
    match side {
        Side::Need => "post or change its needs",
        Side::Offer => "post or change its offers",
    }
}

/// The input checked against the code book and, when it cites a crisis, that crisis's
/// countries (an unknown crisis is a 422).
async fn validated(conn: &mut Connection, input: PostingInput) -> Result<PostingInput, ApiError> {
    let book = code_book(conn)
        .await
        .map_err(db::query_failed("reading codes"))?;
    let crisis = match input.crisis_id {
        Some(id) => Some(
            crate::db::crises::find_crisis(conn, Some(id), "")
                .await
                .map_err(db::query_failed("loading a crisis"))?
                .ok_or_else(|| {
                    ApiError::validation(
                        "Invalid fields: crisis_id; see `errors`.",
                        vec![crate::error::FieldError::new(
                            "crisis_id",
                            "names no crisis known to the directory (GET /v1/crises lists them)",
                        )],
                    )
                })?,
        ),
        None => None,
    };
    input
        .validate(
            &book.known,
            crisis.as_ref().map(|c| c.input.countries.as_slice()),
            today(),
        )
        .map_err(invalid_fields)
}

async fn create(
    caller: Caller,
    pool: &Pool,
    side: Side,
    b: CreatePostingRequest,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(pool).await?;
    require_writer(&mut conn, caller, b.organization_id, writers(side)).await?;
    let input = validated(
        &mut conn,
        PostingInput {
            organization_id: b.organization_id,
            crisis_id: b.crisis_id,
            country: b.country,
            admin1: b.admin1,
            sectors: SectorCode::strings(b.sectors),
            support_types: SupportTypeCode::strings(b.support_types),
            languages: b.languages,
            title: b.title,
            description: b.description,
            quantity: b.quantity,
            status: Status::Open,
            valid_until: b.valid_until,
        },
    )
    .await?;
    let posting = queries::create_posting(&mut conn, side, &input, caller.user_id)
        .await
        .map_err(db::query_failed("saving a posting"))?;
    tracing::info!(
        posting = %posting.id,
        side = side.as_str(),
        organization = %input.organization_id,
        "posting created"
    );
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/v1/{}s/{}", side.as_str(), posting.id),
    ));
    Ok(respond(res, posting, false))
}

/// The posting, if the caller may see it: its organization is published (public, `true`), or
/// the caller is one of its members or a moderator. Anything else is a 404.
async fn load_visible(
    conn: &mut Connection,
    caller: Option<Caller>,
    side: Side,
    raw_id: &str,
) -> Result<(Posting, bool), ApiError> {
    let id = uuid_param("id", raw_id)?;
    let (posting, public) = queries::find_posting(conn, side, id)
        .await
        .map_err(db::query_failed("loading a posting"))?
        .ok_or_else(|| posting_not_found(side))?;
    if public {
        return Ok((posting, true));
    }
    if let Some(c) = caller {
        let access =
            crate::db::organizations::access(conn, c.user_id, posting.input.organization_id)
                .await
                .map_err(db::query_failed("checking membership"))?;
        if access.is_some_and(|a| a.is_insider()) {
            return Ok((posting, false));
        }
    }
    Err(posting_not_found(side))
}

/// The posting, if the caller may change it, and whether it is public.
async fn load_for_writer(
    conn: &mut Connection,
    caller: Caller,
    side: Side,
    raw_id: &str,
) -> Result<(Posting, bool), ApiError> {
    let (posting, public) = load_visible(conn, Some(caller), side, raw_id).await?;
    require_writer(conn, caller, posting.input.organization_id, writers(side)).await?;
    Ok((posting, public))
}

async fn read(
    caller: MaybeCaller,
    pool: &Pool,
    side: Side,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(pool).await?;
    let (posting, public) = load_visible(&mut conn, caller.0, side, id).await?;
    Ok(respond(HttpResponse::Ok(), posting, public))
}

async fn update(
    req: &HttpRequest,
    caller: Caller,
    pool: &Pool,
    side: Side,
    id: &str,
    b: UpdatePostingRequest,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::of(req);
    let mut conn = db::connection(pool).await?;
    let (current, public) = load_for_writer(&mut conn, caller, side, id).await?;
    let today = today();
    if_match.check(&etag(&current, today))?;
    // Left out, the status stays as it reads: an open posting past its last day is saved as
    // expired, so that fixing a typo in it does not require a new last day.
    let status = current.status_on(today);
    let old = current.input.clone();
    let input = PostingInput {
        organization_id: old.organization_id,
        crisis_id: b.crisis_id.unwrap_or(old.crisis_id),
        country: b.country.unwrap_or(old.country),
        admin1: b.admin1.unwrap_or(old.admin1),
        sectors: b.sectors.map_or(old.sectors, SectorCode::strings),
        support_types: b
            .support_types
            .map_or(old.support_types, SupportTypeCode::strings),
        languages: b.languages.unwrap_or(old.languages),
        title: b.title.unwrap_or(old.title),
        description: b.description.unwrap_or(old.description),
        quantity: b.quantity.unwrap_or(old.quantity),
        status: b.status.map_or(status, Status::from),
        valid_until: b.valid_until.unwrap_or(old.valid_until),
    };
    let input = validated(&mut conn, input).await?;
    match queries::update_posting(&mut conn, current.id, current.version, &input)
        .await
        .map_err(db::query_failed("updating a posting"))?
    {
        Some(posting) => {
            tracing::info!(posting = %posting.id, side = side.as_str(), "posting updated");
            Ok(respond(HttpResponse::Ok(), posting, public))
        }
        None => Err(lost_race(&if_match)),
    }
}

async fn remove(
    req: &HttpRequest,
    caller: Caller,
    pool: &Pool,
    side: Side,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::of(req);
    let mut conn = db::connection(pool).await?;
    let (current, _) = load_for_writer(&mut conn, caller, side, id).await?;
    if_match.check(&etag(&current, today()))?;
    if queries::delete_posting(&mut conn, current.id, current.version)
        .await
        .map_err(db::query_failed("removing a posting"))?
    {
        tracing::info!(posting = %current.id, side = side.as_str(), "posting removed");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(lost_race(&if_match))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PostingQuery {
    /// Only those about this crisis (its id or slug).
    #[param(max_length = 100)]
    pub crisis: Option<String>,
    /// Only this organization's.
    pub organization_id: Option<Uuid>,
    /// Countries (alpha-3 or alpha-2), comma-separated.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub country: Option<String>,
    /// Sectors, comma-separated; a parent sector matches its children.
    #[param(value_type = Option<Vec<SectorCode>>, style = Form, explode = false)]
    pub sector: Option<String>,
    /// Kinds of support, comma-separated.
    #[param(value_type = Option<Vec<SupportTypeCode>>, style = Form, explode = false)]
    pub support_type: Option<String>,
    /// Languages (ISO 639-1 or 639-3), comma-separated.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub language: Option<String>,
    /// Statuses as of today, comma-separated (default `open`).
    #[param(value_type = Option<Vec<PostingStatus>>, style = Form, explode = false)]
    pub status: Option<String>,
    /// Words in the title, description or quantity (prefixes match, accents ignored).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

fn list_name(side: Side) -> &'static str {
    match side {
        Side::Need => "needs",
        Side::Offer => "offers",
    }
}

async fn list(
    req: &HttpRequest,
    pool: &Pool,
    side: Side,
    q: PostingQuery,
) -> Result<HttpResponse, ApiError> {
    let (limit, before) = paging::seq_position(list_name(side), q.limit, q.cursor.as_deref())?;
    let sectors = codes("sector", q.sector.as_deref(), &SECTOR_CODES)?;
    let support_types = codes(
        "support_type",
        q.support_type.as_deref(),
        &SUPPORT_TYPE_CODES,
    )?;
    let search = match q.q.as_deref() {
        Some(raw) => {
            SearchText::parse_optional(raw).map_err(|why| ApiError::bad_parameter("q", why))?
        }
        None => None,
    };
    let mut v = Validator::default();
    let statuses: Vec<Status> = match q.status.as_deref() {
        None => vec![Status::Open],
        Some(raw) => comma_list("status", Some(raw))?
            .iter()
            .filter_map(|s| {
                let parsed = Status::parse(s);
                if parsed.is_none() {
                    v.error(
                        "status",
                        format!("{s:?} is not one of: open, fulfilled, withdrawn, expired"),
                    );
                }
                parsed
            })
            .collect(),
    };
    let mut conn = db::connection(pool).await?;
    let book = code_book(&mut conn)
        .await
        .map_err(db::query_failed("reading codes"))?;
    let countries = v.countries(
        "country",
        &comma_list("country", q.country.as_deref())?,
        50,
        &book.known,
    );
    let languages = v.languages(
        "language",
        &comma_list("language", q.language.as_deref())?,
        50,
        &book.known,
    );
    let crisis = match q.crisis.as_deref() {
        Some(raw) => Some(super::crises::crisis_param(&mut conn, raw).await?),
        None => None,
    };
    let filter = v
        .finish(PostingFilter {
            side,
            crisis,
            organization: q.organization_id,
            countries,
            sectors: CodeBook::flatten(&book.sector_families(&sectors)),
            support_types,
            languages,
            statuses,
            q: search,
            today: today(),
        })
        .map_err(invalid_parameters)?;
    let rows = queries::list_postings(&mut conn, &filter, before, limit)
        .await
        .map_err(db::query_failed("listing postings"))?;
    let today = filter.today;
    Ok(paging::respond_seq(
        req,
        list_name(side),
        rows,
        limit,
        |p| p.seq,
        |p| PostingView::of(p, today),
    ))
}

/// What a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    Need,
    Offer,
    /// An organization whose profile answers a need, and which has no open offer that does.
    Organization,
}

/// An organization, as a match names it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationSummary {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: String,
    /// Whether its verification holds now.
    pub verified: bool,
}

/// A counterpart to a need or an offer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostingMatchView {
    pub kind: MatchKind,
    /// The matching need or offer; absent for an organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posting: Option<PostingView>,
    /// Who to ask: `POST /v1/organizations/{organization.id}/contact-requests`, citing the
    /// need and offer.
    pub organization: OrganizationSummary,
    /// How well it answers, from 0 to 1: the weighted share of the criteria met (country 30%,
    /// sectors 25%, support types 15%, languages 15%, crisis 10%, verified 5%; support types,
    /// languages and crisis count only when the posting names them).
    #[schema(example = 0.861)]
    pub score: f64,
    /// `country`, `sectors` (a parent or child sector meets a sector), `support_types`,
    /// `languages`, `crisis` (the same crisis, or an organization engaged in it) and
    /// `verified` (with no values).
    pub reasons: Vec<ReasonView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    /// How many matches to return, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

struct Scored {
    kind: MatchKind,
    posting: Option<Posting>,
    organization: OrganizationSummary,
    score: f64,
    reasons: Vec<Reason>,
}

fn summary_of(org: &Organization, now: DateTime<Utc>) -> OrganizationSummary {
    OrganizationSummary {
        id: org.id,
        slug: org.slug.clone(),
        name: org.profile.name.clone(),
        acronym: org.profile.acronym.clone(),
        kind: org.profile.kind.clone(),
        verified: org.verification.is_verified_at(now),
    }
}

fn summary_of_poster(p: Poster) -> OrganizationSummary {
    OrganizationSummary {
        id: p.id,
        slug: p.slug,
        name: p.name,
        acronym: p.acronym,
        kind: p.kind,
        verified: p.verified,
    }
}

/// The organizations that could answer a need from their profile (see
/// [`crate::db::discovery::organizations_for_need`]), scored; also how many there are.
async fn organizations_for(
    conn: &mut Connection,
    need: &Posting,
    on: MatchOn<'_>,
    families: &[(String, Vec<String>)],
) -> Result<(Vec<Scored>, i64), ApiError> {
    let (orgs, total) = crate::db::discovery::organizations_for_need(conn, on, MAX_CANDIDATES)
        .await
        .map_err(db::query_failed("finding organizations"))?;
    let now = Utc::now();
    let scored = orgs
        .into_iter()
        .filter_map(|(o, engaged)| {
            let p = &o.profile;
            let counterpart = Counterpart {
                countries: p
                    .origin_countries
                    .iter()
                    .chain(&p.operating_countries)
                    .chain(&p.residence_country)
                    .cloned()
                    .collect(),
                sectors: p.capabilities.iter().map(|c| c.sector.clone()).collect(),
                support_types: p
                    .capabilities
                    .iter()
                    .flat_map(|c| c.support_types.iter().cloned())
                    .collect(),
                languages: p.languages.clone(),
                in_crisis: engaged,
                verified: o.verification.is_verified_at(now),
            };
            score(&need.input, families, &counterpart).map(|(score, reasons)| Scored {
                kind: MatchKind::Organization,
                posting: None,
                organization: summary_of(&o, now),
                score,
                reasons,
            })
        })
        .collect();
    Ok((scored, total))
}

/// The order of matches: best first; at equal scores verified first, postings before
/// organizations, then by name and id (the same order on every call).
fn ranked(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    let id = |s: &Scored| s.posting.as_ref().map_or(s.organization.id, |p| p.id);
    b.score
        .total_cmp(&a.score)
        .then_with(|| b.organization.verified.cmp(&a.organization.verified))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.organization.name.cmp(&b.organization.name))
        .then_with(|| id(a).cmp(&id(b)))
}

async fn matches(
    caller: MaybeCaller,
    pool: &Pool,
    side: Side,
    id: &str,
    q: MatchQuery,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(q.limit)?;
    let mut conn = db::connection(pool).await?;
    let (source, public) = load_visible(&mut conn, caller.0, side, id).await?;
    let book = code_book(&mut conn)
        .await
        .map_err(db::query_failed("reading sector codes"))?;
    let families = book.sector_relatives(&source.input.sectors);
    let sectors = CodeBook::flatten(&families);
    let today = today();
    let i = &source.input;
    let on = MatchOn {
        organization_id: i.organization_id,
        crisis_id: i.crisis_id,
        country: &i.country,
        sectors: &sectors,
        support_types: &i.support_types,
        languages: &i.languages,
        today,
    };
    let other = side.other();
    let (postings, mut total) = queries::counterpart_postings(&mut conn, other, on, MAX_CANDIDATES)
        .await
        .map_err(db::query_failed("finding counterparts"))?;
    let mut scored: Vec<Scored> = postings
        .into_iter()
        .filter_map(|(p, poster)| {
            let counterpart = Counterpart {
                countries: vec![p.input.country.clone()],
                sectors: p.input.sectors.clone(),
                support_types: p.input.support_types.clone(),
                languages: p.input.languages.clone(),
                in_crisis: i.crisis_id.is_some() && p.input.crisis_id == i.crisis_id,
                verified: poster.verified,
            };
            score(i, &families, &counterpart).map(|(score, reasons)| Scored {
                kind: match other {
                    Side::Need => MatchKind::Need,
                    Side::Offer => MatchKind::Offer,
                },
                posting: Some(p),
                organization: summary_of_poster(poster),
                score,
                reasons,
            })
        })
        .collect();
    if side == Side::Need {
        let (organizations, count) = organizations_for(&mut conn, &source, on, &families).await?;
        scored.extend(organizations);
        total += count;
    }
    scored.sort_by(ranked);
    scored.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let data = scored
        .into_iter()
        .map(|s| PostingMatchView {
            kind: s.kind,
            posting: s.posting.map(|p| PostingView::of(p, today)),
            organization: s.organization,
            score: s.score,
            reasons: s
                .reasons
                .into_iter()
                .map(|r| ReasonView {
                    criterion: r.criterion.to_owned(),
                    matched: r.matched,
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(cache_control(public))
        .json(Page {
            data,
            next_cursor: None,
            total,
        }))
}

/// Declares one side's six routes (list, create, read, change, remove, matches) with their
/// OpenAPI operations; each handler hands over to the shared implementation above.
macro_rules! side_routes {
    (
        side: $side:expr, tag: $tag:tt, register: $register:ident,
        list: $list:ident, $list_op:tt, $list_path:tt, $list_sum:tt, $list_desc:tt,
        create: $create:ident, $create_op:tt, $create_sum:tt, $create_desc:tt,
        get: $get:ident, $get_op:tt, $item_path:tt, $get_sum:tt, $get_desc:tt,
        update: $update:ident, $update_op:tt, $update_sum:tt, $update_desc:tt,
        delete: $delete:ident, $delete_op:tt, $delete_sum:tt, $delete_desc:tt,
        matches: $matches:ident, $matches_op:tt, $matches_path:tt, $matches_sum:tt, $matches_desc:tt $(,)?
    ) => {
        #[doc = $list_sum]
        #[doc = ""]
        #[doc = $list_desc]
        #[utoipa::path(
            tag = $tag,
            operation_id = $list_op,
            params(PostingQuery),
            responses(
                (status = 200, description = "A page, newest first", body = Page<PostingView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
                (status = 400, description = "A parameter is invalid (an unknown code or crisis, limit, cursor)", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($list_path)]
        pub async fn $list(
            req: HttpRequest,
            pool: web::Data<Pool>,
            query: Query<PostingQuery>,
        ) -> Result<HttpResponse, ApiError> {
            list(&req, &pool, $side, query.into_inner()).await
        }

        #[doc = $create_sum]
        #[doc = ""]
        #[doc = $create_desc]
        #[utoipa::path(
            tag = $tag,
            operation_id = $create_op,
            security(("bearer" = [])),
            request_body = CreatePostingRequest,
            responses(
                (status = 201, description = "Posted; `Location` names it", body = PostingView, headers(("Location" = String), ("ETag" = String))),
                (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a member of the organization, nor a moderator", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid fields, each named (a country outside the crisis, unknown codes, a past `valid_until`...)", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[post($list_path)]
        pub async fn $create(
            caller: Caller,
            pool: web::Data<Pool>,
            body: Json<CreatePostingRequest>,
        ) -> Result<HttpResponse, ApiError> {
            create(caller, &pool, $side, body.0).await
        }

        #[doc = $get_sum]
        #[doc = ""]
        #[doc = $get_desc]
        #[utoipa::path(
            tag = $tag,
            operation_id = $get_op,
            security((), ("bearer" = [])),
            params(("id" = Uuid, Path, description = "Its id")),
            responses(
                (status = 200, description = "It", body = PostingView, headers(("ETag" = String))),
                (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such posting, or its organization is not public", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($item_path)]
        pub async fn $get(
            caller: MaybeCaller,
            pool: web::Data<Pool>,
            path: web::Path<String>,
        ) -> Result<HttpResponse, ApiError> {
            read(caller, &pool, $side, &path.into_inner()).await
        }

        #[doc = $update_sum]
        #[doc = ""]
        #[doc = $update_desc]
        #[utoipa::path(
            tag = $tag,
            operation_id = $update_op,
            security(("bearer" = [])),
            params(
                ("id" = Uuid, Path, description = "Its id"),
                ("If-Match" = Option<String>, Header, description = "The ETag of the version this change is based on"),
            ),
            request_body = UpdatePostingRequest,
            responses(
                (status = 200, description = "Changed", body = PostingView, headers(("ETag" = String))),
                (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a member of the organization, nor a moderator", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such posting, or its organization is not public", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "It changed meanwhile (retry)", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "`If-Match` names an older version", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[patch($item_path)]
        pub async fn $update(
            req: HttpRequest,
            caller: Caller,
            pool: web::Data<Pool>,
            path: web::Path<String>,
            body: Json<UpdatePostingRequest>,
        ) -> Result<HttpResponse, ApiError> {
            update(&req, caller, &pool, $side, &path.into_inner(), body.0).await
        }

        #[doc = $delete_sum]
        #[doc = ""]
        #[doc = $delete_desc]
        #[utoipa::path(
            tag = $tag,
            operation_id = $delete_op,
            security(("bearer" = [])),
            params(
                ("id" = Uuid, Path, description = "Its id"),
                ("If-Match" = Option<String>, Header, description = "The ETag of the version this deletion is based on"),
            ),
            responses(
                (status = 204, description = "Removed"),
                (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a member of the organization, nor a moderator", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such posting, or its organization is not public", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "It changed meanwhile (retry)", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "`If-Match` names an older version", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[delete($item_path)]
        pub async fn $delete(
            req: HttpRequest,
            caller: Caller,
            pool: web::Data<Pool>,
            path: web::Path<String>,
        ) -> Result<HttpResponse, ApiError> {
            remove(&req, caller, &pool, $side, &path.into_inner()).await
        }

        #[doc = $matches_sum]
        #[doc = ""]
        #[doc = $matches_desc]
        #[utoipa::path(
            tag = $tag,
            operation_id = $matches_op,
            security((), ("bearer" = [])),
            params(("id" = Uuid, Path, description = "Its id"), MatchQuery),
            responses(
                (status = 200, description = "Ranked counterparts (one page: `next_cursor` is always null; `total` counts every counterpart scored)", body = Page<PostingMatchView>),
                (status = 400, description = "The id or limit is invalid", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such posting, or its organization is not public", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($matches_path)]
        pub async fn $matches(
            caller: MaybeCaller,
            pool: web::Data<Pool>,
            path: web::Path<String>,
            query: Query<MatchQuery>,
        ) -> Result<HttpResponse, ApiError> {
            matches(caller, &pool, $side, &path.into_inner(), query.into_inner()).await
        }

        fn $register(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
            cfg.service($list)
                .service($create)
                .service($get)
                .service($update)
                .service($delete)
                .service($matches);
        }
    };
}

side_routes! {
    side: Side::Need, tag: "needs and offers", register: need_routes,
    list: list_needs, "list_needs", "/needs",
        "List needs", "Public: the needs of published organizations, newest first; by default only open ones.",
    create: create_need, "create_need",
        "Post a need", "What an organization needs, where: by a member of the organization (or a moderator). A need about a crisis must be in one of its countries.",
    get: get_need, "get_need", "/needs/{id}",
        "Read a need", "Public when its organization is published; otherwise its members and moderators only.",
    update: update_need, "update_need",
        "Change a need", "A partial update by a member of the organization or a moderator; honours `If-Match`. Mark it `fulfilled` or `withdrawn` when it no longer holds.",
    delete: delete_need, "delete_need",
        "Remove a need", "By a member of the organization or a moderator; honours `If-Match`.",
    matches: need_matches, "need_matches", "/needs/{id}/matches",
        "Match a need", "Ranks open offers, and organizations whose profile could meet the need, best first, each with a `score` and the `reasons`. A counterpart must relate to the need's country and share one of its sectors (a parent or child sector counts).",
}

side_routes! {
    side: Side::Offer, tag: "needs and offers", register: offer_routes,
    list: list_offers, "list_offers", "/offers",
        "List offers", "Public: the offers of published organizations, newest first; by default only open ones.",
    create: create_offer, "create_offer",
        "Post an offer", "What an organization can give, where: by a member of the organization (or a moderator). An offer about a crisis must be in one of its countries.",
    get: get_offer, "get_offer", "/offers/{id}",
        "Read an offer", "Public when its organization is published; otherwise its members and moderators only.",
    update: update_offer, "update_offer",
        "Change an offer", "A partial update by a member of the organization or a moderator; honours `If-Match`. Mark it `fulfilled` or `withdrawn` when it no longer holds.",
    delete: delete_offer, "delete_offer",
        "Remove an offer", "By a member of the organization or a moderator; honours `If-Match`.",
    matches: offer_matches, "offer_matches", "/offers/{id}/matches",
        "Match an offer", "Ranks open needs, best first, each with a `score` and the `reasons`. A need must be in the offer's country and share one of its sectors (a parent or child sector counts).",
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(need_routes).configure(offer_routes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(kind: MatchKind, name: &str, score: f64, verified: bool) -> Scored {
        Scored {
            kind,
            posting: None,
            organization: OrganizationSummary {
                id: Uuid::new_v4(),
                slug: name.to_lowercase(),
                name: name.to_owned(),
                acronym: None,
                kind: "diaspora-organization".to_owned(),
                verified,
            },
            score,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn equal_scores_put_verified_then_postings_then_names_first() {
        let mut list = [
            scored(MatchKind::Organization, "Aaa", 0.5, false),
            scored(MatchKind::Offer, "Zzz", 0.5, false),
            scored(MatchKind::Offer, "Mmm", 0.5, false),
            scored(MatchKind::Organization, "Yyy", 0.5, true),
            scored(MatchKind::Offer, "Low", 0.4, true),
            scored(MatchKind::Organization, "High", 0.9, false),
        ];
        list.sort_by(ranked);
        let names: Vec<&str> = list.iter().map(|s| s.organization.name.as_str()).collect();
        assert_eq!(names, ["High", "Yyy", "Mmm", "Zzz", "Aaa", "Low"]);
    }
}
