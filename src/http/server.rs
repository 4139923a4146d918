//! Building and running the HTTP server.

use std::net::{SocketAddr, TcpListener};

use actix_web::HttpServer;
use actix_web::dev::{Server, ServerHandle};
use secrecy::ExposeSecret;

use super::AppState;
use crate::config::Config;
use crate::db;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("building the connection pool: {0}")]
    Pool(String),
    #[error("setting up credentials: {0}")]
    Auth(String),
    #[error(
        "cannot listen on {addr}: {cause}\nIs another process using the port? Set LISTEN_ADDR to another address, or `127.0.0.1:0` for any free port."
    )]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },
}

/// A bound, not yet running, server.
pub struct Application {
    server: Server,
    local_addr: SocketAddr,
}

impl Application {
    /// Binds `LISTEN_ADDR` (port 0 picks a free port) and prepares the workers. Does not touch
    /// the database: `db::migrate::prepare` does that first when serving for real.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        let pool = db::pool(
            config.database.url.expose_secret(),
            config.database.pool_size,
        )
        .map_err(|e| StartupError::Pool(e.to_string()))?;
        let state = AppState::new(pool.clone(), config).map_err(StartupError::Auth)?;
        if config.retention.purge_interval_hours > 0 {
            tokio::spawn(purge_periodically(pool, config.retention));
        }
        let addr = config.http.listen_addr;
        let bind_err = |cause| StartupError::Bind { addr, cause };
        let listener = TcpListener::bind(addr).map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        let mut server = HttpServer::new(move || super::app(state.clone()))
            // SIGTERM: stop accepting, let in-flight requests finish for up to 30 s.
            .shutdown_timeout(30);
        if let Some(workers) = config.http.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener).map_err(bind_err)?.run();
        Ok(Application { server, local_addr })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The server's own purge (`PURGE_INTERVAL_HOURS`): what `<binary> purge` does, on a timer,
/// logging what it removed. A failure is logged and retried at the next tick.
async fn purge_periodically(pool: db::Pool, policy: crate::config::RetentionConfig) {
    let period = std::time::Duration::from_secs(u64::from(policy.purge_interval_hours) * 3600);
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        let result = match db::connection(&pool).await {
            Ok(mut conn) => {
                crate::db::retention::purge(&mut conn, &policy, chrono::Utc::now(), |_, _| {})
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(report) => {
                for (kind, removed) in report {
                    tracing::info!(kind = ?kind, removed, "scheduled purge");
                }
            }
            Err(e) => tracing::error!(error = %e, "scheduled purge failed"),
        }
    }
}
