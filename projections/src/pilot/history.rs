use aggregates::pilot::{PilotEvent, ReservationStatus, ShiftStatus};
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
    pub reason: Option<String>,
    pub correlation_id: Option<String>,
    pub position: i64,
}

impl PilotHistoryRow {
    /// A pilot's status, shift, assignment and reservation history merged in stream order.
    pub async fn for_pilot(pool: &PgPool, pilot_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            "SELECT 'pilot' AS kind, pilot_id AS subject_id, NULL::uuid AS task_id, sequence,
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
               FROM pilot_reservation_history WHERE pilot_id = $1
             ORDER BY position",
        )
        .bind(pilot_id)
        .fetch_all(pool)
        .await
    }
}

/// Keeps the three pilot history tables: one row per shift-state, assignment-status or
/// reservation change.
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
        for event in events {
            apply_one(tx, event).await?;
        }
        Ok(())
    }
}

async fn apply_one(tx: &mut PgConnection, event: &StoredEvent) -> Result<(), ProjectionError> {
    let pilot_id = event.stream_uuid()?;
    let payload: PilotEvent = event.decode()?;
    let provenance = event.provenance();
    let (actor, correlation) = (provenance.actor, provenance.correlation_id);
    let shift = |shift_id: Uuid, from: Option<ShiftStatus>, to: ShiftStatus| {
        sqlx::query(
            "INSERT INTO pilot_shift_state_history (global_position, pilot_id, shift_id, sequence,
                        event_type, from_state, to_state, changed_at, actor, correlation_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(event.at.position)
        .bind(pilot_id)
        .bind(shift_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(from.map(ShiftStatus::as_str))
        .bind(to.as_str())
        .bind(event.recorded_at)
        .bind(actor.clone())
        .bind(correlation.clone())
    };
    let reservation = |reservation_id: Uuid,
                       task_id: Option<Uuid>,
                       from: Option<ReservationStatus>,
                       to: ReservationStatus,
                       until: Option<DateTime<Utc>>,
                       reason: Option<String>| {
        sqlx::query(
            "INSERT INTO pilot_reservation_history (global_position, pilot_id, reservation_id,
                        task_id, sequence, event_type, from_status, to_status, until, changed_at,
                        actor, reason, correlation_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(event.at.position)
        .bind(pilot_id)
        .bind(reservation_id)
        .bind(task_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(from.map(ReservationStatus::as_str))
        .bind(to.as_str())
        .bind(until)
        .bind(event.recorded_at)
        .bind(actor.clone())
        .bind(reason)
        .bind(correlation.clone())
    };
    use ReservationStatus::{Active, Expired, Released};
    let query = match &payload {
        PilotEvent::PilotShiftStarted { shift_id, .. } => {
            shift(*shift_id, None, ShiftStatus::OnShift)
        }
        PilotEvent::PilotShiftStateChanged {
            shift_id,
            from_state,
            to_state,
        } => shift(*shift_id, Some(*from_state), *to_state),
        PilotEvent::PilotShiftEnded {
            shift_id,
            from_state,
            ..
        } => shift(*shift_id, Some(*from_state), ShiftStatus::OffShift),
        PilotEvent::PilotReserved {
            reservation_id,
            task_id,
            until,
        } => reservation(*reservation_id, *task_id, None, Active, Some(*until), None),
        PilotEvent::PilotReservationReleased {
            reservation_id,
            task_id,
            reason,
        } => reservation(
            *reservation_id,
            *task_id,
            Some(Active),
            Released,
            None,
            reason.clone(),
        ),
        PilotEvent::PilotReservationExpired {
            reservation_id,
            task_id,
            until,
        } => reservation(
            *reservation_id,
            *task_id,
            Some(Active),
            Expired,
            Some(*until),
            None,
        ),
        other => {
            let Some((assignment_id, task_id, from, to, reason)) = other.assignment_change() else {
                return Ok(());
            };
            sqlx::query(
                "INSERT INTO pilot_assignment_status_history (global_position, pilot_id,
                            assignment_id, task_id, sequence, event_type, from_status, to_status,
                            changed_at, actor, reason, correlation_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(event.at.position)
            .bind(pilot_id)
            .bind(assignment_id)
            .bind(task_id)
            .bind(event.sequence)
            .bind(&event.event_type)
            .bind(from.map(|s| s.as_str()))
            .bind(to.as_str())
            .bind(event.recorded_at)
            .bind(actor.clone())
            .bind(reason.map(str::to_string))
            .bind(correlation.clone())
        }
    };
    query.execute(&mut *tx).await?;
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
        for event in events {
            let (from, to, reason) = match event.decode()? {
                PilotEvent::PilotRegistered { .. } => (None, ACTIVE, None),
                PilotEvent::PilotArchived { reason, .. } => (Some(ACTIVE), ARCHIVED, reason),
                _ => continue,
            };
            let provenance = event.provenance();
            sqlx::query(
                "INSERT INTO pilot_status_history (global_position, pilot_id, sequence,
                            event_type, from_status, to_status, changed_at, actor, reason,
                            correlation_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(event.at.position)
            .bind(event.stream_uuid()?)
            .bind(event.sequence)
            .bind(&event.event_type)
            .bind(from)
            .bind(to)
            .bind(event.recorded_at)
            .bind(provenance.actor)
            .bind(reason)
            .bind(provenance.correlation_id)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}
