use serde::Deserialize;
use uuid::Uuid;

use super::LocationKind;
use crate::{CommandNames, DomainError, Latitude, Longitude, Name, Note};

/// Commands on a location, deserialized from `{"<CommandName>": {...fields}}`, unknown fields
/// refused.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum LocationCommand {
    RegisterLocation {
        name: Name,
        lat: Latitude,
        lng: Longitude,
        kind: LocationKind,
        #[serde(default)]
        address: Option<Note>,
        #[serde(default)]
        hub_id: Option<Uuid>,
    },
    UpdateLocation {
        #[serde(default)]
        name: Option<Name>,
        #[serde(default)]
        address: Option<Note>,
    },
    RetireLocation {},
}

impl CommandNames for LocationCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::RegisterLocation { .. })
    }
}

event_enum! {
    /// What happened to a location. An update carries only what it changed.
    pub enum LocationEvent {
        LocationRegistered {
            name: String,
            lat: f64,
            lng: f64,
            kind: LocationKind,
            address: Option<String>,
            hub_id: Option<Uuid>,
        },
        LocationUpdated {
            name: Option<String>,
            address: Option<String>,
        },
        LocationRetired {},
    }
}

/// Why a location refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("the location does not exist; register it with RegisterLocation first")]
    NotFound,
    #[error("the location already exists")]
    AlreadyExists,
    #[error("the location is RETIRED, which is final; it accepts no further commands")]
    Retired,
    #[error("UpdateLocation names nothing to change: give a name, an address or both")]
    NothingToUpdate,
}

impl DomainError for LocationError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Retired => "location_retired",
            Self::NothingToUpdate => "nothing_to_update",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
