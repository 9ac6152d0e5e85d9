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
}

impl ProjectionError {
    /// The position of the event that failed, when the failure is about one event.
    pub fn position(&self) -> Option<i64> {
        match self {
            Self::Database(_) => None,
            Self::Decode { position, .. }
            | Self::Inconsistent { position, .. }
            | Self::Effect { position, .. } => Some(*position),
        }
    }
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
    /// Applies a batch of events, in order.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError>;
}
