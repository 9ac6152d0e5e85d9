use aggregates::operator::{DevicePlatform, Operator, OperatorEvent, OperatorStatus};
use serde::Serialize;
use uuid::Uuid;

use crate::frame::{history, Changes, Fact, Inconsistent};

history! {
    /// One change of an operator: its registration, a status change, a hub joined or left, a
    /// device registered or removed, its deactivation, with who, when and why.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct OperatorHistoryRow;
    /// A row of `operator_status_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "operator_status_history" by operator_id {
        /// The status it left: `null` for the registration and for changes that move no
        /// status (hubs, devices).
        pub from_status: Option<OperatorStatus>,
        /// The status it took (OFFLINE when registered or deactivated); `null` for changes
        /// that move no status.
        pub to_status: Option<OperatorStatus>,
        /// The hub joined or left.
        pub hub_id: Option<Uuid>,
        /// The device registered or removed, and its platform.
        pub device_id: Option<String>,
        pub platform: Option<DevicePlatform>,
        /// Why it was deactivated.
        pub reason: Option<String>,
    }
}

/// Keeps `operator_status_history`: one row per event.
pub struct OperatorHistoryProjector;

impl Changes for OperatorHistoryProjector {
    const NAME: &'static str = "operator_history";
    type Aggregate = Operator;
    type Event = OperatorEvent;
    type Entry = HistoryEntry;

    fn entry(fact: &Fact<'_>, event: OperatorEvent) -> Result<Option<HistoryEntry>, Inconsistent> {
        let mut entry = HistoryEntry {
            recorded: fact.recorded(),
            from_status: None,
            to_status: event.new_status(),
            hub_id: None,
            device_id: None,
            platform: None,
            reason: None,
        };
        match event {
            OperatorEvent::OperatorRegistered { .. } => {}
            OperatorEvent::OperatorStatusChanged { from_status, .. } => {
                entry.from_status = Some(from_status)
            }
            OperatorEvent::OperatorDeactivated {
                from_status,
                reason,
            } => {
                entry.from_status = Some(from_status);
                entry.reason = reason;
            }
            OperatorEvent::OperatorAssignedToHub { hub_id }
            | OperatorEvent::OperatorRemovedFromHub { hub_id } => entry.hub_id = Some(hub_id),
            OperatorEvent::OperatorMobileDeviceRegistered {
                device_id,
                platform,
                ..
            } => {
                entry.device_id = Some(device_id);
                entry.platform = Some(platform);
            }
            OperatorEvent::OperatorMobileDeviceRemoved { device_id } => {
                entry.device_id = Some(device_id)
            }
        }
        Ok(Some(entry))
    }
}
