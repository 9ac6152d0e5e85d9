use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! seed_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

seed_enum!(
    /// Seed `PilotLocation`: where a pilot works.
    PilotLocation {
        OaDavao => "OA_DAVAO",
        TdcxIndia => "TDCX_INDIA",
        TdcxColombia => "TDCX_COLOMBIA",
        Us => "US",
        TaskusIndia => "TASKUS_INDIA",
    }
);

seed_enum!(
    /// Seed `ShiftStatus`. OFF_SHIFT is where a shift ends.
    ShiftStatus {
        OnShift => "ON_SHIFT",
        OffShift => "OFF_SHIFT",
        Unresponsive => "UNRESPONSIVE",
        OnCooldown => "ON_COOLDOWN",
        OnBreak => "ON_BREAK",
    }
);

seed_enum!(
    /// Seed `PilotAssignmentStatus`, plus FINISHED (ours): the pilot's part is done (its task
    /// completed, or a client finished it early, which frees the task for another pilot).
    PilotAssignmentStatus {
        Requested => "REQUESTED",
        Abandoned => "ABANDONED",
        Accepted => "ACCEPTED",
        Rejected => "REJECTED",
        Canceled => "CANCELED",
        Revoked => "REVOKED",
        Stale => "STALE",
        Finished => "FINISHED",
    }
);

seed_enum!(
    /// A reservation's status (ours: the seed keeps only its history).
    ReservationStatus {
        Active => "ACTIVE",
        Released => "RELEASED",
        Expired => "EXPIRED",
    }
);

impl PilotAssignmentStatus {
    /// REQUESTED and ACCEPTED hold the pilot; every other status ends the assignment.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }
}
