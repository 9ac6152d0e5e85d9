use uuid::Uuid;

use super::{AssistanceStatus, TripStatus};
use crate::DomainError;

/// Why a trip refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TripError {
    #[error("the trip does not exist; plan it with PlanTrip first")]
    NotFound,
    #[error("the trip already exists")]
    AlreadyExists,
    #[error("the trip is {status}, which is final; it accepts no further commands")]
    Ended { status: TripStatus },
    #[error("{command} is not allowed while the trip is {status}")]
    InvalidTransition {
        command: &'static str,
        status: TripStatus,
    },
    #[error("cancellation reason OTHER requires a note saying why")]
    NoteRequired,
    #[error("the trip's origin and destination are the same place")]
    SameOriginAndDestination,
    #[error("the route is invalid: {reason}")]
    InvalidRoute { reason: String },
    #[error("route {route_id} is already recorded on the trip")]
    RouteAlreadyRecorded { route_id: Uuid },
    #[error("assistance request {request_id} already exists on the trip")]
    AssistanceAlreadyRequested { request_id: Uuid },
    #[error("the trip has no assistance request {request_id}")]
    AssistanceNotFound { request_id: Uuid },
    #[error("assistance request {request_id} is {status}, which does not allow this command")]
    AssistanceNotOpen {
        request_id: Uuid,
        status: AssistanceStatus,
    },
}

impl DomainError for TripError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Ended { .. } => "trip_ended",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NoteRequired => "note_required",
            Self::SameOriginAndDestination => "same_origin_and_destination",
            Self::InvalidRoute { .. } => "invalid_route",
            Self::RouteAlreadyRecorded { .. } => "route_already_recorded",
            Self::AssistanceAlreadyRequested { .. } => "assistance_already_requested",
            Self::AssistanceNotFound { .. } => "assistance_not_found",
            Self::AssistanceNotOpen { .. } => "assistance_not_open",
        }
    }

    /// Only the trip itself: an unknown assistance request on an existing trip is a refusal
    /// of the command (`assistance_not_found`), not a missing resource.
    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
