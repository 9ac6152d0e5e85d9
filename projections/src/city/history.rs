use aggregates::city::{City, CityEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::frame::{row, table, timeline, Changes, Fact, Inconsistent};

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
    pub struct HistoryEntry in "city_history" {
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

impl crate::views::Timeline for CityHistoryRow {
    /// A city's timeline, in order.
    async fn of(pool: &PgPool, id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        timeline::<HistoryEntry, Self>(pool, "city_id", id).await
    }
}

/// Keeps `city_history`: one row per event.
pub struct CityHistoryProjector;

impl Changes for CityHistoryProjector {
    const NAME: &'static str = "city_history";
    type Aggregate = City;
    type Event = CityEvent;
    type Entry = HistoryEntry;

    fn entry(fact: &Fact<'_>, event: CityEvent) -> Result<Option<HistoryEntry>, Inconsistent> {
        let (name, from_name) = match event {
            CityEvent::CityRegistered { name, .. } => (name, None),
            CityEvent::CityRenamed { name, from_name } => (name, Some(from_name)),
        };
        let provenance = fact.provenance();
        Ok(Some(HistoryEntry {
            global_position: fact.position,
            city_id: fact.stream,
            sequence: fact.sequence,
            event_type: fact.event_type().to_string(),
            name,
            from_name,
            changed_at: fact.at,
            actor: provenance.actor,
            correlation_id: provenance.correlation_id,
        }))
    }
}
