//! Crises: moderators register them with GLIDE numbers; everyone reads and filters them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

fn haiti() -> Value {
    json!({
        "name": "Séisme d'Haïti 2021", "glide": "eq-2021-000116-hti", "type": "EQ",
        "countries": ["ht"], "started_on": "2021-08-14",
        "description": "Magnitude 7.2 earthquake in the Tiburon peninsula"
    })
}

async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post_as("/v1/crises", token, &body).await;
    assert_eq!(res.status(), 201, "registering {body}");
    res.json().await.unwrap()
}

fn field_names(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn moderators_register_crises_and_everyone_reads_them() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let res = app.post_as("/v1/crises", &moderator, &haiti()).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let tag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with("\"1-"), "{tag}");
    let crisis: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/crises/{}", crisis["id"].as_str().unwrap())
    );
    assert_eq!(crisis["glide"], "EQ-2021-000116-HTI");
    assert_eq!(crisis["countries"], json!(["HTI"]));
    assert_eq!(crisis["type"], "EQ");
    assert_eq!(crisis["status"], "active");
    assert_eq!(crisis["slug"], "seisme-d-haiti-2021");
    assert!(crisis["ended_on"].is_null());

    // Public, by id or slug.
    assert_eq!(
        crisis["engaged_organizations"],
        json!({"total": 0, "by_sector": []})
    );
    let read = app.get(&location).await;
    assert_eq!(read.headers()["etag"].to_str().unwrap(), tag);
    let by_id: Value = read.json().await.unwrap();
    assert_eq!(by_id, crisis);
    let by_slug: Value = app
        .get("/v1/crises/seisme-d-haiti-2021")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_slug, crisis);
    assert_problem(app.get("/v1/crises/nowhere").await, 404, "not_found").await;

    register(
        &app,
        &moderator,
        json!({"name": "Pakistan floods 2022", "glide": "FL-2022-000254-PAK", "type": "FL",
               "countries": ["PAK"], "started_on": "2022-06-14", "ended_on": "2022-10-31",
               "status": "closed"}),
    )
    .await;
    register(
        &app,
        &moderator,
        json!({"name": "Cholera in Haiti", "type": "EP", "countries": ["HTI", "DOM"],
               "started_on": "2022-10-02"}),
    )
    .await;
    let list = |query: &'static str| {
        let app = &app;
        async move {
            let res = app.get(&format!("/v1/crises?{query}")).await;
            assert_eq!(res.status(), 200, "{query}");
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        names(&list("").await),
        [
            "Cholera in Haiti",
            "Pakistan floods 2022",
            "Séisme d'Haïti 2021"
        ]
    );
    assert_eq!(
        names(&list("country=HT").await),
        ["Cholera in Haiti", "Séisme d'Haïti 2021"]
    );
    assert_eq!(
        names(&list("status=closed").await),
        ["Pakistan floods 2022"]
    );
    assert_eq!(names(&list("type=eq,fl").await).len(), 2);
    assert_eq!(names(&list("q=seisme").await), ["Séisme d'Haïti 2021"]);
    assert_eq!(
        names(&list("q=EQ-2021-000116").await),
        ["Séisme d'Haïti 2021"]
    );
    assert_eq!(names(&list("q=tiburon").await), ["Séisme d'Haïti 2021"]);
    assert_eq!(
        list("q=100%25").await["total"],
        0,
        "a % is a character, not a wildcard"
    );
    let page = list("limit=2").await;
    assert_eq!(page["total"], 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/crises?limit=2&cursor={cursor}"))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(names(&rest), ["Séisme d'Haïti 2021"]);
    for bad in ["country=XX", "type=ZZ", "status=over", "cursor=nope"] {
        let res = app.get(&format!("/v1/crises?{bad}")).await;
        assert_problem(res, 400, "validation_failed").await;
    }
}

#[tokio::test]
async fn only_moderators_register_or_edit_crises() {
    let app = TestApp::spawn().await;
    let member = app.token("member@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let res = app.post_json("/v1/crises", &haiti()).await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app.post_as("/v1/crises", &member, &haiti()).await;
    assert_problem(res, 403, "forbidden").await;
    let crisis = register(&app, &moderator, haiti()).await;
    let path = format!("/v1/crises/{}", crisis["id"].as_str().unwrap());
    let res = app
        .patch_as(&path, &member, &json!({"status": "closed"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    // Fields no one writes.
    let res = app
        .patch_as(&path, &moderator, &json!({"slug": "other"}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn glide_numbers_are_checked_for_form_hazard_country_and_uniqueness() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let cases = [
        (json!({"glide": "EQ-2021-116-HTI"}), vec!["glide"]),
        (json!({"glide": "EQ-2021-000116-DOM"}), vec!["glide"]),
        (json!({"glide": "FL-2021-000116-HTI"}), vec!["glide"]),
        (json!({"type": "ZZ", "glide": null}), vec!["type"]),
        (json!({"countries": []}), vec!["countries", "glide"]),
        (json!({"countries": ["XX"]}), vec!["countries[0]", "glide"]),
        (json!({"ended_on": "2021-08-01"}), vec!["ended_on"]),
        (json!({"name": " "}), vec!["name"]),
    ];
    for (change, fields) in cases {
        let mut body = haiti();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.post_as("/v1/crises", &moderator, &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(field_names(&problem), fields, "{change}");
    }
    register(&app, &moderator, haiti()).await;
    let mut again = haiti();
    again["name"] = json!("Same earthquake, registered twice");
    let res = app.post_as("/v1/crises", &moderator, &again).await;
    assert_problem(res, 409, "conflict").await;
    // Without a GLIDE number, a second crisis of the same name gets its own slug.
    let mut unnumbered = haiti();
    unnumbered["glide"] = Value::Null;
    let second = register(&app, &moderator, unnumbered).await;
    assert_eq!(second["slug"], "seisme-d-haiti-2021-2");
}

#[tokio::test]
async fn moderators_edit_crises_partially_and_with_preconditions() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let crisis = register(&app, &moderator, haiti()).await;
    let path = format!("/v1/crises/{}", crisis["slug"].as_str().unwrap());
    let first_tag = app.get(&path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let res = app
        .request(Method::PATCH, &path, Some(&moderator))
        .header("if-match", &first_tag)
        .json(&json!({"status": "closed", "ended_on": "2022-02-14", "description": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["etag"].to_str().unwrap().starts_with("\"2-"));
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["ended_on"], "2022-02-14");
    assert!(closed["description"].is_null());
    assert_eq!(closed["glide"], "EQ-2021-000116-HTI", "left out, kept");

    let res = app
        .request(Method::PATCH, &path, Some(&moderator))
        .header("if-match", &first_tag)
        .json(&json!({"name": "Stale"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    // The whole crisis is checked again: a new type needs a GLIDE number of that hazard.
    let res = app
        .patch_as(&path, &moderator, &json!({"type": "TS"}))
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(field_names(&problem), ["glide"]);
    let res = app
        .patch_as(&path, &moderator, &json!({"type": "TS", "glide": null}))
        .await;
    assert_eq!(res.status(), 200);
    let audit: Value = app
        .get_as("/v1/admin/audit-log", &moderator)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["crisis.updated", "crisis.updated", "crisis.created"]
    );
}

#[tokio::test]
async fn a_contact_request_may_name_a_registered_crisis() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let crisis = register(&app, &moderator, haiti()).await;
    let ngo_owner = app.token("ngo@example.org").await;
    let group_owner = app.token("group@example.org").await;
    let ngo = app
        .create_organization(
            &ngo_owner,
            json!({"name": "NGO", "kind": "national-ngo", "status": "published"}),
        )
        .await;
    let group = app
        .create_organization(
            &group_owner,
            json!({"name": "Group", "kind": "diaspora-organization", "status": "published"}),
        )
        .await;
    let res = app
        .post_as(
            &format!(
                "/v1/organizations/{}/contact-requests",
                group["id"].as_str().unwrap()
            ),
            &ngo_owner,
            &json!({"from_organization_id": ngo["id"], "subject": "Shelter",
                    "message": "Can you help?", "crisis_id": crisis["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let request: Value = res.json().await.unwrap();
    assert_eq!(request["crisis_id"], crisis["id"]);
}
