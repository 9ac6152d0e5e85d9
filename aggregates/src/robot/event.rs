use uuid::Uuid;

use super::{GroundingReason, RobotStatus};

event_enum! {
    /// What happened to a robot. A state change carries the state it left, so that a history row
    /// is a copy of its event; an event that ends a deployment or a check-in names it.
    pub enum RobotEvent {
        RobotRegistered {
            serial_number: String,
            hub_id: Uuid,
            model: Option<String>,
        },
        RobotDeployed {
            deployment_id: Uuid,
            hub_id: Uuid,
            from_status: RobotStatus,
        },
        RobotDeploymentEnded {
            deployment_id: Uuid,
            from_status: RobotStatus,
            reason: Option<String>,
        },
        RobotWentOnTrip {
            trip_id: Uuid,
            from_status: RobotStatus,
        },
        /// At a stop (`trip_ended` false) or at the trip's end (true); a trip that ends while
        /// its robot waits at a stop parks it again, PARKED to PARKED, to free it.
        RobotParked {
            trip_id: Uuid,
            from_status: RobotStatus,
            #[serde(default)]
            trip_ended: bool,
        },
        /// Grounding ends the robot's deployment, if it had one (`deployment_id`).
        RobotGrounded {
            from_status: RobotStatus,
            reason: GroundingReason,
            note: Option<String>,
            deployment_id: Option<Uuid>,
        },
        RobotReleased {
            from_status: RobotStatus,
            note: Option<String>,
        },
        RobotCheckedIn {
            hub_id: Uuid,
        },
        RobotCheckedOut {
            hub_id: Uuid,
        },
        /// Retiring checks the robot out of the hub it was checked in at (`checked_out_of`).
        RobotRetired {
            from_status: RobotStatus,
            reason: String,
            checked_out_of: Option<Uuid>,
        },
    }
}

impl RobotEvent {
    /// The state this event moves the robot to, if it changes the robot's state.
    pub fn new_status(&self) -> Option<RobotStatus> {
        match self {
            Self::RobotRegistered { .. }
            | Self::RobotDeploymentEnded { .. }
            | Self::RobotReleased { .. } => Some(RobotStatus::OffDuty),
            Self::RobotDeployed { .. } => Some(RobotStatus::Deployed),
            Self::RobotWentOnTrip { .. } => Some(RobotStatus::OnTrip),
            Self::RobotParked { .. } => Some(RobotStatus::Parked),
            Self::RobotGrounded { .. } => Some(RobotStatus::Grounded),
            Self::RobotRetired { .. } => Some(RobotStatus::Retired),
            Self::RobotCheckedIn { .. } | Self::RobotCheckedOut { .. } => None,
        }
    }
}
