//! What every handler can reach.

use crate::store::EventStore;

/// A command body may be at most 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The state every handler takes.
#[derive(Clone)]
pub struct ApiContext {
    pub store: EventStore,
    pub auth: crate::auth::Authenticator,
    pub rate: std::sync::Arc<super::rate::RateLimits>,
    /// How long a read naming a consistency token may wait.
    pub consistency_timeout: std::time::Duration,
    /// How long an availability quote may be relied on.
    pub quote_ttl: std::time::Duration,
    /// How long a transaction may stay open before /readyz reports it.
    pub long_transaction: std::time::Duration,
    pub metrics: std::sync::Arc<super::registry::Metrics>,
    /// What this instance's projectors read and applied (nothing when it runs none).
    pub feed: projections::FeedStats,
}
