//! A failing event: parked behind a dead letter after its attempts; and the operators'
//! requests on dead letters, done by the running runner.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::lease::Fence;
use crate::{checkpoint, dead_letters, Projector};

/// The event a projector keeps failing on.
pub(super) struct Failing {
    pub position: i64,
    pub attempts: u32,
    pub since: DateTime<Utc>,
}

/// Parks the failing event's stream behind a dead letter, in a transaction of its own that also
/// clears the checkpoint's failure (the projector goes on).
pub(super) async fn park(
    pool: &PgPool,
    name: &str,
    fence: &Fence,
    failing: &Failing,
    error: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Under the checkpoint's lock and the lease's fence, and only if the event is still ahead
    // of the checkpoint: a runner that lost its lease, or whose event another runner (or a
    // replay) has applied meanwhile, parks nothing.
    let Some((at, _)) = checkpoint::lock_fenced(&mut tx, name, fence).await? else {
        return Ok(());
    };
    let id = dead_letters::park(
        &mut tx,
        name,
        failing.position,
        error,
        failing.attempts as i32,
        failing.since,
        Some(at.at),
    )
    .await?;
    sqlx::query("UPDATE projector_checkpoints SET failures = 0 WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::warn!(
        projector = name,
        position = failing.position,
        dead_letter = id,
        attempts = failing.attempts,
        %error,
        "parked the event's stream behind a dead letter; the other streams go on"
    );
    Ok(())
}

/// Does the retries and skips operators asked of this projector's dead letters.
pub(super) async fn do_requests(pool: &PgPool, projector: &dyn Projector) {
    let name = projector.name();
    let ids = match dead_letters::requested(pool, name).await {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(projector = name, error = %err, "cannot read dead-letter requests");
            return;
        }
    };
    for id in ids {
        match dead_letters::resolve(pool, projector, id).await {
            Ok(resolution) => {
                tracing::info!(
                    projector = name,
                    dead_letter = id,
                    ?resolution,
                    "dead letter handled"
                )
            }
            Err(err) => {
                tracing::warn!(projector = name, dead_letter = id, error = %err, "dead-letter request failed; retrying")
            }
        }
    }
}

/// Looks every `every` for the projectors that have a request on a dead letter, in one
/// statement for the whole instance (rather than one per projector), while the instance leads
/// a projector; tells them (again at each look while the request stands, so that one that
/// failed is tried again).
pub(super) async fn watch_requests(
    pool: PgPool,
    every: Duration,
    requested: watch::Sender<Vec<String>>,
    mut leading: watch::Receiver<crate::lease::Held>,
) {
    loop {
        if leading.wait_for(|held| !held.is_empty()).await.is_err() {
            return;
        }
        match dead_letters::requested_projectors(&pool).await {
            Ok(names) => {
                requested.send_if_modified(|current| {
                    let tell = !names.is_empty() || *current != names;
                    *current = names;
                    tell
                });
            }
            Err(err) => tracing::warn!(error = %err, "cannot read dead-letter requests"),
        }
        tokio::time::sleep(every).await;
    }
}
