//! The catch-up runner: each projector reads the feed past its checkpoint, applies a batch and
//! moves its checkpoint in one transaction, so every event takes effect exactly once, also
//! across crashes. Across instances, a projector runs where its advisory lock is held; when that
//! instance dies its connection closes, the lock is freed and another instance takes it over.
//!
//! Wake-ups: a command committed in this process wakes the projectors at once (`Wakeup`); the
//! other instances learn of it through `NOTIFY events`, sent at most once per
//! `notify_interval` rather than once per command (a NOTIFY serialises commits on a global lock
//! and cost a quarter of the write throughput when every command sent one). Polling covers the
//! rest: events written by other means, and a transaction that held the horizon back (its end
//! sends no notification).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{checkpoint, feed, Checkpoint, Delivery, ProjectionError, Projector};

#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Events read per batch.
    pub batch_size: i64,
    /// How often to look for new events when no notification came.
    pub poll_interval: Duration,
    /// How often a standby instance tries to take over a projector.
    pub takeover_interval: Duration,
    /// The longest wait between retries of a failing batch.
    pub max_backoff: Duration,
    /// How long a woken projector waits for more events before reading, so that under load it
    /// applies batches rather than single events.
    pub linger: Duration,
    /// The shortest time between two `NOTIFY events` this instance sends.
    pub notify_interval: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll_interval: Duration::from_millis(500),
            takeover_interval: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            linger: Duration::from_millis(5),
            notify_interval: Duration::from_millis(10),
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
        let (lead_tx, lead_rx) = watch::channel(HashSet::<&'static str>::new());
        let mut tasks = vec![
            tokio::spawn(listen(self.pool.clone(), self.wakeup.remote.clone())),
            tokio::spawn(publish(
                self.pool.clone(),
                self.wakeup.local.subscribe(),
                self.settings.notify_interval,
            )),
            tokio::spawn(keep_leadership(
                self.pool.clone(),
                names,
                self.settings.takeover_interval,
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
            )));
        }
        Ok(RunnerHandle { tasks })
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

/// Holds, on one connection of its own, the advisory locks of the projectors this instance
/// runs, and publishes which they are. Tries to take over the others every `interval`.
async fn keep_leadership(
    pool: PgPool,
    names: Vec<&'static str>,
    interval: Duration,
    leading: watch::Sender<HashSet<&'static str>>,
) {
    let options = pool.connect_options();
    loop {
        let mut conn = match PgConnection::connect_with(&options).await {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "cannot connect to take projector locks");
                tokio::time::sleep(interval).await;
                continue;
            }
        };
        let mut held = HashSet::new();
        loop {
            let mut lost = false;
            for name in &names {
                if held.contains(name) {
                    continue;
                }
                match try_lock(&mut conn, name).await {
                    Ok(true) => {
                        tracing::info!(projector = name, "running projector here");
                        held.insert(*name);
                    }
                    Ok(false) => {}
                    Err(_) => lost = true,
                }
            }
            if !lost && conn.ping().await.is_err() {
                lost = true;
            }
            if lost {
                // Our session, and with it every lock, is gone.
                tracing::warn!("lost the projector locks' connection");
                leading.send_replace(HashSet::new());
                break;
            }
            leading.send_if_modified(|current| {
                let changed = *current != held;
                current.clone_from(&held);
                changed
            });
            tokio::time::sleep(interval).await;
        }
        tokio::time::sleep(interval).await;
    }
}

async fn try_lock(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtext('operations.projector'), hashtext($1))",
    )
    .bind(name)
    .fetch_one(conn)
    .await
}

async fn run_projector(
    pool: PgPool,
    projector: Arc<dyn Projector>,
    settings: RunnerSettings,
    wakeup: Wakeup,
    mut leading: watch::Receiver<HashSet<&'static str>>,
) {
    let name = projector.name();
    let mut local = wakeup.local.subscribe();
    let mut remote = wakeup.remote.subscribe();
    loop {
        if leading.wait_for(|set| set.contains(name)).await.is_err() {
            return;
        }
        let mut backoff = Duration::from_millis(250);
        while leading.borrow().contains(name) {
            let batch = run_batch(&pool, projector.as_ref(), settings.batch_size).await;
            if matches!(batch, Ok(read) if read > 0) {
                // While this batch ran, its transaction held the horizon: events committed
                // meanwhile were invisible to the other projectors, and nothing else will
                // tell them when it ended.
                wakeup.committed();
            }
            match batch {
                Ok(read) if read as i64 == settings.batch_size => continue,
                Ok(_) => {
                    backoff = Duration::from_millis(250);
                    tokio::select! {
                        _ = local.changed() => tokio::time::sleep(settings.linger).await,
                        _ = remote.changed() => tokio::time::sleep(settings.linger).await,
                        _ = leading.changed() => {},
                        () = tokio::time::sleep(settings.poll_interval) => {},
                    }
                }
                Err(err) => {
                    let failures =
                        checkpoint::record_failure(&pool, name, &err.to_string(), err.position())
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

/// Applies the next batch of a projector; returns how many events it read (applied or passed
/// over). For a read model everything happens in one transaction: checkpoint lock, read, apply,
/// advance. A process (`Delivery::Effects`) holds no transaction while its commands run.
pub(crate) async fn run_batch(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
) -> Result<usize, ProjectionError> {
    if projector.delivery() == Delivery::Effects {
        let mut conn = pool.acquire().await?;
        let from = checkpoint::read(&mut conn, projector.name()).await?;
        let (read, to) = apply_batch(&mut conn, projector, from, batch_size).await?;
        if read > 0 && !checkpoint::advance_from(&mut conn, projector.name(), from, to).await? {
            // Another runner moved it meanwhile (a leader that was paused): its effects and
            // ours were the same, each done once under its key.
            tracing::warn!(
                projector = projector.name(),
                "checkpoint moved by another runner"
            );
        }
        return Ok(read);
    }
    let mut tx = pool.begin().await?;
    let from = checkpoint::lock(&mut tx, projector.name()).await?;
    let (read, _) = apply_next(&mut tx, projector, from, batch_size).await?;
    tx.commit().await?;
    Ok(read)
}

/// Reads past `from`, applies what the projector wants, advances its checkpoint; returns the
/// number of events read and the new checkpoint.
pub(crate) async fn apply_next(
    tx: &mut PgConnection,
    projector: &dyn Projector,
    from: Checkpoint,
    batch_size: i64,
) -> Result<(usize, Checkpoint), ProjectionError> {
    let (read, to) = apply_batch(tx, projector, from, batch_size).await?;
    if read > 0 {
        checkpoint::advance(tx, projector.name(), to).await?;
    }
    Ok((read, to))
}

/// Reads past `from` and applies what the projector wants, leaving its checkpoint alone;
/// returns the number of events read and where they end.
pub(crate) async fn apply_batch(
    tx: &mut PgConnection,
    projector: &dyn Projector,
    from: Checkpoint,
    batch_size: i64,
) -> Result<(usize, Checkpoint), ProjectionError> {
    let events = feed::read_after(tx, from.at, projector.event_types(), batch_size).await?;
    let Some(last) = events.last().map(|e| e.at) else {
        return Ok((0, from));
    };
    let read = events.len();
    let wanted: Vec<_> = events.into_iter().filter(|e| e.payload.is_some()).collect();
    if !wanted.is_empty() {
        projector.apply(tx, &wanted).await?;
    }
    Ok((
        read,
        Checkpoint {
            at: last,
            events_applied: from.events_applied + wanted.len() as i64,
        },
    ))
}
