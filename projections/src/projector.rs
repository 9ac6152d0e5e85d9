use async_trait::async_trait;
use sqlx::PgConnection;

use crate::StoredEvent;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("the event at position {position} cannot be decoded: {source}")]
    Decode {
        position: i64,
        source: serde_json::Error,
    },
    #[error("the event at position {position} does not fit the read model: {reason}")]
    Inconsistent { position: i64, reason: String },
    #[error("reacting to the event at position {position} failed: {reason}")]
    Effect { position: i64, reason: String },
    #[error("the projector panicked: {0}")]
    Panicked(String),
}

impl ProjectionError {
    /// The position of the event that failed, when the failure is about one event.
    pub fn position(&self) -> Option<i64> {
        match self {
            Self::Database(_) | Self::Panicked(_) => None,
            Self::Decode { position, .. }
            | Self::Inconsistent { position, .. }
            | Self::Effect { position, .. } => Some(*position),
        }
    }
}

/// How the runner delivers a projector's batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Inside the transaction that moves the checkpoint: a read model's writes take effect
    /// exactly once with it.
    InTransaction,
    /// Outside any transaction, the checkpoint moved after the batch: for a process whose
    /// effects are commands of their own, each in its own short transaction and idempotent under
    /// a key derived from its causing event. A batch then holds no transaction id, and so no
    /// reader's horizon, while its commands run; a batch redelivered after a crash finds its
    /// effects (and its refusals) already decided.
    Effects,
}

/// A read model kept in step with the events. The runner hands it batches of the events it
/// wants, in feed order, inside the transaction that also moves its checkpoint: whatever it
/// writes there takes effect exactly once.
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// Stable name: the key of its checkpoint and its advisory lock.
    fn name(&self) -> &'static str;
    /// The event types it is given; the others are passed over.
    fn event_types(&self) -> &'static [&'static str];
    /// The tables it owns, emptied before a replay.
    fn tables(&self) -> &'static [&'static str];
    /// How its batches are delivered.
    fn delivery(&self) -> Delivery {
        Delivery::InTransaction
    }
    /// Applies a batch of events, in order.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError>;
}

/// Every event type some projector of `projectors` reads, sorted, each once.
pub(crate) fn event_types_of<'a>(
    projectors: impl IntoIterator<Item = &'a dyn Projector>,
) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = (projectors.into_iter())
        .flat_map(|p| p.event_types().iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}
