//! The frame of a history read model (`*_history`): rows appended from each event alone, with
//! no state to load. A history projector says which row an event adds (`Changes`); its batch is
//! `History<Self>`, and its timeline is read with `timeline`.

use std::marker::PhantomData;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use aggregates::VariantNames;

use super::{Append, Appends, Batch, Fact, Fold, Inconsistent};

/// What each event adds to a history table. A `Changes` is a `Fold` (a projector) whose batch
/// is `History<Self>` and whose one table is its entry's.
pub trait Changes: Send + Sync + 'static {
    /// The projector's stable name (see `Fold::NAME`).
    const NAME: &'static str;
    /// The aggregate whose events it records.
    type Aggregate: cqrs_es::Aggregate;
    type Event: DeserializeOwned + Send + VariantNames;
    /// The event types it is given: all its aggregate's, unless it says which.
    const EVENT_TYPES: &'static [&'static str] = <Self::Event as VariantNames>::VARIANTS;
    type Entry: Append;
    /// The row `event` adds, if it adds one (an event that changes nothing the timeline shows
    /// adds none).
    fn entry(fact: &Fact<'_>, event: Self::Event) -> Result<Option<Self::Entry>, Inconsistent>;
}

impl<C: Changes> Fold for C {
    const NAME: &'static str = C::NAME;
    const AGGREGATE_TYPE: &'static str = <C::Aggregate as cqrs_es::Aggregate>::TYPE;
    const EVENT_TYPES: &'static [&'static str] = C::EVENT_TYPES;
    const TABLES: &'static [&'static str] = &[<C::Entry as Append>::TABLE];
    type Batch = History<C>;
}

/// The history rows a batch adds.
pub struct History<C: Changes> {
    pub(crate) rows: Appends<C::Entry>,
    of: PhantomData<fn() -> C>,
}

impl<C: Changes> Default for History<C> {
    fn default() -> Self {
        Self {
            rows: Appends::default(),
            of: PhantomData,
        }
    }
}

#[async_trait]
impl<C: Changes> Batch for History<C> {
    type Event = C::Event;

    fn fold(&mut self, fact: &Fact<'_>, event: C::Event) -> Result<(), Inconsistent> {
        if let Some(entry) = C::entry(fact, event)? {
            self.rows.push(entry);
        }
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.rows.write(conn).await
    }
}

/// One entity's timeline: the rows of `E`'s table whose `id_column` is `id`, in stream order,
/// each read as `R` with its event's `position` and whom the actor acted for (`on_behalf_of`,
/// from the event's metadata).
pub async fn timeline<E, R>(pool: &PgPool, id_column: &str, id: Uuid) -> Result<Vec<R>, sqlx::Error>
where
    E: Append,
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as(&format!(
        "SELECT h.*, h.global_position AS position,
                e.metadata->>'on_behalf_of' AS on_behalf_of
           FROM (SELECT {} FROM {} WHERE {id_column} = $1) h
           LEFT JOIN events e ON e.global_position = h.global_position
          ORDER BY h.sequence",
        E::COLUMNS,
        E::TABLE
    ))
    .bind(id)
    .fetch_all(pool)
    .await
}
