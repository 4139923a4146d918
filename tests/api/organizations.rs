//! Organizations: profiles, visibility, partial updates with preconditions, archiving,
//! mass-assignment defences, and the audit trail of every change.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

fn haiti_health() -> Value {
    json!({
        "name": "Asosyasyon Sante Dyaspora",
        "acronym": "ASD",
        "kind": "diaspora-organization",
        "description": "Haitian doctors and nurses in Florida.\nOnline consultations in Creole.",
        "alternate_names": [{"name": "Association Santé Diaspora", "language": "FR"}],
        "founded_year": 2010,
        "residence_country": "us",
        "city": "Miami",
        "origin_countries": ["ht"],
        "operating_countries": ["HTI", "do"],
        "capabilities": [
            {"sector": "health", "support_types": ["telehealth-helpline", "professional-expertise"], "description": "Tele-consultations"},
            {"sector": "health-mhpss", "support_types": ["professional-expertise"]}
        ],
        "languages": ["ht", "fra", "en"],
        "website": "https://sante-dyaspora.example.org",
        "public_email": " Info@Sante-Dyaspora.example.org ",
        "public_phone": "+1 305 555 0100",
        "identifiers": [{"scheme": "us-ein", "value": "12-3456789"}],
        "members_count": 120,
        "volunteers_count": 45,
        "challenges": ["funding", "logistics"],
        "interests": ["partnerships"]
    })
}

fn minimal(name: &str) -> Value {
    json!({"name": name, "kind": "diaspora-organization"})
}

fn path_of(org: &Value) -> String {
    format!("/v1/organizations/{}", org["id"].as_str().unwrap())
}

fn etag(res: &reqwest::Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn creating_returns_the_normalised_profile_with_location_and_makes_the_creator_owner() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let res = app
        .post_as("/v1/organizations", &token, &haiti_health())
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(res.headers()["etag"].to_str().unwrap().starts_with('"'));
    let org: Value = res.json().await.unwrap();
    assert_eq!(location, path_of(&org));
    assert_eq!(org["slug"], "asosyasyon-sante-dyaspora");
    assert_eq!(org["status"], "draft");
    assert_eq!(org["verification"]["status"], "unverified");
    assert_eq!(org["residence_country"], "USA");
    assert_eq!(org["origin_countries"], json!(["HTI"]));
    assert_eq!(org["operating_countries"], json!(["HTI", "DOM"]));
    assert_eq!(org["languages"], json!(["ht", "fr", "en"]));
    assert_eq!(org["alternate_names"][0]["language"], "fr");
    assert_eq!(org["public_email"], "info@sante-dyaspora.example.org");
    assert_eq!(org["identifiers"][0]["scheme"], "US-EIN");
    assert_eq!(org["capabilities"][1]["sector"], "health-mhpss");
    assert_eq!(org["capabilities"][1]["description"], Value::Null);

    // The owner reads it back by the Location and by its slug.
    let by_id: Value = app.get_as(&location, &token).await.json().await.unwrap();
    assert_eq!(by_id, org);
    let by_slug = app
        .get_as("/v1/organizations/asosyasyon-sante-dyaspora", &token)
        .await;
    assert_eq!(by_slug.status(), 200);

    let me: Value = app.get_as("/v1/me", &token).await.json().await.unwrap();
    assert_eq!(
        me["memberships"],
        json!([{"organization_id": org["id"], "name": "Asosyasyon Sante Dyaspora", "role": "owner"}])
    );
}

#[tokio::test]
async fn creating_needs_a_signed_in_account() {
    let app = TestApp::spawn().await;
    let res = app.post_json("/v1/organizations", &minimal("X")).await;
    assert_problem(res, 401, "unauthorized").await;

    // A valid token whose account was deleted since.
    let token = app.token("gone@example.org").await;
    app.sql("DELETE FROM users WHERE email = 'gone@example.org'")
        .await;
    let res = app
        .post_as("/v1/organizations", &token, &minimal("X"))
        .await;
    assert_problem(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn every_invalid_field_is_named_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let res = app
        .post_as(
            "/v1/organizations",
            &token,
            &json!({
                "name": " ",
                "kind": "club",
                "origin_countries": ["HT", "XX"],
                "residence_country": "ZZZ",
                "languages": ["ht", "xx"],
                "capabilities": [
                    {"sector": "health", "support_types": []},
                    {"sector": "health", "support_types": ["beer"]}
                ],
                "website": "javascript:alert(1)",
                "public_email": "not-an-email",
                "public_phone": "call me",
                "identifiers": [{"scheme": "EIN", "value": "1"}],
                "founded_year": 1500,
                "members_count": -3,
                "challenges": ["boredom"],
                "description": "x".repeat(5001)
            }),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "name",
        "kind",
        "origin_countries[1]",
        "residence_country",
        "languages[1]",
        "capabilities[0].support_types",
        "capabilities[1].sector",
        "capabilities[1].support_types[0]",
        "website",
        "public_email",
        "public_phone",
        "identifiers[0].scheme",
        "founded_year",
        "members_count",
        "challenges[0]",
        "description",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    let me: Value = app.get_as("/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["memberships"], json!([]));
}

#[tokio::test]
async fn codes_with_nul_or_odd_characters_are_named_not_a_server_error() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let mut body = minimal("Odd Codes");
    body["origin_countries"] = json!(["H\u{0}", "ÉT", ""]);
    body["languages"] = json!(["\u{0}"]);
    let res = app.post_as("/v1/organizations", &token, &body).await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    let text = problem["errors"].to_string();
    for f in [
        "origin_countries[0]",
        "origin_countries[1]",
        "origin_countries[2]",
        "languages[0]",
    ] {
        assert!(text.contains(f), "{f} in {text}");
    }
}

#[tokio::test]
async fn lists_and_strings_are_bounded() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let mut body = minimal("Bounded");
    body["origin_countries"] = json!(vec!["HT"; 21]);
    body["name"] = json!("n".repeat(201));
    let res = app.post_as("/v1/organizations", &token, &body).await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    let text = problem["errors"].to_string();
    assert!(text.contains("origin_countries") && text.contains("at most 20"));
    // An oversized list gets one error, not one per item.
    assert!(!text.contains("origin_countries[0]"), "{text}");
    assert!(text.contains("\"name\""));
}

#[tokio::test]
async fn drafts_are_invisible_to_everyone_but_members_and_moderators() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let stranger = app.token("stranger@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let org = app
        .create_organization(&owner, minimal("Quiet Draft"))
        .await;
    let path = path_of(&org);

    for res in [
        app.get(&path).await,
        app.get("/v1/organizations/quiet-draft").await,
        app.get_as(&path, &stranger).await,
    ] {
        assert_problem(res, 404, "not_found").await;
    }
    assert_eq!(app.get_as(&path, &owner).await.status(), 200);
    assert_eq!(app.get_as(&path, &moderator).await.status(), 200);

    let res = app
        .patch_as(&path, &owner, &json!({"status": "published"}))
        .await;
    assert_eq!(res.status(), 200);
    let public = app.get(&path).await;
    assert_eq!(public.status(), 200);
    let public: Value = public.json().await.unwrap();
    assert_eq!(public["status"], "published");
    assert_eq!(app.get("/v1/organizations/quiet-draft").await.status(), 200);
}

#[tokio::test]
async fn an_invalid_token_on_a_public_read_is_refused_not_ignored() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let mut body = minimal("Public");
    body["status"] = json!("published");
    let org = app.create_organization(&owner, body).await;
    let res = app.get_as(&path_of(&org), "not-a-token").await;
    assert_problem(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn slugs_are_unique_and_survive_renaming() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let first = app
        .create_organization(&token, minimal("Fundación Rumiñahui"))
        .await;
    let second = app
        .create_organization(&token, minimal("Fundacion Ruminahui"))
        .await;
    assert_eq!(first["slug"], "fundacion-ruminahui");
    assert_eq!(second["slug"], "fundacion-ruminahui-2");

    let res = app
        .patch_as(
            &path_of(&first),
            &token,
            &json!({"name": "Rumiñahui Europa"}),
        )
        .await;
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["name"], "Rumiñahui Europa");
    assert_eq!(renamed["slug"], "fundacion-ruminahui");
    let res = app
        .get_as("/v1/organizations/fundacion-ruminahui", &token)
        .await;
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["id"], first["id"]);
    // Slugs with a suffix beyond the 60 characters a name gives are still found.
    let long = "a".repeat(70);
    app.create_organization(&token, minimal(&long)).await;
    let second = app.create_organization(&token, minimal(&long)).await;
    let slug = second["slug"].as_str().unwrap();
    assert_eq!(slug.len(), 62);
    let found = app
        .get_as(&format!("/v1/organizations/{slug}"), &token)
        .await;
    assert_eq!(found.status(), 200);
    // The slug itself is not writable.
    let res = app
        .patch_as(&path_of(&first), &token, &json!({"slug": "mine"}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn patch_changes_only_what_is_sent_and_null_clears() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let org = app.create_organization(&token, haiti_health()).await;
    let res = app
        .patch_as(
            &path_of(&org),
            &token,
            &json!({"city": null, "languages": ["es"], "members_count": 150}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["city"], Value::Null);
    assert_eq!(updated["languages"], json!(["es"]));
    assert_eq!(updated["members_count"], 150);
    for unchanged in [
        "name",
        "acronym",
        "capabilities",
        "origin_countries",
        "website",
    ] {
        assert_eq!(updated[unchanged], org[unchanged], "{unchanged}");
    }
    // A required field cannot be cleared.
    let res = app
        .patch_as(&path_of(&org), &token, &json!({"name": null}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn if_match_refuses_a_stale_write_and_if_none_match_answers_304() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let org = app.create_organization(&token, minimal("Versioned")).await;
    let path = path_of(&org);
    let read = app.get_as(&path, &token).await;
    let first_tag = etag(&read);

    let res = app
        .request(Method::GET, &path, Some(&token))
        .header("if-none-match", &first_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    let res = app
        .request(Method::PATCH, &path, Some(&token))
        .header("if-match", &first_tag)
        .json(&json!({"city": "Quito"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let second_tag = etag(&res);
    assert_ne!(second_tag, first_tag);

    // Someone who read before that change is refused, and the change stands.
    let res = app
        .request(Method::PATCH, &path, Some(&token))
        .header("if-match", &first_tag)
        .json(&json!({"city": "Guayaquil"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let res = app
        .request(Method::DELETE, &path, Some(&token))
        .header("if-match", &first_tag)
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let now: Value = app.get_as(&path, &token).await.json().await.unwrap();
    assert_eq!(now["city"], "Quito");
    assert_eq!(now["status"], "draft");

    let res = app
        .request(Method::GET, &path, Some(&token))
        .header("if-none-match", &first_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn members_cannot_verify_or_suspend_their_own_organization() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let verified = json!({"status": "verified", "verified_at": "2026-01-01T00:00:00Z", "verified_until": "2099-01-01T00:00:00Z"});

    let mut body = minimal("Self Verified");
    body["verification"] = verified.clone();
    let res = app.post_as("/v1/organizations", &token, &body).await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert!(problem["detail"].as_str().unwrap().contains("verification"));
    for status in ["suspended", "archived", "verified"] {
        let mut body = minimal("Self Suspended");
        body["status"] = json!(status);
        let res = app.post_as("/v1/organizations", &token, &body).await;
        assert_problem(res, 422, "validation_failed").await;
    }
    for field in ["id", "created_at", "verified_until"] {
        let mut body = minimal("Sneaky");
        body[field] = json!("2099-01-01T00:00:00Z");
        let res = app.post_as("/v1/organizations", &token, &body).await;
        assert_problem(res, 422, "validation_failed").await;
    }
    let me: Value = app.get_as("/v1/me", &token).await.json().await.unwrap();
    assert_eq!(
        me["memberships"],
        json!([]),
        "no refused request created anything"
    );

    let org = app.create_organization(&token, minimal("Honest")).await;
    let path = path_of(&org);
    let res = app
        .patch_as(&path, &token, &json!({"verification": verified}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let res = app
        .patch_as(&path, &token, &json!({"status": "suspended"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let now: Value = app.get_as(&path, &token).await.json().await.unwrap();
    assert_eq!(now["verification"]["status"], "unverified");
    assert_eq!(now["status"], "draft");
}

#[tokio::test]
async fn moderators_suspend_and_only_they_lift_a_suspension() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let mut body = minimal("Abusive");
    body["status"] = json!("published");
    let org = app.create_organization(&owner, body).await;
    let path = path_of(&org);

    let res = app
        .patch_as(&path, &moderator, &json!({"status": "suspended"}))
        .await;
    assert_eq!(res.status(), 200);
    assert_problem(app.get(&path).await, 404, "not_found").await;
    // The owners still see it, but can neither edit it, archive it nor republish it.
    let seen: Value = app.get_as(&path, &owner).await.json().await.unwrap();
    assert_eq!(seen["status"], "suspended");
    for body in [json!({"status": "published"}), json!({"city": "Paris"})] {
        let res = app.patch_as(&path, &owner, &body).await;
        assert_problem(res, 403, "forbidden").await;
    }
    assert_problem(app.delete_as(&path, &owner).await, 403, "forbidden").await;

    let res = app
        .patch_as(&path, &moderator, &json!({"status": "published"}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get(&path).await.status(), 200);
}

#[tokio::test]
async fn another_organizations_member_can_neither_edit_archive_nor_see_drafts() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice@example.org").await;
    let bob = app.token("bob@example.org").await;
    let mut body = minimal("Alice Published");
    body["status"] = json!("published");
    let published = app.create_organization(&alice, body).await;
    let draft = app
        .create_organization(&alice, minimal("Alice Draft"))
        .await;
    app.create_organization(&bob, minimal("Bob's Own")).await;

    let res = app
        .patch_as(&path_of(&published), &bob, &json!({"name": "Pwned"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    assert_problem(
        app.delete_as(&path_of(&published), &bob).await,
        403,
        "forbidden",
    )
    .await;
    // A draft does not exist for Bob at all.
    let res = app
        .patch_as(&path_of(&draft), &bob, &json!({"name": "Pwned"}))
        .await;
    assert_problem(res, 404, "not_found").await;
    assert_problem(
        app.delete_as(&path_of(&draft), &bob).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.get_as(&path_of(&draft), &bob).await, 404, "not_found").await;

    let untouched: Value = app
        .get_as(&path_of(&published), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(untouched["name"], "Alice Published");
    assert_eq!(untouched["status"], "published");
}

#[tokio::test]
async fn archiving_hides_the_profile_but_keeps_it_for_its_members() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let mut body = minimal("Closing Down");
    body["status"] = json!("published");
    let org = app.create_organization(&owner, body).await;
    let path = path_of(&org);

    assert_eq!(app.delete_as(&path, &owner).await.status(), 204);
    assert_problem(app.get(&path).await, 404, "not_found").await;
    let kept: Value = app.get_as(&path, &owner).await.json().await.unwrap();
    assert_eq!(kept["status"], "archived");
    assert_eq!(kept["name"], "Closing Down");
    // Again: nothing more to do.
    assert_eq!(app.delete_as(&path, &owner).await.status(), 204);
    // Its members may publish it again.
    let res = app
        .patch_as(&path, &owner, &json!({"status": "published"}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get(&path).await.status(), 200);
}

#[tokio::test]
async fn a_path_id_that_is_not_a_uuid_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let res = app
        .patch_as("/v1/organizations/not-a-uuid", &token, &json!({}))
        .await;
    let body = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "id");
    // Reading by a slug that cannot exist is simply not found.
    assert_problem(
        app.get("/v1/organizations/NOT%20A%20SLUG").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_for_moderators_only() {
    let app = TestApp::spawn().await;
    let owner_account = app.register("owner@example.org").await;
    let owner = app.login("owner@example.org").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let moderator = app.moderator_token("mod@example.org").await;
    let org = app.create_organization(&owner, minimal("Audited")).await;
    let path = path_of(&org);
    app.patch_as(
        &path,
        &owner,
        &json!({"city": "Madrid", "status": "published"}),
    )
    .await;
    app.patch_as(&path, &moderator, &json!({"status": "suspended"}))
        .await;

    let audit_path = format!(
        "/v1/admin/audit-log?organization_id={}",
        org["id"].as_str().unwrap()
    );
    assert_problem(app.get_as(&audit_path, &owner).await, 403, "forbidden").await;
    assert_problem(app.get(&audit_path).await, 401, "unauthorized").await;

    let log: Value = app
        .get_as(&audit_path, &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["total"], 3);
    let entries = log["data"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "organization.updated",
            "organization.updated",
            "organization.created"
        ]
    );
    assert_eq!(entries[0]["as_moderator"], true);
    assert_eq!(
        entries[0]["details"]["status"],
        json!({"from": "published", "to": "suspended"})
    );
    assert_eq!(entries[1]["actor_id"], owner_account["id"]);
    assert_eq!(entries[1]["as_moderator"], false);
    assert_eq!(entries[1]["details"]["fields"], json!(["city"]));

    // Paging: one entry per page, following the cursor and the Link header.
    let res = app
        .get_as(&format!("{audit_path}&limit=1"), &moderator)
        .await;
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    assert!(next.contains("cursor="), "{link}");
    let page2: Value = app.get_as(&next, &moderator).await.json().await.unwrap();
    assert_eq!(page2["data"][0]["id"], entries[1]["id"]);

    let res = app
        .get_as("/v1/admin/audit-log?cursor=garbage", &moderator)
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = app
        .get_as("/v1/admin/audit-log?limit=1000", &moderator)
        .await;
    assert_problem(res, 400, "validation_failed").await;
}

#[tokio::test]
async fn a_removed_moderator_loses_the_right_at_once() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    assert_eq!(
        app.get_as("/v1/admin/audit-log", &moderator).await.status(),
        200
    );
    app.sql("UPDATE users SET is_moderator = false WHERE email = 'mod@example.org'")
        .await;
    let res = app.get_as("/v1/admin/audit-log", &moderator).await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn oversized_malformed_and_mistyped_bodies_are_refused_before_anything_is_stored() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let mut huge = minimal("Huge");
    huge["description"] = json!("x".repeat(70 * 1024));
    let res = app.post_as("/v1/organizations", &token, &huge).await;
    assert_problem(res, 413, "payload_too_large").await;
    let res = app
        .request(Method::POST, "/v1/organizations", Some(&token))
        .header("content-type", "application/json")
        .body("{\"name\": \"Broken\", ")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "bad_request").await;
    let res = app
        .request(Method::POST, "/v1/organizations", Some(&token))
        .header("content-type", "text/plain")
        .body(minimal("Plain").to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = app
        .post_as(
            "/v1/organizations",
            &token,
            &json!({"name": 42, "kind": "other"}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "name");
    let me: Value = app.get_as("/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["memberships"], json!([]));
}
