//! Rebuilding a read model from the events alone.
//!
//! The rebuild runs in one transaction: it locks the projector's checkpoint (the live runner
//! waits), empties the projector's tables with DELETE (readers keep seeing the old rows, never a
//! half-built table, and are not blocked), replays every event and moves the checkpoint. On
//! commit readers switch to the new rows at once and the live runner carries on from there.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::{checkpoint, runner, Checkpoint, FeedPosition, ProjectionError, Projector};

#[derive(Debug, Clone, Copy)]
pub struct ReplayProgress {
    /// Events read from the feed so far.
    pub events_read: u64,
    /// Events the projector applied (the ones it wants).
    pub events_applied: i64,
    pub elapsed: Duration,
}

pub async fn replay(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
    mut progress: impl FnMut(ReplayProgress),
) -> Result<ReplayProgress, ProjectionError> {
    let started = Instant::now();
    checkpoint::ensure(pool, &[projector.name()]).await?;
    let mut tx = pool.begin().await?;
    checkpoint::lock(&mut tx, projector.name()).await?;
    for table in projector.tables() {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
    }
    let mut at = Checkpoint {
        at: FeedPosition::default(),
        events_applied: 0,
    };
    let mut events_read = 0u64;
    loop {
        let (read, next) = runner::apply_next(&mut tx, projector, at, batch_size).await?;
        if read == 0 {
            break;
        }
        events_read += read as u64;
        at = next;
        progress(ReplayProgress {
            events_read,
            events_applied: at.events_applied,
            elapsed: started.elapsed(),
        });
    }
    tx.commit().await?;
    Ok(ReplayProgress {
        events_read,
        events_applied: at.events_applied,
        elapsed: started.elapsed(),
    })
}
