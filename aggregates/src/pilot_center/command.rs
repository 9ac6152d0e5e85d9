use serde::Deserialize;

use crate::pilot::PilotLocation;
use crate::{CommandNames, DomainError, Name, Note};

/// Commands on a pilot center, deserialized from `{"<CommandName>": {...fields}}`, unknown
/// fields refused.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum PilotCenterCommand {
    RegisterPilotCenter {
        name: Name,
        pilot_location: PilotLocation,
    },
    RenamePilotCenter {
        name: Name,
    },
    ClosePilotCenter {
        #[serde(default)]
        reason: Option<Note>,
    },
}

impl CommandNames for PilotCenterCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::RegisterPilotCenter { .. })
    }
}

event_enum! {
    /// What happened to a pilot center. A rename carries the name it left.
    pub enum PilotCenterEvent {
        PilotCenterRegistered {
            name: String,
            pilot_location: PilotLocation,
        },
        PilotCenterRenamed {
            name: String,
            from_name: String,
        },
        PilotCenterClosed {
            reason: Option<String>,
        },
    }
}

/// Why a pilot center refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PilotCenterError {
    #[error("the pilot center does not exist; register it with RegisterPilotCenter first")]
    NotFound,
    #[error("the pilot center already exists")]
    AlreadyExists,
    #[error("the pilot center is CLOSED, which is final; it accepts no further commands")]
    Closed,
}

impl DomainError for PilotCenterError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Closed => "pilot_center_closed",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
