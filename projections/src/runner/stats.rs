//! What the runner of an instance read and applied, for the metrics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
