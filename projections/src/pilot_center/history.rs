use aggregates::pilot_center::{PilotCenter, PilotCenterEvent, PilotCenterStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::frame::{row, table, timeline, Changes, Fact, Inconsistent};

row! {
    /// One change of a pilot center: its registration, a rename or its closing, with who, when
    /// and why.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct PilotCenterHistoryRow {
        pub pilot_center_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        /// `null` for the registration.
        pub from_status: Option<PilotCenterStatus>,
        pub to_status: PilotCenterStatus,
        /// The name it had before (a rename).
        pub from_name: Option<String>,
        /// The name it has after.
        pub name: Option<String>,
        pub changed_at: DateTime<Utc>,
        pub actor: String,
        /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
        /// for itself.
        pub on_behalf_of: Option<String>,
        /// A closing's reason.
        pub reason: Option<String>,
        pub correlation_id: Option<String>,
        /// The event's global position.
        pub position: i64,
    }
}

table! {
    /// A row of `pilot_center_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "pilot_center_history" {
        pub global_position: i64,
        pub pilot_center_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        pub from_status: Option<PilotCenterStatus>,
        pub to_status: PilotCenterStatus,
        pub from_name: Option<String>,
        pub name: Option<String>,
        pub changed_at: DateTime<Utc>,
        pub actor: String,
        pub reason: Option<String>,
        pub correlation_id: Option<String>,
    }
}

impl crate::views::Timeline for PilotCenterHistoryRow {
    /// A pilot center's timeline, in order.
    async fn of(pool: &PgPool, id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        timeline::<HistoryEntry, Self>(pool, "pilot_center_id", id).await
    }
}

/// Keeps `pilot_center_history`: one row per event.
pub struct PilotCenterHistoryProjector;

impl Changes for PilotCenterHistoryProjector {
    const NAME: &'static str = "pilot_center_history";
    type Aggregate = PilotCenter;
    type Event = PilotCenterEvent;
    type Entry = HistoryEntry;

    fn entry(
        fact: &Fact<'_>,
        event: PilotCenterEvent,
    ) -> Result<Option<HistoryEntry>, Inconsistent> {
        use PilotCenterStatus::{Closed, Open};
        let (from_status, to_status, from_name, name, reason) = match event {
            PilotCenterEvent::PilotCenterRegistered { name, .. } => {
                (None, Open, None, Some(name), None)
            }
            PilotCenterEvent::PilotCenterRenamed { name, from_name } => {
                (Some(Open), Open, Some(from_name), Some(name), None)
            }
            PilotCenterEvent::PilotCenterClosed { reason } => {
                (Some(Open), Closed, None, None, reason)
            }
        };
        let provenance = fact.provenance();
        Ok(Some(HistoryEntry {
            global_position: fact.position,
            pilot_center_id: fact.stream,
            sequence: fact.sequence,
            event_type: fact.event_type().to_string(),
            from_status,
            to_status,
            from_name,
            name,
            changed_at: fact.at,
            actor: provenance.actor,
            reason,
            correlation_id: provenance.correlation_id,
        }))
    }
}
