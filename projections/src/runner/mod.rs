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

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::FutureExt;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod batch;
mod parking;
mod window;

use batch::{run_batch, Batch, Passed};
use parking::{do_requests, park, watch_requests, Failing};
use window::{Ahead, Window};

use crate::lease::{self, Fence};
use crate::{checkpoint, feed, FeedPosition, ProjectionError, Projector};

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

/// What the runner of an instance has read and applied since it started, for the metrics.
#[derive(Clone, Default)]
pub struct FeedStats(Arc<Counts>);

#[derive(Default)]
struct Counts {
    /// Reads of the feed by the instance's reader, for every projector.
    shared: AtomicU64,
    /// Reads by a projector on its own (its place outside the window).
    alone: AtomicU64,
    /// Batches applied, by projector.
    batches: Mutex<HashMap<&'static str, u64>>,
}

impl FeedStats {
    /// Reads of the feed: by the instance's reader, and by projectors on their own.
    pub fn reads(&self) -> (u64, u64) {
        (
            self.0.shared.load(Ordering::Relaxed),
            self.0.alone.load(Ordering::Relaxed),
        )
    }

    /// Batches applied (events handed to the projector), by projector.
    pub fn batches(&self) -> Vec<(&'static str, u64)> {
        let batches = self.0.batches.lock().expect("stats lock");
        let mut all: Vec<_> = batches.iter().map(|(k, v)| (*k, *v)).collect();
        all.sort_unstable();
        all
    }

    fn read_shared(&self) {
        self.0.shared.fetch_add(1, Ordering::Relaxed);
    }

    fn read_alone(&self) {
        self.0.alone.fetch_add(1, Ordering::Relaxed);
    }

    fn batch(&self, projector: &'static str) {
        *self
            .0
            .batches
            .lock()
            .expect("stats lock")
            .entry(projector)
            .or_default() += 1;
    }
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
        let mut types: Vec<&'static str> = (self.projectors.iter())
            .flat_map(|p| p.event_types().iter().copied())
            .collect();
        types.sort_unstable();
        types.dedup();
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

/// The instance's reader of the feed and what it needs.
struct Reader {
    pool: PgPool,
    window: Arc<Window>,
    /// Every event type a projector of the instance reads.
    types: Vec<&'static str>,
    settings: RunnerSettings,
    wakeup: Wakeup,
    leading: watch::Receiver<lease::Held>,
    stats: FeedStats,
}

/// Reads the feed past the window's end, batch after batch until one comes back short, each
/// time it is woken (and at every poll), while the instance leads a projector.
async fn read(mut reader: Reader) {
    let mut local = reader.wakeup.local.subscribe();
    let mut remote = reader.wakeup.remote.subscribe();
    loop {
        if reader.leading.borrow().is_empty() {
            // Leading nothing, it reads nothing; once it leads again, it starts from the head
            // (the projectors it takes catch up on their own), not from where it stopped.
            reader.window.forget();
            if reader
                .leading
                .wait_for(|held| !held.is_empty())
                .await
                .is_err()
            {
                return;
            }
        }
        if let Err(err) = read_new(&reader).await {
            reader.window.forget();
            tracing::warn!(error = %err, "cannot read the feed; the projectors read on their own");
        }
        tokio::select! {
            _ = local.changed() => tokio::time::sleep(reader.settings.linger).await,
            _ = remote.changed() => tokio::time::sleep(reader.settings.linger).await,
            _ = reader.leading.changed() => {},
            () = tokio::time::sleep(reader.settings.poll_interval) => {},
        }
    }
}

async fn read_new(reader: &Reader) -> Result<(), sqlx::Error> {
    let mut conn = reader.pool.acquire().await?;
    let mut at = match reader.window.end() {
        Some(end) => end,
        None => {
            // From the head: the projectors behind it catch up on their own, as after a start.
            let head = feed::head(&mut conn).await?;
            reader.window.start_at(head);
            head
        }
    };
    loop {
        let batch = reader.settings.batch_size;
        let events = feed::read_after(&mut conn, at, &reader.types, batch).await?;
        reader.stats.read_shared();
        let read = events.len() as i64;
        let last = events.last().map(|e| e.at);
        reader.window.extend(at, events);
        match last {
            Some(last) if read == batch => at = last,
            _ => return Ok(()),
        }
    }
}

/// What every projector task of an instance shares.
struct Shared {
    pool: PgPool,
    window: Arc<Window>,
    settings: RunnerSettings,
    wakeup: Wakeup,
    stats: FeedStats,
    /// The projectors with a request on a dead letter (see `watch_requests`).
    requested: watch::Receiver<Vec<String>>,
}

/// A projector's place, as its task knows it.
#[derive(Default)]
struct Place {
    /// Its checkpoint as its last batch left it (`None`: to be read).
    checkpoint: Option<FeedPosition>,
    /// Past the checkpoint, how far the window showed nothing of its types, and since when.
    passed: Option<(FeedPosition, Instant)>,
    /// Its last batch read the feed itself and came back short: wait for the window to move.
    caught_up_alone: bool,
}

impl Place {
    /// Whether a batch is to run now; passes over what the window shows is not its.
    fn due(&mut self, window: &Window, types: &[&str], interval: Duration) -> bool {
        let Some(checkpoint) = self.checkpoint else {
            return true;
        };
        let at = self.passed.map_or(checkpoint, |(at, _)| at);
        match window.ahead(at, types) {
            Ahead::Something => true,
            Ahead::Behind => true,
            Ahead::Unknown => !self.caught_up_alone,
            Ahead::Nothing { end } => {
                if end > at {
                    let since = self
                        .passed
                        .map_or_else(|| spread(interval), |(_, since)| since);
                    self.passed = Some((end, since));
                }
                self.passed
                    .is_some_and(|(_, since)| since.elapsed() >= interval)
            }
        }
    }

    /// What the batch may pass over without reading it.
    fn passed(&self) -> Option<Passed> {
        let (known, (to, _)) = (self.checkpoint?, self.passed?);
        Some(Passed { known, to })
    }

    fn after(&mut self, batch: &Batch, batch_size: i64) {
        self.checkpoint = Some(batch.to);
        self.passed = None;
        self.caught_up_alone = batch.from_feed && (batch.read as i64) < batch_size;
    }

    /// How long until the checkpoint is due to pass over what it passed over in memory.
    fn checkpoint_due_in(&self, interval: Duration) -> Option<Duration> {
        self.passed
            .map(|(_, since)| interval.saturating_sub(since.elapsed()))
    }
}

/// Now, moved by up to half of `interval` either way at random: the projectors of an instance
/// pass over the same events at the same moment, and their checkpoints' writes are due about an
/// interval later, spread over it rather than all at once (a burst of 20 transactions).
fn spread(interval: Duration) -> Instant {
    let now = Instant::now();
    let random = f64::from(uuid::Uuid::new_v4().as_bytes()[0]) / 255.0;
    let shift = interval.mul_f64((random - 0.5).abs());
    if random < 0.5 {
        now.checked_sub(shift).unwrap_or(now)
    } else {
        now + shift
    }
}

async fn run_projector(
    shared: Shared,
    projector: Arc<dyn Projector>,
    mut leading: watch::Receiver<lease::Held>,
    holder: String,
) {
    let Shared {
        pool,
        window,
        settings,
        wakeup,
        stats,
        mut requested,
    } = shared;
    let name = projector.name();
    let types = projector.event_types();
    let policy = settings.policy(name);
    let mut moved = window.subscribe();
    loop {
        if leading
            .wait_for(|held| held.contains_key(name))
            .await
            .is_err()
        {
            return;
        }
        // Its requests are looked at once its lease is held, whatever was told before.
        let mut requests_told = true;
        let mut backoff = Duration::from_millis(250);
        let mut failing: Option<Failing> = None;
        // Whatever happened while the lease was elsewhere: read the checkpoint again.
        let mut place = Place::default();
        loop {
            let Some(epoch) = leading.borrow().get(name).copied() else {
                break;
            };
            let fence = Fence {
                holder: holder.clone(),
                epoch,
            };
            if requests_told || requested.has_changed().unwrap_or(false) {
                requests_told = false;
                let mine = requested.borrow_and_update().iter().any(|n| n == name);
                if mine {
                    do_requests(&pool, projector.as_ref()).await;
                }
            }
            moved.mark_unchanged();
            if !place.due(&window, types, settings.checkpoint_interval) {
                let wait = place
                    .checkpoint_due_in(settings.checkpoint_interval)
                    .map_or(settings.poll_interval, |due| {
                        due.min(settings.poll_interval)
                    });
                tokio::select! {
                    _ = moved.changed() => { place.caught_up_alone = false; },
                    _ = leading.changed() => {},
                    _ = requested.changed() => requests_told = true,
                    () = tokio::time::sleep(wait) => {
                        // The poll: the reader polls the feed too, but a projector reading on
                        // its own looks again as before.
                        place.caught_up_alone = false;
                    },
                }
                continue;
            }
            // A projector that panics is a failure like another (retried, reported), not a
            // task that dies while this instance keeps renewing its lease.
            let batch = AssertUnwindSafe(run_batch(
                &pool,
                projector.as_ref(),
                &window,
                &stats,
                settings.batch_size,
                &fence,
                place.passed(),
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
            match batch {
                Ok(Some(batch)) => {
                    if batch.moved {
                        // While this batch ran, its transaction held the horizon: events
                        // committed meanwhile were invisible to the reader, and nothing else
                        // will tell it when it ended.
                        wakeup.committed();
                    }
                    failing = None;
                    backoff = Duration::from_millis(250);
                    place.after(&batch, settings.batch_size);
                }
                // The lease went elsewhere (this instance learns it at its next beat): wait
                // for that rather than try again at once.
                Ok(None) => {
                    place = Place::default();
                    tokio::select! {
                        _ = leading.changed() => {},
                        () = tokio::time::sleep(settings.poll_interval) => {},
                    }
                }
                Err(err) => {
                    place = Place::default();
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
