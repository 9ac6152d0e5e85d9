//! One batch of a projector: read past its checkpoint, apply, move the checkpoint.

use sqlx::{PgConnection, PgPool};

use crate::lease::Fence;
use crate::{checkpoint, feed, Checkpoint, Delivery, ProjectionError, Projector};

/// Applies the next batch of a projector; returns how many events it read (applied or passed
/// over). For a read model everything happens in one transaction: checkpoint lock, read, apply,
/// advance. A process (`Delivery::Effects`) holds no transaction while its commands run.
pub(crate) async fn run_batch(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
    fence: &Fence,
) -> Result<usize, ProjectionError> {
    let name = projector.name();
    let lost = || {
        tracing::warn!(
            projector = name,
            epoch = fence.epoch,
            "the lease was taken over or lapsed: this batch is not applied here"
        );
        Ok(0)
    };
    if projector.delivery() == Delivery::Effects {
        let mut conn = pool.acquire().await?;
        if !checkpoint::leased(&mut conn, name, fence).await? {
            return lost();
        }
        let from = checkpoint::read(&mut conn, name).await?;
        let (read, to) = apply_batch(&mut conn, projector, from, batch_size).await?;
        if read > 0 && !checkpoint::advance_from(&mut conn, name, from, to, Some(fence)).await? {
            // Another runner took over meanwhile (this one was paused): its effects and ours
            // were the same, each done once under its key; the checkpoint is its to move.
            tracing::warn!(
                projector = name,
                "checkpoint moved by another runner, or the lease was taken over"
            );
        }
        return Ok(read);
    }
    let mut tx = pool.begin().await?;
    // A read model's batch need not wait for its commit to reach the disk: its rows and its
    // checkpoint commit together, so a database crash that loses the last few milliseconds of
    // batches rolls both back to a checkpoint that matches the rows, and the projector applies
    // those events again. Without the wait, every projector's batch no longer costs a WAL flush
    // (26 flushes for each event, the most of what an event cost the database). Processes
    // (`Effects`, above) and commands keep durable commits.
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    let Some(from) = checkpoint::lock_fenced(&mut tx, name, fence).await? else {
        return lost();
    };
    let (read, to) = apply_batch(&mut tx, projector, from, batch_size).await?;
    if read > 0 && !checkpoint::advance(&mut tx, name, to, Some(fence)).await? {
        // Rolled back with the transaction's end: nothing of this batch takes effect.
        return lost();
    }
    tx.commit().await?;
    Ok(read)
}

/// Reads past `from` and applies what the projector wants, leaving its checkpoint alone;
/// returns the number of events read and where they end.
pub(crate) async fn apply_batch(
    tx: &mut PgConnection,
    projector: &dyn Projector,
    from: Checkpoint,
    batch_size: i64,
) -> Result<(usize, Checkpoint), ProjectionError> {
    let events = feed::read_after(
        tx,
        projector.name(),
        from.at,
        projector.event_types(),
        batch_size,
    )
    .await?;
    let Some(last) = events.last().map(|e| e.at) else {
        return Ok((0, from));
    };
    let read = events.len();
    // Events of a stream parked behind a dead letter are passed over: they wait for it.
    let wanted: Vec<_> = events
        .into_iter()
        .filter(|e| e.payload.is_some() && !e.parked)
        .collect();
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
