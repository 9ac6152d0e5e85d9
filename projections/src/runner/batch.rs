//! One batch of a projector: read past its checkpoint, apply, move the checkpoint.

use sqlx::{PgConnection, PgPool};

use super::window::Window;
use super::FeedStats;
use crate::dead_letters::Letters;
use crate::lease::Fence;
use crate::{checkpoint, feed, Checkpoint, Delivery, FeedPosition, ProjectionError, Projector};

/// How a batch ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    /// Events read (applied or passed over).
    pub read: usize,
    /// The checkpoint after the batch.
    pub to: FeedPosition,
    /// The checkpoint moved (and, for a read model, a transaction that held the horizon ended).
    pub moved: bool,
    /// The events came from the feed itself, the checkpoint being outside the window.
    pub from_feed: bool,
}

/// A stretch of the feed the projector's task saw, in the window, hold nothing of its types:
/// from its checkpoint as its last batch left it (`known`) to `to`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Passed {
    pub known: FeedPosition,
    pub to: FeedPosition,
}

/// Applies the next batch of a projector, its events taken from the window when it covers the
/// checkpoint, from the feed else. For a read model everything happens in one transaction:
/// checkpoint lock, read, apply, advance. A process (`Delivery::Effects`) holds no transaction
/// while its commands run. A batch starts past what `passed` says holds nothing for it, when
/// the checkpoint is in that stretch. `None`: the lease is no longer this fence's, nothing was
/// done.
pub(crate) async fn run_batch(
    pool: &PgPool,
    projector: &dyn Projector,
    window: &Window,
    stats: &FeedStats,
    batch_size: i64,
    fence: &Fence,
    passed: Option<Passed>,
) -> Result<Option<Batch>, ProjectionError> {
    let name = projector.name();
    let lost = || {
        tracing::warn!(
            projector = name,
            epoch = fence.epoch,
            "the lease was taken over or lapsed: this batch is not applied here"
        );
        Ok(None)
    };
    let source = Source {
        window,
        stats,
        batch_size,
        passed,
    };
    if projector.delivery() == Delivery::Effects {
        let mut conn = pool.acquire().await?;
        let Some((from, letters)) =
            checkpoint::read_fenced_unlocked(&mut conn, name, fence).await?
        else {
            return lost();
        };
        let (batch, to) = source.apply(&mut conn, projector, from, &letters).await?;
        if batch.moved && !checkpoint::advance_from(&mut conn, name, from, to, Some(fence)).await? {
            // Another runner took over meanwhile (this one was paused): its effects and ours
            // were the same, each done once under its key; the checkpoint is its to move.
            tracing::warn!(
                projector = name,
                "checkpoint moved by another runner, or the lease was taken over"
            );
        }
        return Ok(Some(batch));
    }
    // A read model's batch need not wait for its commit to reach the disk: its rows and its
    // checkpoint commit together, so a database crash that loses the last few milliseconds of
    // batches rolls both back to a checkpoint that matches the rows, and the projector applies
    // those events again. Without the wait, every projector's batch no longer costs a WAL flush
    // (26 flushes for each event, the most of what an event cost the database). Processes
    // (`Effects`, above) and commands keep durable commits. (Sent with the BEGIN: one round
    // trip.)
    let mut tx = pool
        .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
        .await?;
    let Some((from, letters)) = checkpoint::lock_fenced(&mut tx, name, fence).await? else {
        return lost();
    };
    let (batch, to) = source.apply(&mut tx, projector, from, &letters).await?;
    if batch.moved && !checkpoint::advance(&mut tx, name, to, Some(fence)).await? {
        // Rolled back with the transaction's end: nothing of this batch takes effect.
        return lost();
    }
    tx.commit().await?;
    Ok(Some(batch))
}

/// Where a batch's events come from.
struct Source<'a> {
    window: &'a Window,
    stats: &'a FeedStats,
    batch_size: i64,
    passed: Option<Passed>,
}

impl Source<'_> {
    /// Reads past `from` (the window, or the feed when the window does not reach back to it)
    /// and applies what the projector wants, but what waits behind its dead letters, leaving
    /// its checkpoint alone; returns the batch and the checkpoint it leads to.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        projector: &dyn Projector,
        from: Checkpoint,
        letters: &Letters,
    ) -> Result<(Batch, Checkpoint), ProjectionError> {
        let name = projector.name();
        let types = projector.event_types();
        // The events up to `passed.to` hold nothing of its types: no need to read them again.
        let start = match self.passed {
            Some(p) if p.known <= from.at && from.at < p.to => p.to,
            _ => from.at,
        };
        let (mut events, read, end, from_feed) =
            match self.window.after(start, types, self.batch_size as usize) {
                Some(slice) => (slice.events, slice.read, slice.end, false),
                None => {
                    self.stats.read_alone();
                    let mut events = feed::read_after(conn, start, types, self.batch_size).await?;
                    let read = events.len();
                    let end = events.last().map_or(start, |e| e.at);
                    events.retain(|e| e.payload.is_some());
                    (events, read, end, true)
                }
            };
        // Events of a stream parked behind a dead letter are passed over: they wait for it.
        events.retain(|e| !letters.holds(name, e));
        if !events.is_empty() {
            self.stats.batch(name);
            projector.apply(conn, &events).await?;
        }
        let batch = Batch {
            read,
            to: end,
            moved: end != from.at,
            from_feed,
        };
        Ok((
            batch,
            Checkpoint {
                at: end,
                events_applied: from.events_applied + events.len() as i64,
            },
        ))
    }
}
