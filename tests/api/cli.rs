//! The binary as operators use it: `--help`, `openapi`, `migrate`, `serve` (logs, SIGTERM).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{TestDb, client};

const BIN: &str = env!("CARGO_BIN_EXE_diaspora-directory");

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["openapi", "--help"],
        vec!["seed", "--help"],
        vec!["moderator", "--help"],
        vec!["moderator", "add", "--help"],
        vec!["moderator", "remove", "--help"],
        vec!["purge", "--help"],
    ] {
        let out = run(&args, &[]);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage:"), "{args:?}: {text}");
    }
    let top = String::from_utf8(run(&["--help"], &[]).stdout).unwrap();
    for sub in ["serve", "migrate", "openapi", "seed", "moderator", "purge"] {
        assert!(top.contains(sub));
    }
}

#[test]
fn the_openapi_command_prints_the_committed_document() {
    let out = run(&["openapi"], &[]);
    assert!(out.status.success());
    let committed =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert!(
        out.stdout == committed,
        "`openapi` output differs from openapi/openapi.json"
    );
}

#[test]
fn bad_configuration_fails_at_start_naming_every_variable() {
    let out = run(
        &["serve"],
        &[
            ("DATABASE_URL", "mysql://nope"),
            ("LISTEN_ADDR", "everywhere"),
            ("JWT_SECRET", "too-short"),
            ("LOG_FORMAT", "yaml"),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    for var in ["DATABASE_URL", "LISTEN_ADDR", "JWT_SECRET", "LOG_FORMAT"] {
        assert!(err.contains(var), "{var} not named in:\n{err}");
    }
    assert!(!err.contains("too-short"), "the secret was echoed");
}

#[tokio::test]
async fn migrate_creates_and_migrates_a_missing_database() {
    let db = TestDb::unnamed();
    let env = [("DATABASE_URL", db.url.as_str()), ("LOG_FORMAT", "json")];
    let out = run(&["migrate"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(log.contains("created database"), "{log}");
    let mut conn = db.connect().await;
    let counts = crate::migrations::reference_counts(&mut conn).await;
    assert_eq!(counts.0, 249);
    // Twice is harmless.
    let again = run(&["migrate"], &env);
    assert!(again.status.success());
    assert!(
        String::from_utf8(again.stderr)
            .unwrap()
            .contains("applied 0 migration(s)")
    );
}

/// A `serve` process with JSON logs, and its log lines as they come.
struct ServeProcess {
    child: std::process::Child,
    lines: Vec<String>,
    rx: std::sync::mpsc::Receiver<String>,
    addr: String,
}

impl ServeProcess {
    fn start(database_url: &str) -> ServeProcess {
        let mut child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "debug")
            .env("JWT_SECRET", "a-test-secret-that-is-long-enough-0123456789")
            // Cheap hashing for tests; the defaults are OWASP's.
            .env("ARGON2_MEMORY_KIB", "64")
            .env("ARGON2_ITERATIONS", "1")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                let _ = child.kill();
                panic!("no listening line; log so far:\n{}", lines.join("\n"));
            };
            lines.push(line.clone());
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if let Some(addr) = v["address"].as_str() {
                break addr.to_owned();
            }
        };
        ServeProcess {
            child,
            lines,
            rx,
            addr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends SIGTERM, waits for the exit, and returns the exit status with every log line.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        // Until the reader thread hits end of file: every line, not just those already read.
        while let Ok(line) = self.rx.recv_timeout(Duration::from_secs(10)) {
            self.lines.push(line);
        }
        (status, std::mem::take(&mut self.lines))
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        // Only reached with the process still running when a test failed half-way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// `serve` on a database that does not exist: creates it, migrates, serves, logs one JSON line
/// per request with its id, and stops cleanly on SIGTERM.
#[tokio::test]
async fn serve_creates_the_database_logs_requests_and_drains_on_sigterm() {
    let db = TestDb::unnamed();
    let server = ServeProcess::start(&db.url);
    assert!(server.lines.iter().any(|l| l.contains("created database")));
    let res = client()
        .get(server.url("/v1/countries/HT"))
        .header("x-request-id", "cli-test-7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, lines) = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let request_line = json_lines(&lines)
        .into_iter()
        .find(|v| v["span"]["request_id"] == "cli-test-7" && v["message"] == "request completed")
        .unwrap_or_else(|| panic!("no request log line in:\n{}", lines.join("\n")));
    assert_eq!(request_line["level"], "INFO");
    assert_eq!(request_line["span"]["method"], "GET");
    assert_eq!(request_line["span"]["path"], "/v1/countries/HT");
    assert_eq!(request_line["span"]["status"], 200);
    assert!(request_line["span"]["latency_ms"].as_f64().is_some());
    assert!(lines.iter().any(|l| l.contains("server stopped")));
}

/// A 500 logs its cause, tied to the request id the client was given, and tells the client
/// nothing more than that id.
#[tokio::test]
async fn a_server_error_logs_its_cause_under_the_request_id() {
    let db = TestDb::migrated().await;
    let server = ServeProcess::start(&db.url);
    let mut conn = db.connect().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("ALTER TABLE sectors RENAME TO sectors_gone"),
        &mut conn,
    )
    .await
    .unwrap();
    let res = client()
        .get(server.url("/v1/sectors"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let (_, lines) = server.terminate();
    let events = json_lines(&lines);
    let cause = events
        .iter()
        .find(|v| {
            v["level"] == "ERROR"
                && v["span"]["request_id"] == request_id.as_str()
                && v["error"].is_string()
        })
        .unwrap_or_else(|| panic!("no error line for {request_id} in:\n{}", lines.join("\n")));
    assert!(cause["error"].as_str().unwrap().contains("sectors"));
    assert_eq!(cause["context"], "listing sectors");
    let access = events
        .iter()
        .find(|v| {
            v["message"] == "request completed" && v["span"]["request_id"] == request_id.as_str()
        })
        .unwrap();
    assert_eq!(access["level"], "ERROR");
    assert_eq!(access["span"]["status"], 500);
}

fn claims_of(access_token: &str) -> Value {
    use base64::Engine as _;
    let payload = access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Moderators are made on the command line only; the right reaches tokens at the next sign-in
/// or refresh. And nothing secret (passwords, tokens) reaches the log, even at debug level.
#[tokio::test]
async fn moderator_rights_come_from_the_command_line_and_secrets_stay_out_of_logs() {
    use serde_json::json;
    let db = TestDb::migrated().await;
    let server = ServeProcess::start(&db.url);
    let http = client();
    let password = "a long and secret passphrase";
    let res = http
        .post(server.url("/v1/auth/register"))
        .json(&json!({"email": "mod@example.org", "password": password, "display_name": "Mo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let env = [("DATABASE_URL", db.url.as_str())];
    let out = run(&["moderator", "add", "MOD@example.org"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("is now a moderator")
    );

    let login = |password: &str| {
        http.post(server.url("/v1/auth/login"))
            .json(&json!({"email": "mod@example.org", "password": password}))
            .send()
    };
    let pair: Value = login(password).await.unwrap().json().await.unwrap();
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let refresh_token = pair["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&access)["moderator"], true);
    let me: Value = http
        .get(server.url("/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["is_moderator"], true);

    let out = run(&["moderator", "remove", "mod@example.org"], &env);
    assert!(out.status.success());
    let refreshed: Value = http
        .post(server.url("/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_access = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        claims_of(&new_access)["moderator"],
        false,
        "revoked at the refresh"
    );

    let out = run(&["moderator", "add", "nobody@example.org"], &env);
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("register first")
    );

    let _ = login("a wrong passphrase here").await.unwrap();
    let (_, lines) = server.terminate();
    let log = lines.join("\n");
    for secret in [
        password,
        "a wrong passphrase here",
        access.as_str(),
        refresh_token.as_str(),
        new_access.as_str(),
        refreshed["refresh_token"].as_str().unwrap(),
    ] {
        assert!(!log.contains(secret), "a secret reached the log:\n{log}");
    }
    // Nor do password hashes or statement parameters (tokio-postgres logs them at debug).
    assert!(
        !log.contains("$argon2id$"),
        "a password hash reached the log"
    );
    assert!(
        !log.contains("with parameters"),
        "statement parameters reached the log"
    );
    assert!(
        log.contains("signed in"),
        "sign-ins are logged (without secrets)"
    );
}

/// `seed` writes plausible, valid, published profiles: every one passes the API's own
/// validation unchanged, and the big diasporas dominate.
#[tokio::test]
async fn seed_writes_valid_published_organizations() {
    use diaspora_directory::db::{discovery, organizations, reference};
    use diaspora_directory::domain::discovery::{OrganizationFilter, Sort};
    let db = crate::harness::TestDb::migrated().await;
    let out = tokio::task::spawn_blocking({
        let url = db.url.clone();
        move || {
            run(
                &["seed", "--synthetic", "300", "--batch", "70"],
                &[("DATABASE_URL", &url)],
            )
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("Seeded 300 synthetic organizations"),
        "{stdout}"
    );

    let mut conn = db.connect().await;
    let all = discovery::page(
        &mut conn,
        &OrganizationFilter::default(),
        Sort::Name,
        None,
        1000,
        300,
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 300);
    let book = reference::code_book(&mut conn).await.unwrap();
    let mut haiti = 0;
    for (org, _) in &all {
        let p = org.profile.clone();
        let valid = p.clone().validate(&book.known);
        assert_eq!(valid.as_ref().ok(), Some(&p), "{}: {valid:?}", p.name);
        assert!(!p.capabilities.is_empty() && p.capabilities.len() <= 4);
        assert!((1..=3).contains(&p.languages.len()));
        haiti += usize::from(p.origin_countries.contains(&"HTI".to_owned()));
    }
    assert!(
        haiti > 15,
        "Haiti is among the largest diasporas: {haiti} of 300"
    );
    // Seeding again adds more, with new slugs.
    let again = tokio::task::spawn_blocking({
        let url = db.url.clone();
        move || run(&["seed", "--synthetic", "10"], &[("DATABASE_URL", &url)])
    })
    .await
    .unwrap();
    assert!(again.status.success());
    assert_eq!(
        organizations::count_organizations(&mut conn).await.unwrap(),
        310
    );
}

/// `purge` removes exactly what is past retention, says so, and removes nothing more when run
/// again; `--dry-run` only counts.
#[tokio::test]
async fn purge_removes_exactly_what_is_past_retention() {
    use diesel::QueryableByName;
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    for sql in [
        "INSERT INTO users (id, email, password_hash, display_name) VALUES \
           ('00000000-0000-4000-8000-00000000000a', 'u@example.org', '$argon2id$x', 'U')",
        "INSERT INTO organizations (id, slug, name, kind, status) VALUES \
           ('00000000-0000-4000-8000-000000000001', 'old', 'Archived long ago', 'national-ngo', 'archived'), \
           ('00000000-0000-4000-8000-000000000002', 'recent', 'Archived lately', 'national-ngo', 'archived'), \
           ('00000000-0000-4000-8000-000000000003', 'live', 'Live', 'national-ngo', 'published'), \
           ('00000000-0000-4000-8000-000000000004', 'other', 'Other', 'national-ngo', 'published')",
        "UPDATE organizations SET archived_at = now() - interval '400 days' WHERE slug = 'old'",
        "UPDATE organizations SET archived_at = now() - interval '10 days' WHERE slug = 'recent'",
        "INSERT INTO organization_contacts (organization_id, name, consent_basis, purpose) \
           SELECT o, 'Person', 'public-role', 'Test' FROM unnest(ARRAY[ \
             '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001', \
             '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003']::uuid[]) o",
        "INSERT INTO contact_requests (from_organization_id, to_organization_id, subject, message, \
             status, decided_at, created_at) VALUES \
           ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000004', 'a', 'm', \
            'declined', now(), now() - interval '400 days'), \
           ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000003', 'b', 'm', \
            'withdrawn', now(), now() - interval '500 days'), \
           ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000004', 'c', 'm', \
            'accepted', now(), now() - interval '400 days'), \
           ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000003', 'd', 'm', \
            'declined', now(), now() - interval '10 days')",
        "INSERT INTO refresh_families (user_id, expires_at) VALUES \
           ('00000000-0000-4000-8000-00000000000a', now() - interval '1 day'), \
           ('00000000-0000-4000-8000-00000000000a', now() + interval '1 day')",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    async fn counts(conn: &mut diesel_async::AsyncPgConnection) -> (i64, i64, i64) {
        let c: Counts = diesel::sql_query(
            "SELECT (SELECT count(*) FROM organization_contacts) AS contacts, \
                    (SELECT count(*) FROM contact_requests) AS requests, \
                    (SELECT count(*) FROM refresh_families) AS sessions",
        )
        .get_result(conn)
        .await
        .unwrap();
        (c.contacts, c.requests, c.sessions)
    }
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        contacts: i64,
        #[diesel(sql_type = BigInt)]
        requests: i64,
        #[diesel(sql_type = BigInt)]
        sessions: i64,
    }
    let purge = |args: &'static [&'static str]| {
        let url = db.url.clone();
        tokio::task::spawn_blocking(move || run(args, &[("DATABASE_URL", &url)]))
    };
    let out = purge(&["purge", "--dry-run"]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Would remove 2 contact persons of organizations archived more than 365 days ago.",
        "Would remove 2 contact requests never accepted, sent more than 365 days ago.",
        "Would remove 1 expired sign-in sessions.",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert_eq!(
        counts(&mut conn).await,
        (4, 4, 2),
        "a dry run removes nothing"
    );

    let out = purge(&["purge"]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Removed 2 contact persons"), "{text}");
    assert!(text.contains("Removed 2 contact requests"), "{text}");
    assert!(
        text.contains("Removed 1 expired sign-in sessions"),
        "{text}"
    );
    assert_eq!(counts(&mut conn).await, (2, 2, 1));
    #[derive(QueryableByName)]
    struct Left {
        #[diesel(sql_type = diesel::sql_types::Text)]
        what: String,
    }
    let left: Vec<String> = diesel::sql_query(
        "SELECT o.slug AS what FROM organization_contacts c JOIN organizations o ON o.id = c.organization_id \
         UNION ALL SELECT subject FROM contact_requests ORDER BY 1",
    )
    .load::<Left>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|l| l.what)
    .collect();
    assert_eq!(left, ["c", "d", "live", "recent"]);

    let out = purge(&["purge"]).await.unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("Removed 0 ").count(), 3, "idempotent: {text}");
    // A bad period is refused before anything is touched.
    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        run(
            &["purge"],
            &[
                ("DATABASE_URL", &url),
                ("RETENTION_CONTACT_REQUESTS_DAYS", "0"),
            ],
        )
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RETENTION_CONTACT_REQUESTS_DAYS"));
}

/// With `PURGE_INTERVAL_HOURS`, the server purges by itself: at start, then on its timer.
#[tokio::test]
async fn the_server_purges_on_its_own_timer() {
    use diesel::QueryableByName;
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Left {
        #[diesel(sql_type = Text)]
        slug: String,
    }
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    for sql in [
        "INSERT INTO organizations (id, slug, name, kind, status) VALUES \
           ('00000000-0000-4000-8000-000000000001', 'old', 'Archived long ago', 'national-ngo', 'archived'), \
           ('00000000-0000-4000-8000-000000000003', 'live', 'Live', 'national-ngo', 'published')",
        "UPDATE organizations SET archived_at = now() - interval '400 days' WHERE slug = 'old'",
        "INSERT INTO organization_contacts (organization_id, name, consent_basis, purpose) \
           SELECT o, 'Person', 'public-role', 'Test' FROM unnest(ARRAY[ \
             '00000000-0000-4000-8000-000000000001', \
             '00000000-0000-4000-8000-000000000003']::uuid[]) o",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    let mut config = crate::harness::test_config(&db.url);
    config.retention.purge_interval_hours = 1;
    crate::harness::start_server(config);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left: Vec<Left> = diesel::sql_query(
            "SELECT o.slug FROM organization_contacts c JOIN organizations o \
               ON o.id = c.organization_id ORDER BY o.slug",
        )
        .load(&mut conn)
        .await
        .unwrap();
        let left: Vec<String> = left.into_iter().map(|l| l.slug).collect();
        if left == ["live"] {
            break;
        }
        assert_eq!(
            left,
            ["live", "old"],
            "only the archived one's contact goes"
        );
        assert!(
            Instant::now() < deadline,
            "the server did not purge within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
