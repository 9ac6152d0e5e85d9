//! The trip read models' tables, each declared once.

use aggregates::task::CancellationReason;
use aggregates::trip::{AssistanceKind, AssistanceOutcome, AssistanceStatus, TripStatus, TripType};
use aggregates::Location;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::frame::{table, versioned};

table! {
    /// A row of `trips`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct TripRow in "trips" by (pub id: Uuid) {
        pub task_id: Uuid,
        pub robot_id: Uuid,
        pub trip_type: TripType,
        pub status: TripStatus,
        pub stops: i32,
        pub current_lat: Option<f64>,
        pub current_lng: Option<f64>,
        pub current_name: Option<String>,
        pub current_location_id: Option<Uuid>,
        pub cancellation_reason: Option<CancellationReason>,
        pub cancellation_note: Option<String>,
        pub version: i64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

impl TripRow {
    /// Where the latest arrival said the trip was.
    pub fn current(&self) -> Option<Location> {
        Some(Location {
            lat: self.current_lat?,
            lng: self.current_lng?,
            name: self.current_name.clone(),
            location_id: self.current_location_id,
        })
    }

    pub fn set_current(&mut self, location: Option<&Location>) {
        self.current_lat = location.map(|l| l.lat);
        self.current_lng = location.map(|l| l.lng);
        self.current_name = location.and_then(|l| l.name.clone());
        self.current_location_id = location.and_then(|l| l.location_id);
    }
}

versioned!(TripRow);

table! {
    /// A row of `trip_locations`: the origin, the destination, and each arrival that reported a
    /// location (`STOP`, by its ordinal).
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct PlaceRow in "trip_locations" {
        pub trip_id: Uuid,
        pub role: String,
        pub ordinal: i32,
        pub lat: f64,
        pub lng: f64,
        pub name: Option<String>,
        pub location_id: Option<Uuid>,
        pub recorded_at: DateTime<Utc>,
    }
}

impl PlaceRow {
    pub fn new(trip_id: Uuid, role: &str, ordinal: i32, at: DateTime<Utc>, l: Location) -> Self {
        Self {
            trip_id,
            role: role.to_string(),
            ordinal,
            lat: l.lat,
            lng: l.lng,
            name: l.name,
            location_id: l.location_id,
            recorded_at: at,
        }
    }

    pub fn location(&self) -> Location {
        Location {
            lat: self.lat,
            lng: self.lng,
            name: self.name.clone(),
            location_id: self.location_id,
        }
    }
}

table! {
    /// A row of `routes`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct RouteRow in "routes" {
        pub route_id: Uuid,
        pub trip_id: Uuid,
        pub sequence: i64,
        pub distance_m: f64,
        pub duration_s: f64,
        pub polyline: Option<String>,
        pub recorded_at: DateTime<Utc>,
    }
}

table! {
    /// A row of `fo_assistance_requests`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct RequestRow in "fo_assistance_requests" by (
        pub trip_id: Uuid,
        pub request_id: Uuid,
    ) {
        pub sequence: i64,
        pub kind: AssistanceKind,
        pub status: AssistanceStatus,
        pub note: Option<String>,
        pub fo_id: Option<Uuid>,
        pub outcome: Option<AssistanceOutcome>,
        pub resolution_note: Option<String>,
        pub requested_at: DateTime<Utc>,
        pub acknowledged_at: Option<DateTime<Utc>>,
        pub resolved_at: Option<DateTime<Utc>>,
        pub updated_at: DateTime<Utc>,
    }
}
