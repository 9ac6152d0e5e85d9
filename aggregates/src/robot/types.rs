use serde::{Deserialize, Serialize};

seed_enum! {
    /// A robot's state: the seed's `RobotStateEventState` (ON_TRIP, PARKED, GROUNDED, OFF_DUTY,
    /// DEPLOYED), plus RETIRED, ours and final. OFF_DUTY: at a hub, out of service; DEPLOYED: in
    /// service and free; ON_TRIP: driving a trip; PARKED: in service, waiting at a stop; GROUNDED:
    /// out of service for a fault or a hold, until maintenance releases it.
    pub enum RobotStatus {
        OnTrip,
        Parked,
        Grounded,
        OffDuty,
        Deployed,
        Retired,
    }
}

impl RobotStatus {
    /// In service: DEPLOYED, ON_TRIP or PARKED (a deployment is open).
    pub fn in_service(self) -> bool {
        matches!(self, Self::Deployed | Self::OnTrip | Self::Parked)
    }
}

seed_enum! {
    /// Why a robot is grounded.
    pub enum GroundingReason {
        HardwareFault,
        LowBattery,
        Damaged,
        SafetyHold,
        Maintenance,
        Other,
    }
}

/// A robot's serial number: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, beginning with a
/// letter or a digit. Stored as given; unique regardless of case (`SN-1a` and `sn-1A` are one
/// robot's), so no space, invisible character or change of case makes a second robot of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SerialNumber(String);

/// Why a serial number is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a serial number is 1 to 64 ASCII letters, digits, '.', '_' or '-', beginning with a letter or a digit"
)]
pub struct SerialNumberError;

impl SerialNumber {
    pub const MAX_CHARS: usize = 64;
    const PATTERN: &'static str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

    pub fn parse(value: impl Into<String>) -> Result<Self, SerialNumberError> {
        let value = value.into();
        let mut chars = value.chars();
        let first = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if first && rest && value.len() <= Self::MAX_CHARS {
            Ok(Self(value))
        } else {
            Err(SerialNumberError)
        }
    }

    /// The form uniqueness is decided on: the number in capitals.
    pub fn unique_form(value: &str) -> String {
        value.to_ascii_uppercase()
    }
}

impl TryFrom<String> for SerialNumber {
    type Error = SerialNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<SerialNumber> for String {
    fn from(value: SerialNumber) -> Self {
        value.0
    }
}

impl utoipa::PartialSchema for SerialNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .pattern(Some(Self::PATTERN))
            .description(Some(
                "A serial number: ASCII letters, digits, '.', '_' or '-', beginning with a \
                 letter or digit; unique among robots regardless of case.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for SerialNumber {}
