use aggregates::site::{LocationEvent, LocationStatus, Site};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::frame::{row, table, timeline, Changes, Fact, Inconsistent};

row! {
    /// One change of a location: its registration, an update (what it changed) or its
    /// retirement, with who, when and why.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct LocationHistoryRow {
        pub location_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        /// `null` for the registration.
        pub from_status: Option<LocationStatus>,
        pub to_status: LocationStatus,
        /// The name it took (registration, update); `null` when unchanged.
        pub name: Option<String>,
        /// The address it took; `null` when unchanged.
        pub address: Option<String>,
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
    /// A row of `location_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "location_history" {
        pub global_position: i64,
        pub location_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        pub from_status: Option<LocationStatus>,
        pub to_status: LocationStatus,
        pub name: Option<String>,
        pub address: Option<String>,
        pub changed_at: DateTime<Utc>,
        pub actor: String,
        pub correlation_id: Option<String>,
    }
}

impl crate::views::Timeline for LocationHistoryRow {
    /// A location's timeline, in order.
    async fn of(pool: &PgPool, id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        timeline::<HistoryEntry, Self>(pool, "location_id", id).await
    }
}

/// Keeps `location_history`: one row per event.
pub struct LocationHistoryProjector;

impl Changes for LocationHistoryProjector {
    const NAME: &'static str = "location_history";
    type Aggregate = Site;
    type Event = LocationEvent;
    type Entry = HistoryEntry;

    fn entry(fact: &Fact<'_>, event: LocationEvent) -> Result<Option<HistoryEntry>, Inconsistent> {
        use LocationStatus::{Active, Retired};
        let (from_status, to_status, name, address) = match event {
            LocationEvent::LocationRegistered { name, address, .. } => {
                (None, Active, Some(name), address)
            }
            LocationEvent::LocationUpdated { name, address } => {
                (Some(Active), Active, name, address)
            }
            LocationEvent::LocationRetired {} => (Some(Active), Retired, None, None),
        };
        let provenance = fact.provenance();
        Ok(Some(HistoryEntry {
            global_position: fact.position,
            location_id: fact.stream,
            sequence: fact.sequence,
            event_type: fact.event_type().to_string(),
            from_status,
            to_status,
            name,
            address,
            changed_at: fact.at,
            actor: provenance.actor,
            correlation_id: provenance.correlation_id,
        }))
    }
}
