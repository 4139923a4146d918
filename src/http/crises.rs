//! `/v1/crises`: the emergencies organizations coordinate around. Moderators register and edit
//! them; everyone reads them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::discovery::comma_list;
use super::extract::{Json, Query};
use super::organizations::{IfMatch, invalid_fields, lost_race, require_moderator};
use super::paging::{self, Page};
use super::problem::Problem;
use crate::db::crises::{self as queries, Write};
use crate::db::reference::code_book;
use crate::db::{self, Connection, Pool};
use crate::domain::crisis::{Crisis, CrisisFilter, CrisisInput, HAZARD_TYPES, Status, limits};
use crate::domain::organization::{Validator, slugify};
use crate::error::ApiError;

/// A GLIDE hazard code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HazardCode(pub String);

impl utoipa::PartialSchema for HazardCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(HAZARD_TYPES.iter().map(|(code, _)| *code)))
            .description(Some(
                "A GLIDE hazard code: EQ earthquake, FL flood, TC tropical cyclone, DR drought, EP epidemic, CE complex emergency...",
            ))
            .build()
            .into()
    }
}

impl utoipa::ToSchema for HazardCode {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("HazardCode")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CrisisStatus {
    Active,
    Closed,
}

impl From<Status> for CrisisStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Active => CrisisStatus::Active,
            Status::Closed => CrisisStatus::Closed,
        }
    }
}

impl From<CrisisStatus> for Status {
    fn from(s: CrisisStatus) -> Self {
        match s {
            CrisisStatus::Active => Status::Active,
            CrisisStatus::Closed => Status::Closed,
        }
    }
}

/// A crisis.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CrisisView {
    pub id: Uuid,
    #[schema(example = "haiti-earthquake-2021")]
    pub slug: String,
    #[schema(example = "Haiti earthquake 2021")]
    pub name: String,
    /// The GLIDE number, `TT-YYYY-NNNNNN-CCC`.
    #[schema(example = "EQ-2021-000116-HTI")]
    pub glide: Option<String>,
    /// The GLIDE hazard code.
    #[serde(rename = "type")]
    #[schema(example = "EQ")]
    pub hazard: String,
    /// Affected countries, ISO 3166-1 alpha-3.
    #[schema(example = json!(["HTI"]))]
    pub countries: Vec<String>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub status: CrisisStatus,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who is engaged (published organizations only); in the single crisis's read, not in
    /// lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engaged_organizations: Option<EngagedOrganizations>,
    /// How many needs about the crisis are open today (published organizations' only); in
    /// the single crisis's read, not in lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_needs: Option<i64>,
    /// How many offers about the crisis are open today; as `open_needs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_offers: Option<i64>,
}

/// How many organizations are engaged in a crisis.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EngagedOrganizations {
    pub total: i64,
    /// Per sector, most engaged first.
    pub by_sector: Vec<SectorCount>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SectorCount {
    pub sector: String,
    pub organizations: i64,
}

impl From<Crisis> for CrisisView {
    fn from(c: Crisis) -> Self {
        let i = c.input;
        CrisisView {
            id: c.id,
            slug: c.slug,
            name: i.name,
            glide: i.glide,
            hazard: i.hazard,
            countries: i.countries,
            started_on: i.started_on,
            ended_on: i.ended_on,
            status: i.status.into(),
            description: i.description,
            created_at: c.created_at,
            updated_at: c.updated_at,
            engaged_organizations: None,
            open_needs: None,
            open_offers: None,
        }
    }
}

/// The crisis as one reads it (with its engagement counts and open needs and offers), and
/// its ETag. The tag covers the
/// counts too, so that a cached copy is not revalidated (304) once they change; `If-Match`
/// compares against the same tag.
async fn representation(
    conn: &mut Connection,
    crisis: Crisis,
) -> Result<(CrisisView, String), ApiError> {
    use sha2::Digest;
    let (total, by_sector) = crate::db::engagements::engaged_organizations(conn, crisis.id)
        .await
        .map_err(db::query_failed("counting engaged organizations"))?;
    let (needs, offers) =
        crate::db::postings::open_counts(conn, crisis.id, chrono::Utc::now().date_naive())
            .await
            .map_err(db::query_failed("counting open needs and offers"))?;
    let digest = sha2::Sha256::digest(format!("{total}{by_sector:?}/{needs}/{offers}").as_bytes());
    let tag = format!(
        "\"{}-{}\"",
        crisis.version,
        digest[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut view = CrisisView::from(crisis);
    view.open_needs = Some(needs);
    view.open_offers = Some(offers);
    view.engaged_organizations = Some(EngagedOrganizations {
        total,
        by_sector: by_sector
            .into_iter()
            .map(|(sector, organizations)| SectorCount {
                sector,
                organizations,
            })
            .collect(),
    });
    Ok((view, tag))
}

fn respond(
    mut res: actix_web::HttpResponseBuilder,
    (view, tag): (CrisisView, String),
) -> HttpResponse {
    res.insert_header((header::ETAG, tag)).json(view)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCrisisRequest {
    #[schema(max_length = 200, example = "Haiti earthquake 2021")]
    pub name: String,
    /// `TT-YYYY-NNNNNN-CCC`: its hazard code must be `type`, its country one of `countries`.
    #[schema(example = "EQ-2021-000116-HTI")]
    pub glide: Option<String>,
    #[serde(rename = "type")]
    pub hazard: HazardCode,
    /// Alpha-3 or alpha-2, any case; returned as alpha-3.
    #[schema(min_items = 1, max_items = 30, example = json!(["HT"]))]
    pub countries: Vec<String>,
    pub started_on: NaiveDate,
    /// Not before `started_on`.
    pub ended_on: Option<NaiveDate>,
    /// `active` unless given.
    pub status: Option<CrisisStatus>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
}

/// A partial update: fields left out keep their value; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCrisisRequest {
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub glide: Option<Option<String>>,
    #[serde(default, rename = "type", deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub hazard: Option<HazardCode>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_items = 1, max_items = 30)]
    pub countries: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub started_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ended_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub status: Option<CrisisStatus>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub description: Option<Option<String>>,
}

fn crisis_not_found() -> ApiError {
    ApiError::not_found("No crisis has this id or slug: GET /v1/crises lists them.")
}

fn glide_taken() -> ApiError {
    ApiError::Conflict(
        "Another crisis has this GLIDE number: GET /v1/crises?q=<number> finds it.".to_owned(),
    )
}

async fn validated(conn: &mut Connection, input: CrisisInput) -> Result<CrisisInput, ApiError> {
    let book = code_book(conn)
        .await
        .map_err(db::query_failed("reading country codes"))?;
    input.validate(&book.known).map_err(invalid_fields)
}

/// A crisis by id or slug.
pub async fn load_crisis(conn: &mut Connection, raw: &str) -> Result<Crisis, ApiError> {
    let id = Uuid::parse_str(raw).ok();
    queries::find_crisis(conn, id, raw)
        .await
        .map_err(db::query_failed("loading a crisis"))?
        .ok_or_else(crisis_not_found)
}

/// The crisis a `crisis` filter names (id or slug); an unknown one is a 400.
pub async fn crisis_param(conn: &mut Connection, raw: &str) -> Result<Uuid, ApiError> {
    queries::find_crisis(conn, Uuid::parse_str(raw).ok(), raw)
        .await
        .map_err(db::query_failed("loading a crisis"))?
        .map(|c| c.id)
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "crisis",
                format!("{raw:?} is no crisis's id or slug: GET /v1/crises lists them"),
            )
        })
}

/// Register a crisis (moderators)
///
/// The slug is derived from the name once. A GLIDE number is checked for its form, for a
/// hazard code equal to `type`, and for a country among `countries`; it is unique.
#[utoipa::path(
    tag = "crises",
    operation_id = "create_crisis",
    security(("bearer" = [])),
    request_body = CreateCrisisRequest,
    responses(
        (status = 201, description = "Registered; `Location` names it", body = CrisisView, headers(("Location" = String), ("ETag" = String))),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another crisis has this GLIDE number", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named (GLIDE number, type, countries, dates)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/crises")]
pub async fn create_crisis(
    caller: Caller,
    pool: web::Data<Pool>,
    body: Json<CreateCrisisRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let mut conn = db::connection(&pool).await?;
    require_moderator(&mut conn, caller, Uuid::nil()).await?;
    let input = validated(
        &mut conn,
        CrisisInput {
            name: b.name,
            glide: b.glide,
            hazard: b.hazard.0,
            countries: b.countries,
            started_on: b.started_on,
            ended_on: b.ended_on,
            status: b.status.map_or(Status::Active, Status::from),
            description: b.description,
        },
    )
    .await?;
    let base = slugify(&input.name);
    match queries::create_crisis(&mut conn, &input, &base, caller.user_id)
        .await
        .map_err(db::query_failed("registering a crisis"))?
    {
        Write::Done(crisis) => {
            tracing::info!(crisis = %crisis.id, slug = %crisis.slug, "crisis registered");
            let location = format!("/v1/crises/{}", crisis.id);
            let mut res = HttpResponse::Created();
            res.insert_header((header::LOCATION, location));
            Ok(respond(res, representation(&mut conn, *crisis).await?))
        }
        Write::GlideTaken => Err(glide_taken()),
        Write::Stale => Err(lost_race(&IfMatch::Absent)),
    }
}

/// Read a crisis
///
/// Public. By id or slug, with how many published organizations are engaged in it, in all and
/// per sector.
#[utoipa::path(
    tag = "crises",
    operation_id = "get_crisis",
    params(("id_or_slug" = String, Path, description = "The crisis's id or slug")),
    responses(
        (status = 200, description = "The crisis", body = CrisisView, headers(("ETag" = String))),
        (status = 404, description = "No such crisis", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/crises/{id_or_slug}")]
pub async fn get_crisis(
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&pool).await?;
    let crisis = load_crisis(&mut conn, &path.into_inner()).await?;
    Ok(respond(
        HttpResponse::Ok(),
        representation(&mut conn, crisis).await?,
    ))
}

/// Edit a crisis (moderators)
///
/// A partial update; honours `If-Match` (412 when stale). The whole crisis is checked again
/// after the change (a new `type` needs a GLIDE number of that hazard).
#[utoipa::path(
    tag = "crises",
    operation_id = "update_crisis",
    security(("bearer" = [])),
    params(
        ("id_or_slug" = String, Path, description = "The crisis's id or slug"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version this change is based on"),
    ),
    request_body = UpdateCrisisRequest,
    responses(
        (status = 200, description = "The updated crisis", body = CrisisView, headers(("ETag" = String))),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such crisis", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another crisis has this GLIDE number, or the crisis changed meanwhile (retry)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/crises/{id_or_slug}")]
pub async fn update_crisis(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<UpdateCrisisRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let if_match = IfMatch::of(&req);
    let mut conn = db::connection(&pool).await?;
    require_moderator(&mut conn, caller, Uuid::nil()).await?;
    let current = load_crisis(&mut conn, &path.into_inner()).await?;
    let (_, current_tag) = representation(&mut conn, current.clone()).await?;
    if_match.check(&current_tag)?;
    let old = current.input.clone();
    let mut changed: Vec<&str> = Vec::new();
    let mut mark = |field: &'static str, differs: bool| {
        if differs {
            changed.push(field);
        }
    };
    let input = CrisisInput {
        name: b.name.unwrap_or_else(|| old.name.clone()),
        glide: b.glide.unwrap_or_else(|| old.glide.clone()),
        hazard: b.hazard.map_or_else(|| old.hazard.clone(), |h| h.0),
        countries: b.countries.unwrap_or_else(|| old.countries.clone()),
        started_on: b.started_on.unwrap_or(old.started_on),
        ended_on: b.ended_on.unwrap_or(old.ended_on),
        status: b.status.map_or(old.status, Status::from),
        description: b.description.unwrap_or_else(|| old.description.clone()),
    };
    let input = validated(&mut conn, input).await?;
    mark("name", input.name != old.name);
    mark("glide", input.glide != old.glide);
    mark("type", input.hazard != old.hazard);
    mark("countries", input.countries != old.countries);
    mark("started_on", input.started_on != old.started_on);
    mark("ended_on", input.ended_on != old.ended_on);
    mark("status", input.status != old.status);
    mark("description", input.description != old.description);
    if changed.is_empty() {
        return Ok(respond(
            HttpResponse::Ok(),
            representation(&mut conn, current).await?,
        ));
    }
    match queries::update_crisis(
        &mut conn,
        current.id,
        current.version,
        &input,
        &changed,
        caller.user_id,
    )
    .await
    .map_err(db::query_failed("updating a crisis"))?
    {
        Write::Done(crisis) => {
            tracing::info!(crisis = %crisis.id, fields = ?changed, "crisis updated");
            Ok(respond(
                HttpResponse::Ok(),
                representation(&mut conn, *crisis).await?,
            ))
        }
        Write::GlideTaken => Err(glide_taken()),
        Write::Stale => Err(lost_race(&if_match)),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CrisisQuery {
    /// `active` or `closed`.
    #[param(inline)]
    pub status: Option<CrisisStatus>,
    /// Affected countries (alpha-3 or alpha-2), comma-separated (any of them).
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false, example = "HTI")]
    pub country: Option<String>,
    /// GLIDE hazard codes, comma-separated.
    #[serde(rename = "type")]
    #[param(value_type = Option<Vec<HazardCode>>, style = Form, explode = false)]
    pub hazard: Option<String>,
    /// Text in the name, GLIDE number or description (accents and case ignored).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// List crises
///
/// Public. Newest registered first.
#[utoipa::path(
    tag = "crises",
    operation_id = "list_crises",
    params(CrisisQuery),
    responses(
        (status = 200, description = "A page of crises", body = Page<CrisisView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "A parameter is invalid (an unknown country or hazard code, limit, cursor)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/crises")]
pub async fn list_crises(
    req: HttpRequest,
    pool: web::Data<Pool>,
    query: Query<CrisisQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, before) = paging::seq_position("crises", q.limit, q.cursor.as_deref())?;
    let mut conn = db::connection(&pool).await?;
    let book = code_book(&mut conn)
        .await
        .map_err(db::query_failed("reading country codes"))?;
    let mut v = Validator::default();
    let countries = v.countries(
        "country",
        &comma_list("country", q.country.as_deref())?,
        50,
        &book.known,
    );
    let hazard_list = comma_list("type", q.hazard.as_deref())?;
    let codes = crate::domain::crisis::hazard_codes();
    let hazards: Vec<String> = hazard_list
        .iter()
        .map(|h| v.code("type", &h.to_ascii_uppercase(), &codes))
        .collect();
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = text {
        v.optional_line("q", Some(t), limits::NAME);
    }
    let filter = v
        .finish(CrisisFilter {
            status: q.status.map(Status::from),
            countries,
            hazards,
            q: text.map(str::to_owned),
        })
        .map_err(super::organizations::invalid_parameters)?;
    let rows = queries::list_crises(&mut conn, &filter, before, limit)
        .await
        .map_err(db::query_failed("listing crises"))?;
    Ok(paging::respond_seq(
        &req,
        "crises",
        rows,
        limit,
        |c| c.seq,
        CrisisView::from,
    ))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_crises)
        .service(create_crisis)
        .service(get_crisis)
        .service(update_crisis);
}
