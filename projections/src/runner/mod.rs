//! The catch-up runner: each projector reads the feed past its checkpoint, applies a batch and
//! moves its checkpoint in one transaction, so every event takes effect exactly once, also
//! across crashes. Across instances, a projector runs where its lease is held (see `lease`):
//! renewed by heartbeat, taken over when it lapses (an instance that hangs) or when its
//! holder's session ends (one that died), and fenced: a batch moves its checkpoint only under
//! the lease's epoch it started with.
//!
//! Wake-ups: a command committed in this process wakes the projectors at once (`Wakeup`); the
//! other instances learn of it through `NOTIFY events`, sent at most once per
//! `notify_interval` rather than once per command (a NOTIFY serialises commits on a global lock
//! and cost a quarter of the write throughput when every command sent one). Polling covers the
//! rest: events written by other means, and a transaction that held the horizon back (its end
//! sends no notification).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::FutureExt;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod batch;
mod parking;

pub(crate) use batch::run_batch;
use parking::{do_requests, park, Failing};

use crate::lease::{self, Fence};
use crate::{checkpoint, ProjectionError, Projector};

#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Events read per batch.
    pub batch_size: i64,
    /// How often to look for new events when no notification came.
    pub poll_interval: Duration,
    /// How long a projector's lease lasts unless renewed: an instance that stops renewing
    /// (hung, paused, cut off) loses its projectors to another after this.
    pub lease_ttl: Duration,
    /// How long connecting to the database may take (the lease's own connection).
    pub connect_timeout: Duration,
    /// The longest wait between retries of a failing batch.
    pub max_backoff: Duration,
    /// How long a woken projector waits for more events before reading, so that under load it
    /// applies batches rather than single events.
    pub linger: Duration,
    /// The shortest time between two `NOTIFY events` this instance sends.
    pub notify_interval: Duration,
    /// Attempts at an event (the first and its retries, with backoff) before its stream is
    /// parked behind a dead letter.
    pub park_after: u32,
    /// Projectors that stop (retrying the failing event, with backoff, for every stream) rather
    /// than park: for read models where the order across streams matters.
    pub stop_on_failure: Vec<String>,
}

/// What a projector does with an event it cannot apply after its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Park the event's stream behind a dead letter and go on with the others (the default).
    Park,
    /// Stop there, retrying with backoff until the event applies (after a fix is deployed).
    Stop,
}

impl RunnerSettings {
    pub fn policy(&self, projector: &str) -> FailurePolicy {
        if self.stop_on_failure.iter().any(|name| name == projector) {
            FailurePolicy::Stop
        } else {
            FailurePolicy::Park
        }
    }
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll_interval: Duration::from_millis(500),
            lease_ttl: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
            linger: Duration::from_millis(5),
            notify_interval: Duration::from_millis(10),
            park_after: 5,
            stop_on_failure: Vec::new(),
        }
    }
}

pub struct Runner {
    pool: PgPool,
    projectors: Vec<Arc<dyn Projector>>,
    settings: RunnerSettings,
    wakeup: Wakeup,
}

/// Wakes the projectors: `committed` after a command of this process committed events, and
/// (inside the runner) on notifications from other instances.
#[derive(Clone)]
pub struct Wakeup {
    local: Arc<watch::Sender<u64>>,
    remote: Arc<watch::Sender<u64>>,
}

impl Default for Wakeup {
    fn default() -> Self {
        Self {
            local: Arc::new(watch::channel(0).0),
            remote: Arc::new(watch::channel(0).0),
        }
    }
}

impl Wakeup {
    /// Events were committed by this process.
    pub fn committed(&self) {
        self.local.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// The running runner's tasks; dropping it stops them.
pub struct RunnerHandle {
    tasks: Vec<JoinHandle<()>>,
    pool: PgPool,
    holder: String,
}

impl RunnerHandle {
    /// Stops the projectors and lets their leases go, so that another instance takes them at
    /// its next beat rather than after the lease's time.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Err(err) = lease::release(&self.pool, &self.holder).await {
            tracing::warn!(error = %err, "cannot release the projector leases");
        }
    }
}

impl Drop for RunnerHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Runner {
    pub fn new(
        pool: PgPool,
        projectors: Vec<Arc<dyn Projector>>,
        settings: RunnerSettings,
        wakeup: Wakeup,
    ) -> Self {
        Self {
            pool,
            projectors,
            settings,
            wakeup,
        }
    }

    /// Creates the checkpoints and starts the listener, the leadership keeper and one task per
    /// projector.
    pub async fn start(self) -> Result<RunnerHandle, sqlx::Error> {
        let names: Vec<&'static str> = self.projectors.iter().map(|p| p.name()).collect();
        checkpoint::ensure(&self.pool, &names).await?;
        let (lead_tx, lead_rx) = watch::channel(lease::Held::new());
        let holder = lease::holder_name();
        // Three beats per lease: two may be missed before it lapses.
        let heartbeat = self.settings.lease_ttl / 3;
        let mut tasks = vec![
            tokio::spawn(listen(self.pool.clone(), self.wakeup.remote.clone())),
            tokio::spawn(publish(
                self.pool.clone(),
                self.wakeup.local.subscribe(),
                self.settings.notify_interval,
            )),
            tokio::spawn(lease::keep(
                self.pool.clone(),
                names,
                holder.clone(),
                self.settings.lease_ttl,
                heartbeat,
                self.settings.connect_timeout,
                lead_tx,
            )),
        ];
        for projector in self.projectors {
            tasks.push(tokio::spawn(run_projector(
                self.pool.clone(),
                projector,
                self.settings.clone(),
                self.wakeup.clone(),
                lead_rx.clone(),
                holder.clone(),
            )));
        }
        Ok(RunnerHandle {
            tasks,
            pool: self.pool,
            holder,
        })
    }
}

/// Tells the other instances, at most once per `interval`, that this one committed events.
async fn publish(pool: PgPool, mut committed: watch::Receiver<u64>, interval: Duration) {
    while committed.changed().await.is_ok() {
        if let Err(err) = sqlx::query("SELECT pg_notify('events', '')")
            .execute(&pool)
            .await
        {
            tracing::debug!(error = %err, "cannot notify other instances; they will poll");
        }
        tokio::time::sleep(interval).await;
    }
}

/// Bumps `wake` on every `events` notification.
async fn listen(pool: PgPool, wake: Arc<watch::Sender<u64>>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for events; polling only");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(err) = listener.listen("events").await {
            tracing::warn!(error = %err, "LISTEN events failed; polling only");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(_) => wake.send_modify(|n| *n = n.wrapping_add(1)),
                Err(err) => {
                    tracing::warn!(error = %err, "event notifications interrupted");
                    break;
                }
            }
        }
    }
}

async fn run_projector(
    pool: PgPool,
    projector: Arc<dyn Projector>,
    settings: RunnerSettings,
    wakeup: Wakeup,
    mut leading: watch::Receiver<lease::Held>,
    holder: String,
) {
    let name = projector.name();
    let policy = settings.policy(name);
    let mut local = wakeup.local.subscribe();
    let mut remote = wakeup.remote.subscribe();
    let requests_every = settings.poll_interval.min(Duration::from_millis(250));
    loop {
        if leading
            .wait_for(|held| held.contains_key(name))
            .await
            .is_err()
        {
            return;
        }
        let mut backoff = Duration::from_millis(250);
        let mut failing: Option<Failing> = None;
        let mut requests_checked: Option<Instant> = None;
        loop {
            let Some(epoch) = leading.borrow().get(name).copied() else {
                break;
            };
            let fence = Fence {
                holder: holder.clone(),
                epoch,
            };
            if requests_checked.is_none_or(|at| at.elapsed() >= requests_every) {
                requests_checked = Some(Instant::now());
                do_requests(&pool, projector.as_ref()).await;
            }
            // A projector that panics is a failure like another (retried, reported), not a
            // task that dies while this instance keeps renewing its lease.
            let batch = AssertUnwindSafe(run_batch(
                &pool,
                projector.as_ref(),
                settings.batch_size,
                &fence,
            ))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                Err(ProjectionError::Panicked(what))
            });
            if matches!(batch, Ok(read) if read > 0) {
                // While this batch ran, its transaction held the horizon: events committed
                // meanwhile were invisible to the other projectors, and nothing else will
                // tell them when it ended.
                wakeup.committed();
            }
            match batch {
                Ok(read) if read as i64 == settings.batch_size => {
                    failing = None;
                    continue;
                }
                Ok(_) => {
                    failing = None;
                    backoff = Duration::from_millis(250);
                    tokio::select! {
                        _ = local.changed() => tokio::time::sleep(settings.linger).await,
                        _ = remote.changed() => tokio::time::sleep(settings.linger).await,
                        _ = leading.changed() => {},
                        () = tokio::time::sleep(settings.poll_interval) => {},
                    }
                }
                Err(err) => {
                    let error = err.to_string();
                    // Attempts at this one event (a failure not about one event, such as the
                    // database going away, is retried for ever: it parks nothing).
                    let attempts = match (err.position(), failing.as_mut()) {
                        (Some(p), Some(f)) if f.position == p => {
                            f.attempts += 1;
                            f.attempts
                        }
                        (Some(p), _) => {
                            failing = Some(Failing {
                                position: p,
                                attempts: 1,
                                since: Utc::now(),
                            });
                            1
                        }
                        (None, _) => 0,
                    };
                    if let (FailurePolicy::Park, Some(f)) = (policy, failing.as_ref()) {
                        if attempts >= settings.park_after.max(1) {
                            match park(&pool, name, &fence, f, &error).await {
                                Ok(()) => {
                                    failing = None;
                                    backoff = Duration::from_millis(250);
                                    continue;
                                }
                                Err(park_err) => tracing::error!(
                                    projector = name,
                                    error = %park_err,
                                    "cannot park the failing event; retrying"
                                ),
                            }
                        }
                    }
                    let failures = checkpoint::record_failure(&pool, name, &error, err.position())
                        .await
                        .unwrap_or(0);
                    tracing::error!(
                        projector = name,
                        error = %err,
                        position = err.position(),
                        failures,
                        retry_in_ms = backoff.as_millis() as u64,
                        "projector batch failed; retrying"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(settings.max_backoff);
                }
            }
        }
    }
}
