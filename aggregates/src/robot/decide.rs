//! A robot's decisions: what each command records, or why it is refused. Pure: no I/O, no clock.

use super::{
    GroundingReason, Robot, RobotCommand, RobotError, RobotEvent, RobotState, RobotStatus,
};
use crate::CommandNames;

impl Robot {
    /// Decides what `command` does to this robot.
    pub fn decide(&self, command: RobotCommand) -> Result<Vec<RobotEvent>, RobotError> {
        match (&self.0, command) {
            (
                None,
                RobotCommand::RegisterRobot {
                    serial_number,
                    hub_id,
                    model,
                },
            ) => Ok(vec![RobotEvent::RobotRegistered {
                serial_number: serial_number.into(),
                hub_id,
                model: model.map(String::from),
            }]),
            (None, _) => Err(RobotError::NotFound),
            (Some(_), RobotCommand::RegisterRobot { .. }) => Err(RobotError::AlreadyExists),
            // A trip's ending is never held up by its robot: a retired one has nothing to park.
            (Some(robot), RobotCommand::RecordRobotParked { .. })
                if robot.status == RobotStatus::Retired =>
            {
                Ok(vec![])
            }
            (Some(robot), _) if robot.status == RobotStatus::Retired => Err(RobotError::Retired),
            (Some(robot), command) => robot.decide(command),
        }
    }
}

impl RobotState {
    fn decide(&self, command: RobotCommand) -> Result<Vec<RobotEvent>, RobotError> {
        use RobotStatus::*;
        let from_status = self.status;
        let event = match command {
            RobotCommand::RegisterRobot { .. } => return Err(RobotError::AlreadyExists),
            RobotCommand::DeployRobot {
                deployment_id,
                hub_id,
            } => {
                self.require(&[OffDuty], &command)?;
                RobotEvent::RobotDeployed {
                    deployment_id,
                    hub_id,
                    from_status,
                }
            }
            RobotCommand::EndDeployment {
                deployment_id,
                ref reason,
            } => {
                self.require(&[Deployed, Parked], &command)?;
                if let Some(trip_id) = self.trip_id {
                    // Waiting at a stop of a trip that has not ended: the trip has it.
                    return Err(RobotError::OnAnotherTrip { trip_id });
                }
                if self.deployment.map(|d| d.deployment_id) != Some(deployment_id) {
                    return Err(RobotError::DeploymentNotFound { deployment_id });
                }
                RobotEvent::RobotDeploymentEnded {
                    deployment_id,
                    from_status,
                    reason: reason.clone().map(String::from),
                }
            }
            RobotCommand::RecordRobotWentOnTrip { trip_id } => match (self.status, self.trip_id) {
                (OnTrip, Some(on)) if on == trip_id => return Ok(vec![]),
                // On the way, or waiting at a stop of a trip that has not ended: that trip's.
                (OnTrip | Parked, Some(on)) if on != trip_id => {
                    return Err(RobotError::OnAnotherTrip { trip_id: on })
                }
                _ => {
                    self.require(&[Deployed, Parked], &command)?;
                    RobotEvent::RobotWentOnTrip {
                        trip_id,
                        from_status,
                    }
                }
            },
            // Parking records nothing unless the robot is that trip's: a trip cancelled before
            // it departed (its robot maybe on another trip by then), or a robot grounded on the
            // way, has nothing to park. A trip that ends while its robot waits at one of its
            // stops frees the robot (PARKED to PARKED).
            RobotCommand::RecordRobotParked {
                trip_id,
                trip_ended,
            } => match (self.status, self.trip_id) {
                (OnTrip, Some(on)) if on == trip_id => RobotEvent::RobotParked {
                    trip_id,
                    from_status,
                    trip_ended,
                },
                (Parked, Some(on)) if on == trip_id && trip_ended => RobotEvent::RobotParked {
                    trip_id,
                    from_status,
                    trip_ended,
                },
                _ => return Ok(vec![]),
            },
            RobotCommand::GroundRobot { reason, note } => {
                if from_status == Grounded {
                    return Err(self.invalid(&RobotCommand::GroundRobot { reason, note }));
                }
                if reason == GroundingReason::Other && note.is_none() {
                    return Err(RobotError::NoteRequired);
                }
                RobotEvent::RobotGrounded {
                    from_status,
                    reason,
                    note: note.map(String::from),
                    deployment_id: self.deployment.map(|d| d.deployment_id),
                }
            }
            RobotCommand::ReleaseRobot { ref note } => {
                self.require(&[Grounded], &command)?;
                RobotEvent::RobotReleased {
                    from_status,
                    note: note.clone().map(String::from),
                }
            }
            RobotCommand::CheckInRobot { hub_id } => {
                if let Some(at) = self.checked_in_at {
                    return Err(RobotError::AlreadyCheckedIn { hub_id: at });
                }
                RobotEvent::RobotCheckedIn { hub_id }
            }
            RobotCommand::CheckOutRobot { hub_id } => {
                if self.checked_in_at != Some(hub_id) {
                    return Err(RobotError::NotCheckedIn { hub_id });
                }
                RobotEvent::RobotCheckedOut { hub_id }
            }
            RobotCommand::RetireRobot { ref reason } => {
                self.require(&[OffDuty], &command)?;
                RobotEvent::RobotRetired {
                    from_status,
                    reason: reason.as_str().to_string(),
                    checked_out_of: self.checked_in_at,
                }
            }
        };
        Ok(vec![event])
    }

    /// Refuses `command` unless the robot is in one of `allowed`.
    fn require(&self, allowed: &[RobotStatus], command: &RobotCommand) -> Result<(), RobotError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(self.invalid(command))
        }
    }

    fn invalid(&self, command: &RobotCommand) -> RobotError {
        RobotError::InvalidTransition {
            command: command.name(),
            status: self.status,
        }
    }
}
