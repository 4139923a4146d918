//! Every error is problem+json: unknown routes, wrong methods, bad parameters, server errors.

use diesel_async::RunQueryDsl;
use serde_json::Value;

use crate::harness::{TestApp, TestDb, assert_problem, client, start_server, test_config};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/v1", "/v1/countries/HTI/extra", "/v2/countries"] {
        assert_problem(app.get(path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (reqwest::Method::POST, "/v1/countries"),
        (reqwest::Method::DELETE, "/v1/countries/HTI"),
        (reqwest::Method::PUT, "/v1/sectors"),
        (reqwest::Method::PATCH, "/healthz"),
    ] {
        let res = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["allow"].to_str().unwrap(),
            "GET, HEAD",
            "{method} {path}"
        );
        let body = assert_problem(res, 405, "method_not_allowed").await;
        assert!(body["detail"].as_str().unwrap().contains(method.as_str()));
    }
}

#[tokio::test]
async fn an_unknown_query_parameter_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let body = assert_problem(
        app.get("/v1/countries?regoin=Asia").await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "regoin");
    // Routes without parameters refuse them too, rather than silently ignoring a typo.
    let body = assert_problem(
        app.get("/v1/sectors?parent=health").await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "parent");
}

#[tokio::test]
async fn a_malformed_query_string_is_a_400_problem() {
    let app = TestApp::spawn().await;
    // The same parameter twice cannot be one string.
    assert_problem(app.get("/v1/countries?q=a&q=b").await, 400, "bad_request").await;
}

#[tokio::test]
async fn a_non_utf8_path_parameter_is_a_400_problem() {
    let app = TestApp::spawn().await;
    // %FF is not UTF-8; actix decodes it lossily and the code's own validation refuses it.
    // (actix's own Path extractor failures are covered in src/http/extract.rs.)
    assert_problem(
        app.get("/v1/countries/%FF%FE").await,
        400,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_server_error_is_a_generic_500_problem_that_reveals_nothing() {
    let app = TestApp::spawn().await;
    // Break this test's own database under the running server.
    let mut conn = app.db.connect().await;
    diesel::sql_query("DROP TABLE support_types")
        .execute(&mut conn)
        .await
        .unwrap();
    let res = app.get("/v1/support-types").await;
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = assert_problem(res, 500, "internal").await;
    let text = body.to_string();
    for leak in [
        "support_types",
        "relation",
        "SELECT",
        "diesel",
        ".rs",
        "/src/",
        "panic",
    ] {
        assert!(!text.contains(leak), "500 body leaks {leak:?}: {text}");
    }
    assert!(
        body["detail"].as_str().unwrap().contains("X-Request-Id"),
        "tells the caller what to quote"
    );
    assert!(!request_id.is_empty());
}

#[tokio::test]
async fn readiness_is_a_503_problem_when_the_database_is_unreachable() {
    // Nothing listens on port 1: the pool cannot connect.
    let db = TestDb::unnamed();
    let mut config = test_config(&db.url);
    config.database.url = "postgres://postgres@127.0.0.1:1/nowhere".to_owned().into();
    let addr = start_server(config);
    let client = client();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "liveness does not need the database");
    let res = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "unavailable").await;
    // Data routes say the same rather than 500.
    let res = client
        .get(format!("http://{addr}/v1/countries"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 503, "unavailable").await;
}

#[tokio::test]
async fn readiness_and_liveness_answer_when_all_is_well() {
    let app = TestApp::spawn().await;
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], status);
    }
}

#[tokio::test]
async fn reference_lists_accept_the_paging_limit_but_return_every_row() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .get("/v1/countries?limit=20")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 249);
    assert_eq!(body["data"].as_array().unwrap().len(), 249);
    assert!(body["next_cursor"].is_null());
    for path in [
        "/v1/sectors?limit=5",
        "/v1/languages?limit=100&q=creole",
        "/v1/support-types?limit=1",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    for path in [
        "/v1/sectors?limit=0",
        "/v1/countries?limit=101",
        "/v1/organization-kinds?limit=x",
    ] {
        let body = assert_problem(app.get(path).await, 400, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "limit", "{path}");
    }
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let get = app.get("/v1/countries/HTI").await;
    let head = app
        .client
        .head(app.url("/v1/countries/HTI"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-type"],
        get.headers()["content-type"]
    );
    assert_eq!(head.headers()["etag"], get.headers()["etag"]);
    assert!(head.headers().contains_key("x-request-id"));
    assert!(head.bytes().await.unwrap().is_empty());
    let missing = app
        .client
        .head(app.url("/v1/countries/ZZZ"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
