//! A place on the map: trip endpoints and stops, field-operator subtasks.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `{lat, lng, name?, location_id?}`: WGS 84 degrees, checked when parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "LocationFields", deny_unknown_fields)]
pub struct Location {
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lng: f64,
    pub name: Option<String>,
    pub location_id: Option<Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationFields {
    lat: f64,
    lng: f64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    location_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LocationError {
    #[error("lat must be a number from -90 to 90, got {0}")]
    Latitude(f64),
    #[error("lng must be a number from -180 to 180, got {0}")]
    Longitude(f64),
    #[error("name must be 1 to 200 characters, without control characters")]
    Name,
}

impl Location {
    pub fn new(
        lat: f64,
        lng: f64,
        name: Option<String>,
        location_id: Option<Uuid>,
    ) -> Result<Self, LocationError> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(LocationError::Latitude(lat));
        }
        if !(-180.0..=180.0).contains(&lng) {
            return Err(LocationError::Longitude(lng));
        }
        if name.as_deref().is_some_and(|n| {
            n.trim().is_empty() || n.chars().count() > 200 || crate::text::has_control_characters(n)
        }) {
            return Err(LocationError::Name);
        }
        Ok(Self {
            lat,
            lng,
            name,
            location_id,
        })
    }
}

impl TryFrom<LocationFields> for Location {
    type Error = LocationError;
    fn try_from(f: LocationFields) -> Result<Self, Self::Error> {
        Self::new(f.lat, f.lng, f.name, f.location_id)
    }
}

/// A latitude in WGS 84 degrees, -90 to 90, checked when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Latitude(f64);

/// A longitude in WGS 84 degrees, -180 to 180, checked when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Longitude(f64);

/// Degrees from `-bound` to `bound`, as the document shows them.
macro_rules! degrees_schema {
    ($name:ident, $bound:expr) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::Number)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Double,
                    )))
                    .minimum(Some(-$bound))
                    .maximum(Some($bound))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            pub fn degrees(self) -> f64 {
                self.0
            }
        }
    };
}

degrees_schema!(Latitude, 90.0);
degrees_schema!(Longitude, 180.0);

impl TryFrom<f64> for Latitude {
    type Error = LocationError;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        if (-90.0..=90.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(LocationError::Latitude(value))
        }
    }
}

impl TryFrom<f64> for Longitude {
    type Error = LocationError;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        if (-180.0..=180.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(LocationError::Longitude(value))
        }
    }
}

impl From<Latitude> for f64 {
    fn from(value: Latitude) -> Self {
        value.0
    }
}

impl From<Longitude> for f64 {
    fn from(value: Longitude) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_checked_when_parsed() {
        let ok: Location =
            serde_json::from_str(r#"{"lat": 37.77, "lng": -122.42, "name": "Hub SF"}"#).unwrap();
        assert_eq!(ok.name.as_deref(), Some("Hub SF"));
        for bad in [
            r#"{"lat": 91, "lng": 0}"#,
            r#"{"lat": 0, "lng": -181}"#,
            r#"{"lat": 0, "lng": 0, "name": " "}"#,
            r#"{"lat": 0, "lng": 0, "name": "a\u0000b"}"#,
            r#"{"lat": 0, "lng": 0, "altitude": 3}"#,
            r#"{"lat": "north", "lng": 0}"#,
        ] {
            assert!(serde_json::from_str::<Location>(bad).is_err(), "{bad}");
        }
    }
}
