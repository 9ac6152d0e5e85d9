use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{PilotAssignmentStatus, ShiftStatus};
use crate::DomainError;

/// Why a pilot refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PilotError {
    #[error("the pilot does not exist; register it with RegisterPilot first")]
    NotFound,
    #[error("the pilot already exists")]
    AlreadyExists,
    #[error("the pilot is archived; it accepts no further commands")]
    Archived,
    #[error("UpdatePilotProfile needs pilot_location or pilot_center_id")]
    NothingToUpdate,
    #[error("id {id} was already used for another shift, assignment or reservation of this pilot")]
    IdAlreadyUsed { id: Uuid },
    #[error("the pilot is on shift {shift_id}; end it before {action}")]
    OnShift {
        shift_id: Uuid,
        action: &'static str,
    },
    #[error("the pilot is not on shift")]
    NotOnShift,
    #[error("the pilot's shift is {state}; ON_SHIFT is needed to take an assignment")]
    NotAvailable { state: ShiftStatus },
    #[error("the shift is already {state}")]
    ShiftAlreadyInState { state: ShiftStatus },
    #[error("a shift cannot be set to OFF_SHIFT; end it with EndShift")]
    UseEndShift,
    #[error("the pilot has an active assignment {assignment_id} ({status})")]
    AssignmentActive {
        assignment_id: Uuid,
        status: PilotAssignmentStatus,
    },
    #[error("assignment {assignment_id} is not the pilot's active assignment")]
    AssignmentNotFound { assignment_id: Uuid },
    #[error("{command} is not allowed while assignment {assignment_id} is {status}")]
    InvalidAssignmentTransition {
        command: &'static str,
        assignment_id: Uuid,
        status: PilotAssignmentStatus,
    },
    #[error("the pilot is reserved ({reservation_id}) for task {task_id} until {until}")]
    ReservedForAnotherTask {
        reservation_id: Uuid,
        task_id: Uuid,
        until: DateTime<Utc>,
    },
    #[error("the pilot already has reservation {reservation_id} until {until}")]
    AlreadyReserved {
        reservation_id: Uuid,
        until: DateTime<Utc>,
    },
    #[error("a reservation must end in the future; {until} is not after {now}")]
    UntilNotInFuture {
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("reservation {reservation_id} is not the pilot's active reservation")]
    ReservationNotFound { reservation_id: Uuid },
    #[error("reservation {reservation_id} runs until {until}; it cannot expire before")]
    ReservationNotDue {
        reservation_id: Uuid,
        until: DateTime<Utc>,
    },
}

impl DomainError for PilotError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Archived => "pilot_archived",
            Self::NothingToUpdate => "nothing_to_update",
            Self::IdAlreadyUsed { .. } => "id_already_used",
            Self::OnShift { .. } => "pilot_on_shift",
            Self::NotOnShift => "pilot_not_on_shift",
            Self::NotAvailable { .. } => "pilot_not_available",
            Self::ShiftAlreadyInState { .. } => "shift_already_in_state",
            Self::UseEndShift => "use_end_shift",
            Self::AssignmentActive { .. } => "assignment_active",
            Self::AssignmentNotFound { .. } => "assignment_not_found",
            Self::InvalidAssignmentTransition { .. } => "invalid_assignment_transition",
            Self::ReservedForAnotherTask { .. } => "reserved_for_another_task",
            Self::AlreadyReserved { .. } => "already_reserved",
            Self::UntilNotInFuture { .. } => "until_not_in_future",
            Self::ReservationNotFound { .. } => "reservation_not_found",
            Self::ReservationNotDue { .. } => "reservation_not_due",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
