use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{PilotAssignmentStatus, PilotLocation, ShiftStatus};

event_enum! {
    /// What happened to a pilot. Every change of a shift's state, an assignment's status or a
    /// reservation carries what it left, so that the history rows are copies of their events.
    pub enum PilotEvent {
        PilotRegistered {
            user_id: Option<Uuid>,
            pilot_location: Option<PilotLocation>,
            pilot_center_id: Option<Uuid>,
        },
        PilotProfileUpdated {
            pilot_location: Option<PilotLocation>,
            pilot_center_id: Option<Uuid>,
        },
        /// Version 1.1 added `reason`; version 1.0 events read with `reason: null`.
        PilotArchived {
            archived_at: DateTime<Utc>,
            reason: Option<String>,
        },
        PilotShiftStarted {
            shift_id: Uuid,
            started_at: DateTime<Utc>,
        },
        PilotShiftStateChanged {
            shift_id: Uuid,
            from_state: ShiftStatus,
            to_state: ShiftStatus,
        },
        PilotShiftEnded {
            shift_id: Uuid,
            from_state: ShiftStatus,
            ended_at: DateTime<Utc>,
        },
        PilotAssignmentRequested {
            assignment_id: Uuid,
            task_id: Uuid,
            shift_id: Uuid,
            requested_at: DateTime<Utc>,
        },
        PilotAssignmentAccepted {
            assignment_id: Uuid,
            task_id: Uuid,
            from_status: PilotAssignmentStatus,
        },
        PilotAssignmentRejected {
            assignment_id: Uuid,
            task_id: Uuid,
            from_status: PilotAssignmentStatus,
            reason: Option<String>,
        },
        PilotAssignmentAbandoned {
            assignment_id: Uuid,
            task_id: Uuid,
            from_status: PilotAssignmentStatus,
            reason: Option<String>,
        },
        PilotAssignmentCanceled {
            assignment_id: Uuid,
            task_id: Uuid,
            from_status: PilotAssignmentStatus,
            reason: Option<String>,
        },
        PilotAssignmentRevoked {
            assignment_id: Uuid,
            task_id: Uuid,
            from_status: PilotAssignmentStatus,
            reason: Option<String>,
        },
        PilotAssignmentStale {
            assignment_id: Uuid,
            task_id: Uuid,
            from_status: PilotAssignmentStatus,
        },
        PilotAssignmentFinished {
            assignment_id: Uuid,
            task_id: Uuid,
            from_status: PilotAssignmentStatus,
        },
        PilotReserved {
            reservation_id: Uuid,
            task_id: Option<Uuid>,
            until: DateTime<Utc>,
        },
        /// Version 1.1 added `task_id` (the task the reservation held the pilot for); version
        /// 1.0 events read with `task_id: null`.
        PilotReservationReleased {
            reservation_id: Uuid,
            task_id: Option<Uuid>,
            reason: Option<String>,
        },
        /// Version 1.1 added `task_id`, as for `PilotReservationReleased`.
        PilotReservationExpired {
            reservation_id: Uuid,
            task_id: Option<Uuid>,
            until: DateTime<Utc>,
        },
    }
}

impl PilotEvent {
    /// For an assignment event: (assignment, task, status left, status reached, reason).
    #[allow(clippy::type_complexity)]
    pub fn assignment_change(
        &self,
    ) -> Option<(
        Uuid,
        Uuid,
        Option<PilotAssignmentStatus>,
        PilotAssignmentStatus,
        Option<&str>,
    )> {
        use PilotAssignmentStatus as S;
        Some(match self {
            Self::PilotAssignmentRequested {
                assignment_id,
                task_id,
                ..
            } => (*assignment_id, *task_id, None, S::Requested, None),
            Self::PilotAssignmentAccepted {
                assignment_id,
                task_id,
                from_status,
            } => (
                *assignment_id,
                *task_id,
                Some(*from_status),
                S::Accepted,
                None,
            ),
            Self::PilotAssignmentRejected {
                assignment_id,
                task_id,
                from_status,
                reason,
            } => (
                *assignment_id,
                *task_id,
                Some(*from_status),
                S::Rejected,
                reason.as_deref(),
            ),
            Self::PilotAssignmentAbandoned {
                assignment_id,
                task_id,
                from_status,
                reason,
            } => (
                *assignment_id,
                *task_id,
                Some(*from_status),
                S::Abandoned,
                reason.as_deref(),
            ),
            Self::PilotAssignmentCanceled {
                assignment_id,
                task_id,
                from_status,
                reason,
            } => (
                *assignment_id,
                *task_id,
                Some(*from_status),
                S::Canceled,
                reason.as_deref(),
            ),
            Self::PilotAssignmentRevoked {
                assignment_id,
                task_id,
                from_status,
                reason,
            } => (
                *assignment_id,
                *task_id,
                Some(*from_status),
                S::Revoked,
                reason.as_deref(),
            ),
            Self::PilotAssignmentStale {
                assignment_id,
                task_id,
                from_status,
            } => (*assignment_id, *task_id, Some(*from_status), S::Stale, None),
            Self::PilotAssignmentFinished {
                assignment_id,
                task_id,
                from_status,
            } => (
                *assignment_id,
                *task_id,
                Some(*from_status),
                S::Finished,
                None,
            ),
            _ => return None,
        })
    }
}
