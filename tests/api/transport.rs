//! Transport rules: request ids, compression, CORS.

use crate::harness::TestApp;

#[tokio::test]
async fn a_sane_client_request_id_is_echoed() {
    let app = TestApp::spawn().await;
    for path in ["/v1/countries/HTI", "/nope"] {
        let res = app
            .client
            .get(app.url(path))
            .header("x-request-id", "field-office-42:abc.DEF_1")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["x-request-id"].to_str().unwrap(),
            "field-office-42:abc.DEF_1",
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_absent_or_insane_request_id_is_replaced_by_a_uuid() {
    let app = TestApp::spawn().await;
    let too_long = "x".repeat(129);
    for sent in [
        None,
        Some("has space"),
        Some(too_long.as_str()),
        Some("<script>"),
    ] {
        let mut req = app.client.get(app.url("/healthz"));
        if let Some(id) = sent {
            req = req.header("x-request-id", id);
        }
        let res = req.send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{sent:?} → {id}");
    }
    let a = app.get("/healthz").await.headers()["x-request-id"].clone();
    let b = app.get("/healthz").await.headers()["x-request-id"].clone();
    assert_ne!(a, b, "each request gets its own id");
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let plain = app.get("/v1/languages").await;
    assert!(!plain.headers().contains_key("content-encoding"));
    let plain_len = plain.bytes().await.unwrap().len();
    for encoding in ["gzip", "br"] {
        let res = app
            .client
            .get(app.url("/v1/languages"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-encoding"], encoding);
        let compressed_len = res.bytes().await.unwrap().len();
        assert!(
            compressed_len * 4 < plain_len,
            "{encoding}: {compressed_len} bytes vs {plain_len} plain"
        );
    }
    // Problems are compressed too, and stay problems.
    let res = app
        .client
        .get(app.url("/nope"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn only_allowed_origins_may_call_from_a_browser() {
    // The test configuration allows https://ops.example.org.
    let app = TestApp::spawn().await;
    let allowed = app
        .client
        .get(app.url("/v1/countries/HTI"))
        .header("origin", "https://ops.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://ops.example.org"
    );
    let exposed = allowed.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(exposed.contains("x-request-id"));

    let other = app
        .client
        .get(app.url("/v1/countries/HTI"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        !other.headers().contains_key("access-control-allow-origin"),
        "no CORS grant for an unlisted origin"
    );

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/countries"))
        .header("origin", "https://ops.example.org")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://ops.example.org"
    );

    let hostile_preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/countries"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(
        !hostile_preflight
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn responses_forbid_content_sniffing() {
    let app = TestApp::spawn().await;
    for path in ["/v1/countries/HTI", "/nope"] {
        let res = app.get(path).await;
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
    }
}
