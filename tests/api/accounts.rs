//! Accounts and sign-in: registration, login (enumeration-safe, throttled), tokens (tampered,
//! expired, wrong algorithm), refresh rotation and re-use detection, logout, moderators.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TEST_JWT_SECRET, TestApp, assert_problem};
use diaspora_directory::auth::tokens::{AUDIENCE, ISSUER};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn registration_normalises_the_email_and_never_returns_the_password() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "  Marie@Example.ORG ", "password": PASSWORD, "display_name": " Marie "}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"], "/v1/me");
    let text = res.text().await.unwrap();
    assert!(
        !text.contains(PASSWORD) && !text.contains("argon2"),
        "{text}"
    );
    let user: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(user["email"], "marie@example.org");
    assert_eq!(user["display_name"], "Marie");
    assert_eq!(user["is_moderator"], false);
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());

    // Stored as an Argon2id hash, never in clear.
    let stored = stored_password_hash(&app).await;
    assert!(stored.starts_with("$argon2id$"));
    assert!(!stored.contains(PASSWORD));
}

/// The password hash of the only account in the test's database.
async fn stored_password_hash(app: &TestApp) -> String {
    #[derive(diesel::QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Text)]
        password_hash: String,
    }
    let mut conn = app.db.connect().await;
    let stored: Hash = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT password_hash FROM users"),
        &mut conn,
    )
    .await
    .unwrap();
    stored.password_hash
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.register("amara@example.org").await;
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "AMARA@example.org", "password": PASSWORD, "display_name": "Other"}),
        )
        .await;
    assert_problem(res, 409, "conflict").await;
}

#[tokio::test]
async fn invalid_registrations_name_every_bad_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "not-an-email", "password": "short", "display_name": ""}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["display_name", "email", "password"]);
    let long = "x".repeat(129);
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "a@example.org", "password": long, "display_name": "A"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "password");
}

#[tokio::test]
async fn registration_cannot_make_a_moderator() {
    let app = TestApp::spawn().await;
    // Mass assignment: an unknown field is refused, not silently ignored.
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "eve@example.org", "password": PASSWORD, "display_name": "Eve", "is_moderator": true}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert!(body["detail"].as_str().unwrap().contains("is_moderator"));
    // And nothing was created.
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "eve@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "bad_request").await;
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let huge = json!({"email": "a@example.org", "password": "x".repeat(70_000)});
    assert_problem(
        app.post_json("/v1/auth/login", &huge).await,
        413,
        "payload_too_large",
    )
    .await;
    let res = app
        .post_json("/v1/auth/login", &json!({"email": 5, "password": []}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn login_returns_a_bearer_token_pair_that_opens_me() {
    let app = TestApp::spawn().await;
    app.register("kofi@example.org").await;
    let pair = app.login("KOFI@example.org").await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a JWT");
    assert!(pair["refresh_token"].as_str().unwrap().len() >= 40);

    let res = app.get_as("/v1/me", access).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["email"], "kofi@example.org");
    assert_eq!(me["memberships"], json!([]));
}

#[tokio::test]
async fn wrong_email_and_wrong_password_are_indistinguishable() {
    let app = TestApp::spawn().await;
    app.register("lina@example.org").await;
    let wrong_password = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "lina@example.org", "password": "not the password at all"}),
        )
        .await;
    let no_account = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "nobody@example.org", "password": "not the password at all"}),
        )
        .await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(no_account.status(), 401);
    assert_eq!(
        wrong_password.headers()["www-authenticate"],
        no_account.headers()["www-authenticate"]
    );
    let a: Value = wrong_password.json().await.unwrap();
    let b: Value = no_account.json().await.unwrap();
    assert_eq!(a, b, "same status, same body");
    // Something that is no email address at all gets the very same answer, not a 422.
    let malformed = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "not an address", "password": "not the password at all"}),
        )
        .await;
    assert_eq!(malformed.status(), 401);
    let c: Value = malformed.json().await.unwrap();
    assert_eq!(a, c);
}

#[tokio::test]
async fn a_hash_made_at_an_older_cost_is_upgraded_at_sign_in() {
    let app = TestApp::spawn().await;
    let user = app.register("old-hash@example.org").await;
    let older = diaspora_directory::auth::passwords::Passwords::new(
        &diaspora_directory::config::Argon2Config {
            memory_kib: 32,
            iterations: 1,
            parallelism: 1,
        },
    )
    .unwrap()
    .hash(PASSWORD)
    .unwrap();
    let mut conn = app.db.connect().await;
    let set = diesel::sql_query("UPDATE users SET password_hash = $1 WHERE id = $2::uuid")
        .bind::<diesel::sql_types::Text, _>(&older)
        .bind::<diesel::sql_types::Text, _>(user["id"].as_str().unwrap());
    diesel_async::RunQueryDsl::execute(set, &mut conn)
        .await
        .unwrap();
    app.login("old-hash@example.org").await;
    let now = stored_password_hash(&app).await;
    assert!(now.contains("m=64,t=1,p=1"), "{now}");
    app.login("old-hash@example.org").await;
}

#[tokio::test]
async fn repeated_failures_for_an_account_are_throttled_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    app.register("target@example.org").await;
    for _ in 0..5 {
        let res = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": "target@example.org", "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "target@example.org", "password": PASSWORD}),
        )
        .await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_problem(res, 429, "rate_limited").await;
    // A non-existent account is throttled the same way: no enumeration through the limit.
    for _ in 0..5 {
        app.post_json(
            "/v1/auth/login",
            &json!({"email": "ghost@example.org", "password": "guess guess guess"}),
        )
        .await;
    }
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ghost@example.org", "password": "guess guess guess"}),
        )
        .await;
    assert_eq!(res.status(), 429);
    // Other accounts from the same address are not locked out by these 10 failures.
    app.register("bystander@example.org").await;
    app.login("bystander@example.org").await;
    // Nor is the owner, signing in from elsewhere: a stranger cannot lock someone out.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let res = elsewhere
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": " TARGET@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the owner from another address");
}

#[tokio::test]
async fn the_account_throttle_counts_case_and_whitespace_variants_together() {
    let app = TestApp::spawn().await;
    app.register("variant@example.org").await;
    for email in [
        "variant@example.org",
        "VARIANT@example.org",
        " variant@EXAMPLE.org",
        "Variant@Example.Org ",
        "variant@example.ORG",
    ] {
        let res = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": email, "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "variant@example.org", "password": PASSWORD}),
        )
        .await;
    assert_problem(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn registrations_from_one_address_are_throttled() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        app.register(&format!("bulk{i}@example.org")).await;
    }
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "bulk-last@example.org", "password": PASSWORD, "display_name": "Bulk"}),
        )
        .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn one_address_failing_against_many_accounts_is_throttled() {
    let app = TestApp::spawn().await;
    for i in 0..30 {
        let res = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": format!("spray{i}@example.org"), "password": "Summer2026!!"}),
            )
            .await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "spray-last@example.org", "password": "Summer2026!!"}),
        )
        .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited").await;
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn tampered_expired_foreign_and_unsigned_tokens_are_401() {
    let app = TestApp::spawn().await;
    let user = app.register("tok@example.org").await;
    let valid = app.login("tok@example.org").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = |iat: i64, exp: i64| json!({"sub": user["id"], "iat": iat, "exp": exp, "iss": ISSUER, "aud": AUDIENCE, "moderator": true});
    let secret = TEST_JWT_SECRET.as_bytes();
    // Sanity: a token we sign ourselves like the server does is accepted.
    let forged_ok = sign(&claims(now(), now() + 600), Algorithm::HS256, secret);
    assert_eq!(app.get_as("/v1/me", &forged_ok).await.status(), 200);

    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(claims(now(), now() + 600).to_string());
    let tampered = parts.join(".");
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!(
        "{header}.{}.",
        URL_SAFE_NO_PAD.encode(claims(now(), now() + 600).to_string())
    );
    let cases = [
        ("tampered payload", tampered),
        (
            "expired",
            sign(
                &claims(now() - 7200, now() - 3600),
                Algorithm::HS256,
                secret,
            ),
        ),
        (
            "other key",
            sign(
                &claims(now(), now() + 600),
                Algorithm::HS256,
                b"some-other-secret-some-other-secret",
            ),
        ),
        (
            "other algorithm",
            sign(&claims(now(), now() + 600), Algorithm::HS512, secret),
        ),
        ("alg none", unsigned),
        (
            "wrong audience",
            sign(
                &json!({"sub": user["id"], "iat": now(), "exp": now() + 600, "iss": ISSUER, "aud": "someone-else"}),
                Algorithm::HS256,
                secret,
            ),
        ),
        (
            "wrong issuer",
            sign(
                &json!({"sub": user["id"], "iat": now(), "exp": now() + 600, "iss": "someone-else", "aud": AUDIENCE}),
                Algorithm::HS256,
                secret,
            ),
        ),
        (
            "no subject",
            sign(
                &json!({"iat": now(), "exp": now() + 600, "iss": ISSUER, "aud": AUDIENCE}),
                Algorithm::HS256,
                secret,
            ),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (what, token) in cases {
        let res = app.get_as("/v1/me", &token).await;
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{what}");
        assert_problem(res, 401, "unauthorized").await;
    }
    // No header, or another scheme.
    assert_problem(app.get("/v1/me").await, 401, "unauthorized").await;
    let res = app
        .client
        .get(app.url("/v1/me"))
        .header("authorization", format!("Basic {valid}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/v1/auth/refresh", &json!({"refresh_token": token}))
        .await
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_stops_working() {
    let app = TestApp::spawn().await;
    app.register("rot@example.org").await;
    let first = app.login("rot@example.org").await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let res = refresh(&app, r1).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert_eq!(
        app.get_as("/v1/me", second["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let third: Value = refresh(&app, r2).await.json().await.unwrap();
    assert!(third["refresh_token"].is_string());
    assert_problem(refresh(&app, "made-up-token").await, 401, "unauthorized").await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    app.register("stolen@example.org").await;
    let login = app.login("stolen@example.org").await;
    let stolen = login["refresh_token"].as_str().unwrap().to_owned();
    // The legitimate client rotates...
    let legit: Value = refresh(&app, &stolen).await.json().await.unwrap();
    let legit_next = legit["refresh_token"].as_str().unwrap().to_owned();
    // ...then the thief replays the copy: refused, and the family is burnt.
    let body = assert_problem(refresh(&app, &stolen).await, 401, "unauthorized").await;
    assert!(body["detail"].as_str().unwrap().contains("already used"));
    assert_problem(refresh(&app, &legit_next).await, 401, "unauthorized").await;
    // Another session of the same user is untouched.
    let other = app.login("stolen@example.org").await;
    assert_eq!(
        refresh(&app, other["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_rotate_once() {
    let app = TestApp::spawn().await;
    app.register("race@example.org").await;
    let token = app.login("race@example.org").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (a, b) = tokio::join!(refresh(&app, &token), refresh(&app, &token));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "one rotation, one re-use");
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = TestApp::spawn().await;
    app.register("bye@example.org").await;
    let pair = app.login("bye@example.org").await;
    let token = pair["refresh_token"].as_str().unwrap();
    let res = app
        .post_json("/v1/auth/logout", &json!({"refresh_token": token}))
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(refresh(&app, token).await, 401, "unauthorized").await;
    // Signing out with an older token of the session ends the newest one too.
    let pair = app.login("bye@example.org").await;
    let old = pair["refresh_token"].as_str().unwrap().to_owned();
    let newer: Value = refresh(&app, &old).await.json().await.unwrap();
    let newest = newer["refresh_token"].as_str().unwrap();
    let res = app
        .post_json("/v1/auth/logout", &json!({"refresh_token": old}))
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(refresh(&app, newest).await, 401, "unauthorized").await;
    // Unknown tokens sign out quietly too.
    let res = app
        .post_json("/v1/auth/logout", &json!({"refresh_token": "unknown"}))
        .await;
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_cannot_exceed_the_limit() {
    let app = TestApp::spawn().await;
    app.register("burst@example.org").await;
    let bodies: Vec<Value> = (0..20)
        .map(|i| json!({"email": "burst@example.org", "password": format!("guess number {i}")}))
        .collect();
    let guesses = bodies.iter().map(|b| app.post_json("/v1/auth/login", b));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let tried = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(tried + refused, 20, "{statuses:?}");
    assert!(tried <= 5, "{tried} guesses were tried: {statuses:?}");
}
