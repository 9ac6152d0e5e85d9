use serde::Deserialize;

use crate::{CommandNames, CountryCode, DomainError, Name, TimeZone};

/// Commands on a city, deserialized from `{"<CommandName>": {...fields}}`, unknown fields
/// refused.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum CityCommand {
    RegisterCity {
        name: Name,
        country_code: CountryCode,
        timezone: TimeZone,
    },
    RenameCity {
        name: Name,
    },
}

impl CommandNames for CityCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::RegisterCity { .. })
    }
}

event_enum! {
    /// What happened to a city. A rename carries the name it left.
    pub enum CityEvent {
        CityRegistered {
            name: String,
            country_code: String,
            timezone: String,
        },
        CityRenamed {
            name: String,
            from_name: String,
        },
    }
}

/// Why a city refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CityError {
    #[error("the city does not exist; register it with RegisterCity first")]
    NotFound,
    #[error("the city already exists")]
    AlreadyExists,
}

impl DomainError for CityError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
