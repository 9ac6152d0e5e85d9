use uuid::Uuid;

use super::TaskStatus;
use crate::DomainError;

/// Why a task refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("the task does not exist; create it with CreateTask first")]
    NotFound,
    #[error("the task already exists")]
    AlreadyExists,
    #[error("the task is {status}, which is final; it accepts no further commands")]
    Ended { status: TaskStatus },
    #[error("{command} is not allowed while the task is {status}")]
    InvalidTransition {
        command: &'static str,
        status: TaskStatus,
    },
    #[error("the task has no robot; assign one with AssignRobot before starting it")]
    RobotRequired,
    #[error("robot {robot_id} is already assigned to the task")]
    RobotAlreadyAssigned { robot_id: Uuid },
    #[error("the task already has trip {trip_id}")]
    TripAlreadyAttached { trip_id: Uuid },
    #[error("cancellation reason OTHER requires a note saying why")]
    NoteRequired,
    #[error("the task already has pilot {pilot_id} (assignment {assignment_id})")]
    PilotAlreadyAssigned { pilot_id: Uuid, assignment_id: Uuid },
}

impl DomainError for TaskError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Ended { .. } => "task_ended",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::RobotRequired => "robot_required",
            Self::RobotAlreadyAssigned { .. } => "robot_already_assigned",
            Self::TripAlreadyAttached { .. } => "trip_already_attached",
            Self::NoteRequired => "note_required",
            Self::PilotAlreadyAssigned { .. } => "pilot_already_assigned",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
