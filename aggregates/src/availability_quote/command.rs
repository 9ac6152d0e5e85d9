use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::robot::RobotStatus;
use crate::{CommandNames, DomainError};

/// A robot the hub has in service: DEPLOYED (free) or PARKED (waiting at a stop of its trip).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotedRobot {
    pub robot_id: Uuid,
    pub status: RobotStatus,
}

/// A pilot of the hub on shift and free: no active assignment, no reservation in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotedPilot {
    pub pilot_id: Uuid,
    /// The shift it is on.
    pub shift_id: Uuid,
}

/// A field operator of the hub, AVAILABLE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotedOperator {
    pub operator_id: Uuid,
}

/// What the counted robots, pilots and field operators give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Trips the hub can run at once: each needs a robot and a pilot, so the lesser count.
    pub trips: u32,
    pub robots: u32,
    pub pilots: u32,
    /// Field operators who can rescue or service a robot (they add no trips).
    pub field_operators: u32,
}

/// How fresh the read models a quote was computed from were: the feed position each had
/// reached in the snapshot, and the least of them (every event up to `token` was counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    /// A consistency token: the feed position all of them had reached.
    pub token: String,
    /// Each read model's projector and the token it had reached.
    pub read_models: BTreeMap<String, String>,
}

/// Commands on a quote. The one command is the service's own: `POST /v1/availability-quotes`
/// computes the answer and records it; a client cannot send an answer of its own.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum AvailabilityQuoteCommand {
    /// Records what the read models showed of the hub for the window `from`..`until`.
    #[serde(skip)]
    RecordAvailabilityQuote {
        hub_id: Uuid,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        /// When the read models were read (the service's clock).
        quoted_at: DateTime<Utc>,
        /// Until when the answer may be relied on.
        expires_at: DateTime<Utc>,
        robots: Vec<QuotedRobot>,
        pilots: Vec<QuotedPilot>,
        field_operators: Vec<QuotedOperator>,
        as_of: Freshness,
    },
}

impl AvailabilityQuoteCommand {
    /// The one command's name, as the events' metadata records it.
    pub const RECORD: &'static str = <Self as strum::VariantNames>::VARIANTS[0];
}

impl CommandNames for AvailabilityQuoteCommand {
    const INTERNAL: usize = 1;

    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        true
    }
}

event_enum! {
    /// What was quoted: the inputs, the answer and how fresh it was.
    pub enum AvailabilityQuoteEvent {
        AvailabilityQuoted {
            hub_id: Uuid,
            from: DateTime<Utc>,
            until: DateTime<Utc>,
            /// When the read models were read.
            quoted_at: DateTime<Utc>,
            expires_at: DateTime<Utc>,
            robots: Vec<QuotedRobot>,
            pilots: Vec<QuotedPilot>,
            field_operators: Vec<QuotedOperator>,
            capacity: Capacity,
            as_of: Freshness,
        },
    }
}

/// Why a quote was refused. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvailabilityQuoteError {
    #[error("the quote already exists; a quote is recorded once")]
    AlreadyExists,
    #[error("the window is empty: `until` must be after `from`")]
    EmptyWindow,
    #[error("the window is over: `until` must be in the future")]
    WindowOver,
    #[error("a quote expires when it is recorded or later, and by the end of its window")]
    BadExpiry,
    #[error("a window is at most 7 days long")]
    WindowTooLong,
}

impl DomainError for AvailabilityQuoteError {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyExists => "already_exists",
            Self::EmptyWindow => "empty_window",
            Self::WindowOver => "window_over",
            Self::BadExpiry => "bad_expiry",
            Self::WindowTooLong => "window_too_long",
        }
    }
}
