//! The catch-up runner: each projector reads the feed past its checkpoint, applies a batch and
//! moves its checkpoint in one transaction, so every event takes effect exactly once, also
//! across crashes. Across instances, a projector runs where its lease is held (see `lease`):
//! renewed by heartbeat, taken over when it lapses (an instance that hangs) or when its
//! holder's session ends (one that died), and fenced: a batch moves its checkpoint only under
//! the lease's epoch it started with.
//!
//! The projectors of an instance share one read of the feed (`window`): one task reads each
//! new batch once, and each projector takes from it the events of its types. A projector with
//! none past its place does no database work: it passes over them in memory, and moves its
//! checkpoint past them with its next batch or, when it has none, about a
//! `checkpoint_interval` later (how far it has got is its checkpoint, or past it the absence of any
//! event of its types: see `checkpoint::reached`).
//!
//! Wake-ups: a command committed in this process wakes the reader at once (`Wakeup`); the
//! other instances learn of it through `NOTIFY events`, sent at most once per
//! `notify_interval` rather than once per command (a NOTIFY serialises commits on a global lock
//! and cost a quarter of the write throughput when every command sent one). Polling covers the
//! rest: events written by other means, and a transaction that held the horizon back (its end
//! sends no notification).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod batch;
mod parking;
mod reader;
mod stats;
mod task;
mod window;

use parking::watch_requests;
use reader::{read, Reader};
pub use stats::{FeedStats, Moved};
use task::{run_projector, Shared};
use window::Window;

use crate::lease;
use crate::{checkpoint, Projector};

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
    /// How long a projector that passed over events of no interest to it waits, with no batch
    /// of its own, before it moves its checkpoint past them.
    pub checkpoint_interval: Duration,
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
            checkpoint_interval: Duration::from_secs(1),
            park_after: 5,
            stop_on_failure: Vec::new(),
        }
    }
}

/// About how much memory the feed's window may hold: a few batches of ordinary events (about
/// 1 kB each), a few dozen of the largest (an availability quote's, 60 kB).
const WINDOW_BYTES: usize = 4 << 20;

pub struct Runner {
    pool: PgPool,
    projectors: Vec<Arc<dyn Projector>>,
    settings: RunnerSettings,
    wakeup: Wakeup,
    stats: FeedStats,
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
    stats: FeedStats,
}

impl RunnerHandle {
    /// Counts of what its projectors read and applied.
    pub fn stats(&self) -> FeedStats {
        self.stats.clone()
    }

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
            stats: FeedStats::default(),
        }
    }

    /// Creates the checkpoints and starts the listener, the leadership keeper, the feed's
    /// reader and one task per projector.
    pub async fn start(self) -> Result<RunnerHandle, sqlx::Error> {
        let running: Vec<&dyn Projector> = self.projectors.iter().map(|p| p.as_ref()).collect();
        checkpoint::ensure_running(&self.pool, &running).await?;
        let names: Vec<&'static str> = self.projectors.iter().map(|p| p.name()).collect();
        let (lead_tx, lead_rx) = watch::channel(lease::Held::new());
        let holder = lease::holder_name();
        // Three beats per lease: two may be missed before it lapses.
        let heartbeat = self.settings.lease_ttl / 3;
        // A few batches: the projectors under way take their events from it, one that fell
        // further behind reads on its own.
        let window = Arc::new(Window::new(
            2 * self.settings.batch_size.max(1) as usize,
            WINDOW_BYTES,
        ));
        let types = crate::projector::event_types_of(running.iter().copied());
        let (requested_tx, requested) = watch::channel(Vec::new());
        let mut tasks = vec![
            tokio::spawn(watch_requests(
                self.pool.clone(),
                self.settings.poll_interval.min(Duration::from_millis(250)),
                requested_tx,
                lead_rx.clone(),
            )),
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
            tokio::spawn(read(Reader {
                pool: self.pool.clone(),
                window: window.clone(),
                types,
                settings: self.settings.clone(),
                wakeup: self.wakeup.clone(),
                leading: lead_rx.clone(),
                stats: self.stats.clone(),
            })),
        ];
        for projector in self.projectors {
            tasks.push(tokio::spawn(run_projector(
                Shared {
                    pool: self.pool.clone(),
                    window: window.clone(),
                    settings: self.settings.clone(),
                    wakeup: self.wakeup.clone(),
                    stats: self.stats.clone(),
                    requested: requested.clone(),
                },
                projector,
                lead_rx.clone(),
                holder.clone(),
            )));
        }
        Ok(RunnerHandle {
            tasks,
            pool: self.pool,
            holder,
            stats: self.stats,
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
