use serde::{Deserialize, Serialize};

/// Seed `TripStatus`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum TripStatus {
    AtStop,
    ReadyToDepart,
    InTransit,
    Completed,
    Cancelled,
}

impl TripStatus {
    /// COMPLETED and CANCELLED end a trip: it accepts no further status change.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

/// Seed `TripType`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum TripType {
    Jitp,
    Deployment,
    Delivery,
    Return,
    None,
}

/// What a robot on a trip needs a field operator for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
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
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum AssistanceOutcome {
    Resolved,
    RobotRecovered,
    TripCancelled,
    Unresolved,
}

/// Where an assistance request stands: REQUESTED, then ACKNOWLEDGED by a field operator, then
/// RESOLVED (a request may also be resolved straight from REQUESTED).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum AssistanceStatus {
    Requested,
    Acknowledged,
    Resolved,
}
