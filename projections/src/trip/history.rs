use aggregates::trip::{AssistanceStatus, Trip, TripEvent};
use aggregates::Label;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::frame::{history, row, Changes, Fact, Inconsistent};

row! {
    /// One status change of a trip (`subject` TRIP) or of one of its field-operator assistance
    /// requests (`subject` ASSISTANCE_REQUEST): a copy of its event and the event's metadata.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct TripHistoryRow {
        pub trip_id: Uuid,
        /// `TRIP` or `ASSISTANCE_REQUEST`.
        pub subject: String,
        /// The trip's id for a TRIP row, the request's for an ASSISTANCE_REQUEST row.
        pub subject_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        /// A trip status (PLANNED...) for TRIP rows, an assistance status (REQUESTED,
        /// ACKNOWLEDGED, RESOLVED) for ASSISTANCE_REQUEST rows; `null` for a creation.
        pub from_status: Option<String>,
        pub to_status: String,
        pub changed_at: DateTime<Utc>,
        pub actor: String,
        /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
        /// for itself.
        pub on_behalf_of: Option<String>,
        /// A cancellation's reason; an assistance request's kind (STUCK...) or outcome.
        pub reason: Option<String>,
        /// A cancellation's note; an assistance request's or resolution's note.
        pub note: Option<String>,
        pub correlation_id: Option<String>,
        /// What caused the change, from the event's metadata: the request that carried a client's
        /// command, or `event:<position>`, the event a process reacted to.
        pub causation_id: Option<String>,
        /// The event's global position.
        pub position: i64,
    }
}

history! {
    /// A row of `trip_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TripHistoryEntry in "trip_history" by trip_id {
        pub from_status: Option<String>,
        pub to_status: String,
        pub reason: Option<String>,
        pub note: Option<String>,
    }
}

history! {
    /// A row of `fo_assistance_request_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AssistanceHistoryEntry in "fo_assistance_request_history" by trip_id {
        pub request_id: Uuid,
        pub from_status: Option<String>,
        pub to_status: String,
        pub reason: Option<String>,
        pub note: Option<String>,
    }
}

/// Keeps `trip_history`: one row per status-changing event.
pub struct TripHistoryProjector;

impl Changes for TripHistoryProjector {
    const NAME: &'static str = "trip_history";
    type Aggregate = Trip;
    const EVENT_TYPES: &'static [&'static str] = &[
        "TripPlanned",
        "TripReadyToDepart",
        "TripDeparted",
        "TripArrivedAtStop",
        "TripCompleted",
        "TripCancelled",
    ];
    type Event = TripEvent;
    type Entry = TripHistoryEntry;

    fn entry(fact: &Fact<'_>, event: TripEvent) -> Result<Option<TripHistoryEntry>, Inconsistent> {
        let Some(to_status) = event.new_status() else {
            return Ok(None);
        };
        let (from_status, reason, note) = match event {
            TripEvent::TripCancelled {
                from_status,
                reason,
                note,
            } => (Some(from_status), Some(reason.to_string()), note),
            TripEvent::TripReadyToDepart { from_status }
            | TripEvent::TripDeparted { from_status }
            | TripEvent::TripArrivedAtStop { from_status, .. }
            | TripEvent::TripCompleted { from_status } => (Some(from_status), None, None),
            _ => (None, None, None),
        };
        Ok(Some(TripHistoryEntry {
            recorded: fact.recorded(),
            from_status: from_status.map(|s| s.as_str().to_string()),
            to_status: to_status.as_str().to_string(),
            reason,
            note,
        }))
    }
}

/// Keeps `fo_assistance_request_history`: one row per status change of a trip's assistance
/// request (requested, acknowledged, resolved). A projector of its own, so that a deployment
/// from before it projects the requests already stored on its first run.
pub struct TripAssistanceHistoryProjector;

impl Changes for TripAssistanceHistoryProjector {
    const NAME: &'static str = "trip_assistance_history";
    type Aggregate = Trip;
    const EVENT_TYPES: &'static [&'static str] = &[
        "FoAssistanceRequested",
        "FoAssistanceAcknowledged",
        "FoAssistanceResolved",
    ];
    type Event = TripEvent;
    type Entry = AssistanceHistoryEntry;

    fn entry(
        fact: &Fact<'_>,
        event: TripEvent,
    ) -> Result<Option<AssistanceHistoryEntry>, Inconsistent> {
        use AssistanceStatus::{Acknowledged, Requested, Resolved};
        let (request_id, from, to, reason, note) = match event {
            TripEvent::FoAssistanceRequested {
                request_id,
                kind,
                note,
            } => (request_id, None, Requested, Some(kind.to_string()), note),
            TripEvent::FoAssistanceAcknowledged { request_id, .. } => {
                (request_id, Some(Requested), Acknowledged, None, None)
            }
            TripEvent::FoAssistanceResolved {
                request_id,
                outcome,
                note,
                from_status,
            } => (
                request_id,
                Some(from_status),
                Resolved,
                Some(outcome.to_string()),
                note,
            ),
            _ => return Ok(None),
        };
        Ok(Some(AssistanceHistoryEntry {
            recorded: fact.recorded(),
            request_id,
            from_status: from.map(|s| s.as_str().to_string()),
            to_status: to.as_str().to_string(),
            reason,
            note,
        }))
    }
}

impl crate::views::Timeline for TripHistoryRow {
    /// A trip's status timeline merged with its assistance requests', in stream order.
    async fn of(pool: &PgPool, trip_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            "SELECT h.*, h.global_position AS position,
                    e.metadata->>'on_behalf_of' AS on_behalf_of,
                    e.metadata->>'causation_id' AS causation_id
               FROM (SELECT global_position, trip_id, 'TRIP' AS subject, trip_id AS subject_id,
                            sequence, event_type, from_status, to_status, changed_at, actor,
                            reason, note, correlation_id
                       FROM trip_history WHERE trip_id = $1
                     UNION ALL
                     SELECT global_position, trip_id, 'ASSISTANCE_REQUEST', request_id, sequence,
                            event_type, from_status, to_status, changed_at, actor, reason, note,
                            correlation_id
                       FROM fo_assistance_request_history WHERE trip_id = $1) h
               LEFT JOIN events e ON e.global_position = h.global_position
              ORDER BY h.sequence",
        )
        .bind(trip_id)
        .fetch_all(pool)
        .await
    }
}
