//! The write side's event store: postgres-es's `events` table, written in one statement per
//! command.
//!
//! Why not postgres-es's own `persist`: it writes each event with its own statement inside a
//! transaction it opens itself, so a command costs 3 + n round trips and nothing else can join
//! that transaction. Here a command's events and its idempotency record are one `INSERT ...
//! SELECT FROM UNNEST` with a data-modifying CTE: one round trip, atomic, and the primary key
//! `(aggregate_type, aggregate_id, sequence)` still turns a concurrent writer into a conflict.
//! The table is postgres-es's, column for column, so its repository reads what we write (a test
//! proves it).

mod append;
mod load;
mod metadata;

pub use append::{AppendError, AppendedEvent, IdempotencyRecord, RememberedCommand};
pub use load::Loaded;
pub use metadata::EventMetadata;

use projections::Wakeup;
use sqlx::PgPool;

#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    wakeup: Wakeup,
}

impl EventStore {
    /// A store whose appends wake `wakeup`'s projectors.
    pub fn new(pool: PgPool, wakeup: Wakeup) -> Self {
        Self { pool, wakeup }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
