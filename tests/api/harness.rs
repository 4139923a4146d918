//! `TestApp` (a running server) and `TestDb` (a private database) for the integration tests.
//!
//! The template database is named after a hash of `migrations/`, built once under an advisory
//! lock (safe across the threads of `cargo test` and the processes of `cargo nextest`), and
//! every test gets `CREATE DATABASE ... TEMPLATE` of it: a few milliseconds instead of a full
//! migration run. Each test database is dropped when the test ends; ones left by a killed run
//! are dropped by the next run after an hour.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use diaspora_directory::config::{
    Argon2Config, Config, DatabaseConfig, HttpConfig, JwtConfig, LimitsConfig, LogConfig, LogFormat,
};
use diaspora_directory::db::migrate::{self, quote_identifier};
use diaspora_directory::http::server::Application;
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;
use url::Url;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCK_KEY: i64 = 0x4444_5445_5354_0001;
const STALE_AFTER_SECS: u64 = 3600;
/// Templates of other migration sets are dropped only after this long: another checkout on the
/// same server (another branch, a concurrent run) may still be cloning its own.
const STALE_TEMPLATE_AFTER_SECS: u64 = 24 * 3600;

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The server URL with another database name.
pub fn database_url(name: &str) -> String {
    let base = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
    let mut url = Url::parse(&base).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub async fn maintenance_connection() -> AsyncPgConnection {
    AsyncPgConnection::establish(&database_url("postgres"))
        .await
        .expect("PostgreSQL answers at DATABASE_URL (run scripts/ensure-postgres)")
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn migrations_hash() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    let mut hasher = DefaultHasher::new();
    for f in files {
        f.strip_prefix(&dir).unwrap().hash(&mut hasher);
        std::fs::read(&f).unwrap().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn execute(conn: &mut AsyncPgConnection, sql: &str) -> diesel::QueryResult<usize> {
    diesel::sql_query(sql).execute(conn).await
}

async fn database_names(conn: &mut AsyncPgConnection, like: &str) -> Vec<String> {
    diesel::sql_query("SELECT datname AS name FROM pg_database WHERE datname LIKE $1")
        .bind::<Text, _>(like)
        .load::<Name>(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

/// When a template was built (its comment), if it says.
async fn built_at(conn: &mut AsyncPgConnection, name: &str) -> Option<u64> {
    diesel::sql_query(
        "SELECT coalesce(shobj_description(oid, 'pg_database'), '') AS name \
         FROM pg_database WHERE datname = $1",
    )
    .bind::<Text, _>(name)
    .get_result::<Name>(conn)
    .await
    .ok()
    .and_then(|n| n.name.parse().ok())
}

/// The migrated template's name, building it if this is the first test to need it.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("dd_template_{}", migrations_hash());
            let mut conn = maintenance_connection().await;
            execute(&mut conn, &format!("SELECT pg_advisory_lock({LOCK_KEY})"))
                .await
                .unwrap();
            if database_names(&mut conn, &name).await.is_empty() {
                let building = format!("{name}_building");
                execute(
                    &mut conn,
                    &format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_identifier(&building)
                    ),
                )
                .await
                .unwrap();
                execute(
                    &mut conn,
                    &format!("CREATE DATABASE {}", quote_identifier(&building)),
                )
                .await
                .unwrap();
                migrate::run_pending(&database_url(&building))
                    .await
                    .expect("migrations apply to the template");
                execute(
                    &mut conn,
                    &format!(
                        "ALTER DATABASE {} RENAME TO {}",
                        quote_identifier(&building),
                        quote_identifier(&name)
                    ),
                )
                .await
                .unwrap();
                execute(
                    &mut conn,
                    &format!(
                        "COMMENT ON DATABASE {} IS '{}'",
                        quote_identifier(&name),
                        now_secs()
                    ),
                )
                .await
                .unwrap();
            }
            // Templates of other migration sets, built more than a day ago, are dead weight.
            let template_cutoff = now_secs().saturating_sub(STALE_TEMPLATE_AFTER_SECS);
            for old in database_names(&mut conn, "dd_template_%").await {
                if old != name
                    && built_at(&mut conn, &old)
                        .await
                        .is_some_and(|t| t < template_cutoff)
                {
                    let _ = execute(
                        &mut conn,
                        &format!("DROP DATABASE IF EXISTS {}", quote_identifier(&old)),
                    )
                    .await;
                }
            }
            // Leftovers of runs that were killed before they could clean up.
            let cutoff = now_secs().saturating_sub(STALE_AFTER_SECS);
            for db in database_names(&mut conn, "dd_test_%").await {
                let created = db
                    .strip_prefix("dd_test_")
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|ts| ts.parse::<u64>().ok());
                if created.is_some_and(|ts| ts < cutoff) {
                    let _ = execute(
                        &mut conn,
                        &format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            quote_identifier(&db)
                        ),
                    )
                    .await;
                }
            }
            execute(&mut conn, &format!("SELECT pg_advisory_unlock({LOCK_KEY})"))
                .await
                .unwrap();
            name
        })
        .await
}

/// A database of this test's own, dropped when the value is.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A fresh copy of the migrated template.
    pub async fn migrated() -> TestDb {
        let template = template().await;
        let db = TestDb::unnamed();
        let mut conn = maintenance_connection().await;
        execute(
            &mut conn,
            &format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_identifier(&db.name),
                quote_identifier(template)
            ),
        )
        .await
        .expect("cloning the template");
        db
    }

    /// A name for a database that does not exist yet (dropped too, if the test creates it).
    pub fn unnamed() -> TestDb {
        let name = format!(
            "dd_test_{}_{}",
            now_secs(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let url = database_url(&name);
        TestDb { name, url }
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async context; a private runtime on its own thread does the I/O.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut conn = maintenance_connection().await;
                let _ = execute(
                    &mut conn,
                    &format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_identifier(&name)
                    ),
                )
                .await;
            });
        })
        .join();
    }
}

pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const TEST_ARGON2: Argon2Config = Argon2Config {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// A configuration for tests: a free port, one worker, a small pool, a fixed JWT secret.
pub fn test_config(database_url: &str) -> Config {
    Config {
        database: DatabaseConfig {
            url: database_url.to_owned().into(),
            pool_size: 4,
        },
        http: HttpConfig {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            cors_allowed_origins: vec!["https://ops.example.org".to_owned()],
            workers: Some(1),
        },
        log: LogConfig {
            filter: "warn".to_owned(),
            format: LogFormat::Text,
        },
        jwt: JwtConfig {
            secret: TEST_JWT_SECRET.to_owned().into(),
            ephemeral: false,
        },
        // Cheap on purpose: production cost would make every sign-in test take ~50 ms of CPU.
        argon2: TEST_ARGON2,
        limits: LimitsConfig {
            contact_requests_per_day: TEST_CONTACT_REQUESTS_PER_DAY,
            consent_review_days: diaspora_directory::config::DEFAULT_CONSENT_REVIEW_DAYS,
        },
        retention: diaspora_directory::config::RetentionConfig::default(),
    }
}

/// Small, so that a test reaches the cap in a few requests.
pub const TEST_CONTACT_REQUESTS_PER_DAY: u32 = 5;

/// A running server with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let db = TestDb::migrated().await;
        let addr = start_server(test_config(&db.url));
        TestApp {
            addr,
            client: client(),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

/// Builds and starts a server on the current runtime; returns where it listens.
pub fn start_server(config: Config) -> SocketAddr {
    if std::env::var_os("TEST_LOG").is_some() {
        diaspora_directory::telemetry::init(&LogConfig {
            filter: "info".to_owned(),
            format: LogFormat::Text,
        });
    }
    let app = Application::build(&config).expect("the server builds");
    let addr = app.local_addr();
    tokio::spawn(app.run_until_stopped());
    addr
}

/// A client that does not follow redirects and does not decompress, so tests see what the
/// server sent.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap()
}

/// Asserts a problem+json response with this status and code; returns the body.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    assert!(res.headers().contains_key("x-request-id"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code);
    assert_eq!(
        body["type"],
        format!("urn:diaspora-directory:problem:{code}")
    );
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_as(&self, path: &str, access_token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// Registers `email` with [`PASSWORD`]; returns the account.
    pub async fn register(&self, email: &str) -> serde_json::Value {
        let res = self
            .post_json(
                "/v1/auth/register",
                &serde_json::json!({"email": email, "password": PASSWORD, "display_name": "Test User"}),
            )
            .await;
        assert_eq!(res.status(), 201, "registering {email}");
        res.json().await.unwrap()
    }

    /// Signs in; returns the token pair.
    pub async fn login(&self, email: &str) -> serde_json::Value {
        let res = self
            .post_json(
                "/v1/auth/login",
                &serde_json::json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 200, "signing in {email}");
        res.json().await.unwrap()
    }
}

/// Requests as a signed-in user, and accounts in the roles the organization tests need.
impl TestApp {
    /// Runs SQL on this test's database (for what the API cannot do: expiring a verification,
    /// revoking a moderator behind a live token).
    pub async fn sql(&self, sql: &str) {
        let mut conn = self.db.connect().await;
        execute(&mut conn, sql).await.unwrap();
    }

    /// The value of one whole-number SQL expression on this test's database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct One {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db.connect().await;
        diesel_async::RunQueryDsl::get_result::<One>(
            diesel::sql_query(format!("SELECT ({sql})::bigint AS n")),
            &mut conn,
        )
        .await
        .unwrap()
        .n
    }

    /// Waits (up to 20 s, polling) until exactly `n` sessions on this test's database are
    /// waiting for a lock: requests the test holds back on purpose have reached it.
    pub async fn wait_for_lock_waiters(&self, n: i64, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self
            .scalar(
                "SELECT count(*) FROM pg_stat_activity \
                  WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .await
            != n
        {
            assert!(std::time::Instant::now() < deadline, "{what}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Registers `email` and signs in; returns the access token.
    pub async fn token(&self, email: &str) -> String {
        self.register(email).await;
        self.login(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Registers `email` as a moderator (as `moderator add` does) and signs in.
    pub async fn moderator_token(&self, email: &str) -> String {
        self.register(email).await;
        self.sql(&format!(
            "UPDATE users SET is_moderator = true WHERE email = '{email}'"
        ))
        .await;
        self.login(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(t) => builder.bearer_auth(t),
            None => builder,
        }
    }

    pub async fn post_as(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.request(reqwest::Method::POST, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_as(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.request(reqwest::Method::PATCH, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// Creates an organization as `token`'s user; returns its JSON.
    pub async fn create_organization(
        &self,
        token: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let res = self.post_as("/v1/organizations", token, &body).await;
        assert_eq!(res.status(), 201, "creating an organization");
        res.json().await.unwrap()
    }
}
