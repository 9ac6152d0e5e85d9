use aggregates::pilot::{Pilot, PilotEvent, ReservationStatus, ShiftStatus};
use aggregates::Label;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::frame::{history, Appends, Batch, Changes, Fact, Fold, Inconsistent};

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
    /// What caused the change, from the event's metadata: the request that carried a client's
    /// command, or `event:<position>`, the event a process reacted to.
    pub causation_id: Option<String>,
    pub position: i64,
}

impl crate::views::Timeline for PilotHistoryRow {
    /// A pilot's status, shift, assignment and reservation history merged in stream order.
    async fn of(pool: &PgPool, pilot_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            "SELECT h.*, e.metadata->>'on_behalf_of' AS on_behalf_of,
                    e.metadata->>'causation_id' AS causation_id FROM (
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

history! {
    /// A row of `pilot_shift_state_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct ShiftHistoryEntry in "pilot_shift_state_history" by pilot_id {
        pub shift_id: Uuid,
        pub from_state: Option<String>,
        pub to_state: String,
    }
}

history! {
    /// A row of `pilot_assignment_status_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct AssignmentHistoryEntry in "pilot_assignment_status_history" by pilot_id {
        pub assignment_id: Uuid,
        pub task_id: Option<Uuid>,
        pub from_status: Option<String>,
        pub to_status: String,
        pub reason: Option<String>,
    }
}

history! {
    /// A row of `pilot_reservation_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct ReservationHistoryEntry in "pilot_reservation_history" by pilot_id {
        pub reservation_id: Uuid,
        pub task_id: Option<Uuid>,
        pub from_status: Option<String>,
        pub to_status: String,
        pub until: Option<DateTime<Utc>>,
        pub reason: Option<String>,
    }
}

history! {
    /// A row of `pilot_status_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct StatusHistoryEntry in "pilot_status_history" by pilot_id {
        pub from_status: Option<String>,
        pub to_status: String,
        pub reason: Option<String>,
    }
}

/// Keeps the three pilot history tables: one row per shift-state, assignment-status or
/// reservation change.
pub struct PilotHistoryProjector;

impl Fold for PilotHistoryProjector {
    const NAME: &'static str = "pilot_history";
    const AGGREGATE_TYPE: &'static str = Pilot::TYPE;
    const EVENT_TYPES: &'static [&'static str] = &[
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
    const TABLES: &'static [&'static str] = &[
        "pilot_shift_state_history",
        "pilot_assignment_status_history",
        "pilot_reservation_history",
    ];
    type Batch = PilotHistory;
}

/// The history rows a batch adds.
#[derive(Default)]
pub struct PilotHistory {
    pub(crate) shifts: Appends<ShiftHistoryEntry>,
    pub(crate) assignments: Appends<AssignmentHistoryEntry>,
    pub(crate) reservations: Appends<ReservationHistoryEntry>,
}

#[async_trait]
impl Batch for PilotHistory {
    type Event = PilotEvent;

    fn fold(&mut self, fact: &Fact<'_>, event: PilotEvent) -> Result<(), Inconsistent> {
        use ReservationStatus::{Active, Expired, Released};
        let shift = |shift_id, from: Option<ShiftStatus>, to: ShiftStatus| ShiftHistoryEntry {
            recorded: fact.recorded(),
            shift_id,
            from_state: from.map(|s| s.as_str().to_string()),
            to_state: to.as_str().to_string(),
        };
        let reservation =
            |reservation_id, task_id, from: Option<ReservationStatus>, to, until, reason| {
                ReservationHistoryEntry {
                    recorded: fact.recorded(),
                    reservation_id,
                    task_id,
                    from_status: from.map(|s| s.as_str().to_string()),
                    to_status: ReservationStatus::as_str(to).to_string(),
                    until,
                    reason,
                }
            };
        match event {
            PilotEvent::PilotShiftStarted { shift_id, .. } => {
                self.shifts
                    .push(shift(shift_id, None, ShiftStatus::OnShift))
            }
            PilotEvent::PilotShiftStateChanged {
                shift_id,
                from_state,
                to_state,
            } => self
                .shifts
                .push(shift(shift_id, Some(from_state), to_state)),
            PilotEvent::PilotShiftEnded {
                shift_id,
                from_state,
                ..
            } => (self.shifts).push(shift(shift_id, Some(from_state), ShiftStatus::OffShift)),
            PilotEvent::PilotReserved {
                reservation_id,
                task_id,
                until,
            } => (self.reservations).push(reservation(
                reservation_id,
                task_id,
                None,
                Active,
                Some(until),
                None,
            )),
            PilotEvent::PilotReservationReleased {
                reservation_id,
                task_id,
                reason,
            } => (self.reservations).push(reservation(
                reservation_id,
                task_id,
                Some(Active),
                Released,
                None,
                reason,
            )),
            PilotEvent::PilotReservationExpired {
                reservation_id,
                task_id,
                until,
            } => (self.reservations).push(reservation(
                reservation_id,
                task_id,
                Some(Active),
                Expired,
                Some(until),
                None,
            )),
            other => {
                let Some((assignment_id, task_id, from, to, reason)) = other.assignment_change()
                else {
                    return Ok(());
                };
                self.assignments.push(AssignmentHistoryEntry {
                    recorded: fact.recorded(),
                    assignment_id,
                    task_id: Some(task_id),
                    from_status: from.map(|s| s.as_str().to_string()),
                    to_status: to.as_str().to_string(),
                    reason: reason.map(str::to_string),
                });
            }
        }
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.shifts.write(conn).await?;
        self.assignments.write(conn).await?;
        self.reservations.write(conn).await
    }
}

/// A pilot's own status in `pilot_status_history`.
pub const ACTIVE: &str = "ACTIVE";
pub const ARCHIVED: &str = "ARCHIVED";

/// Keeps `pilot_status_history`: a row when a pilot is registered (ACTIVE) and when it is
/// archived (ARCHIVED). A projector of its own, so that deployments from before it project their
/// pilots from the events on its first run rather than needing a replay.
pub struct PilotStatusHistoryProjector;

impl Changes for PilotStatusHistoryProjector {
    const NAME: &'static str = "pilot_status_history";
    type Aggregate = Pilot;
    const EVENT_TYPES: &'static [&'static str] = &["PilotRegistered", "PilotArchived"];
    type Event = PilotEvent;
    type Entry = StatusHistoryEntry;

    fn entry(
        fact: &Fact<'_>,
        event: PilotEvent,
    ) -> Result<Option<StatusHistoryEntry>, Inconsistent> {
        let (from, to, reason) = match event {
            PilotEvent::PilotRegistered { .. } => (None, ACTIVE, None),
            PilotEvent::PilotArchived { reason, .. } => (Some(ACTIVE), ARCHIVED, reason),
            _ => return Ok(None),
        };
        Ok(Some(StatusHistoryEntry {
            recorded: fact.recorded(),
            from_status: from.map(str::to_string),
            to_status: to.to_string(),
            reason,
        }))
    }
}
