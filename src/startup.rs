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
use crate::process::shift::ShiftProcess;
use crate::process::Reacting;
use crate::serve::ServerLimits;
use crate::settings::{DatabaseSettings, ProjectionSettings, ServeSettings};
use crate::store::EventStore;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A pooled connection idle this long is pinged before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Connects a pool to the database, every connection with the settings' timeouts.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    connect_with(settings, settings.timeouts).await
}

/// `connect` for the CLI's long jobs (replay, export, verify, digest): one statement may run for
/// minutes, and a reader may be slow to take an export's pages.
pub async fn connect_unbounded(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    connect_with(settings, settings.timeouts.unbounded()).await
}

async fn connect_with(
    settings: &DatabaseSettings,
    timeouts: crate::settings::DatabaseTimeouts,
) -> anyhow::Result<PgPool> {
    let ms = |d: Duration| d.as_millis().to_string();
    let keepalive = timeouts.tcp_keepalive.as_secs();
    let mut options = vec![
        ("statement_timeout", ms(timeouts.statement)),
        (
            "idle_in_transaction_session_timeout",
            ms(timeouts.idle_in_transaction),
        ),
    ];
    if keepalive > 0 {
        options.extend([
            ("tcp_keepalives_idle", keepalive.to_string()),
            (
                "tcp_keepalives_interval",
                (keepalive / 3).max(1).to_string(),
            ),
            ("tcp_keepalives_count", "3".to_string()),
        ]);
    }
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(timeouts.connect)
        // sqlx pings a connection (a round trip of its own, which pg_stat_statements does not
        // show) every time it hands one out, and again when it takes it back: under load that
        // was two of a command's six round trips to PostgreSQL. A connection in use within the
        // last second is handed out as it is; one idle longer, which a restart or a firewall
        // may have cut, is still pinged first. (A connection cut while busy fails its next
        // statement once, as a statement in flight at the cut does, and is dropped.)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(settings.url.clone().options(options))
        .await
        .context("cannot connect to PostgreSQL (check DATABASE_URL)")
}

/// Applies the migrations not yet applied, then follows a move of the database to another
/// cluster if there was one (see `store::moves`). Safe to run from several instances at once:
/// sqlx holds an advisory lock while it migrates, and the detection locks the feed clock.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<crate::store::moves::Followed> {
    // On a connection of its own without the statement limit: a migration may build an index
    // over every event.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&pool.connect_options())
        .await
        .context("cannot connect to PostgreSQL to migrate")?;
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut conn)
        .await?;
    sqlx::query("SET idle_in_transaction_session_timeout = 0")
        .execute(&mut conn)
        .await?;
    // The migrator's `CREATE TABLE IF NOT EXISTS _sqlx_migrations` would log PostgreSQL's
    // "already exists, skipping" notice on every start and every CLI run.
    sqlx::query("SET client_min_messages = warning")
        .execute(&mut conn)
        .await?;
    MIGRATOR
        .run(&mut conn)
        .await
        .context("cannot apply the database migrations")?;
    let _ = sqlx::Connection::close(conn).await;
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

/// The service without a socket: its router, for tests that send requests to it in process
/// (`tower::ServiceExt::oneshot`), and what must live as long as it does.
pub struct InProcess {
    pub router: axum::Router,
    _key_listener: AbortOnDrop,
    _runner: Option<(RunnerHandle, AbortOnDrop)>,
}

/// What an instance is made of, but its socket.
struct Parts {
    router: axum::Router,
    store: EventStore,
    runner: Option<(RunnerHandle, AbortOnDrop)>,
    key_listener: AbortOnDrop,
    server: ServerLimits,
}

impl Application {
    /// Connects, migrates and binds; `run_until_stopped` then serves.
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Self> {
        let parts = Parts::assemble(&settings).await?;
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        Ok(Self {
            listener,
            router: parts.router,
            store: parts.store,
            idempotency_ttl: settings.idempotency_ttl,
            runner: parts.runner,
            _key_listener: parts.key_listener,
            server: parts.server,
        })
    }

    /// Connects and migrates, and answers the router without binding a socket (with
    /// `--no-projections`, nothing runs beside it).
    pub async fn in_process(settings: ServeSettings) -> anyhow::Result<InProcess> {
        let parts = Parts::assemble(&settings).await?;
        Ok(InProcess {
            router: parts.router,
            _key_listener: parts.key_listener,
            _runner: parts.runner,
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
        if let Some((runner, deadlines)) = self.runner {
            drop(deadlines);
            runner.stop().await;
        }
        Ok(())
    }
}

impl Parts {
    async fn assemble(settings: &ServeSettings) -> anyhow::Result<Self> {
        let pool = connect(&settings.database).await?;
        migrate(&pool).await?;
        let wakeup = Wakeup::default();
        let store = EventStore::new(pool.clone(), wakeup.clone())
            .checking_references(!settings.no_reference_checks);
        // Before the processes start: the shift process leaves to the upgrade what happened
        // before a pilot's operator was registered.
        for report in crate::upgrade::run(&store, false).await? {
            report.log();
        }
        let runner = start_projections(
            &store,
            &settings.projections,
            settings.database.timeouts.connect,
            wakeup,
        )
        .await?;
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
            quote_ttl: settings.quote_ttl,
            long_transaction: settings.long_transaction,
            metrics: http::metrics::Metrics::new().context("cannot register the metrics")?,
            feed: runner
                .as_ref()
                .map(|(runner, _)| runner.stats())
                .unwrap_or_default(),
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
            router,
            store,
            runner,
            key_listener,
            server,
        })
    }
}

/// Starts the projectors' runner (read models and the assignment process) and the deadline
/// checks, unless this instance leaves them to others.
async fn start_projections(
    store: &EventStore,
    settings: &ProjectionSettings,
    connect_timeout: Duration,
    wakeup: Wakeup,
) -> anyhow::Result<Option<(RunnerHandle, AbortOnDrop)>> {
    if settings.disabled {
        return Ok(None);
    }
    let mut projectors = projections::all();
    projectors.push(Arc::new(Reacting(AssignmentProcess::new(store.clone()))));
    projectors.push(Arc::new(Reacting(ShiftProcess::new(store.clone()))));
    anyhow::ensure!(
        settings.lease_ttl >= Duration::from_secs(1),
        "--lease-ttl must be at least 1s (it is renewed every third of it)"
    );
    for name in &settings.stop_on_failure {
        if !projectors.iter().any(|p| p.name() == name) {
            anyhow::bail!(
                "--stop-on-failure names `{name}`, which is not a projector (they are: {})",
                projectors
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let runner = Runner::new(
        store.pool().clone(),
        projectors,
        RunnerSettings {
            batch_size: settings.batch_size,
            poll_interval: settings.poll_interval,
            checkpoint_interval: settings.checkpoint_interval,
            park_after: settings.park_after,
            stop_on_failure: settings.stop_on_failure.clone(),
            lease_ttl: settings.lease_ttl,
            connect_timeout,
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
            park_after: settings.park_after,
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
