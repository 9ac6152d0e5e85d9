use serde::{Deserialize, Serialize};

/// Seed `PilotLocation`: where a pilot works.
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
pub enum PilotLocation {
    OaDavao,
    TdcxIndia,
    TdcxColombia,
    Us,
    TaskusIndia,
}

/// Seed `ShiftStatus`. OFF_SHIFT is where a shift ends.
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
pub enum ShiftStatus {
    OnShift,
    OffShift,
    Unresponsive,
    OnCooldown,
    OnBreak,
}

/// Seed `PilotAssignmentStatus`, plus FINISHED (ours): the pilot's part is done (its task
/// completed, or a client finished it early, which frees the task for another pilot).
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
pub enum PilotAssignmentStatus {
    Requested,
    Abandoned,
    Accepted,
    Rejected,
    Canceled,
    Revoked,
    Stale,
    Finished,
}

/// A reservation's status (ours: the seed keeps only its history).
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
pub enum ReservationStatus {
    Active,
    Released,
    Expired,
}

impl PilotAssignmentStatus {
    /// REQUESTED and ACCEPTED hold the pilot; every other status ends the assignment.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }
}
