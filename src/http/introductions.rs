//! Introductions: contact requests between organizations, their message threads, and the
//! notifications they leave. Seen by the two parties only (404 to anyone else, moderators
//! included); every response is `Cache-Control: private, no-store`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::codes::SectorCode;
use super::extract::{Json, Query};
use super::organizations::{invalid_fields, load_visible, uuid_param};
use super::paging::{self, Page};
use super::problem::Problem;
use crate::db::introductions::{self as queries, Created, Decided, Mailbox, Posted};
use crate::db::organizations as org_queries;
use crate::db::{self, Connection, Pool};
use crate::domain::introduction::{
    Cited, ContactRequest, Decision, Message, NewRequest, Notification, NotificationKind, Refusal,
    Status, message_body,
};
use crate::domain::organization::Status as OrganizationStatus;
use crate::domain::posting::Side;
use crate::error::ApiError;

const PRIVATE: &str = "private, no-store";

fn private(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(PRIVATE),
    );
    res
}

/// Where a contact request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Accepted,
    Declined,
    Withdrawn,
}

impl From<Status> for RequestStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Pending => RequestStatus::Pending,
            Status::Accepted => RequestStatus::Accepted,
            Status::Declined => RequestStatus::Declined,
            Status::Withdrawn => RequestStatus::Withdrawn,
        }
    }
}

impl From<RequestStatus> for Status {
    fn from(s: RequestStatus) -> Self {
        match s {
            RequestStatus::Pending => Status::Pending,
            RequestStatus::Accepted => Status::Accepted,
            RequestStatus::Declined => Status::Declined,
            RequestStatus::Withdrawn => Status::Withdrawn,
        }
    }
}

/// A request to be introduced, from one organization to another.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactRequestView {
    pub id: Uuid,
    pub from_organization_id: Uuid,
    pub from_organization_name: String,
    pub to_organization_id: Uuid,
    pub to_organization_name: String,
    #[schema(example = "Telehealth volunteers for Jérémie")]
    pub subject: String,
    pub message: String,
    pub sector: Option<String>,
    pub crisis_id: Option<Uuid>,
    /// The need the request follows from (one of the two organizations').
    pub need_id: Option<Uuid>,
    /// The offer the request follows from (one of the two organizations').
    pub offer_id: Option<Uuid>,
    pub status: RequestStatus,
    /// The account that sent it (null once that account is erased).
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Who accepted, declined or withdrew it, and when; null while pending.
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<ContactRequest> for ContactRequestView {
    fn from(r: ContactRequest) -> Self {
        ContactRequestView {
            id: r.id,
            from_organization_id: r.from_organization_id,
            from_organization_name: r.from_organization_name,
            to_organization_id: r.to_organization_id,
            to_organization_name: r.to_organization_name,
            subject: r.subject,
            message: r.message,
            sector: r.sector,
            crisis_id: r.crisis_id,
            need_id: r.need_id,
            offer_id: r.offer_id,
            status: r.status.into(),
            created_by: r.created_by,
            created_at: r.created_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContactRequest {
    /// The caller's organization that asks (they must be a member of it).
    pub from_organization_id: Uuid,
    /// One line, at most 200 characters.
    #[schema(max_length = 200, example = "Telehealth volunteers for Jérémie")]
    pub subject: String,
    /// At most 5000 characters.
    #[schema(max_length = 5000)]
    pub message: String,
    pub sector: Option<SectorCode>,
    /// The crisis the request is about.
    pub crisis_id: Option<Uuid>,
    /// The need it follows from (GET /v1/offers/{id}/matches): one of the two organizations'.
    pub need_id: Option<Uuid>,
    /// The offer it follows from (GET /v1/needs/{id}/matches): one of the two organizations'.
    pub offer_id: Option<Uuid>,
}

fn request_not_found() -> ApiError {
    ApiError::not_found(
        "No contact request has this id, or it is not between organizations you belong to.",
    )
}

/// The caller's organizations.
async fn memberships(conn: &mut Connection, caller: Caller) -> Result<Vec<Uuid>, ApiError> {
    Ok(org_queries::memberships(conn, caller.user_id)
        .await
        .map_err(db::query_failed("listing memberships"))?
        .into_iter()
        .map(|(id, _, _)| id)
        .collect())
}

/// The request, if the caller is a party to it, with the caller's organizations.
async fn load_for_party(
    conn: &mut Connection,
    caller: Caller,
    id: Uuid,
) -> Result<(ContactRequest, Vec<Uuid>), ApiError> {
    let request = queries::find_request(conn, id)
        .await
        .map_err(db::query_failed("loading a contact request"))?
        .ok_or_else(request_not_found)?;
    let mine = memberships(conn, caller).await?;
    if !request.sides(&mine).is_party() {
        return Err(request_not_found());
    }
    Ok((request, mine))
}

/// Ask for an introduction
///
/// From an organization the caller belongs to, to a published organization. At most one
/// request between two organizations may be pending, whichever sent it; each organization may
/// send a limited number of requests a day (`CONTACT_REQUESTS_PER_DAY`, 20 by default). The
/// receiving organization's members are notified.
#[utoipa::path(
    tag = "introductions",
    operation_id = "create_contact_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The organization asked")),
    request_body = CreateContactRequest,
    responses(
        (status = 201, description = "Sent; `Location` names it", body = ContactRequestView, headers(("Location" = String))),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not a member of `from_organization_id`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request between the two organizations is pending already, or one of them is not published", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named (subject, message, sector; an organization cannot ask itself)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The asking organization has reached its daily number of requests; `Retry-After` says when it may ask again", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until a request may be sent"))),
    )
)]
#[post("/organizations/{id}/contact-requests")]
pub async fn create_contact_request(
    caller: Caller,
    state: web::Data<AppState>,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<CreateContactRequest>,
) -> Result<HttpResponse, ApiError> {
    let to = uuid_param("id", &path.into_inner())?;
    let b = body.0;
    let mut conn = db::connection(&pool).await?;
    // 404 unless the caller may see the organization; one they see but that is not published
    // (their own draft) cannot be asked yet.
    let (target, _) = load_visible(&mut conn, Some(caller), Some(to), "").await?;
    if !target.is_public() {
        return Err(ApiError::Conflict(format!(
            "The organization asked is {}: only published organizations can be asked for introductions.",
            target.status.as_str()
        )));
    }
    let access = org_queries::access(&mut conn, caller.user_id, b.from_organization_id)
        .await
        .map_err(db::query_failed("checking membership"))?;
    if !access.is_some_and(|a| a.is_member()) {
        return Err(ApiError::Forbidden(
            "You are not a member of from_organization_id: ask on behalf of an organization you belong to (GET /v1/me lists them).".to_owned(),
        ));
    }
    let sender = org_queries::find_organization(&mut conn, Some(b.from_organization_id), "")
        .await
        .map_err(db::query_failed("loading the asking organization"))?
        .ok_or_else(super::organizations::organization_not_found)?;
    if sender.status != OrganizationStatus::Published {
        // The organization asked must be able to read who is asking.
        return Err(ApiError::Conflict(format!(
            "The asking organization is {}: only a published organization can ask for introductions, so that the organization asked can see who is asking.",
            sender.status.as_str()
        )));
    }
    let crisis_known = match b.crisis_id {
        Some(crisis) => crate::db::crises::crisis_exists(&mut conn, crisis)
            .await
            .map_err(db::query_failed("checking a crisis"))?,
        None => true,
    };
    let mut owners = [None, None];
    for (owner, side, id) in [(0, Side::Need, b.need_id), (1, Side::Offer, b.offer_id)] {
        if let Some(id) = id {
            owners[owner] = crate::db::postings::posting_owner(&mut conn, side, id)
                .await
                .map_err(db::query_failed("checking a cited posting"))?;
        }
    }
    let new = NewRequest {
        from_organization_id: b.from_organization_id,
        to_organization_id: to,
        subject: b.subject,
        message: b.message,
        sector: b.sector.map(|s| s.0),
        crisis_id: b.crisis_id,
        need_id: b.need_id,
        offer_id: b.offer_id,
    }
    .validate(Cited {
        crisis_known,
        need_owner: owners[0],
        offer_owner: owners[1],
    })
    .map_err(invalid_fields)?;
    let cap = i64::from(state.contact_requests_per_day);
    match queries::create_request(&mut conn, &new, caller.user_id, cap)
        .await
        .map_err(db::query_failed("sending a contact request"))?
    {
        Created::Sent(request) => {
            tracing::info!(
                contact_request = %request.id,
                from = %request.from_organization_id,
                to = %request.to_organization_id,
                "contact request sent"
            );
            Ok(private(
                HttpResponse::Created()
                    .insert_header((
                        header::LOCATION,
                        format!("/v1/contact-requests/{}", request.id),
                    ))
                    .json(ContactRequestView::from(*request)),
            ))
        }
        Created::CapReached { retry_at } => Err(ApiError::RateLimited {
            detail: format!(
                "This organization has sent {cap} contact requests in the last 24 hours, the most allowed; it may send another at {}.",
                retry_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            retry_after_secs: u64::try_from((retry_at - Utc::now()).num_seconds().max(1))
                .unwrap_or(1),
        }),
        Created::Duplicate => Err(ApiError::Conflict(
            "A contact request between these two organizations is already pending: wait for its answer, or withdraw it first.".to_owned(),
        )),
        Created::SenderGone => Err(super::organizations::organization_not_found()),
        Created::RecipientGone => Err(ApiError::Conflict(
            "The organization was merged into another while this request was sent, and nothing was sent: read it again (its id now leads to the survivor) and ask there.".to_owned(),
        )),
        // Removed after it was checked: as if it had been gone before.
        Created::CitationGone(field) => Err(invalid_fields(vec![crate::error::FieldError::new(
            field,
            "was removed while the request was being sent",
        )])),
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BoxParam {
    /// Received by the caller's organizations.
    Inbox,
    /// Sent by them.
    Outbox,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactRequestQuery {
    /// `inbox` or `outbox`; both when absent.
    #[param(inline)]
    #[serde(rename = "box")]
    pub mailbox: Option<BoxParam>,
    /// Only requests in this status.
    #[param(inline)]
    pub status: Option<RequestStatus>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// List contact requests
///
/// The requests of every organization the caller belongs to, newest first.
#[utoipa::path(
    tag = "introductions",
    operation_id = "list_contact_requests",
    security(("bearer" = [])),
    params(ContactRequestQuery),
    responses(
        (status = 200, description = "A page of requests", body = Page<ContactRequestView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "A parameter is invalid (box, status, limit, cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contact-requests")]
pub async fn list_contact_requests(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    query: Query<ContactRequestQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, before) = paging::seq_position("contact-requests", q.limit, q.cursor.as_deref())?;
    let mailbox = match q.mailbox {
        Some(BoxParam::Inbox) => Mailbox::Inbox,
        Some(BoxParam::Outbox) => Mailbox::Outbox,
        None => Mailbox::Both,
    };
    let mut conn = db::connection(&pool).await?;
    let mine = memberships(&mut conn, caller).await?;
    let rows = queries::list_requests(
        &mut conn,
        &mine,
        mailbox,
        q.status.map(Status::from),
        before,
        limit,
    )
    .await
    .map_err(db::query_failed("listing contact requests"))?;
    Ok(private(paging::respond_seq(
        &req,
        "contact-requests",
        rows,
        limit,
        |r| r.seq,
        ContactRequestView::from,
    )))
}

/// Read a contact request
///
/// The two parties' members only.
#[utoipa::path(
    tag = "introductions",
    operation_id = "get_contact_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = ContactRequestView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request between organizations the caller belongs to", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contact-requests/{id}")]
pub async fn get_contact_request(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let mut conn = db::connection(&pool).await?;
    let (request, _) = load_for_party(&mut conn, caller, id).await?;
    Ok(private(
        HttpResponse::Ok().json(ContactRequestView::from(request)),
    ))
}

async fn decide(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    decision: Decision,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let mut conn = db::connection(&pool).await?;
    let (request, mine) = load_for_party(&mut conn, caller, id).await?;
    let not_pending = |status: Status| {
        ApiError::Conflict(format!(
            "This request is {} already: only a pending request can be accepted, declined or withdrawn.",
            status.as_str()
        ))
    };
    decision
        .check(request.sides(&mine), request.status)
        .map_err(|refusal| match refusal {
            Refusal::WrongSide(why) => ApiError::Forbidden(why.to_owned()),
            Refusal::NotPending(status) => not_pending(status),
        })?;
    match queries::decide(&mut conn, id, decision, caller.user_id)
        .await
        .map_err(db::query_failed("deciding on a contact request"))?
    {
        Decided::Done(request) => {
            tracing::info!(
                contact_request = %request.id,
                status = request.status.as_str(),
                "contact request decided"
            );
            Ok(private(
                HttpResponse::Ok().json(ContactRequestView::from(*request)),
            ))
        }
        // Decided by someone else between the read and the update.
        Decided::Stale(status) => Err(not_pending(status)),
        Decided::Missing => Err(request_not_found()),
    }
}

/// Accept a contact request
///
/// By a member of the organization that received it, while it is pending. Each side may then
/// see the other's contact persons (every such view is recorded), and the two may exchange
/// messages. The asking organization is notified.
#[utoipa::path(
    tag = "introductions",
    operation_id = "accept_contact_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "Accepted", body = ContactRequestView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is on the asking side", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request between organizations the caller belongs to", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is no longer pending", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contact-requests/{id}/accept")]
pub async fn accept_contact_request(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(caller, pool, path, Decision::Accept).await
}

/// Decline a contact request
///
/// By a member of the organization that received it, while it is pending. No contact is
/// released. The asking organization is notified.
#[utoipa::path(
    tag = "introductions",
    operation_id = "decline_contact_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "Declined", body = ContactRequestView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is on the asking side", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request between organizations the caller belongs to", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is no longer pending", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contact-requests/{id}/decline")]
pub async fn decline_contact_request(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(caller, pool, path, Decision::Decline).await
}

/// Withdraw a contact request
///
/// By a member of the organization that sent it, while it is pending. The organization asked
/// is notified.
#[utoipa::path(
    tag = "introductions",
    operation_id = "withdraw_contact_request",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "Withdrawn", body = ContactRequestView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is on the receiving side", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request between organizations the caller belongs to", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is no longer pending", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contact-requests/{id}/withdraw")]
pub async fn withdraw_contact_request(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(caller, pool, path, Decision::Withdraw).await
}

/// A message of a contact request's thread.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub contact_request_id: Uuid,
    pub body: String,
    pub author_organization_id: Uuid,
    /// Null once the author's account is erased.
    pub author_user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            id: m.id,
            contact_request_id: m.contact_request_id,
            body: m.body,
            author_organization_id: m.author_organization_id,
            author_user_id: m.author_user_id,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessageRequest {
    /// Not blank; at most 5000 characters.
    #[schema(
        max_length = 5000,
        example = "We can start on Monday: who should our doctors call?"
    )]
    pub body: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// Read a thread
///
/// The messages between the two parties, oldest first. Empty until the request is accepted.
#[utoipa::path(
    tag = "introductions",
    operation_id = "list_messages",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id"), PageQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<MessageView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "The id is not a UUID, or a parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request between organizations the caller belongs to", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contact-requests/{id}/messages")]
pub async fn list_messages(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let q = query.into_inner();
    let (limit, after) = paging::seq_position("messages", q.limit, q.cursor.as_deref())?;
    let mut conn = db::connection(&pool).await?;
    load_for_party(&mut conn, caller, id).await?;
    let rows = queries::list_messages(&mut conn, id, after, limit)
        .await
        .map_err(db::query_failed("listing messages"))?;
    Ok(private(paging::respond_seq(
        &req,
        "messages",
        rows,
        limit,
        |m| m.seq,
        MessageView::from,
    )))
}

/// Write to a thread
///
/// By a member of either party, once the request is accepted. The other side is notified.
#[utoipa::path(
    tag = "introductions",
    operation_id = "create_message",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body = CreateMessageRequest,
    responses(
        (status = 201, description = "Posted", body = MessageView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request between organizations the caller belongs to", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is not accepted (yet, or any more)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body is blank or too long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contact-requests/{id}/messages")]
pub async fn create_message(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    body: Json<CreateMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let text = message_body(&body.0.body).map_err(invalid_fields)?;
    let mut conn = db::connection(&pool).await?;
    let (request, mine) = load_for_party(&mut conn, caller, id).await?;
    // A member of both organizations writes as the asking one.
    let author = if request.sides(&mine).sender {
        request.from_organization_id
    } else {
        request.to_organization_id
    };
    match queries::post_message(&mut conn, id, author, caller.user_id, &text)
        .await
        .map_err(db::query_failed("posting a message"))?
    {
        Posted::Posted(message) => Ok(private(
            HttpResponse::Created().json(MessageView::from(message)),
        )),
        Posted::NotAccepted(status) => Err(ApiError::Conflict(format!(
            "This request is {}: messages can be exchanged once it is accepted.",
            status.as_str()
        ))),
        Posted::Missing => Err(request_not_found()),
    }
}

/// What a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum NotificationKindView {
    #[serde(rename = "contact_request.received")]
    RequestReceived,
    #[serde(rename = "contact_request.accepted")]
    RequestAccepted,
    #[serde(rename = "contact_request.declined")]
    RequestDeclined,
    #[serde(rename = "contact_request.withdrawn")]
    RequestWithdrawn,
    #[serde(rename = "message.received")]
    MessageReceived,
}

impl From<NotificationKind> for NotificationKindView {
    fn from(k: NotificationKind) -> Self {
        match k {
            NotificationKind::RequestReceived => NotificationKindView::RequestReceived,
            NotificationKind::RequestAccepted => NotificationKindView::RequestAccepted,
            NotificationKind::RequestDeclined => NotificationKindView::RequestDeclined,
            NotificationKind::RequestWithdrawn => NotificationKindView::RequestWithdrawn,
            NotificationKind::MessageReceived => NotificationKindView::MessageReceived,
        }
    }
}

/// Something that happened to one of the caller's organizations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// The organization it is addressed to.
    pub organization_id: Uuid,
    pub kind: NotificationKindView,
    pub contact_request_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Whether the caller has marked it read, and when.
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            organization_id: n.organization_id,
            kind: n.kind.into(),
            contact_request_id: n.contact_request_id,
            message_id: n.message_id,
            created_at: n.created_at,
            read: n.read_at.is_some(),
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// `true`: only the ones the caller has not read.
    pub unread: Option<bool>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// List notifications
///
/// Notifications of every organization the caller belongs to, newest first: requests
/// received, decisions on the ones sent, and messages. Each member marks them read for
/// themselves.
#[utoipa::path(
    tag = "introductions",
    operation_id = "list_notifications",
    security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications", body = Page<NotificationView>, headers(("Link" = String, description = "`<url>; rel=\"next\"` when more follow"))),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notifications")]
pub async fn list_notifications(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    query: Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, before) = paging::seq_position("notifications", q.limit, q.cursor.as_deref())?;
    let mut conn = db::connection(&pool).await?;
    let rows = queries::list_notifications(
        &mut conn,
        caller.user_id,
        q.unread.unwrap_or(false),
        before,
        limit,
    )
    .await
    .map_err(db::query_failed("listing notifications"))?;
    Ok(private(paging::respond_seq(
        &req,
        "notifications",
        rows,
        limit,
        |n| n.seq,
        NotificationView::from,
    )))
}

/// Mark a notification read
///
/// For the caller only; other members still see it unread. Marking again changes nothing.
#[utoipa::path(
    tag = "introductions",
    operation_id = "mark_notification_read",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The notification's id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification for the caller's organizations", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notifications/{id}/read")]
pub async fn mark_notification_read(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &path.into_inner())?;
    let mut conn = db::connection(&pool).await?;
    if queries::mark_read(&mut conn, caller.user_id, id)
        .await
        .map_err(db::query_failed("marking a notification read"))?
    {
        Ok(private(HttpResponse::NoContent().finish()))
    } else {
        Err(ApiError::not_found(
            "No notification has this id for the organizations you belong to.",
        ))
    }
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_contact_request)
        .service(list_contact_requests)
        .service(get_contact_request)
        .service(accept_contact_request)
        .service(decline_contact_request)
        .service(withdraw_contact_request)
        .service(list_messages)
        .service(create_message)
        .service(list_notifications)
        .service(mark_notification_read);
}
