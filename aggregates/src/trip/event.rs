use uuid::Uuid;

use super::{AssistanceKind, AssistanceOutcome, AssistanceStatus, TripStatus, TripType};
use crate::task::CancellationReason;
use crate::Location;

event_enum! {
    /// What happened to a trip. Status changes carry the status they left, so that a history row
    /// is a copy of its event and needs no lookup; so does the resolution of an assistance request.
    pub enum TripEvent {
        TripPlanned {
            task_id: Uuid,
            robot_id: Uuid,
            trip_type: TripType,
            origin: Location,
            destination: Location,
        },
        TripReadyToDepart {
            from_status: TripStatus,
        },
        TripDeparted {
            from_status: TripStatus,
        },
        TripArrivedAtStop {
            from_status: TripStatus,
            location: Option<Location>,
        },
        TripCompleted {
            from_status: TripStatus,
        },
        TripCancelled {
            from_status: TripStatus,
            reason: CancellationReason,
            note: Option<String>,
        },
        TripRouteRecorded {
            route_id: Uuid,
            distance_m: f64,
            duration_s: f64,
            polyline: Option<String>,
        },
        FoAssistanceRequested {
            request_id: Uuid,
            kind: AssistanceKind,
            note: Option<String>,
        },
        FoAssistanceAcknowledged {
            request_id: Uuid,
            fo_id: Option<Uuid>,
        },
        FoAssistanceResolved {
            request_id: Uuid,
            outcome: AssistanceOutcome,
            note: Option<String>,
            from_status: AssistanceStatus,
        },
    }
}

impl TripEvent {
    /// The status this event moves the trip to, if it changes the trip's status.
    pub fn new_status(&self) -> Option<TripStatus> {
        match self {
            Self::TripPlanned { .. } | Self::TripArrivedAtStop { .. } => Some(TripStatus::AtStop),
            Self::TripReadyToDepart { .. } => Some(TripStatus::ReadyToDepart),
            Self::TripDeparted { .. } => Some(TripStatus::InTransit),
            Self::TripCompleted { .. } => Some(TripStatus::Completed),
            Self::TripCancelled { .. } => Some(TripStatus::Cancelled),
            Self::TripRouteRecorded { .. }
            | Self::FoAssistanceRequested { .. }
            | Self::FoAssistanceAcknowledged { .. }
            | Self::FoAssistanceResolved { .. } => None,
        }
    }
}
