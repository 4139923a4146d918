//! The OpenAPI document: generated from code, committed, served, and true to the routes.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::TestApp;

const REGENERATE: &str = "cargo run --quiet -- openapi > openapi/openapi.json";

fn committed() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .unwrap_or_else(|e| panic!("openapi/openapi.json is missing ({e}); run `{REGENERATE}`"))
}

#[test]
fn the_committed_spec_matches_the_code() {
    let generated = diaspora_directory::http::openapi_json();
    assert!(
        generated == committed(),
        "openapi/openapi.json is out of date with the code: run `{REGENERATE}` and commit it"
    );
}

#[tokio::test]
async fn the_served_spec_is_the_committed_file() {
    let app = TestApp::spawn().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.text().await.unwrap(), committed());
}

fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.insert(v.as_str().unwrap().to_owned());
                }
                collect_refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_spec_is_openapi_3_1_with_resolvable_references_and_problem_errors() {
    let spec: Value = serde_json::from_str(&committed()).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut refs = BTreeSet::new();
    collect_refs(&spec, &mut refs);
    for r in &refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected ref {r}"));
        assert!(
            spec["components"]["schemas"][name].is_object(),
            "{r} does not resolve"
        );
    }
    let problem = &spec["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .contains(&Value::from(field)),
            "Problem.{field} is required"
        );
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status == "default" || status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let app = TestApp::spawn().await;
    let spec: Value = serde_json::from_str(&committed()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for expected in [
        "/v1/countries",
        "/v1/countries/{code}",
        "/v1/languages",
        "/v1/sectors",
        "/v1/support-types",
        "/v1/organization-kinds",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/me",
        "/v1/organizations",
        "/v1/organizations/{id}",
        "/v1/organizations/{id}/members",
        "/v1/organizations/{id}/members/{user_id}",
        "/v1/organizations/{id}/contacts",
        "/v1/organizations/{id}/contacts/{contact_id}",
        "/v1/organizations/{id}/verification-requests",
        "/v1/admin/organizations/{id}/verification",
        "/v1/admin/audit-log",
        "/v1/organizations/{id}/contact-requests",
        "/v1/organizations/{id}/contact-releases",
        "/v1/contact-requests",
        "/v1/contact-requests/{id}",
        "/v1/contact-requests/{id}/accept",
        "/v1/contact-requests/{id}/decline",
        "/v1/contact-requests/{id}/withdraw",
        "/v1/contact-requests/{id}/messages",
        "/v1/notifications",
        "/v1/notifications/{id}/read",
        "/v1/crises",
        "/v1/crises/{id_or_slug}",
        "/v1/crises/{id}/engagements",
        "/v1/crises/{id}/engagements/{engagement_id}",
        "/v1/crises/{id}/3w",
        "/v1/needs",
        "/v1/needs/{id}",
        "/v1/needs/{id}/matches",
        "/v1/offers",
        "/v1/offers/{id}",
        "/v1/offers/{id}/matches",
        "/v1/changes",
        "/v1/stats",
        "/metrics",
        "/v1/export/organizations",
        "/v1/me/export",
        "/v1/admin/organizations/{id}/duplicates",
        "/v1/admin/organizations/{id}/merge",
        "/v1/organizations/{id}/contacts/{contact_id}/consent-review",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    for (path, item) in paths {
        if item.get("get").is_none() {
            continue;
        }
        let concrete = path
            .replace("{code}", "HTI")
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{id_or_slug}", "00000000-0000-0000-0000-000000000000")
            .replace("{contact_id}", "00000000-0000-0000-0000-000000000000");
        let res = app.get(&concrete).await;
        let status = res.status().as_u16().to_string();
        assert!(
            item["get"]["responses"].get(&status).is_some(),
            "GET {concrete} answered {status}, which its operation does not document"
        );
        // Without credentials, a protected route refuses and an open one answers (a route
        // whose security lists `{}` takes a token but does not need one).
        let security = item["get"]["security"].as_array();
        let optional = security.is_none_or(|s| s.iter().any(|r| r == &serde_json::json!({})));
        if !optional {
            assert_eq!(res.status(), 401, "GET {concrete}");
        } else if concrete.contains("00000000-") {
            assert_eq!(res.status(), 404, "GET {concrete}");
        } else {
            assert_eq!(res.status(), 200, "GET {concrete}");
        }
    }
}

#[tokio::test]
async fn interactive_docs_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must not load anything from the internet"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let res = app.get(&format!("/docs/{asset}")).await;
        assert_eq!(res.status(), 200, "{asset}");
        if asset == "swagger-initializer.js" {
            assert!(res.text().await.unwrap().contains("\"/openapi.json\""));
        }
    }
}

#[test]
fn protected_operations_declare_the_bearer_scheme_and_401() {
    let spec: Value = serde_json::from_str(&committed()).unwrap();
    let scheme = &spec["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let me = &spec["paths"]["/v1/me"]["get"];
    assert_eq!(me["security"][0]["bearer"], serde_json::json!([]));
    assert!(me["responses"]["401"].is_object());
}
