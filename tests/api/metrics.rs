//! Prometheus metrics: requests counted per route pattern (never a path with ids), the pool,
//! the build.

use crate::harness::TestApp;

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_without_ids() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::new_v4();
    for _ in 0..2 {
        assert_eq!(
            app.get(&format!("/v1/organizations/{id}")).await.status(),
            404
        );
    }
    assert_eq!(app.get("/v1/countries?limit=1").await.status(), 200);
    assert_eq!(app.get("/no/such/page").await.status(), 404);
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    for line in [
        r#"http_requests_total{method="GET",route="/v1/organizations/{id}",status="404"} 2"#,
        r#"http_requests_total{method="GET",route="/v1/countries",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"http_request_duration_seconds_count{method="GET",route="/v1/organizations/{id}",status="404"} 2"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from:\n{text}"
        );
    }
    for name in [
        "db_pool_connections{state=\"in_use\"}",
        "db_pool_connections{state=\"idle\"}",
        "db_pool_waiting",
        "db_pool_max_connections",
        "build_info{",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
    assert!(
        !text.contains(&id.to_string()),
        "a path with its id became a label"
    );
    assert!(!text.contains("/no/such/page"));
}
