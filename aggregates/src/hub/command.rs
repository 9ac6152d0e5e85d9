use serde::Deserialize;
use uuid::Uuid;

use super::PartnerKind;
use crate::{CommandNames, DomainError, Location, Name, Note, TimeZone};

/// Commands on a hub, deserialized from `{"<CommandName>": {...fields}}`, unknown fields
/// refused.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum HubCommand {
    RegisterHub {
        name: Name,
        city_id: Uuid,
        location: Location,
        /// The hub's own zone when it differs from its city's.
        #[serde(default)]
        timezone: Option<TimeZone>,
    },
    UpdateHub {
        #[serde(default)]
        name: Option<Name>,
        #[serde(default)]
        location: Option<Location>,
    },
    AddHubPartner {
        partner_id: Uuid,
        name: Name,
        kind: PartnerKind,
    },
    RemoveHubPartner {
        partner_id: Uuid,
    },
    CloseHub {
        reason: Note,
    },
    ReopenHub {},
}

impl CommandNames for HubCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::RegisterHub { .. })
    }
}

event_enum! {
    /// What happened to a hub. An update carries only what it changed.
    pub enum HubEvent {
        HubRegistered {
            name: String,
            city_id: Uuid,
            location: Location,
            timezone: Option<String>,
        },
        HubUpdated {
            name: Option<String>,
            location: Option<Location>,
        },
        HubPartnerAdded {
            partner_id: Uuid,
            name: String,
            kind: PartnerKind,
        },
        HubPartnerRemoved {
            partner_id: Uuid,
        },
        HubClosed {
            reason: String,
        },
        HubReopened {},
    }
}

/// Why a hub refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("the hub does not exist; register it with RegisterHub first")]
    NotFound,
    #[error("the hub already exists")]
    AlreadyExists,
    #[error("the hub is CLOSED already")]
    AlreadyClosed,
    #[error("the hub is OPEN; only a closed hub can be reopened")]
    NotClosed,
    #[error("UpdateHub names nothing to change: give a name, a location or both")]
    NothingToUpdate,
    #[error("partner {0} is the hub's already, with another name or kind; remove it first")]
    PartnerExists(uuid::Uuid),
    #[error("partner {0} is not one of the hub's")]
    UnknownPartner(uuid::Uuid),
}

impl DomainError for HubError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::AlreadyClosed => "hub_closed",
            Self::NotClosed => "hub_open",
            Self::NothingToUpdate => "nothing_to_update",
            Self::PartnerExists(_) => "partner_exists",
            Self::UnknownPartner(_) => "unknown_partner",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
