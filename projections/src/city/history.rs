use aggregates::city::{City, CityEvent};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::frame::{row, table, Append, Appends, Batch, Fact, Fold, Inconsistent};

row! {
    /// One change of a city: its registration or a rename, with who and when.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct CityHistoryRow {
        pub city_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        /// The name it took.
        pub name: String,
        /// The name it left (a rename); `null` for the registration.
        pub from_name: Option<String>,
        pub changed_at: DateTime<Utc>,
        pub actor: String,
        /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
        /// for itself.
        pub on_behalf_of: Option<String>,
        pub correlation_id: Option<String>,
        /// The event's global position.
        pub position: i64,
    }
}

table! {
    /// A row of `city_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct HistoryEntry in "city_history" {
        pub global_position: i64,
        pub city_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        pub name: String,
        pub from_name: Option<String>,
        pub changed_at: DateTime<Utc>,
        pub actor: String,
        pub correlation_id: Option<String>,
    }
}

impl CityHistoryRow {
    /// A city's timeline, in order.
    pub async fn for_city(pool: &PgPool, id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT h.*, h.global_position AS position,
                    e.metadata->>'on_behalf_of' AS on_behalf_of
               FROM (SELECT {} FROM city_history WHERE city_id = $1) h
               LEFT JOIN events e ON e.global_position = h.global_position
              ORDER BY h.sequence",
            HistoryEntry::COLUMNS
        ))
        .bind(id)
        .fetch_all(pool)
        .await
    }
}

/// Keeps `city_history`: one row per event.
pub struct CityHistoryProjector;

impl Fold for CityHistoryProjector {
    const NAME: &'static str = "city_history";
    const AGGREGATE_TYPE: &'static str = City::TYPE;
    const EVENT_TYPES: &'static [&'static str] = CityEvent::TYPES;
    const TABLES: &'static [&'static str] = &["city_history"];
    type Batch = CityHistory;
}

/// The history rows a batch adds.
#[derive(Default)]
pub struct CityHistory {
    pub(crate) rows: Appends<HistoryEntry>,
}

#[async_trait]
impl Batch for CityHistory {
    type Event = CityEvent;

    fn fold(&mut self, fact: &Fact<'_>, event: CityEvent) -> Result<(), Inconsistent> {
        let (name, from_name) = match event {
            CityEvent::CityRegistered { name, .. } => (name, None),
            CityEvent::CityRenamed { name, from_name } => (name, Some(from_name)),
        };
        let provenance = fact.provenance();
        self.rows.push(HistoryEntry {
            global_position: fact.position,
            city_id: fact.stream,
            sequence: fact.sequence,
            event_type: fact.event_type().to_string(),
            name,
            from_name,
            changed_at: fact.at,
            actor: provenance.actor,
            correlation_id: provenance.correlation_id,
        });
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.rows.write(conn).await
    }
}
