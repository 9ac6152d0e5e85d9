//! A projector's task: when to run a batch (its place against the window), the batch, and
//! what it does when one fails.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::FutureExt;
use sqlx::PgPool;
use tokio::sync::watch;

use super::batch::{run_batch, Batch, Passed};
use super::parking::{do_requests, park, Failing};
use super::window::{Ahead, Window};
use super::{FailurePolicy, FeedStats, RunnerSettings, Wakeup};
use crate::lease::{self, Fence};
use crate::{checkpoint, FeedPosition, ProjectionError, Projector};

/// What every projector task of an instance shares.
pub(super) struct Shared {
    pub(super) pool: PgPool,
    pub(super) window: Arc<Window>,
    pub(super) settings: RunnerSettings,
    pub(super) wakeup: Wakeup,
    pub(super) stats: FeedStats,
    /// The projectors with a request on a dead letter (see `watch_requests`).
    pub(super) requested: watch::Receiver<Vec<String>>,
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

pub(super) async fn run_projector(
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
                        stats.moved(name, batch.to);
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
