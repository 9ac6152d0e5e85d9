use uuid::Uuid;

use super::RobotStatus;
use crate::DomainError;

/// Why a robot refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RobotError {
    #[error("the robot does not exist; register it with RegisterRobot first")]
    NotFound,
    #[error("the robot already exists")]
    AlreadyExists,
    #[error("the robot is RETIRED, which is final; it accepts no further commands")]
    Retired,
    #[error("{command} is not allowed while the robot is {status}")]
    InvalidTransition {
        command: &'static str,
        status: RobotStatus,
    },
    #[error("grounding reason OTHER requires a note saying why")]
    NoteRequired,
    #[error("the robot has no open deployment {deployment_id}")]
    DeploymentNotFound { deployment_id: Uuid },
    #[error("the robot is on trip {trip_id}, not this one")]
    OnAnotherTrip { trip_id: Uuid },
    #[error("the robot is checked in at hub {hub_id}; check it out there first")]
    AlreadyCheckedIn { hub_id: Uuid },
    #[error("the robot is not checked in at hub {hub_id}")]
    NotCheckedIn { hub_id: Uuid },
}

impl DomainError for RobotError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Retired => "robot_retired",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NoteRequired => "note_required",
            Self::DeploymentNotFound { .. } => "deployment_not_found",
            Self::OnAnotherTrip { .. } => "robot_on_another_trip",
            Self::AlreadyCheckedIn { .. } => "already_checked_in",
            Self::NotCheckedIn { .. } => "not_checked_in",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
