use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OperatorCommand, OperatorEvent};
use crate::DomainError;

seed_enum! {
    /// The seed's `OperatorStatus`.
    pub enum OperatorStatus {
        Offline,
        Available,
        InBreak,
    }
}

impl OperatorStatus {
    /// The status a pilot's shift gives its operator: AVAILABLE on shift; IN_BREAK on a break,
    /// on cooldown or unresponsive (at the controls, but not to be given work); OFFLINE once the
    /// shift has ended (`None`: no shift).
    pub fn of_shift(shift: Option<crate::pilot::ShiftStatus>) -> Self {
        use crate::pilot::ShiftStatus::*;
        match shift {
            Some(OnShift) => Self::Available,
            Some(OnBreak | OnCooldown | Unresponsive) => Self::InBreak,
            Some(OffShift) | None => Self::Offline,
        }
    }
}

seed_enum! {
    /// The seed's `OperatorRole`: a PILOT drives robots remotely, a FIELD operator rescues and
    /// services them on the street.
    pub enum OperatorRole {
        Pilot,
        Dispatch,
        Support,
        Field,
    }
}

seed_enum! {
    /// A mobile device's platform.
    pub enum DevicePlatform {
        Ios,
        Android,
    }
}

/// An operator's stream folded into its current state; `None` until `OperatorRegistered`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Operator(pub Option<OperatorState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OperatorState {
    pub role: OperatorRole,
    pub user_id: Option<Uuid>,
    pub display_name: Option<String>,
    pub status: OperatorStatus,
    /// The hubs it is assigned to, in the order it joined them.
    pub hubs: Vec<Uuid>,
    /// Its registered devices, in the order they were first registered.
    pub devices: Vec<MobileDevice>,
    /// Deactivated for good: it takes no further command.
    pub deactivated: bool,
}

/// A device an operator works from (seed `OperatorMobileDevice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MobileDevice {
    pub device_id: String,
    pub platform: DevicePlatform,
    pub app_version: Option<String>,
}

/// Why an operator refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error("the operator does not exist; register it with RegisterOperator first")]
    NotFound,
    #[error("the operator already exists")]
    AlreadyExists,
    #[error("the operator is deactivated, which is final; it accepts no further commands")]
    Deactivated,
    #[error("the operator is not assigned to hub {hub_id}")]
    NotAtHub { hub_id: Uuid },
    #[error("the operator has no device {device_id}")]
    DeviceNotFound { device_id: String },
}

impl DomainError for OperatorError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Deactivated => "operator_deactivated",
            Self::NotAtHub { .. } => "not_at_hub",
            Self::DeviceNotFound { .. } => "device_not_found",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}

crate::aggregate!(
    Operator: OperatorCommand => OperatorEvent, OperatorError, (),
    |operator, command, _| operator.decide(command)
);

impl Operator {
    pub fn state(&self) -> Option<&OperatorState> {
        self.0.as_ref()
    }

    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: OperatorEvent) {
        if let OperatorEvent::OperatorRegistered {
            role,
            user_id,
            display_name,
        } = event
        {
            self.0 = Some(OperatorState {
                role,
                user_id,
                display_name,
                status: OperatorStatus::Offline,
                hubs: Vec::new(),
                devices: Vec::new(),
                deactivated: false,
            });
            return;
        }
        let Some(operator) = self.0.as_mut() else {
            return;
        };
        if let Some(status) = event.new_status() {
            operator.status = status;
        }
        match event {
            OperatorEvent::OperatorAssignedToHub { hub_id } => operator.hubs.push(hub_id),
            OperatorEvent::OperatorRemovedFromHub { hub_id } => {
                operator.hubs.retain(|h| *h != hub_id)
            }
            OperatorEvent::OperatorMobileDeviceRegistered {
                device_id,
                platform,
                app_version,
            } => {
                let device = MobileDevice {
                    device_id,
                    platform,
                    app_version,
                };
                match (operator.devices.iter_mut()).find(|d| d.device_id == device.device_id) {
                    Some(known) => *known = device,
                    None => operator.devices.push(device),
                }
            }
            OperatorEvent::OperatorMobileDeviceRemoved { device_id } => {
                operator.devices.retain(|d| d.device_id != device_id)
            }
            OperatorEvent::OperatorDeactivated { .. } => operator.deactivated = true,
            OperatorEvent::OperatorRegistered { .. }
            | OperatorEvent::OperatorStatusChanged { .. } => {}
        }
    }
}
