//! The HTTP layer: routes, request/response types, the OpenAPI document. The only part of the
//! crate that knows actix.
//!
//! Every route is registered through utoipa-actix-web's `service(...)`, which is what puts it in
//! the OpenAPI document: a handler without `#[utoipa::path]` does not compile there, so the spec
//! cannot miss a route. The spec in turn drives the 404/405 fallback.

pub mod accounts;
pub mod auth;
pub mod changes;
pub mod codes;
pub mod contacts;
pub mod crises;
pub mod discovery;
pub mod download;
pub mod duplicates;
pub mod engagements;
pub mod exports;
pub mod extract;
pub mod health;
pub mod introductions;
pub mod members;
pub mod merges;
pub mod metrics;
pub mod middleware;
pub mod organizations;
pub mod paging;
pub mod postings;
pub mod privacy;
pub mod problem;
pub mod reference;
pub mod server;
pub mod stats;

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, get, web};
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use secrecy::ExposeSecret;

use crate::auth::passwords::Passwords;
use crate::auth::tokens::AccessTokens;
use crate::config::Config;
use crate::db::Pool;
use crate::error::ApiError;
use problem::{PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Diaspora Directory API",
        description = "Where diaspora organizations and humanitarian actors find each other and coordinate.\n\n\
            Conventions: JSON bodies with snake_case fields; countries as ISO 3166-1 alpha-3 (alpha-2 accepted \
            on input, any case); languages as ISO 639-1, else 639-3; lists as `{data, next_cursor, total}`; \
            every error as RFC 9457 `application/problem+json` with a stable `code`. Every response carries \
            `X-Request-Id`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "accounts", description = "Accounts, sign-in, tokens"),
        (name = "discovery", description = "Finding organizations: filters, full-text search, facets"),
        (name = "organizations", description = "Profiles of diaspora organizations and humanitarian actors, and their members"),
        (name = "contacts", description = "Named contact persons: private to an organization's members, moderators, and partners it accepted an introduction with"),
        (name = "crises", description = "Crises (GLIDE numbers, hazards, affected countries): registered by moderators, read by all"),
        (name = "needs and offers", description = "What organizations need in a place and what they can give there, and the counterparts that match each"),
        (name = "introductions", description = "Contact requests between organizations, their message threads, and notifications"),
        (name = "moderation", description = "Moderators: verification decisions and the audit log"),
        (name = "reference", description = "Read-only reference data: countries, languages, sectors, kinds of support and of organization"),
        (name = "integrators", description = "Mirroring and measuring the directory: the change feed, bulk exports and statistics"),
        (name = "operations", description = "Health probes and this document"),
    ),
    components(schemas(Problem, discovery::FacetName))
)]
struct ApiDoc;

/// The `bearer` security scheme protected operations refer to.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        api.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from POST /v1/auth/login or /v1/auth/refresh (15 minutes).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Registers every API route. Both the server and the spec come from this one function.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/v1")
            .configure(reference::routes)
            .configure(accounts::routes)
            .configure(privacy::routes)
            .configure(discovery::routes)
            .configure(organizations::routes)
            .configure(members::routes)
            .configure(contacts::routes)
            .configure(introductions::routes)
            .configure(crises::routes)
            .configure(engagements::routes)
            .configure(postings::routes)
            .configure(changes::routes)
            .configure(stats::routes)
            .configure(exports::routes)
            .configure(duplicates::routes)
            .configure(merges::routes),
    )
    .service(health::healthz)
    .service(health::readyz)
    .service(metrics::metrics)
    .service(openapi_document);
}

/// The OpenAPI 3.1 document of the service, generated from the handlers.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for (path, item) in api.paths.paths.iter_mut() {
        if let Some(get) = item.get.as_mut() {
            document_conditional_get(get);
        }
        let under_organization = merges::organization_key(path).is_some();
        if under_organization {
            if let Some(get) = item.get.as_mut() {
                document_merged_redirect(get);
            }
            for write in [
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ] {
                if let Some(op) = write.as_mut() {
                    document_merged_conflict(op);
                }
            }
        }
        for op in operations_mut(item) {
            // Any route may fail with a problem; the specific statuses are listed per route.
            op.responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| RefOr::T(problem_response("Any other error")));
        }
    }
    api
}

/// The document as served at `/openapi.json`, printed by `openapi` and committed as
/// `openapi/openapi.json`: the same bytes everywhere.
pub fn openapi_json() -> String {
    document_json(&api_doc())
}

fn document_json(api: &utoipa::openapi::OpenApi) -> String {
    let mut json = serde_json::to_string_pretty(api).unwrap_or_default();
    json.push('\n');
    json
}

/// What `merges::redirect_merged` does to writes, in the document: a 409 naming the survivor.
fn document_merged_conflict(op: &mut Operation) {
    const MERGED: &str = "the organization was merged into another (the detail names it)";
    match op.responses.responses.get_mut("409") {
        Some(RefOr::T(conflict)) => {
            if !conflict.description.contains(MERGED) {
                conflict.description = format!("{}; or {MERGED}", conflict.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let description = format!("Not done: {MERGED}");
            op.responses
                .responses
                .insert("409".to_owned(), RefOr::T(problem_response(&description)));
        }
    }
}

/// What `merges::redirect_merged` does to reads, in the document: a merged organization's id or
/// slug answers 308 to the same route under its survivor.
fn document_merged_redirect(op: &mut Operation) {
    use utoipa::openapi::header::Header;
    use utoipa::openapi::{Object, Type};
    let mut location = Header::new(Object::with_type(Type::String));
    location.description = Some(
        "The same route (and query) under the survivor: its id, or its slug for a slug".into(),
    );
    op.responses.responses.insert(
        "308".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "The organization was merged into another: repeat the request (same method and body) at `Location`",
                )
                .header("Location", location)
                .build(),
        ),
    );
}

/// What `middleware::conditional_get` does, in the document: an `ETag` on every 200, and 304
/// for a matching `If-None-Match`.
fn document_conditional_get(op: &mut Operation) {
    use utoipa::openapi::header::Header;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{Object, Required, Type};
    if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
        let mut etag = Header::new(Object::with_type(Type::String));
        etag.description =
            Some("Entity tag of this representation (weak), for If-None-Match.".into());
        ok.headers.insert("ETag".to_owned(), etag);
    }
    op.responses.responses.insert(
        "304".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "Not modified: the representation still has the ETag sent in If-None-Match",
                )
                .build(),
        ),
    );
    op.parameters.get_or_insert_with(Vec::new).push(
        ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "ETags the client holds; a match answers 304 with no body.",
            ))
            .schema(Some(Object::with_type(Type::String)))
            .build(),
    );
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            Content::new(Some(RefOr::<utoipa::openapi::schema::Schema>::Ref(
                Ref::from_schema_name("Problem"),
            ))),
        )
        .build()
}

fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut Operation> + '_ {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Path templates and their methods, from the spec: tells "no such route" (404) from "no such
/// method on this route" (405 with `Allow`).
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<String>)>,
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param,
}

impl RouteTable {
    pub fn from_spec(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_owned())
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods the route matching `path` accepts; empty when no route matches.
    pub fn allowed_methods(&self, path: &str) -> Vec<String> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut allowed: Vec<String> = self
            .routes
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| match s {
                        Segment::Literal(l) => l == p,
                        Segment::Param => !p.is_empty(),
                    })
            })
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        allowed
    }
}

/// What every worker shares.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    /// The OpenAPI document, serialized once at start.
    pub spec_json: Arc<str>,
    pub route_table: Arc<RouteTable>,
    pub cors_allowed_origins: Arc<Vec<String>>,
    pub access_tokens: AccessTokens,
    pub passwords: Passwords,
    /// Password hashes in flight at once (see `accounts::hashing`).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Keys the throttling counters' hashes (derived from `JWT_SECRET`).
    pub throttle_secret: Arc<[u8]>,
    /// Signs list cursors (derived from `JWT_SECRET`).
    pub cursor_secret: Arc<[u8]>,
    /// Totals and facet counts of discovery queries.
    pub counts: discovery::CountCache,
    /// New contact requests an organization may send in any 24 hours.
    pub contact_requests_per_day: u32,
    /// Days after which a contact person's consent is due for review.
    pub consent_review_days: u32,
    /// Request counts and latencies, for `GET /metrics`.
    pub metrics: metrics::Metrics,
    /// Bulk exports streaming at once (each holds a permit until its last byte).
    pub exports: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(pool: Pool, config: &Config) -> Result<Self, String> {
        let api = api_doc();
        Ok(AppState {
            pool,
            spec_json: document_json(&api).into(),
            route_table: Arc::new(RouteTable::from_spec(&api)),
            cors_allowed_origins: Arc::new(config.http.cors_allowed_origins.clone()),
            access_tokens: AccessTokens::new(config.jwt.secret.expose_secret().as_bytes()),
            passwords: Passwords::new(&config.argon2)?,
            throttle_secret: {
                use sha2::Digest;
                let digest = sha2::Sha256::new()
                    .chain_update(b"diaspora-directory throttle keys\n")
                    .chain_update(config.jwt.secret.expose_secret().as_bytes())
                    .finalize();
                Arc::from(digest.as_slice())
            },
            cursor_secret: {
                use sha2::Digest;
                let digest = sha2::Sha256::new()
                    .chain_update(b"diaspora-directory list cursors\n")
                    .chain_update(config.jwt.secret.expose_secret().as_bytes())
                    .finalize();
                Arc::from(digest.as_slice())
            },
            counts: discovery::CountCache::default(),
            contact_requests_per_day: config.limits.contact_requests_per_day,
            consent_review_days: config.limits.consent_review_days,
            metrics: metrics::Metrics::new().map_err(|e| format!("registering metrics: {e}"))?,
            exports: Arc::new(tokio::sync::Semaphore::new(exports::CONCURRENT_EXPORTS)),
            hashing: Arc::new(tokio::sync::Semaphore::new(
                2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        })
    }
}

/// The OpenAPI document
///
/// This API's OpenAPI 3.1 document: the same bytes as `openapi/openapi.json` in the repository.
#[utoipa::path(
    tag = "operations",
    operation_id = "openapi_document",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
async fn openapi_document(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .body(state.spec_json.to_string())
}

/// Unmatched requests: 405 with `Allow` when the path exists with other methods, else 404.
async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let allow = state.route_table.allowed_methods(req.path());
    Err(if allow.is_empty() {
        ApiError::not_found(
            "No resource at this path. The API's routes are listed at /openapi.json and /docs.",
        )
    } else {
        ApiError::MethodNotAllowed {
            detail: format!(
                "{} is not supported here; use {}.",
                req.method(),
                allow.join(" or ")
            ),
            allow,
        }
    })
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        // A disallowed origin gets no CORS headers (the browser then refuses to expose the
        // response) rather than an error: same-origin calls, such as /docs trying the API,
        // carry an Origin header too.
        .block_on_origin_mismatch(false)
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            middleware::REQUEST_ID_HEADER,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            middleware::REQUEST_ID_HEADER,
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The complete application: routes, shared state, extractor error handlers, documentation,
/// fallback and middleware.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(routes)
        .split_for_parts();
    let cors = cors(&state.cors_allowed_origins);
    app.app_data(web::Data::new(state.pool.clone()))
        .app_data(web::Data::new(state.clone()))
        .configure(extract::configure)
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
        )
        .service(web::resource("/docs").route(web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/docs/"))
                .finish()
        })))
        .default_service(web::to(fallback))
        .wrap(from_fn(merges::redirect_merged))
        // Last wrapped runs first: compression outermost, so the request context sees (and logs)
        // the final status and can still rewrite error bodies before they are compressed.
        .wrap(cors)
        .wrap(from_fn(middleware::conditional_get))
        // Browsers must not sniff a JSON body into something executable.
        .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
        .wrap(from_fn(middleware::request_context))
        .wrap(Compress::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_tells_404_from_405() {
        let table = RouteTable::from_spec(&api_doc());
        assert_eq!(table.allowed_methods("/v1/countries"), vec!["GET", "HEAD"]);
        assert_eq!(
            table.allowed_methods("/v1/countries/HTI"),
            vec!["GET", "HEAD"]
        );
        assert!(table.allowed_methods("/v1/nowhere").is_empty());
        assert!(table.allowed_methods("/v1/countries/HTI/extra").is_empty());
    }

    #[test]
    fn every_operation_documents_problem_errors() {
        let mut api = api_doc();
        for (path, item) in api.paths.paths.iter_mut() {
            for op in operations_mut(item) {
                assert!(
                    op.responses.responses.contains_key("default"),
                    "{path} lacks a default problem response"
                );
                assert!(op.operation_id.is_some(), "{path} has no operation id");
            }
        }
    }
}
