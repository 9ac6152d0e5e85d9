use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{GroundingReason, RobotCommand, RobotError, RobotEvent, RobotStatus};

/// A robot's stream folded into its current state; `None` until `RobotRegistered`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Robot(pub Option<RobotState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RobotState {
    pub serial_number: String,
    /// The hub it was registered at.
    pub hub_id: Uuid,
    pub model: Option<String>,
    pub status: RobotStatus,
    /// Its open deployment: while DEPLOYED, ON_TRIP or PARKED.
    pub deployment: Option<Deployment>,
    /// The trip it is on (ON_TRIP) or last parked for (PARKED).
    pub trip_id: Option<Uuid>,
    /// The hub it is checked in at.
    pub checked_in_at: Option<Uuid>,
    /// Why it is grounded (GROUNDED).
    pub grounding: Option<GroundingReason>,
}

/// A robot's time in service at a hub (seed `RobotDeployment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deployment {
    pub deployment_id: Uuid,
    pub hub_id: Uuid,
}

crate::aggregate!(
    Robot: RobotCommand => RobotEvent, RobotError, (),
    |robot, command, _| robot.decide(command)
);

impl Robot {
    pub fn state(&self) -> Option<&RobotState> {
        self.0.as_ref()
    }

    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: RobotEvent) {
        if let RobotEvent::RobotRegistered {
            serial_number,
            hub_id,
            model,
        } = event
        {
            self.0 = Some(RobotState {
                serial_number,
                hub_id,
                model,
                status: RobotStatus::OffDuty,
                deployment: None,
                trip_id: None,
                checked_in_at: None,
                grounding: None,
            });
            return;
        }
        let Some(robot) = self.0.as_mut() else {
            return;
        };
        if let Some(status) = event.new_status() {
            robot.status = status;
        }
        match event {
            RobotEvent::RobotRegistered { .. } => {}
            RobotEvent::RobotDeployed {
                deployment_id,
                hub_id,
                ..
            } => {
                robot.deployment = Some(Deployment {
                    deployment_id,
                    hub_id,
                })
            }
            RobotEvent::RobotDeploymentEnded { .. } => {
                robot.deployment = None;
                robot.trip_id = None;
            }
            RobotEvent::RobotWentOnTrip { trip_id, .. } => robot.trip_id = Some(trip_id),
            RobotEvent::RobotParked {
                trip_id,
                trip_ended,
                ..
            } => robot.trip_id = (!trip_ended).then_some(trip_id),
            RobotEvent::RobotGrounded { reason, .. } => {
                robot.deployment = None;
                robot.trip_id = None;
                robot.grounding = Some(reason);
            }
            RobotEvent::RobotReleased { .. } => robot.grounding = None,
            RobotEvent::RobotCheckedIn { hub_id } => robot.checked_in_at = Some(hub_id),
            RobotEvent::RobotCheckedOut { .. } | RobotEvent::RobotRetired { .. } => {
                robot.checked_in_at = None
            }
        }
    }
}
