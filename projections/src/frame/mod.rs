//! The frame every read-model projector shares. A projector is its per-event fold over a
//! `Batch` plus its table declarations (`table!`); the frame decodes the batch's events, has the
//! batch note the rows they touch, loads them (one statement per table), folds every event in
//! order, and writes the changed rows back (one statement per table), inside the runner's
//! transaction.
//!
//! A fold decides nothing: it copies what events say. What does not fit (a second creation, an
//! event for a row that was never created, an event at or below its row's version) is an
//! `Inconsistent` answer, which stops the stream there (a dead letter) rather than applying it
//! twice or to nothing.

mod column;
mod history;
mod sql;
mod state;
mod table;
#[cfg(test)]
pub(crate) mod testing;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

pub use column::Column;
pub(crate) use history::history;
pub use history::{timeline, Changes, History, Recorded};
pub use sql::{insert_sql, load_sql};
pub use state::{StateProjector, StateRows, StateView};
pub(crate) use table::{row, table, versioned};
pub use table::{Append, Appends, Rows, Table, Versioned};

use crate::{ProjectionError, Projector, Provenance, StoredEvent};

/// Why an event does not fit the read model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inconsistent(pub &'static str);

/// An event as a fold sees it besides its payload: its stream, its place in it and in the feed,
/// and (read only when asked) its metadata.
#[derive(Debug, Clone, Copy)]
pub struct Fact<'a> {
    pub stream: Uuid,
    pub sequence: i64,
    pub at: DateTime<Utc>,
    pub position: i64,
    pub event: &'a StoredEvent,
}

impl Fact<'_> {
    pub fn event_type(&self) -> &str {
        &self.event.event_type
    }

    /// Who caused the event and in what flow.
    pub fn provenance(&self) -> Provenance {
        self.event.provenance()
    }
}

/// A projector's state for one batch: the rows it touches and how each event changes them.
#[async_trait]
pub trait Batch: Default + Send {
    type Event: DeserializeOwned + Send;
    /// Notes the rows this event touches (called for every event before any is folded).
    fn want(&mut self, _fact: &Fact<'_>, _event: &Self::Event) {}
    /// Loads the rows noted.
    async fn load(&mut self, _conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        Ok(())
    }
    /// Folds one event into the rows.
    fn fold(&mut self, fact: &Fact<'_>, event: Self::Event) -> Result<(), Inconsistent>;
    /// Writes what changed.
    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error>;
}

/// A read-model projector built on the frame. Every `Fold` is a `Projector`.
pub trait Fold: Send + Sync + 'static {
    /// The projector's stable name: its checkpoint's key, and how the HTTP collections name it.
    const NAME: &'static str;
    /// The aggregate whose events it folds; events of others are passed over.
    const AGGREGATE_TYPE: &'static str;
    /// The event types it is given.
    const EVENT_TYPES: &'static [&'static str];
    /// The tables it owns, emptied before a replay.
    const TABLES: &'static [&'static str];
    type Batch: Batch;
}

#[async_trait]
impl<F: Fold> Projector for F {
    fn name(&self) -> &'static str {
        F::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        F::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        F::TABLES
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut batch = F::Batch::default();
        let mut decoded = Vec::with_capacity(events.len());
        for event in events
            .iter()
            .filter(|e| e.aggregate_type == F::AGGREGATE_TYPE)
        {
            let fact = Fact {
                stream: event.stream_uuid()?,
                sequence: event.sequence,
                at: event.recorded_at,
                position: event.at.position,
                event,
            };
            let payload = event.decode::<<F::Batch as Batch>::Event>()?;
            batch.want(&fact, &payload);
            decoded.push((fact, payload));
        }
        batch.load(tx).await?;
        for (fact, payload) in decoded {
            batch.fold(&fact, payload).map_err(|Inconsistent(reason)| {
                ProjectionError::Inconsistent {
                    position: fact.position,
                    reason: reason.to_string(),
                }
            })?;
        }
        batch.write(tx).await?;
        Ok(())
    }
}

/// A column of a row, read as its field's type.
pub fn restore<T: Column>(row: &PgRow, column: &str) -> Result<T, sqlx::Error> {
    let stored = row.try_get::<T::Stored, _>(column)?;
    T::restore(stored).map_err(|source| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source,
    })
}
