//! A read model that shows an aggregate's state, one row per stream, folded with the
//! aggregate's own `apply`: it cannot drift from the state the commands decide on. A view
//! says how it shows the aggregate and back (`StateView`); `StateProjector` keeps its table.

use std::marker::PhantomData;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, Fact, Fold, Inconsistent, Rows, Table};

/// A row that is an aggregate's state at a version of its stream.
pub trait StateView: Table<Key = Uuid> + 'static {
    type Aggregate: Aggregate;
    /// The projector's name (its checkpoint, and how reads name it).
    const NAME: &'static str;
    /// The event types it is given: every one of the aggregate's.
    const EVENT_TYPES: &'static [&'static str];
    /// Its table (`[Self::TABLE]`).
    const TABLES: &'static [&'static str];
    fn version(&self) -> u64;
    fn created_at(&self) -> DateTime<Utc>;
    /// The aggregate as this row shows it.
    fn aggregate(&self) -> Self::Aggregate;
    /// The row showing `aggregate`, stream `id` at `version`; `None` while it does not exist.
    fn show(
        id: Uuid,
        aggregate: &Self::Aggregate,
        version: u64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Option<Self>;
}

/// Keeps the table of `V`.
pub struct StateProjector<V>(PhantomData<fn() -> V>);

impl<V> Default for StateProjector<V> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<V: StateView> Fold for StateProjector<V> {
    const NAME: &'static str = V::NAME;
    const AGGREGATE_TYPE: &'static str = <V::Aggregate as Aggregate>::TYPE;
    const EVENT_TYPES: &'static [&'static str] = V::EVENT_TYPES;
    const TABLES: &'static [&'static str] = V::TABLES;
    type Batch = StateRows<V>;
}

/// The rows of `V` a batch touches.
pub struct StateRows<V: StateView> {
    pub rows: Rows<V>,
}

impl<V: StateView> Default for StateRows<V> {
    fn default() -> Self {
        Self {
            rows: Rows::default(),
        }
    }
}

#[async_trait]
impl<V: StateView> Batch for StateRows<V> {
    type Event = <V::Aggregate as Aggregate>::Event;

    fn want(&mut self, fact: &Fact<'_>, _: &Self::Event) {
        self.rows.want(fact.stream);
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.rows.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: Self::Event) -> Result<(), Inconsistent> {
        let current = self.rows.peek(&fact.stream);
        if current.is_some_and(|v| v.version() as i64 >= fact.sequence) {
            return Err(Inconsistent("the row is already at or past this event"));
        }
        let mut aggregate = current.map(V::aggregate).unwrap_or_default();
        let created_at = current.map_or(fact.at, V::created_at);
        aggregate.apply(event);
        let version = fact.sequence as u64;
        let next = V::show(fact.stream, &aggregate, version, created_at, fact.at)
            .ok_or(Inconsistent("the stream was never created"))?;
        self.rows.put(next);
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.rows.write(conn).await
    }
}
