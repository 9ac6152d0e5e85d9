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
mod explain;
mod idempotency;
mod load;
mod metadata;
pub mod moves;
mod streams;

pub use append::{AppendError, AppendedEvent, Prepared};
pub use idempotency::{IdempotencyRecord, RememberedCommand};
pub use load::{LoadError, Loaded, Past, Until};
pub use metadata::EventMetadata;

use cqrs_es::Aggregate;
use projections::Wakeup;
use sqlx::PgPool;

/// How a kind of stream is stored.
pub trait Stream: Aggregate {
    /// Take a snapshot once this many events have followed the last one; `None`: never.
    ///
    /// Snapshots are written by us, not by cqrs-es's snapshot store, which in 0.5.0 applies
    /// each new event twice to the saved state. Ours is the aggregate exactly as the command
    /// left it (its events applied once, by `EventSink::write`); a test compares a pilot loaded
    /// from its snapshot with one folded from all its events. A snapshot that no longer
    /// deserializes is ignored; after a change of what a state's fields mean, delete the
    /// aggregate's snapshots (`DELETE FROM snapshots WHERE aggregate_type = ...`).
    const SNAPSHOT_EVERY: Option<u64> = None;

    /// The values `event` claims for its stream, unique among all streams of this type for
    /// good: the seed's unique columns, which one stream cannot check alone. The append that
    /// stores the event claims them in the same statement, or fails with `AppendError::Taken`.
    fn claims(_event: &Self::Event) -> Vec<Claim> {
        Vec::new()
    }

    /// The state other commands' references see this stream in (`entity_registry`), written
    /// by the append that changes it; `None` for streams nothing names. The registry is the
    /// write side's: a reference is checked against it in the append's own statement, never
    /// against a lagging read model.
    fn registry_state(&self) -> Option<&'static str> {
        None
    }

    /// The entities `command` (on the stream `id`) names, each checked in the append
    /// (`Reference`).
    fn references(_id: uuid::Uuid, _command: &Self::Command) -> Vec<Reference> {
        Vec::new()
    }

    /// What another stream must record with `events` (the stream `id`'s, which left it
    /// `after`), appended in the same transaction (see `companion`).
    fn companion(
        _id: uuid::Uuid,
        _after: &Self,
        _events: &[Self::Event],
    ) -> Option<crate::companion::Companion> {
        None
    }
}

/// An entity a command names, which must exist, in one of the `allowed` states if any are
/// given (see `Stream::references`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The command's field that names it, as the API spells it.
    pub field: &'static str,
    pub aggregate_type: &'static str,
    pub id: uuid::Uuid,
    /// The states it may be in (`Stream::registry_state`); empty: any.
    pub allowed: &'static [&'static str],
}

impl Reference {
    pub fn to<A: Stream>(field: &'static str, id: uuid::Uuid) -> Self {
        Self {
            field,
            aggregate_type: A::TYPE,
            id,
            allowed: &[],
        }
    }

    pub fn in_state(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
}

/// A value an event claims for its stream alone (see `Stream::claims`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The field that holds it, as the API names it.
    pub field: &'static str,
    pub value: String,
}

#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    wakeup: Wakeup,
    check_references: bool,
}

impl EventStore {
    /// A store whose appends wake `wakeup`'s projectors.
    pub fn new(pool: PgPool, wakeup: Wakeup) -> Self {
        Self {
            pool,
            wakeup,
            check_references: true,
        }
    }

    /// A store that checks commands' references (`Stream::references`) or, for importing
    /// history, takes them as given.
    pub fn checking_references(mut self, check: bool) -> Self {
        self.check_references = check;
        self
    }

    pub fn checks_references(&self) -> bool {
        self.check_references
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
