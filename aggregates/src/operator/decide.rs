//! An operator's decisions: what each command records, or why it is refused. Pure: no I/O, no
//! clock. A command that would change nothing (the status it has, a hub it is at, a device
//! registered as it is) records nothing.

use super::{MobileDevice, Operator, OperatorCommand, OperatorError, OperatorEvent};

impl Operator {
    /// Decides what `command` does to this operator.
    pub fn decide(&self, command: OperatorCommand) -> Result<Vec<OperatorEvent>, OperatorError> {
        use OperatorCommand::*;
        let operator = match (&self.0, command) {
            (
                None,
                RegisterOperator {
                    role,
                    user_id,
                    display_name,
                },
            ) => {
                return Ok(vec![OperatorEvent::OperatorRegistered {
                    role,
                    user_id,
                    display_name: display_name.map(String::from),
                }])
            }
            (None, _) => return Err(OperatorError::NotFound),
            (Some(_), RegisterOperator { .. }) => return Err(OperatorError::AlreadyExists),
            (Some(operator), _) if operator.deactivated => return Err(OperatorError::Deactivated),
            (Some(operator), command) => (operator, command),
        };
        let event = match operator {
            (_, RegisterOperator { .. }) => return Err(OperatorError::AlreadyExists),
            (state, ChangeOperatorStatus { status }) if state.status == status => {
                return Ok(vec![])
            }
            (state, ChangeOperatorStatus { status }) => OperatorEvent::OperatorStatusChanged {
                from_status: state.status,
                to_status: status,
            },
            (state, AssignOperatorToHub { hub_id }) if state.hubs.contains(&hub_id) => {
                return Ok(vec![])
            }
            (_, AssignOperatorToHub { hub_id }) => OperatorEvent::OperatorAssignedToHub { hub_id },
            (state, RemoveOperatorFromHub { hub_id }) if !state.hubs.contains(&hub_id) => {
                return Err(OperatorError::NotAtHub { hub_id })
            }
            (_, RemoveOperatorFromHub { hub_id }) => {
                OperatorEvent::OperatorRemovedFromHub { hub_id }
            }
            (
                state,
                RegisterMobileDevice {
                    device_id,
                    platform,
                    app_version,
                },
            ) => {
                let device = MobileDevice {
                    device_id: device_id.into(),
                    platform,
                    app_version: app_version.map(String::from),
                };
                if state.devices.contains(&device) {
                    return Ok(vec![]);
                }
                OperatorEvent::OperatorMobileDeviceRegistered {
                    device_id: device.device_id,
                    platform: device.platform,
                    app_version: device.app_version,
                }
            }
            (state, RemoveMobileDevice { device_id }) => {
                let device_id = String::from(device_id);
                if !state.devices.iter().any(|d| d.device_id == device_id) {
                    return Err(OperatorError::DeviceNotFound { device_id });
                }
                OperatorEvent::OperatorMobileDeviceRemoved { device_id }
            }
            (state, DeactivateOperator { reason }) => OperatorEvent::OperatorDeactivated {
                from_status: state.status,
                reason: reason.map(String::from),
            },
        };
        Ok(vec![event])
    }
}
