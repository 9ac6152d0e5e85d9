//! The instance's one reader of the feed: it fills the window the projectors take from.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::watch;

use super::window::Window;
use super::{FeedStats, RunnerSettings, Wakeup};
use crate::{feed, lease};

/// The instance's reader of the feed and what it needs.
pub(super) struct Reader {
    pub(super) pool: PgPool,
    pub(super) window: Arc<Window>,
    /// Every event type a projector of the instance reads.
    pub(super) types: Vec<&'static str>,
    pub(super) settings: RunnerSettings,
    pub(super) wakeup: Wakeup,
    pub(super) leading: watch::Receiver<lease::Held>,
    pub(super) stats: FeedStats,
}

/// Reads the feed past the window's end, batch after batch until one comes back short, each
/// time it is woken (and at every poll), while the instance leads a projector.
pub(super) async fn read(mut reader: Reader) {
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
