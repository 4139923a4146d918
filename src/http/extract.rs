//! Request extractors whose every failure is an [`ApiError`] naming the offending field, plus
//! error handlers that route actix's built-in extractors through the same type.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Largest JSON body accepted. Profiles are text, not files: 64 KiB is generous.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Query string parameters, deserialized strictly: an unknown parameter is a 400 (a typo such as
/// `sectr=health` must not silently return everything), and a bad value names its parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = url::form_urlencoded::parse(query.as_bytes());
    let de = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        match unknown_field(&message) {
            Some(field) => ApiError::InvalidParameter {
                detail: format!("Unknown query parameter `{field}`: {message}"),
                errors: vec![FieldError::new(field, "unknown parameter")],
            },
            None if path != "." => ApiError::bad_parameter(&path, message),
            None => ApiError::bad_request(format!("Malformed query string: {message}")),
        }
    })
}

/// serde's "... unknown field `x`, expected ..." → `x`.
fn unknown_field(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("unknown field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// For `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>` field of a
/// partial update: absent is `None` (unchanged), `null` is `Some(None)` (cleared).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option<T>` field of a partial
/// update whose value may be left out but not cleared: `null` is refused (422) instead of being
/// read as "unchanged".
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <T as serde::Deserialize>::deserialize(d).map(Some)
}

/// A JSON request body: `Content-Type: application/json` (or `+json`) is required (415),
/// at most [`MAX_JSON_BODY`] bytes (413), syntactically valid (400) and of the right shape (422,
/// naming the field).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == mime::APPLICATION
                    && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
            });
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|len| len > MAX_JSON_BODY);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "Send the body as JSON with `Content-Type: application/json`.".to_owned(),
                ));
            }
            if declared_too_large {
                return Err(too_large());
            }
            let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => too_large(),
                _ => ApiError::bad_request("The request body could not be read."),
            })?;
            if bytes.len() > MAX_JSON_BODY {
                return Err(too_large());
            }
            parse_json(&bytes).map(Json)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                let message = strip_position(&inner.to_string());
                ApiError::validation(
                    format!("Field `{field}`: {message}"),
                    vec![FieldError::new(field, message)],
                )
            }
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request(format!("The body is not valid JSON: {inner}"))
            }
        }
    })?;
    // Trailing garbage after the document is a syntax error too.
    de.end()
        .map_err(|e| ApiError::bad_request(format!("The body is not valid JSON: {e}")))?;
    Ok(value)
}

/// serde_json appends " at line 1 column 7" to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "The request body is larger than the {MAX_JSON_BODY}-byte limit."
    ))
}

/// Body limits and error handlers for every extractor, app-wide: a handler using actix's own
/// `web::Path`, `web::Query` or `web::Json` still answers in problem+json.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_JSON_BODY)
                .error_handler(json_error),
        )
        .app_data(web::PayloadConfig::new(MAX_JSON_BODY));
}

/// Error handler for actix's `web::Path`.
pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::bad_parameter("path", format!("invalid path parameter: {err}")).into()
}

/// Error handler for actix's `web::Query`.
pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    let field = unknown_field(&message).unwrap_or_else(|| "query".to_owned());
    ApiError::bad_parameter(&field, message).into()
}

/// Error handler for actix's `web::Json`.
pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            too_large()
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "Send the body as JSON with `Content-Type: application/json`.".to_owned(),
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            let message = strip_position(&e.to_string());
            ApiError::validation(
                format!("The body has an invalid field: {message}"),
                vec![FieldError::new("body", message)],
            )
        }
        other => ApiError::bad_request(format!("The body is not valid JSON: {other}")),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::test as atest;
    use actix_web::{App, HttpResponse, post, web};
    use serde::Deserialize;

    use super::*;
    use crate::error::ErrorCode;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Filter {
        region: Option<String>,
        limit: Option<u8>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        tags: Vec<String>,
    }

    #[test]
    fn unknown_query_parameters_are_rejected_by_name() {
        let err = parse_query::<Filter>("regoin=Asia").unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert_eq!(err.field_errors()[0].field, "regoin");
    }

    #[test]
    fn bad_query_values_name_their_parameter() {
        let err = parse_query::<Filter>("limit=many").unwrap_err();
        assert_eq!(err.field_errors()[0].field, "limit");
        let ok = parse_query::<Filter>("region=Asia&limit=5").unwrap();
        assert_eq!(ok.limit, Some(5));
    }

    #[test]
    fn json_errors_distinguish_syntax_from_shape() {
        let syntax = parse_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!(syntax.code(), ErrorCode::BadRequest);
        let shape = parse_json::<Body>(br#"{"name": "x", "tags": [1]}"#).unwrap_err();
        assert_eq!(shape.code(), ErrorCode::ValidationFailed);
        assert_eq!(shape.field_errors()[0].field, "tags[0]");
        let trailing = parse_json::<Body>(br#"{"name": "x", "tags": []} x"#).unwrap_err();
        assert_eq!(trailing.code(), ErrorCode::BadRequest);
    }

    #[post("/own-json")]
    async fn own_json(body: Json<Body>) -> HttpResponse {
        HttpResponse::Ok().body(body.0.name)
    }

    async fn actix_json(body: web::Json<Body>) -> HttpResponse {
        HttpResponse::Ok().body(body.0.name)
    }

    async fn actix_query(query: web::Query<Filter>) -> HttpResponse {
        HttpResponse::Ok().body(format!("{:?}", query.0.limit))
    }

    async fn actix_path(n: web::Path<u32>) -> HttpResponse {
        HttpResponse::Ok().body(n.to_string())
    }

    /// Sends `req` through the production extractor configuration and request middleware.
    async fn call(req: atest::TestRequest) -> (StatusCode, serde_json::Value) {
        let app = atest::init_service(
            App::new()
                .configure(configure)
                .service(own_json)
                .route("/actix-json", web::post().to(actix_json))
                .route("/actix-query", web::get().to(actix_query))
                .route("/actix-path/{n}", web::get().to(actix_path))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::middleware::request_context,
                )),
        )
        .await;
        let res = atest::call_service(&app, req.to_request()).await;
        let status = res.status();
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = atest::read_body(res).await;
        if status.is_success() {
            return (status, serde_json::Value::Null);
        }
        assert_eq!(ct.as_deref(), Some(crate::http::problem::PROBLEM_JSON));
        (status, serde_json::from_slice(&body).unwrap())
    }

    fn post(uri: &str, content_type: &str, body: impl Into<String>) -> atest::TestRequest {
        atest::TestRequest::post()
            .uri(uri)
            .insert_header(("content-type", content_type))
            .set_payload(body.into())
    }

    #[actix_web::test]
    async fn both_json_extractors_answer_every_failure_in_problem_json() {
        let big = format!(r#"{{"name": "{}", "tags": []}}"#, "x".repeat(MAX_JSON_BODY));
        for uri in ["/own-json", "/actix-json"] {
            let (s, _) = call(post(
                uri,
                "application/json",
                r#"{"name": "ok", "tags": []}"#,
            ))
            .await;
            assert_eq!(s, StatusCode::OK, "{uri}");

            let (s, b) = call(post(uri, "text/plain", "{}")).await;
            assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{uri}");
            assert_eq!(b["code"], "unsupported_media_type");

            let (s, b) = call(post(uri, "application/json", "{not json")).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(b["code"], "bad_request");

            let (s, b) = call(post(uri, "application/json", r#"{"name": 5, "tags": []}"#)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
            assert_eq!(b["code"], "validation_failed");
            assert!(b["errors"][0]["field"].is_string(), "{uri}: {b}");

            let (s, b) = call(post(uri, "application/json", big.clone())).await;
            assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{uri}");
            assert_eq!(b["code"], "payload_too_large");
        }
        // Ours also names the exact field.
        let (_, b) = call(post(
            "/own-json",
            "application/json",
            r#"{"name": "x", "tags": [1]}"#,
        ))
        .await;
        assert_eq!(b["errors"][0]["field"], "tags[0]");
    }

    #[actix_web::test]
    async fn actix_query_and_path_extractors_answer_in_problem_json() {
        let (s, b) = call(atest::TestRequest::get().uri("/actix-query?limit=many")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(b["code"], "validation_failed");
        let (s, b) = call(atest::TestRequest::get().uri("/actix-query?regoin=x")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(b["errors"][0]["field"], "regoin");
        let (s, b) = call(atest::TestRequest::get().uri("/actix-path/abc")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(b["code"], "validation_failed");
        let (s, _) = call(atest::TestRequest::get().uri("/actix-path/7")).await;
        assert_eq!(s, StatusCode::OK);
    }
}
