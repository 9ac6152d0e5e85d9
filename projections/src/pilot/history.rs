use aggregates::pilot::{PilotEvent, ReservationStatus, ShiftStatus};
use aggregates::Label;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{ProjectionError, Projector, StoredEvent};

/// One row of a pilot's merged timeline: a change of the pilot's own status, or of a shift,
/// assignment or reservation.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PilotHistoryRow {
    /// `pilot` (its own status: ACTIVE, ARCHIVED), `shift`, `assignment` or `reservation`.
    pub kind: String,
    /// The pilot's id (`pilot`), or the shift, assignment or reservation id.
    pub subject_id: Uuid,
    pub task_id: Option<Uuid>,
    pub sequence: i64,
    pub event_type: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// For reservations: until when the pilot is held.
    pub until: Option<DateTime<Utc>>,
    pub changed_at: DateTime<Utc>,
    pub actor: String,
    /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
    /// for itself.
    pub on_behalf_of: Option<String>,
    pub reason: Option<String>,
    pub correlation_id: Option<String>,
    pub position: i64,
}

impl PilotHistoryRow {
    /// A pilot's status, shift, assignment and reservation history merged in stream order.
    pub async fn for_pilot(pool: &PgPool, pilot_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            "SELECT h.*, e.metadata->>'on_behalf_of' AS on_behalf_of FROM (
             SELECT 'pilot' AS kind, pilot_id AS subject_id, NULL::uuid AS task_id, sequence,
                    event_type, from_status, to_status, NULL::timestamptz AS until, changed_at,
                    actor, reason, correlation_id, global_position AS position
               FROM pilot_status_history WHERE pilot_id = $1
             UNION ALL
             SELECT 'shift', shift_id, NULL, sequence, event_type, from_state, to_state, NULL,
                    changed_at, actor, NULL, correlation_id, global_position
               FROM pilot_shift_state_history WHERE pilot_id = $1
             UNION ALL
             SELECT 'assignment', assignment_id, task_id, sequence, event_type, from_status,
                    to_status, NULL, changed_at, actor, reason, correlation_id, global_position
               FROM pilot_assignment_status_history WHERE pilot_id = $1
             UNION ALL
             SELECT 'reservation', reservation_id, task_id, sequence, event_type, from_status,
                    to_status, until, changed_at, actor, reason, correlation_id, global_position
               FROM pilot_reservation_history WHERE pilot_id = $1) h
             LEFT JOIN events e ON e.global_position = h.position
             ORDER BY h.position",
        )
        .bind(pilot_id)
        .fetch_all(pool)
        .await
    }
}

/// Keeps the three pilot history tables: one row per shift-state, assignment-status or
/// reservation change, appended in one multi-row insert per table and batch.
pub struct PilotHistoryProjector;

const HISTORY_EVENTS: &[&str] = &[
    "PilotShiftStarted",
    "PilotShiftStateChanged",
    "PilotShiftEnded",
    "PilotAssignmentRequested",
    "PilotAssignmentAccepted",
    "PilotAssignmentRejected",
    "PilotAssignmentAbandoned",
    "PilotAssignmentCanceled",
    "PilotAssignmentRevoked",
    "PilotAssignmentStale",
    "PilotAssignmentFinished",
    "PilotReserved",
    "PilotReservationReleased",
    "PilotReservationExpired",
];

#[async_trait]
impl Projector for PilotHistoryProjector {
    fn name(&self) -> &'static str {
        "pilot_history"
    }

    fn event_types(&self) -> &'static [&'static str] {
        HISTORY_EVENTS
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "pilot_shift_state_history",
            "pilot_assignment_status_history",
            "pilot_reservation_history",
        ]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let (mut shifts, mut assignments, mut reservations) = (vec![], vec![], vec![]);
        for event in events {
            let Some((kind, change)) = change(event)? else {
                continue;
            };
            match kind {
                Kind::Shift => shifts.push(change),
                Kind::Assignment => assignments.push(change),
                Kind::Reservation => reservations.push(change),
            }
        }
        insert(tx, INSERT_SHIFTS, shifts).await?;
        insert(tx, INSERT_ASSIGNMENTS, assignments).await?;
        insert(tx, INSERT_RESERVATIONS, reservations).await?;
        Ok(())
    }
}

enum Kind {
    Shift,
    Assignment,
    Reservation,
}

/// One row of any pilot history table; each table takes the columns it has.
struct Change {
    position: i64,
    pilot_id: Uuid,
    subject_id: Uuid,
    task_id: Option<Uuid>,
    sequence: i64,
    event_type: String,
    from: Option<&'static str>,
    to: &'static str,
    until: Option<DateTime<Utc>>,
    changed_at: DateTime<Utc>,
    actor: String,
    reason: Option<String>,
    correlation_id: Option<String>,
}

/// The history row `event` makes, and its table; `None` for an event that changes no status.
fn change(event: &StoredEvent) -> Result<Option<(Kind, Change)>, ProjectionError> {
    let payload: PilotEvent = event.decode()?;
    let provenance = event.provenance();
    let row = |subject_id, task_id, from: Option<&'static str>, to, until, reason| Change {
        position: event.at.position,
        pilot_id: Uuid::nil(),
        subject_id,
        task_id,
        sequence: event.sequence,
        event_type: event.event_type.clone(),
        from,
        to,
        until,
        changed_at: event.recorded_at,
        actor: provenance.actor.clone(),
        reason,
        correlation_id: provenance.correlation_id.clone(),
    };
    use ReservationStatus::{Active, Expired, Released};
    let (kind, mut change) = match payload {
        PilotEvent::PilotShiftStarted { shift_id, .. } => (
            Kind::Shift,
            row(
                shift_id,
                None,
                None,
                ShiftStatus::OnShift.as_str(),
                None,
                None,
            ),
        ),
        PilotEvent::PilotShiftStateChanged {
            shift_id,
            from_state,
            to_state,
        } => (
            Kind::Shift,
            row(
                shift_id,
                None,
                Some(from_state.as_str()),
                to_state.as_str(),
                None,
                None,
            ),
        ),
        PilotEvent::PilotShiftEnded {
            shift_id,
            from_state,
            ..
        } => (
            Kind::Shift,
            row(
                shift_id,
                None,
                Some(from_state.as_str()),
                ShiftStatus::OffShift.as_str(),
                None,
                None,
            ),
        ),
        PilotEvent::PilotReserved {
            reservation_id,
            task_id,
            until,
        } => (
            Kind::Reservation,
            row(
                reservation_id,
                task_id,
                None,
                Active.as_str(),
                Some(until),
                None,
            ),
        ),
        PilotEvent::PilotReservationReleased {
            reservation_id,
            task_id,
            reason,
        } => (
            Kind::Reservation,
            row(
                reservation_id,
                task_id,
                Some(Active.as_str()),
                Released.as_str(),
                None,
                reason,
            ),
        ),
        PilotEvent::PilotReservationExpired {
            reservation_id,
            task_id,
            until,
        } => (
            Kind::Reservation,
            row(
                reservation_id,
                task_id,
                Some(Active.as_str()),
                Expired.as_str(),
                Some(until),
                None,
            ),
        ),
        other => {
            let Some((assignment_id, task_id, from, to, reason)) = other.assignment_change() else {
                return Ok(None);
            };
            (
                Kind::Assignment,
                row(
                    assignment_id,
                    Some(task_id),
                    from.map(|s| s.as_str()),
                    to.as_str(),
                    None,
                    reason.map(str::to_string),
                ),
            )
        }
    };
    change.pilot_id = event.stream_uuid()?;
    Ok(Some((kind, change)))
}

// Each table's insert reads the columns it has from the same thirteen arrays.
const CHANGES: &str = "UNNEST($1::bigint[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[],
                             $6::text[], $7::text[], $8::text[], $9::timestamptz[],
                             $10::timestamptz[], $11::text[], $12::text[], $13::text[])
                      AS c(position, pilot_id, subject_id, task_id, sequence, event_type,
                           from_status, to_status, until, changed_at, actor, reason,
                           correlation_id)";

const INSERT_SHIFTS: &str = "
INSERT INTO pilot_shift_state_history (global_position, pilot_id, shift_id, sequence, event_type,
                                       from_state, to_state, changed_at, actor, correlation_id)
SELECT position, pilot_id, subject_id, sequence, event_type, from_status, to_status, changed_at,
       actor, correlation_id FROM ";

const INSERT_ASSIGNMENTS: &str = "
INSERT INTO pilot_assignment_status_history (global_position, pilot_id, assignment_id, task_id,
                                             sequence, event_type, from_status, to_status,
                                             changed_at, actor, reason, correlation_id)
SELECT position, pilot_id, subject_id, task_id, sequence, event_type, from_status, to_status,
       changed_at, actor, reason, correlation_id FROM ";

const INSERT_RESERVATIONS: &str = "
INSERT INTO pilot_reservation_history (global_position, pilot_id, reservation_id, task_id,
                                       sequence, event_type, from_status, to_status, until,
                                       changed_at, actor, reason, correlation_id)
SELECT position, pilot_id, subject_id, task_id, sequence, event_type, from_status, to_status,
       until, changed_at, actor, reason, correlation_id FROM ";

const INSERT_STATUSES: &str = "
INSERT INTO pilot_status_history (global_position, pilot_id, sequence, event_type, from_status,
                                  to_status, changed_at, actor, reason, correlation_id)
SELECT position, pilot_id, sequence, event_type, from_status, to_status, changed_at, actor,
       reason, correlation_id FROM ";

/// Appends `rows` to one of the pilot history tables in one statement.
async fn insert(tx: &mut PgConnection, insert: &str, rows: Vec<Change>) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!("{insert}{CHANGES}"))
        .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.pilot_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.subject_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.task_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.sequence).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.from).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.to).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.until).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.changed_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.actor.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.reason.as_deref()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.correlation_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .execute(tx)
        .await?;
    Ok(())
}

/// A pilot's own status in `pilot_status_history`.
pub const ACTIVE: &str = "ACTIVE";
pub const ARCHIVED: &str = "ARCHIVED";

/// Keeps `pilot_status_history`: a row when a pilot is registered (ACTIVE) and when it is
/// archived (ARCHIVED). A projector of its own, so that deployments from before it project their
/// pilots from the events on its first run rather than needing a replay.
pub struct PilotStatusHistoryProjector;

#[async_trait]
impl Projector for PilotStatusHistoryProjector {
    fn name(&self) -> &'static str {
        "pilot_status_history"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["PilotRegistered", "PilotArchived"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["pilot_status_history"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut rows = Vec::new();
        for event in events {
            let (from, to, reason) = match event.decode()? {
                PilotEvent::PilotRegistered { .. } => (None, ACTIVE, None),
                PilotEvent::PilotArchived { reason, .. } => (Some(ACTIVE), ARCHIVED, reason),
                _ => continue,
            };
            let provenance = event.provenance();
            rows.push(Change {
                position: event.at.position,
                pilot_id: event.stream_uuid()?,
                subject_id: event.stream_uuid()?,
                task_id: None,
                sequence: event.sequence,
                event_type: event.event_type.clone(),
                from,
                to,
                until: None,
                changed_at: event.recorded_at,
                actor: provenance.actor,
                reason,
                correlation_id: provenance.correlation_id,
            });
        }
        insert(tx, INSERT_STATUSES, rows).await?;
        Ok(())
    }
}
