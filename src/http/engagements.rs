//! `/v1/crises/{id}/engagements` and `/v1/crises/{id}/3w`: who does what where in a crisis.
//! Members of an organization (or moderators) declare its engagements; everyone reads those of
//! published organizations, as a list or as the 3W matrix in JSON, CSV or HXL.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::codes::{OrganizationKindCode, SectorCode, SupportTypeCode};
use super::crises::load_crisis;
use super::discovery::{codes, comma_list};
use super::extract::{Json, Query};
use super::organizations::{IfMatch, invalid_fields, lost_race, require_writer, uuid_param};
use super::paging::{self, Page};
use super::problem::Problem;
use crate::db::engagements::{self as queries, ThreeWKey};
use crate::db::reference::code_book;
use crate::db::{self, Connection, Pool};
use crate::domain::crisis::Crisis;
use crate::domain::engagement::{Engagement, EngagementFilter, EngagementInput, Status, ThreeWRow};
use crate::domain::organization::Validator;
use crate::domain::reference::{ORGANIZATION_KIND_CODES, SECTOR_CODES};
use crate::error::ApiError;
use crate::export::{self, Column, Format};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngagementStatus {
    Planned,
    Ongoing,
    Completed,
}

impl From<Status> for EngagementStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Planned => EngagementStatus::Planned,
            Status::Ongoing => EngagementStatus::Ongoing,
            Status::Completed => EngagementStatus::Completed,
        }
    }
}

impl From<EngagementStatus> for Status {
    fn from(s: EngagementStatus) -> Self {
        match s {
            EngagementStatus::Planned => Status::Planned,
            EngagementStatus::Ongoing => Status::Ongoing,
            EngagementStatus::Completed => Status::Completed,
        }
    }
}

/// What an organization does where in a crisis.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EngagementView {
    pub id: Uuid,
    pub crisis_id: Uuid,
    pub organization_id: Uuid,
    pub sectors: Vec<String>,
    pub support_types: Vec<String>,
    /// One of the crisis's countries (alpha-3).
    pub country: String,
    /// An admin-1 area's name or P-code.
    pub admin1: Option<String>,
    pub description: Option<String>,
    pub status: EngagementStatus,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Engagement> for EngagementView {
    fn from(e: Engagement) -> Self {
        let i = e.input;
        EngagementView {
            id: e.id,
            crisis_id: e.crisis_id,
            organization_id: i.organization_id,
            sectors: i.sectors,
            support_types: i.support_types,
            country: i.country,
            admin1: i.admin1,
            description: i.description,
            status: i.status.into(),
            started_on: i.started_on,
            ended_on: i.ended_on,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

fn etag(e: &Engagement) -> String {
    format!("\"{}\"", e.version)
}

fn with_etag(mut res: HttpResponse, e: &Engagement) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(&etag(e)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEngagementRequest {
    /// The organization engaged; the caller must be one of its members (or a moderator).
    pub organization_id: Uuid,
    #[schema(min_items = 1, max_items = 16)]
    pub sectors: Vec<SectorCode>,
    #[serde(default)]
    #[schema(max_items = 11)]
    pub support_types: Vec<SupportTypeCode>,
    /// One of the crisis's countries (alpha-3 or alpha-2).
    #[schema(pattern = "^[A-Za-z]{2,3}$", example = "HTI")]
    pub country: String,
    /// An admin-1 area's name or P-code.
    #[schema(max_length = 100, example = "Sud")]
    pub admin1: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    pub status: EngagementStatus,
    pub started_on: Option<NaiveDate>,
    /// Not before `started_on`.
    pub ended_on: Option<NaiveDate>,
}

/// A partial update: fields left out keep their value; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEngagementRequest {
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, min_items = 1, max_items = 16)]
    pub sectors: Option<Vec<SectorCode>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, max_items = 11)]
    pub support_types: Option<Vec<SupportTypeCode>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false, pattern = "^[A-Za-z]{2,3}$")]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub admin1: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(nullable = false)]
    pub status: Option<EngagementStatus>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub started_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ended_on: Option<Option<NaiveDate>>,
}

fn engagement_not_found() -> ApiError {
    ApiError::not_found("This crisis has no engagement with this id.")
}

async fn validated(
    conn: &mut Connection,
    crisis: &Crisis,
    input: EngagementInput,
) -> Result<EngagementInput, ApiError> {
    let book = code_book(conn)
        .await
        .map_err(db::query_failed("reading country codes"))?;
    input
        .validate(&book.known, &crisis.input.countries)
        .map_err(invalid_fields)
}

/// Declare an engagement
///
/// What an organization does where in this crisis. By a member of the organization or a
/// moderator. The country must be one of the crisis's.
#[utoipa::path(
    tag = "crises",
    operation_id = "create_engagement",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The crisis's id or slug")),
    request_body = CreateEngagementRequest,
    responses(
        (status = 201, description = "Declared", body = EngagementView, headers(("ETag" = String))),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member of the organization, nor a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such crisis", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named (a country outside the crisis, unknown sectors...)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/crises/{id}/engagements")]
pub async fn create_engagement(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<CreateEngagementRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let mut conn = db::connection(&pool).await?;
    let crisis = load_crisis(&mut conn, &path.into_inner()).await?;
    require_writer(
        &mut conn,
        caller,
        b.organization_id,
        "declare or change its engagements",
    )
    .await?;
    let input = validated(
        &mut conn,
        &crisis,
        EngagementInput {
            organization_id: b.organization_id,
            sectors: SectorCode::strings(b.sectors),
            support_types: SupportTypeCode::strings(b.support_types),
            country: b.country,
            admin1: b.admin1,
            description: b.description,
            status: b.status.into(),
            started_on: b.started_on,
            ended_on: b.ended_on,
        },
    )
    .await?;
    let engagement = queries::create_engagement(&mut conn, crisis.id, &input, caller.user_id)
        .await
        .map_err(db::query_failed("declaring an engagement"))?;
    tracing::info!(
        engagement = %engagement.id,
        crisis = %crisis.id,
        organization = %input.organization_id,
        "engagement declared"
    );
    let res = HttpResponse::Created().json(EngagementView::from(engagement.clone()));
    Ok(with_etag(res, &engagement))
}

/// The engagement, if the caller may change it.
async fn load_for_writer(
    conn: &mut Connection,
    caller: Caller,
    crisis: &str,
    id: &str,
) -> Result<(Crisis, Engagement), ApiError> {
    let id = uuid_param("engagement_id", id)?;
    let crisis = load_crisis(conn, crisis).await?;
    let engagement = queries::find_engagement(conn, crisis.id, id)
        .await
        .map_err(db::query_failed("loading an engagement"))?
        .ok_or_else(engagement_not_found)?;
    require_writer(
        conn,
        caller,
        engagement.input.organization_id,
        "declare or change its engagements",
    )
    .await?;
    Ok((crisis, engagement))
}

/// Change an engagement
///
/// A partial update by a member of the organization or a moderator; honours `If-Match`.
#[utoipa::path(
    tag = "crises",
    operation_id = "update_engagement",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The crisis's id or slug"),
        ("engagement_id" = Uuid, Path, description = "The engagement's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version this change is based on"),
    ),
    request_body = UpdateEngagementRequest,
    responses(
        (status = 200, description = "The updated engagement", body = EngagementView, headers(("ETag" = String))),
        (status = 400, description = "The engagement id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member of the organization, nor a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such crisis or engagement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The engagement changed meanwhile (retry)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/crises/{id}/engagements/{engagement_id}")]
pub async fn update_engagement(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
    body: Json<UpdateEngagementRequest>,
) -> Result<HttpResponse, ApiError> {
    let (crisis, id) = path.into_inner();
    let b = body.0;
    let if_match = IfMatch::of(&req);
    let mut conn = db::connection(&pool).await?;
    let (crisis, current) = load_for_writer(&mut conn, caller, &crisis, &id).await?;
    if_match.check(&etag(&current))?;
    let old = current.input.clone();
    let input = EngagementInput {
        organization_id: old.organization_id,
        sectors: b.sectors.map_or(old.sectors, SectorCode::strings),
        support_types: b
            .support_types
            .map_or(old.support_types, SupportTypeCode::strings),
        country: b.country.unwrap_or(old.country),
        admin1: b.admin1.unwrap_or(old.admin1),
        description: b.description.unwrap_or(old.description),
        status: b.status.map_or(old.status, Status::from),
        started_on: b.started_on.unwrap_or(old.started_on),
        ended_on: b.ended_on.unwrap_or(old.ended_on),
    };
    let input = validated(&mut conn, &crisis, input).await?;
    match queries::update_engagement(&mut conn, current.id, current.version, &input)
        .await
        .map_err(db::query_failed("updating an engagement"))?
    {
        Some(engagement) => {
            tracing::info!(engagement = %engagement.id, "engagement updated");
            let res = HttpResponse::Ok().json(EngagementView::from(engagement.clone()));
            Ok(with_etag(res, &engagement))
        }
        None => Err(lost_race(&if_match)),
    }
}

/// Remove an engagement
///
/// By a member of the organization or a moderator; honours `If-Match`.
#[utoipa::path(
    tag = "crises",
    operation_id = "delete_engagement",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The crisis's id or slug"),
        ("engagement_id" = Uuid, Path, description = "The engagement's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version this deletion is based on"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "The engagement id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member of the organization, nor a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such crisis or engagement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The engagement changed meanwhile (retry)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an older version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/crises/{id}/engagements/{engagement_id}")]
pub async fn delete_engagement(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (crisis, id) = path.into_inner();
    let if_match = IfMatch::of(&req);
    let mut conn = db::connection(&pool).await?;
    let (_, current) = load_for_writer(&mut conn, caller, &crisis, &id).await?;
    if_match.check(&etag(&current))?;
    if queries::delete_engagement(&mut conn, current.id, current.version)
        .await
        .map_err(db::query_failed("removing an engagement"))?
    {
        tracing::info!(engagement = %current.id, "engagement removed");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(lost_race(&if_match))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EngagementQuery {
    /// Sectors, comma-separated; a parent sector matches its children.
    #[param(value_type = Option<Vec<SectorCode>>, style = Form, explode = false)]
    pub sector: Option<String>,
    /// Countries (alpha-3 or alpha-2), comma-separated.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub country: Option<String>,
    /// Kinds of the engaged organizations, comma-separated.
    #[param(value_type = Option<Vec<OrganizationKindCode>>, style = Form, explode = false)]
    pub organization_kind: Option<String>,
    /// Statuses, comma-separated (`planned`, `ongoing`, `completed`).
    #[param(value_type = Option<Vec<EngagementStatus>>, style = Form, explode = false)]
    pub status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// List a crisis's engagements
///
/// Public: the engagements of published organizations, in declaration order.
#[utoipa::path(
    tag = "crises",
    operation_id = "list_engagements",
    params(("id" = String, Path, description = "The crisis's id or slug"), EngagementQuery),
    responses(
        (status = 200, description = "A page of engagements", body = Page<EngagementView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "A parameter is invalid (an unknown code, limit, cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such crisis", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/crises/{id}/engagements")]
pub async fn list_engagements(
    req: HttpRequest,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    query: Query<EngagementQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, after) = paging::seq_position("engagements", q.limit, q.cursor.as_deref())?;
    let mut conn = db::connection(&pool).await?;
    let crisis = load_crisis(&mut conn, &path.into_inner()).await?;
    let book = code_book(&mut conn)
        .await
        .map_err(db::query_failed("reading codes"))?;
    let mut v = Validator::default();
    let sectors = codes("sector", q.sector.as_deref(), &SECTOR_CODES)?;
    let countries = v.countries(
        "country",
        &comma_list("country", q.country.as_deref())?,
        50,
        &book.known,
    );
    let kinds = codes(
        "organization_kind",
        q.organization_kind.as_deref(),
        &ORGANIZATION_KIND_CODES,
    )?;
    let statuses: Vec<Status> = comma_list("status", q.status.as_deref())?
        .iter()
        .filter_map(|s| {
            let parsed = Status::parse(s);
            if parsed.is_none() {
                v.error(
                    "status",
                    format!("{s:?} is not one of: planned, ongoing, completed"),
                );
            }
            parsed
        })
        .collect();
    let expanded = crate::db::reference::CodeBook::flatten(&book.sector_families(&sectors));
    let filter = v
        .finish(EngagementFilter {
            sectors: expanded,
            countries,
            organization_kinds: kinds,
            statuses,
        })
        .map_err(super::organizations::invalid_parameters)?;
    let rows = queries::list_engagements(&mut conn, crisis.id, &filter, after, limit)
        .await
        .map_err(db::query_failed("listing engagements"))?;
    Ok(paging::respond_seq(
        &req,
        "engagements",
        rows,
        limit,
        |e| e.seq,
        EngagementView::from,
    ))
}

/// One row of the 3W matrix.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ThreeWRowView {
    pub organization_id: Uuid,
    pub organization_name: String,
    pub organization_acronym: Option<String>,
    pub organization_kind: String,
    pub sector: String,
    pub country: String,
    pub admin1: Option<String>,
    pub support_types: Vec<String>,
    pub status: EngagementStatus,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

impl From<ThreeWRow> for ThreeWRowView {
    fn from(r: ThreeWRow) -> Self {
        ThreeWRowView {
            organization_id: r.organization_id,
            organization_name: r.organization_name,
            organization_acronym: r.organization_acronym,
            organization_kind: r.organization_kind,
            sector: r.sector,
            country: r.country,
            admin1: r.admin1,
            support_types: r.support_types,
            status: r.status.into(),
            started_on: r.started_on,
            ended_on: r.ended_on,
        }
    }
}

/// The columns of the 3W exports, with their HXL hashtags.
pub const THREE_W_COLUMNS: [Column; 10] = [
    Column {
        header: "Organization",
        hxl: "#org+name",
    },
    Column {
        header: "Acronym",
        hxl: "#org+acronym",
    },
    Column {
        header: "Organization type",
        hxl: "#org+type",
    },
    Column {
        header: "Sector",
        hxl: "#sector+cluster",
    },
    Column {
        header: "Country",
        hxl: "#country+code",
    },
    Column {
        header: "Admin 1",
        hxl: "#adm1+name",
    },
    Column {
        header: "Support types",
        hxl: "#activity+type",
    },
    Column {
        header: "Status",
        hxl: "#status",
    },
    Column {
        header: "Start date",
        hxl: "#date+start",
    },
    Column {
        header: "End date",
        hxl: "#date+end",
    },
];

fn cells(r: &ThreeWRow) -> Vec<String> {
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    vec![
        r.organization_name.clone(),
        r.organization_acronym.clone().unwrap_or_default(),
        r.organization_kind.clone(),
        r.sector.clone(),
        r.country.clone(),
        r.admin1.clone().unwrap_or_default(),
        r.support_types.join(" "),
        r.status.as_str().to_owned(),
        date(r.started_on),
        date(r.ended_on),
    ]
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreeWFormat {
    Json,
    Csv,
    Hxl,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ThreeWQuery {
    /// `json` (default, paged), `csv` or `hxl` (the whole matrix, streamed).
    #[param(inline)]
    pub format: Option<ThreeWFormat>,
    /// Page size for JSON, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous JSON page.
    #[param(max_length = 1000)]
    pub cursor: Option<String>,
}

fn encode_key(key: &ThreeWKey) -> Option<String> {
    serde_json::to_vec(key)
        .ok()
        .map(|json| URL_SAFE_NO_PAD.encode(json))
}

fn decode_key(cursor: &str) -> Result<ThreeWKey, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "cursor",
                "is not a cursor of this list: pass back `next_cursor` exactly as received",
            )
        })
}

/// Rows per query while an export streams.
const EXPORT_CHUNK: i64 = 500;

/// The 3W matrix
///
/// Public: one row per published organization × sector × place (country and admin-1),
/// merging its engagements there. Organization-level data only, never a contact person. JSON
/// is paged; CSV and HXL (CSV with a row of HXL hashtags under the header) stream the whole
/// matrix, in constant memory, as a file download. Cells that a spreadsheet would run as a
/// formula start with an apostrophe.
#[utoipa::path(
    tag = "crises",
    operation_id = "get_three_w",
    params(("id" = String, Path, description = "The crisis's id or slug"), ThreeWQuery),
    responses(
        (status = 200, description = "The matrix: a JSON page, or a CSV/HXL file",
            content(
                (Page<ThreeWRowView> = "application/json"),
                (String = "text/csv"),
            ),
            headers(("Content-Disposition" = String, description = "For CSV and HXL: `attachment; filename=...`"))),
        (status = 400, description = "A parameter is invalid (format, limit, cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such crisis", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/crises/{id}/3w")]
pub async fn get_three_w(
    req: HttpRequest,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    query: Query<ThreeWQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let format = q.format.unwrap_or(ThreeWFormat::Json);
    let mut conn = db::connection(&pool).await?;
    let crisis = load_crisis(&mut conn, &path.into_inner()).await?;
    let format = match format {
        ThreeWFormat::Json => {
            let limit = paging::limit(q.limit)?;
            let after = q.cursor.as_deref().map(decode_key).transpose()?;
            let total = queries::three_w_count(&mut conn, crisis.id)
                .await
                .map_err(db::query_failed("counting the 3W"))?;
            let mut rows = queries::three_w(&mut conn, crisis.id, after.as_ref(), limit + 1)
                .await
                .map_err(db::query_failed("reading the 3W"))?;
            let next = paging::cut(&mut rows, limit, |r| {
                encode_key(&ThreeWKey::of(r)).unwrap_or_default()
            });
            return Ok(paging::respond(
                &req,
                Page {
                    data: rows.into_iter().map(ThreeWRowView::from).collect(),
                    next_cursor: next,
                    total,
                },
            ));
        }
        ThreeWFormat::Csv => Format::Csv,
        ThreeWFormat::Hxl => Format::Hxl,
    };
    if q.limit.is_some() || q.cursor.is_some() {
        return Err(ApiError::bad_parameter(
            "limit",
            "CSV and HXL exports are whole files: leave out limit and cursor",
        ));
    }
    let crisis_id = crisis.id;
    drop(conn);
    let file = format.file_name(&format!("3w-{}", crisis.slug));
    Ok(super::download::attachment(
        pool.get_ref().clone(),
        format.media_type(),
        &file,
        export::header(&THREE_W_COLUMNS, format),
        format!("3W export of crisis {crisis_id}"),
        (),
        move |mut conn, after: Option<ThreeWKey>| async move {
            let rows = queries::three_w(&mut conn, crisis_id, after.as_ref(), EXPORT_CHUNK)
                .await
                .map_err(|e| e.to_string())?;
            let lines: Vec<Vec<String>> = rows.iter().map(cells).collect();
            Ok(super::download::Chunk {
                bytes: export::rows(&lines),
                after: rows.last().map(ThreeWKey::of),
                last: i64::try_from(rows.len()).unwrap_or(0) < EXPORT_CHUNK,
            })
        },
    ))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_engagements)
        .service(create_engagement)
        .service(update_engagement)
        .service(delete_engagement)
        .service(get_three_w);
}
