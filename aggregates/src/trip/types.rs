use serde::{Deserialize, Serialize};
use std::fmt;

/// Seed `TripStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TripStatus {
    AtStop,
    ReadyToDepart,
    InTransit,
    Completed,
    Cancelled,
}

impl TripStatus {
    pub const ALL: [TripStatus; 5] = [
        Self::AtStop,
        Self::ReadyToDepart,
        Self::InTransit,
        Self::Completed,
        Self::Cancelled,
    ];

    /// COMPLETED and CANCELLED end a trip: it accepts no further status change.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AtStop => "AT_STOP",
            Self::ReadyToDepart => "READY_TO_DEPART",
            Self::InTransit => "IN_TRANSIT",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for TripStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seed `TripType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TripType {
    Jitp,
    Deployment,
    Delivery,
    Return,
    None,
}

/// What a robot on a trip needs a field operator for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssistanceKind {
    Stuck,
    BlockedPath,
    HardwareFault,
    LowBattery,
    Vandalism,
    Other,
}

/// How a field operator closed an assistance request. Recorded as said: `TRIP_CANCELLED` does
/// not cancel the trip, which takes its own `CancelTrip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssistanceOutcome {
    Resolved,
    RobotRecovered,
    TripCancelled,
    Unresolved,
}

/// Where an assistance request stands: REQUESTED, then ACKNOWLEDGED by a field operator, then
/// RESOLVED (a request may also be resolved straight from REQUESTED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssistanceStatus {
    Requested,
    Acknowledged,
    Resolved,
}

impl AssistanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "REQUESTED",
            Self::Acknowledged => "ACKNOWLEDGED",
            Self::Resolved => "RESOLVED",
        }
    }
}

impl fmt::Display for AssistanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
