//! Configuration, read from environment variables only (see the README's table).
//!
//! Every variable is checked before the process does anything, and all problems are reported
//! together, so an operator fixes a deployment in one round instead of one variable per restart.

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;

use secrecy::SecretString;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/diaspora_directory";
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";
/// HMAC keys shorter than the hash output weaken HS256.
pub const MIN_JWT_SECRET_BYTES: usize = 32;
pub const MAX_POOL_SIZE: usize = 512;

/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub jwt: JwtConfig,
    pub argon2: Argon2Config,
    pub limits: LimitsConfig,
    pub retention: RetentionConfig,
}

/// Abuse limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// New contact requests an organization may send in any 24 hours
    /// (`CONTACT_REQUESTS_PER_DAY`).
    pub contact_requests_per_day: u32,
    /// Days after which a contact person's consent, obtained or last confirmed, is due for
    /// review (`CONSENT_REVIEW_DAYS`).
    pub consent_review_days: u32,
}

/// The most `CONTACT_REQUESTS_PER_DAY` may be.
pub const MAX_CONTACT_REQUESTS_PER_DAY: u32 = 10_000;

/// `CONSENT_REVIEW_DAYS` when unset: a year.
pub const DEFAULT_CONSENT_REVIEW_DAYS: u32 = 365;

/// How long data with no further purpose is kept (`purge`, and the server's timer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Days after an organization is archived before its contact persons are deleted
    /// (`RETENTION_ARCHIVED_CONTACTS_DAYS`).
    pub archived_contacts_days: u32,
    /// Days after which a contact request that was never accepted is deleted
    /// (`RETENTION_CONTACT_REQUESTS_DAYS`).
    pub contact_requests_days: u32,
    /// Hours between the server's own purges; 0 leaves purging to `purge` (cron)
    /// (`PURGE_INTERVAL_HOURS`).
    pub purge_interval_hours: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            archived_contacts_days: 365,
            contact_requests_days: 365,
            purge_interval_hours: 0,
        }
    }
}

impl RetentionConfig {
    /// The retention settings alone, for the `purge` command.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let retention = r.retention();
        r.finish(retention)
    }
}

/// Argon2id cost. The defaults are OWASP's recommendation (19 MiB, 2 passes, 1 lane); tests use
/// far cheaper ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Argon2Config {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Kept secret: the URL may carry a password.
    pub url: SecretString,
    pub pool_size: usize,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub listen_addr: SocketAddr,
    /// Exact origins (`scheme://host[:port]`) allowed to call the API from a browser.
    pub cors_allowed_origins: Vec<String>,
    /// Worker threads; `None` lets actix pick one per core. Not an environment variable:
    /// tests use one worker to stay light.
    pub workers: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub secret: SecretString,
    /// True when `JWT_SECRET` was unset and a random per-process secret is in use: tokens do
    /// not survive a restart and are not shared between instances.
    pub ephemeral: bool,
}

/// One line per bad variable, naming the variable and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem(s)):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        write!(f, "See the configuration table in README.md.")
    }
}

impl std::error::Error for ConfigError {}

/// Collects problems while each section is read.
struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// A whole number within `range`, or `default` when unset; a problem otherwise.
    fn whole_number(&mut self, name: &str, default: u32, range: RangeInclusive<u32>) -> u32 {
        match self.get(name) {
            None => default,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if range.contains(&n) => n,
                _ => {
                    self.problems.push(format!(
                        "{name}: {raw:?} is not a whole number between {} and {}",
                        range.start(),
                        range.end()
                    ));
                    *range.start()
                }
            },
        }
    }

    fn limits(&mut self) -> LimitsConfig {
        LimitsConfig {
            contact_requests_per_day: self.whole_number(
                "CONTACT_REQUESTS_PER_DAY",
                crate::domain::introduction::limits::DEFAULT_DAILY_CAP,
                1..=MAX_CONTACT_REQUESTS_PER_DAY,
            ),
            consent_review_days: self.whole_number(
                "CONSENT_REVIEW_DAYS",
                DEFAULT_CONSENT_REVIEW_DAYS,
                1..=3650,
            ),
        }
    }

    fn retention(&mut self) -> RetentionConfig {
        let default = RetentionConfig::default();
        RetentionConfig {
            archived_contacts_days: self.whole_number(
                "RETENTION_ARCHIVED_CONTACTS_DAYS",
                default.archived_contacts_days,
                1..=3650,
            ),
            contact_requests_days: self.whole_number(
                "RETENTION_CONTACT_REQUESTS_DAYS",
                default.contact_requests_days,
                1..=3650,
            ),
            purge_interval_hours: self.whole_number(
                "PURGE_INTERVAL_HOURS",
                default.purge_interval_hours,
                0..=720,
            ),
        }
    }

    fn database(&mut self) -> DatabaseConfig {
        let url = self
            .get("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if let Err(why) = database_name(&url) {
            self.problems.push(format!("DATABASE_URL: {why}"));
        }
        let pool_size = match self.get("DATABASE_POOL_SIZE") {
            None => default_pool_size(),
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_POOL_SIZE).contains(&n) => n,
                _ => {
                    self.problems.push(format!(
                        "DATABASE_POOL_SIZE: {raw:?} is not a whole number between 1 and {MAX_POOL_SIZE}"
                    ));
                    1
                }
            },
        };
        DatabaseConfig {
            url: url.into(),
            pool_size,
        }
    }

    fn log(&mut self) -> LogConfig {
        let filter = self.get("RUST_LOG").unwrap_or_else(|| "info".to_owned());
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&filter) {
            self.problems.push(format!(
                "RUST_LOG: {filter:?} is not a valid filter ({e}); try `info` or `diaspora_directory=debug,info`"
            ));
        }
        let format = match self.get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                self.problems
                    .push(format!("LOG_FORMAT: {other:?} is not `text` or `json`"));
                LogFormat::Text
            }
        };
        LogConfig { filter, format }
    }

    fn http(&mut self) -> HttpConfig {
        let raw = self
            .get("LISTEN_ADDR")
            .unwrap_or_else(|| DEFAULT_LISTEN_ADDR.to_owned());
        let listen_addr = match parse_listen_addr(&raw) {
            Some(addr) => addr,
            None => {
                self.problems.push(format!(
                    "LISTEN_ADDR: {raw:?} is not `host:port` (e.g. `127.0.0.1:8080`, `0.0.0.0:8080`, `[::1]:8080`, or `:0` for any free port)"
                ));
                SocketAddr::from(([127, 0, 0, 1], 0))
            }
        };
        let mut cors_allowed_origins = Vec::new();
        if let Some(list) = self.get("CORS_ALLOWED_ORIGINS") {
            for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                match normalize_origin(origin) {
                    Some(o) => cors_allowed_origins.push(o),
                    None => self.problems.push(format!(
                        "CORS_ALLOWED_ORIGINS: {origin:?} is not an origin like `https://example.org` (scheme, host and optional port; no path)"
                    )),
                }
            }
        }
        HttpConfig {
            listen_addr,
            cors_allowed_origins,
            workers: None,
        }
    }

    fn jwt(&mut self) -> JwtConfig {
        match self.get("JWT_SECRET") {
            Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => JwtConfig {
                secret: secret.into(),
                ephemeral: false,
            },
            Some(secret) => {
                // Never echo the secret itself.
                self.problems.push(format!(
                    "JWT_SECRET: is {} bytes long; use at least {MIN_JWT_SECRET_BYTES} random bytes (e.g. `openssl rand -base64 48`)",
                    secret.len()
                ));
                JwtConfig {
                    secret: String::new().into(),
                    ephemeral: false,
                }
            }
            None => JwtConfig {
                secret: random_secret().into(),
                ephemeral: true,
            },
        }
    }

    /// A whole number in `range`, or the default when unset.
    fn number(&mut self, name: &str, default: u32, range: std::ops::RangeInclusive<u32>) -> u32 {
        match self.get(name) {
            None => default,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if range.contains(&n) => n,
                _ => {
                    self.problems.push(format!(
                        "{name}: {raw:?} is not a whole number between {} and {}",
                        range.start(),
                        range.end()
                    ));
                    default
                }
            },
        }
    }

    fn argon2(&mut self) -> Argon2Config {
        let d = Argon2Config::default();
        let config = Argon2Config {
            memory_kib: self.number("ARGON2_MEMORY_KIB", d.memory_kib, 8..=4_194_304),
            iterations: self.number("ARGON2_ITERATIONS", d.iterations, 1..=64),
            parallelism: self.number("ARGON2_PARALLELISM", d.parallelism, 1..=64),
        };
        if config.memory_kib < 8 * config.parallelism {
            self.problems.push(format!(
                "ARGON2_MEMORY_KIB: Argon2 needs at least 8 KiB per lane ({} for ARGON2_PARALLELISM={})",
                8 * config.parallelism,
                config.parallelism
            ));
        }
        config
    }

    fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

impl Config {
    /// Reads the whole configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let config = Config {
            database: r.database(),
            http: r.http(),
            log: r.log(),
            jwt: r.jwt(),
            argon2: r.argon2(),
            limits: r.limits(),
            retention: r.retention(),
        };
        r.finish(config)
    }
}

impl DatabaseConfig {
    /// The database settings alone, for commands that need nothing else (`migrate`).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let db = r.database();
        r.finish(db)
    }
}

impl LogConfig {
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let log = r.log();
        r.finish(log)
    }
}

/// A pool a little larger than the core count keeps both cores busy while some connections wait
/// on I/O, without queueing PostgreSQL behind too many backends.
pub fn default_pool_size() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 4).clamp(4, 32)
}

/// The database named in a PostgreSQL URL, or why there is none.
pub fn database_name(url: &str) -> Result<String, String> {
    let parsed = Url::parse(url).map_err(|e| {
        format!("not a URL ({e}); expected postgres://user[:password]@host:port/database")
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(format!(
            "scheme {:?} is not `postgres` or `postgresql`",
            parsed.scheme()
        ));
    }
    let name = parsed.path().trim_start_matches('/');
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .map_err(|_| "database name is not valid UTF-8".to_owned())?
        .into_owned();
    if name.is_empty() || name.contains('/') {
        return Err("names no database; expected postgres://user@host:port/database".to_owned());
    }
    if name.len() > 63 {
        return Err("database name is longer than PostgreSQL's 63-byte limit".to_owned());
    }
    Ok(name)
}

/// `host:port`, or `:port` for every interface (as Go and many servers read it).
fn parse_listen_addr(raw: &str) -> Option<SocketAddr> {
    let raw = raw.trim();
    if let Some(port) = raw.strip_prefix(':') {
        let port = port.parse::<u16>().ok()?;
        return Some(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    raw.parse().ok()
}

/// `https://Example.org:8443/` → `https://example.org:8443`; anything with a path, query,
/// credentials or a non-web scheme is rejected.
fn normalize_origin(raw: &str) -> Option<String> {
    let url = Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || !(url.path() == "/" || url.path().is_empty())
        || raw.trim_end_matches('/').matches('/').count() > 2
    {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

fn random_secret() -> String {
    // Two v4 UUIDs: 244 random bits from the OS generator.
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = read(&[]).unwrap();
        assert_eq!(c.database.url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(c.http.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.log.filter, "info");
        assert!(c.jwt.ephemeral);
        assert!(c.jwt.secret.expose_secret().len() >= MIN_JWT_SECRET_BYTES);
        assert!(c.http.cors_allowed_origins.is_empty());
        assert!(c.database.pool_size >= 1);
        assert_eq!(c.argon2, Argon2Config::default());
    }

    #[test]
    fn argon2_cost_is_configurable_and_checked() {
        let c = read(&[("ARGON2_MEMORY_KIB", "65536"), ("ARGON2_ITERATIONS", "3")]).unwrap();
        assert_eq!(c.argon2.memory_kib, 65536);
        assert_eq!(c.argon2.iterations, 3);
        let err = read(&[("ARGON2_ITERATIONS", "0"), ("ARGON2_MEMORY_KIB", "lots")]).unwrap_err();
        assert_eq!(err.problems.len(), 2);
    }

    #[test]
    fn every_bad_variable_is_reported_at_once() {
        let err = read(&[
            ("DATABASE_URL", "mysql://x/y"),
            ("LISTEN_ADDR", "nonsense"),
            ("JWT_SECRET", "short-secret-value"),
            ("DATABASE_POOL_SIZE", "zero"),
            ("CONTACT_REQUESTS_PER_DAY", "-1"),
            ("RUST_LOG", "info,[[["),
            ("LOG_FORMAT", "xml"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://ok.example,ftp://bad.example/path",
            ),
        ])
        .unwrap_err();
        let text = err.to_string();
        for var in [
            "DATABASE_URL",
            "LISTEN_ADDR",
            "JWT_SECRET",
            "DATABASE_POOL_SIZE",
            "CONTACT_REQUESTS_PER_DAY",
            "RUST_LOG",
            "LOG_FORMAT",
            "CORS_ALLOWED_ORIGINS",
        ] {
            assert!(text.contains(var), "{var} missing from:\n{text}");
        }
        assert_eq!(err.problems.len(), 8);
        assert!(
            !text.contains("short-secret-value"),
            "the secret leaked: {text}"
        );
    }

    #[test]
    fn listen_addr_accepts_port_only_and_ipv6() {
        let c = read(&[("LISTEN_ADDR", ":0")]).unwrap();
        assert_eq!(c.http.listen_addr.port(), 0);
        let c = read(&[("LISTEN_ADDR", "[::1]:9000")]).unwrap();
        assert_eq!(c.http.listen_addr.to_string(), "[::1]:9000");
    }

    #[test]
    fn cors_origins_are_normalized() {
        let c = read(&[(
            "CORS_ALLOWED_ORIGINS",
            " https://Ops.Example.org , http://localhost:3000/ ",
        )])
        .unwrap();
        assert_eq!(
            c.http.cors_allowed_origins,
            vec!["https://ops.example.org", "http://localhost:3000"]
        );
    }

    #[test]
    fn database_names_are_extracted() {
        assert_eq!(
            database_name("postgres://u:p@h:5432/my_db").unwrap(),
            "my_db"
        );
        assert_eq!(database_name("postgresql://h/a%20b").unwrap(), "a b");
        assert!(database_name("postgres://h:5432").is_err());
        assert!(database_name("postgres://h:5432/").is_err());
    }
}
