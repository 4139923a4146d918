//! The `diaspora-directory` command: serve, migrate, print the OpenAPI document.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diaspora_directory::config::{Config, DatabaseConfig, LogConfig};
use diaspora_directory::db::migrate;
use diaspora_directory::domain::account::Email;
use diaspora_directory::http::{self, server};
use diaspora_directory::telemetry;
use secrecy::ExposeSecret;

/// Diaspora Directory: where diaspora organizations and humanitarian actors find each other.
///
/// Configuration comes from environment variables only (DATABASE_URL, LISTEN_ADDR, JWT_SECRET,
/// DATABASE_POOL_SIZE, RUST_LOG, LOG_FORMAT, CORS_ALLOWED_ORIGINS, ARGON2_MEMORY_KIB,
/// ARGON2_ITERATIONS, ARGON2_PARALLELISM); see README.md.
#[derive(Parser)]
#[command(name = "diaspora-directory", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database if missing, apply pending migrations, and serve HTTP on LISTEN_ADDR.
    Serve,
    /// Apply pending migrations to DATABASE_URL and exit.
    Migrate,
    /// Print the OpenAPI 3.1 document (the same bytes as openapi/openapi.json).
    Openapi,
    /// Grant or revoke platform moderator rights (never possible through the API).
    #[command(subcommand)]
    Moderator(ModeratorCommand),
    /// Fill DATABASE_URL with synthetic published organizations, for development and
    /// benchmarks (never on a production database). Creates and migrates the database first.
    Seed {
        /// How many organizations to add.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        synthetic: u64,
        /// Random seed: the same seed gives the same organizations.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Rows per INSERT statement.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=2000))]
        batch: u64,
    },
    /// Delete what is kept past its retention period: contact persons of organizations archived
    /// longer than RETENTION_ARCHIVED_CONTACTS_DAYS, contact requests never accepted and older
    /// than RETENTION_CONTACT_REQUESTS_DAYS, and expired sign-in sessions. Prints what it
    /// removed; running it again removes nothing more, so it is safe from cron.
    Purge {
        /// Count what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum ModeratorCommand {
    /// Make the account with this email a moderator (effective at once: moderator actions
    /// check the database).
    Add {
        /// Email of an existing account.
        email: String,
    },
    /// Take moderator rights away (effective at once: moderator actions check the database).
    Remove {
        /// Email of an existing account.
        email: String,
    },
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Openapi => {
            print!("{}", http::openapi_json());
            Ok(())
        }
        Command::Migrate => migrate_command().await,
        Command::Serve => serve_command().await,
        Command::Moderator(ModeratorCommand::Add { email }) => {
            moderator_command(&email, true).await
        }
        Command::Moderator(ModeratorCommand::Remove { email }) => {
            moderator_command(&email, false).await
        }
        Command::Seed {
            synthetic,
            seed,
            batch,
        } => seed_command(synthetic, seed, batch).await,
        Command::Purge { dry_run } => purge_command(dry_run).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate_command() -> Result<(), String> {
    let (log, db) = (
        LogConfig::from_lookup(&env),
        DatabaseConfig::from_lookup(&env),
    );
    let (log, db) = match (log, db) {
        (Ok(log), Ok(db)) => (log, db),
        (log, db) => {
            let mut problems = log.err().map(|e| e.problems).unwrap_or_default();
            problems.extend(db.err().map(|e| e.problems).unwrap_or_default());
            return Err(diaspora_directory::config::ConfigError { problems }.to_string());
        }
    };
    telemetry::init(&log);
    let url = db.url.expose_secret();
    let target = migrate::redacted(url);
    if migrate::ensure_database(url)
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::info!(database = %target, "created database");
    }
    let applied = migrate::run_pending(url).await.map_err(|e| e.to_string())?;
    tracing::info!(database = %target, migrations = ?applied, "applied {} migration(s)", applied.len());
    Ok(())
}

async fn moderator_command(email: &str, grant: bool) -> Result<(), String> {
    let db = DatabaseConfig::from_lookup(&env).map_err(|e| e.to_string())?;
    let log = LogConfig::from_lookup(&env).map_err(|e| e.to_string())?;
    telemetry::init(&log);
    let email = Email::parse(email).map_err(|why| format!("the email {why}"))?;
    let url = db.url.expose_secret();
    let mut conn = diaspora_directory::db::connect(url)
        .await
        .map_err(|e| format!("{e}"))?;
    let found = diaspora_directory::db::accounts::set_moderator(&mut conn, &email, grant)
        .await
        .map_err(|e| format!("updating the account failed: {e}"))?;
    if !found {
        return Err(format!(
            "no account has the email {}: the person must register first (POST /v1/auth/register)",
            email.as_str()
        ));
    }
    if grant {
        println!("{} is now a moderator.", email.as_str());
    } else {
        println!("{} is no longer a moderator.", email.as_str());
    }
    Ok(())
}

async fn seed_command(count: u64, seed: u64, batch: u64) -> Result<(), String> {
    let db = DatabaseConfig::from_lookup(&env).map_err(|e| e.to_string())?;
    let log = LogConfig::from_lookup(&env).map_err(|e| e.to_string())?;
    telemetry::init(&log);
    let url = db.url.expose_secret();
    let target = migrate::redacted(url);
    migrate::prepare(url).await.map_err(|e| e.to_string())?;
    let mut conn = diaspora_directory::db::connect(url)
        .await
        .map_err(|e| format!("{e}"))?;
    let started = std::time::Instant::now();
    let progress = indicatif::ProgressBar::new(count).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} seeding [{bar:40}] {pos}/{len} organizations ({per_sec}, {eta} left)",
        )
        .map_err(|e| e.to_string())?
        .progress_chars("=> "),
    );
    // Numbers continue from the organizations already there, so seeding twice adds more.
    let first = diaspora_directory::db::organizations::count_organizations(&mut conn)
        .await
        .map_err(|e| format!("counting organizations in {target} failed: {e}"))?;
    let mut number = u64::try_from(first).unwrap_or(0);
    let mut generator = diaspora_directory::seed::Generator::new(seed ^ number);
    let mut inserted = 0usize;
    let mut left = count;
    while left > 0 {
        let n = left.min(batch);
        let orgs: Vec<_> = (0..n)
            .map(|_| {
                number += 1;
                generator.organization(number)
            })
            .collect();
        let rows: Vec<_> = orgs
            .iter()
            .map(|o| (&o.profile, o.slug.as_str(), o.verified))
            .collect();
        inserted += diaspora_directory::db::organizations::insert_published_batch(&mut conn, &rows)
            .await
            .map_err(|e| format!("inserting into {target} failed: {e}"))?;
        progress.inc(n);
        left -= n;
    }
    progress.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(database = %target, inserted, seconds = secs, "seeded synthetic organizations");
    println!(
        "Seeded {inserted} synthetic organizations into {target} in {secs:.1} s ({:.0}/s).",
        inserted as f64 / secs.max(0.001)
    );
    Ok(())
}

async fn purge_command(dry_run: bool) -> Result<(), String> {
    use diaspora_directory::config::RetentionConfig;
    use diaspora_directory::db::retention::{self, Kind};
    let db = DatabaseConfig::from_lookup(&env).map_err(|e| e.to_string())?;
    let log = LogConfig::from_lookup(&env).map_err(|e| e.to_string())?;
    let policy = RetentionConfig::from_lookup(&env).map_err(|e| e.to_string())?;
    telemetry::init(&log);
    let url = db.url.expose_secret();
    let target = migrate::redacted(url);
    migrate::prepare(url).await.map_err(|e| e.to_string())?;
    let mut conn = diaspora_directory::db::connect(url)
        .await
        .map_err(|e| format!("{e}"))?;
    let now = chrono::Utc::now();
    let mut due = Vec::new();
    for kind in Kind::ALL {
        let n = retention::count(&mut conn, kind, &policy, now)
            .await
            .map_err(|e| format!("counting in {target} failed: {e}"))?;
        due.push((kind, n));
    }
    if dry_run {
        for (kind, n) in &due {
            println!("Would remove {n} {}.", kind.describe(&policy));
        }
        return Ok(());
    }
    let total: i64 = due.iter().map(|(_, n)| n).sum();
    let progress = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0)).with_style(
        indicatif::ProgressStyle::with_template("{spinner} purging [{bar:40}] {pos}/{len} rows")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let report = retention::purge(&mut conn, &policy, now, |_, n| {
        progress.inc(u64::try_from(n).unwrap_or(0));
    })
    .await
    .map_err(|e| format!("purging {target} failed: {e}"))?;
    progress.finish_and_clear();
    for (kind, n) in &report {
        tracing::info!(database = %target, kind = ?kind, removed = n, "purged");
        println!("Removed {n} {}.", kind.describe(&policy));
    }
    Ok(())
}

async fn serve_command() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    telemetry::init(&config.log);
    if config.jwt.ephemeral {
        tracing::warn!(
            "JWT_SECRET is not set: using a random per-process secret; tokens will not survive a restart or work across instances"
        );
    }
    migrate::prepare(config.database.url.expose_secret())
        .await
        .map_err(|e| e.to_string())?;
    let app = server::Application::build(&config).map_err(|e| e.to_string())?;
    tracing::info!(
        address = %app.local_addr(),
        "listening on http://{} (docs at /docs)",
        app.local_addr()
    );
    app.run_until_stopped()
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    tracing::info!("server stopped");
    Ok(())
}
