use uuid::Uuid;

use super::{DevicePlatform, OperatorRole, OperatorStatus};

event_enum! {
    /// What happened to an operator. A status change carries the status it left, so that a history
    /// row is a copy of its event; a deactivation carries the status it ended (it leaves the
    /// operator OFFLINE).
    pub enum OperatorEvent {
        OperatorRegistered {
            role: OperatorRole,
            user_id: Option<Uuid>,
            display_name: Option<String>,
        },
        OperatorStatusChanged {
            from_status: OperatorStatus,
            to_status: OperatorStatus,
        },
        OperatorAssignedToHub {
            hub_id: Uuid,
        },
        OperatorRemovedFromHub {
            hub_id: Uuid,
        },
        /// A device registered again (another app version, another platform) is this event again.
        OperatorMobileDeviceRegistered {
            device_id: String,
            platform: DevicePlatform,
            app_version: Option<String>,
        },
        OperatorMobileDeviceRemoved {
            device_id: String,
        },
        OperatorDeactivated {
            from_status: OperatorStatus,
            reason: Option<String>,
        },
    }
}

impl OperatorEvent {
    /// The status this event moves the operator to, if it is a status change of its own.
    pub fn new_status(&self) -> Option<OperatorStatus> {
        match self {
            Self::OperatorRegistered { .. } | Self::OperatorDeactivated { .. } => {
                Some(OperatorStatus::Offline)
            }
            Self::OperatorStatusChanged { to_status, .. } => Some(*to_status),
            _ => None,
        }
    }
}
