//! Builds the service from its settings; production and tests go through the same door.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;

use projections::{Runner, RunnerHandle, RunnerSettings, Wakeup};

use std::sync::Arc;

use crate::auth::jwt::JwtVerifier;
use crate::auth::keys::KeyVerifier;
use crate::auth::Authenticator;
use crate::http::{self, ApiContext};
use crate::process::assignment::AssignmentProcess;
use crate::process::deadlines::{self, DeadlineSettings};
use crate::serve::ServerLimits;
use crate::settings::{DatabaseSettings, ProjectionSettings, ServeSettings};
use crate::store::EventStore;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects a pool to the database.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(settings.url.clone())
        .await
        .context("cannot connect to PostgreSQL (check DATABASE_URL)")
}

/// Applies the migrations not yet applied, then follows a move of the database to another
/// cluster if there was one (see `store::moves`). Safe to run from several instances at once:
/// sqlx holds an advisory lock while it migrates, and the detection locks the feed clock.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<crate::store::moves::Followed> {
    MIGRATOR
        .run(pool)
        .await
        .context("cannot apply the database migrations")?;
    crate::store::moves::follow_moves(pool)
        .await
        .context("cannot check whether the database moved to another cluster")
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: EventStore,
    idempotency_ttl: Duration,
    runner: Option<(RunnerHandle, AbortOnDrop)>,
    _key_listener: AbortOnDrop,
    server: ServerLimits,
}

impl Application {
    /// Connects, migrates and binds; `run_until_stopped` then serves.
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Self> {
        let pool = connect(&settings.database).await?;
        migrate(&pool).await?;
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let wakeup = Wakeup::default();
        let store = EventStore::new(pool.clone(), wakeup.clone());
        let runner = start_projections(&store, &settings.projections, wakeup).await?;
        let keys = KeyVerifier::new(pool.clone());
        let key_listener = AbortOnDrop(keys.listen());
        let jwt = match settings.auth.jwt() {
            Some(jwt) => Some(Arc::new(
                JwtVerifier::new(jwt)
                    .await
                    .context("cannot load the JWT issuer's keys (--jwt-jwks)")?,
            )),
            None => None,
        };
        let auth = Authenticator { keys, jwt };
        if !auth.anyone_can_sign_in().await {
            tracing::warn!(
                "no API key exists and no JWT issuer is configured: every request but /healthz, \
                 /readyz, /openapi.json and /docs is refused; create a key with \
                 `operations keys create --name NAME --role admin`"
            );
        }
        let limits = &settings.limits;
        let rate = http::rate::RateLimits::new(http::rate::RateSettings {
            per_principal: limits.rate_limit,
            per_address: limits.rate_limit_unauthenticated,
        });
        let router = http::router(ApiContext {
            store: store.clone(),
            auth,
            rate,
            consistency_timeout: settings.consistency_timeout,
            long_transaction: settings.long_transaction,
            metrics: http::metrics::Metrics::new().context("cannot register the metrics")?,
        })
        .layer(RequestBodyTimeoutLayer::new(limits.request_body_timeout))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::map_response(http::problem_for_timeout));
        let server = ServerLimits {
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            max_connections: limits.max_open_connections,
        };
        Ok(Self {
            listener,
            router,
            store,
            idempotency_ttl: settings.idempotency_ttl,
            runner,
            _key_listener: key_listener,
            server,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr()?, "serving");
        let pruner = tokio::spawn(forget_old_idempotency_keys(
            self.store.clone(),
            self.idempotency_ttl,
        ));
        crate::serve::serve(self.listener, self.router, self.server, shutdown_signal()).await;
        pruner.abort();
        drop(self.runner);
        Ok(())
    }
}

/// Starts the projectors' runner (read models and the assignment process) and the deadline
/// checks, unless this instance leaves them to others.
async fn start_projections(
    store: &EventStore,
    settings: &ProjectionSettings,
    wakeup: Wakeup,
) -> anyhow::Result<Option<(RunnerHandle, AbortOnDrop)>> {
    if settings.disabled {
        return Ok(None);
    }
    let mut projectors = projections::all();
    projectors.push(Arc::new(AssignmentProcess::new(store.clone())));
    let runner = Runner::new(
        store.pool().clone(),
        projectors,
        RunnerSettings {
            batch_size: settings.batch_size,
            poll_interval: settings.poll_interval,
            ..RunnerSettings::default()
        },
        wakeup,
    );
    let handle = runner
        .start()
        .await
        .context("cannot start the projectors")?;
    let deadlines = tokio::spawn(deadlines::run(
        store.clone(),
        DeadlineSettings {
            assignment_timeout: settings.assignment_timeout,
            interval: settings.deadline_interval,
        },
    ));
    Ok(Some((handle, AbortOnDrop(deadlines))))
}

/// A background task that stops with its owner.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn forget_old_idempotency_keys(store: EventStore, ttl: Duration) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match store.forget_keys_older_than(ttl).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "forgot expired idempotency keys"),
            Err(err) => tracing::warn!(error = %err, "cannot forget expired idempotency keys"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
