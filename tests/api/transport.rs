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
    assert_eq!(res.headers()["content-encoding"], "gzip");
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

#[tokio::test]
async fn gets_carry_an_etag_and_a_matching_if_none_match_is_a_304() {
    let app = TestApp::spawn().await;
    for path in ["/v1/countries/HTI", "/v1/languages", "/v1/sectors"] {
        let first = app.get(path).await;
        assert_eq!(first.status(), 200);
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with("W/\""), "{path}: {etag}");
        let body = first.bytes().await.unwrap();

        let again = app.get(path).await;
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag, "stable");
        assert_eq!(again.bytes().await.unwrap(), body);

        let cached = app
            .client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(cached.status(), 304, "{path}");
        assert_eq!(cached.headers()["etag"].to_str().unwrap(), etag);
        assert!(cached.headers().contains_key("x-request-id"));
        assert!(cached.bytes().await.unwrap().is_empty());

        let stale = app
            .client
            .get(app.url(path))
            .header("if-none-match", "W/\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 200, "{path}");
    }
    // Different representations, different tags; compression does not change the (weak) tag.
    let hti = app.get("/v1/countries/HTI").await.headers()["etag"].clone();
    let pak = app.get("/v1/countries/PAK").await.headers()["etag"].clone();
    assert_ne!(hti, pak);
    let gzipped = app
        .client
        .get(app.url("/v1/countries/HTI"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["etag"], hti);
    // Errors carry no tag.
    assert!(!app.get("/nope").await.headers().contains_key("etag"));
}

#[tokio::test]
async fn without_allowed_origins_no_origin_gets_cors_access() {
    let db = crate::harness::TestDb::migrated().await;
    let mut config = crate::harness::test_config(&db.url);
    config.http.cors_allowed_origins.clear();
    let addr = crate::harness::start_server(config);
    let res = crate::harness::client()
        .get(format!("http://{addr}/v1/countries/HTI"))
        .header("origin", "https://ops.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "same-origin and non-browser calls still work"
    );
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
