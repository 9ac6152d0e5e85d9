//! The frame of a history read model (`*_history`): rows appended from each event alone, with
//! no state to load. A history projector says which row an event adds (`Changes`); its batch is
//! `History<Self>`, and its timeline is read with `timeline`.

use std::marker::PhantomData;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use super::{Append, Appends, Batch, Fact, Inconsistent};

/// What each event adds to a history table.
pub trait Changes: Send + Sync + 'static {
    type Event: DeserializeOwned + Send;
    type Entry: Append;
    /// The row `event` adds, if it adds one (an event that changes nothing the timeline shows
    /// adds none).
    fn entry(fact: &Fact<'_>, event: Self::Event) -> Result<Option<Self::Entry>, Inconsistent>;
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
