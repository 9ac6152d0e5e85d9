//! Where a place is in the world: its country (ISO 3166-1 alpha-2) and its time zone (IANA).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    #[error("must be an ISO 3166-1 alpha-2 country code in capitals (US, DE, JP...), got {0:?}")]
    Country(String),
    #[error("must be an IANA time zone (America/Los_Angeles, Europe/Berlin, UTC...), got {0:?}")]
    TimeZone(String),
}

/// An ISO 3166-1 alpha-2 country code, as the standard writes it (`US`), checked when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(isocountry::CountryCode);

impl CountryCode {
    pub fn parse(code: &str) -> Result<Self, RegionError> {
        // `for_alpha2` takes any case; the stored value is the standard's own spelling.
        match isocountry::CountryCode::for_alpha2(code) {
            Ok(country) if country.alpha2() == code => Ok(Self(country)),
            _ => Err(RegionError::Country(code.to_string())),
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.0.alpha2()
    }
}

/// An IANA time-zone name (`Europe/Berlin`), checked against the tz database the service was
/// built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(name: &str) -> Result<Self, RegionError> {
        // The database's own spelling only: a zone named in other capitals is another string.
        match name.parse::<chrono_tz::Tz>() {
            Ok(zone) if zone.name() == name => Ok(Self(zone)),
            _ => Err(RegionError::TimeZone(name.to_string())),
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

macro_rules! text_value {
    ($name:ident, $pattern:literal, $description:literal) => {
        impl TryFrom<String> for $name {
            type Error = RegionError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.as_str().to_string()
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .pattern(Some($pattern))
                    .description(Some($description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

text_value!(
    CountryCode,
    "^[A-Z]{2}$",
    "An ISO 3166-1 alpha-2 country code in capitals (US, DE, JP)."
);
text_value!(
    TimeZone,
    "^[A-Za-z0-9_+/-]+$",
    "An IANA time-zone name (America/Los_Angeles, Europe/Berlin, UTC)."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_is_its_alpha_2_code_in_capitals() {
        assert_eq!(CountryCode::parse("DE").unwrap().as_str(), "DE");
        for wrong in ["de", "XX", "DEU", "", "U"] {
            assert!(CountryCode::parse(wrong).is_err(), "{wrong} was taken");
        }
    }

    #[test]
    fn a_time_zone_is_an_iana_name_as_the_database_spells_it() {
        assert_eq!(
            TimeZone::parse("America/Los_Angeles").unwrap().as_str(),
            "America/Los_Angeles"
        );
        assert!(TimeZone::parse("UTC").is_ok());
        for wrong in ["america/los_angeles", "Mars/Olympus_Mons", "", "PST8"] {
            assert!(TimeZone::parse(wrong).is_err(), "{wrong} was taken");
        }
    }

    #[test]
    fn both_are_checked_when_deserialized() {
        assert!(serde_json::from_str::<CountryCode>("\"ZZ\"").is_err());
        assert!(serde_json::from_str::<TimeZone>("\"Nowhere/City\"").is_err());
        let zone: TimeZone = serde_json::from_str("\"Asia/Tokyo\"").unwrap();
        assert_eq!(serde_json::to_string(&zone).unwrap(), "\"Asia/Tokyo\"");
    }
}
