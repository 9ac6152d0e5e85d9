use serde::{Deserialize, Serialize};
use std::fmt;

/// Seed `TaskStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Scheduled,
    Pending,
    InProgress,
    Paused,
    Arrived,
    Completed,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 7] = [
        Self::Scheduled,
        Self::Pending,
        Self::InProgress,
        Self::Paused,
        Self::Arrived,
        Self::Completed,
        Self::Cancelled,
    ];

    /// COMPLETED and CANCELLED end a task: it accepts no further command.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "SCHEDULED",
            Self::Pending => "PENDING",
            Self::InProgress => "IN_PROGRESS",
            Self::Paused => "PAUSED",
            Self::Arrived => "ARRIVED",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seed `TaskType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskType {
    JitpTrip,
    DeploymentTrip,
    DeliveryTrip,
    ReturnTrip,
    None,
}

/// Why a task was cancelled. The seed's `AttemptCancellationReason` has "40+ reasons" but does
/// not list them; this is our set, grouped by who or what caused the cancellation. Values are
/// only ever added, never renamed. `OTHER` requires a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancellationReason {
    // The customer or the merchant.
    CustomerRequested,
    CustomerUnreachable,
    CustomerNotPresent,
    MerchantRequested,
    MerchantClosed,
    OrderNotReady,
    ItemsUnavailable,
    DuplicateOrder,
    // The destination.
    AddressInvalid,
    AddressUnreachable,
    OutsideServiceArea,
    // The robot.
    RobotUnavailable,
    RobotHardwareFault,
    RobotLowBattery,
    RobotStuck,
    RobotVandalized,
    RobotConnectivityLost,
    // The pilots.
    NoPilotAvailable,
    PilotAbandoned,
    // Conditions on the way.
    RouteBlocked,
    Weather,
    UnsafeConditions,
    SafetyIncident,
    // Operations.
    HubClosed,
    ScheduleExpired,
    OperationalDecision,
    TestTask,
    Other,
}
