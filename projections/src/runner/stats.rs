//! What the runner of an instance read and applied, for the metrics, and the news of its
//! committed batches, for the reads that wait for them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::FeedPosition;

/// What the runner of an instance has read and applied since it started, for the metrics.
#[derive(Clone, Default)]
pub struct FeedStats(Arc<Counts>);

struct Counts {
    /// Reads of the feed by the instance's reader, for every projector.
    shared: AtomicU64,
    /// Reads by a projector on its own (its place outside the window).
    alone: AtomicU64,
    /// Batches applied, by projector.
    batches: Mutex<HashMap<&'static str, u64>>,
    /// The projector of each batch committed that moved its checkpoint, and the checkpoint it
    /// committed: what a read waiting for its own write (`consistent_with`) waits on, rather
    /// than only on a timer.
    moved: broadcast::Sender<Moved>,
}

/// A batch of a projector of this instance committed, and moved its checkpoint to `to`: every
/// event of its types up to `to` is applied, in the database, for every reader from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub projector: &'static str,
    pub to: FeedPosition,
}

impl Default for Counts {
    fn default() -> Self {
        Self {
            shared: AtomicU64::default(),
            alone: AtomicU64::default(),
            batches: Mutex::default(),
            // A waiter that falls this far behind looks at the checkpoints again.
            moved: broadcast::channel(64).0,
        }
    }
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

    /// Tells of each projector of this instance as it commits a batch that moved its
    /// checkpoint, and where to (a read waiting for a token looks again when one of its
    /// projectors has, and needs not ask the database when the checkpoint is past the token).
    pub fn moves(&self) -> broadcast::Receiver<Moved> {
        self.0.moved.subscribe()
    }

    pub(super) fn moved(&self, projector: &'static str, to: FeedPosition) {
        // No read is waiting when nobody listens.
        let _ = self.0.moved.send(Moved { projector, to });
    }

    pub(super) fn read_shared(&self) {
        self.0.shared.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn read_alone(&self) {
        self.0.alone.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn batch(&self, projector: &'static str) {
        *self
            .0
            .batches
            .lock()
            .expect("stats lock")
            .entry(projector)
            .or_default() += 1;
    }
}
