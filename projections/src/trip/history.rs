use aggregates::trip::{AssistanceStatus, Trip, TripEvent, TripStatus};
use aggregates::Label;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::task::enum_text;
use crate::{ProjectionError, Projector, StoredEvent};

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
    /// The event's global position.
    pub position: i64,
}

/// Keeps `trip_history`: one row per status-changing event, appended in one multi-row insert
/// per batch.
pub struct TripHistoryProjector;

const STATUS_EVENTS: &[&str] = &[
    "TripPlanned",
    "TripReadyToDepart",
    "TripDeparted",
    "TripArrivedAtStop",
    "TripCompleted",
    "TripCancelled",
];

#[async_trait]
impl Projector for TripHistoryProjector {
    fn name(&self) -> &'static str {
        "trip_history"
    }

    fn event_types(&self) -> &'static [&'static str] {
        STATUS_EVENTS
    }

    fn tables(&self) -> &'static [&'static str] {
        &["trip_history"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut rows = Vec::with_capacity(events.len());
        for event in events.iter().filter(|e| e.aggregate_type == Trip::TYPE) {
            let payload = event.decode::<TripEvent>()?;
            let Some(to_status) = payload.new_status() else {
                continue;
            };
            let (from_status, reason, note) = match payload {
                TripEvent::TripPlanned { .. } => (None, None, None),
                TripEvent::TripCancelled {
                    from_status,
                    reason,
                    note,
                } => (Some(from_status), Some(enum_text(&reason)), note),
                TripEvent::TripReadyToDepart { from_status }
                | TripEvent::TripDeparted { from_status }
                | TripEvent::TripArrivedAtStop { from_status, .. }
                | TripEvent::TripCompleted { from_status } => (Some(from_status), None, None),
                _ => continue,
            };
            let trip_id = event.stream_uuid()?;
            rows.push(TripHistoryRow::of(
                event,
                (TRIP, trip_id),
                from_status.map(TripStatus::as_str),
                to_status.as_str(),
                reason,
                note,
            )?);
        }
        insert(tx, INSERT_TRIP, rows).await?;
        Ok(())
    }
}

// Each table's insert reads the columns it has from the same twelve arrays.
const ROWS: &str = "UNNEST($1::bigint[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[],
                          $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[],
                          $11::text[], $12::text[])
                   AS r(position, trip_id, subject_id, sequence, event_type, from_status,
                        to_status, changed_at, actor, reason, note, correlation_id)";

const INSERT_TRIP: &str = "
INSERT INTO trip_history (global_position, trip_id, sequence, event_type, from_status, to_status,
                          changed_at, actor, reason, note, correlation_id)
SELECT position, trip_id, sequence, event_type, from_status, to_status, changed_at, actor,
       reason, note, correlation_id FROM ";

const INSERT_ASSISTANCE: &str = "
INSERT INTO fo_assistance_request_history (global_position, trip_id, request_id, sequence,
                                           event_type, from_status, to_status, changed_at,
                                           actor, reason, note, correlation_id)
SELECT position, trip_id, subject_id, sequence, event_type, from_status, to_status, changed_at,
       actor, reason, note, correlation_id FROM ";

/// Appends `rows` to `trip_history` or `fo_assistance_request_history` in one statement.
async fn insert(
    tx: &mut PgConnection,
    insert: &str,
    rows: Vec<TripHistoryRow>,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!("{insert}{ROWS}"))
        .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.trip_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.subject_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.sequence).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.from_status.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.to_status.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.changed_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.actor.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.reason.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.note.as_deref()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.correlation_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .execute(tx)
        .await?;
    Ok(())
}

impl TripHistoryRow {
    /// The row `event` makes for `subject` (its kind and id).
    fn of(
        event: &StoredEvent,
        (subject, subject_id): (&str, Uuid),
        from_status: Option<&str>,
        to_status: &str,
        reason: Option<String>,
        note: Option<String>,
    ) -> Result<Self, ProjectionError> {
        let provenance = event.provenance();
        Ok(Self {
            trip_id: event.stream_uuid()?,
            subject: subject.to_string(),
            subject_id,
            sequence: event.sequence,
            event_type: event.event_type.clone(),
            from_status: from_status.map(str::to_string),
            to_status: to_status.to_string(),
            changed_at: event.recorded_at,
            actor: provenance.actor,
            on_behalf_of: provenance.on_behalf_of,
            reason,
            note,
            correlation_id: provenance.correlation_id,
            position: event.at.position,
        })
    }

    /// A trip's status timeline merged with its assistance requests', in stream order.
    pub async fn for_trip(
        pool: &PgPool,
        trip_id: Uuid,
    ) -> Result<Vec<TripHistoryRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT h.*, e.metadata->>'on_behalf_of' AS on_behalf_of
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
        .await?;
        rows.iter().map(Self::from_row).collect()
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            trip_id: row.try_get("trip_id")?,
            subject: row.try_get("subject")?,
            subject_id: row.try_get("subject_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            from_status: row.try_get("from_status")?,
            to_status: row.try_get("to_status")?,
            changed_at: row.try_get("changed_at")?,
            actor: row.try_get("actor")?,
            on_behalf_of: row.try_get("on_behalf_of")?,
            reason: row.try_get("reason")?,
            note: row.try_get("note")?,
            correlation_id: row.try_get("correlation_id")?,
            position: row.try_get("global_position")?,
        })
    }
}

const TRIP: &str = "TRIP";
const ASSISTANCE_REQUEST: &str = "ASSISTANCE_REQUEST";

/// Keeps `fo_assistance_request_history`: one row per status change of a trip's assistance
/// request (requested, acknowledged, resolved). A projector of its own, so that a deployment
/// from before it projects the requests already stored on its first run.
pub struct TripAssistanceHistoryProjector;

#[async_trait]
impl Projector for TripAssistanceHistoryProjector {
    fn name(&self) -> &'static str {
        "trip_assistance_history"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[
            "FoAssistanceRequested",
            "FoAssistanceAcknowledged",
            "FoAssistanceResolved",
        ]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["fo_assistance_request_history"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        use AssistanceStatus::{Acknowledged, Requested, Resolved};
        let mut rows = Vec::new();
        for event in events.iter().filter(|e| e.aggregate_type == Trip::TYPE) {
            let (request_id, from, to, reason, note) = match event.decode::<TripEvent>()? {
                TripEvent::FoAssistanceRequested {
                    request_id,
                    kind,
                    note,
                } => (request_id, None, Requested, Some(enum_text(&kind)), note),
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
                    Some(enum_text(&outcome)),
                    note,
                ),
                _ => continue,
            };
            rows.push(TripHistoryRow::of(
                event,
                (ASSISTANCE_REQUEST, request_id),
                from.map(AssistanceStatus::as_str),
                to.as_str(),
                reason,
                note,
            )?);
        }
        insert(tx, INSERT_ASSISTANCE, rows).await?;
        Ok(())
    }
}
