use aggregates::task::CancellationReason;
use aggregates::trip::{AssistanceKind, AssistanceOutcome, AssistanceStatus, TripStatus, TripType};
use aggregates::Location;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::task::{enum_value, optional_enum};

/// A trip as the API shows it: its `trips` row, with its places, routes and assistance requests.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TripView {
    pub id: Uuid,
    pub task_id: Uuid,
    pub robot_id: Uuid,
    pub trip_type: TripType,
    pub status: TripStatus,
    pub origin: Location,
    pub destination: Location,
    /// How many times the trip arrived at a stop.
    pub stops: u32,
    /// The location reported by the latest arrival; `null` before the first arrival or when
    /// the latest arrival reported none.
    pub current_location: Option<Location>,
    /// Each arrival that reported a location, in order.
    pub stop_locations: Vec<StopView>,
    /// The routes recorded for the trip, in the order recorded.
    pub routes: Vec<RouteView>,
    /// The requests for a field operator's help, in the order made.
    pub assistance_requests: Vec<AssistanceRequestView>,
    pub cancellation_reason: Option<CancellationReason>,
    pub cancellation_note: Option<String>,
    /// The stream version: the number of events the trip has.
    pub version: u64,
    /// When the first event was recorded.
    pub created_at: DateTime<Utc>,
    /// When the last event was recorded.
    pub updated_at: DateTime<Utc>,
}

/// An arrival at a stop that reported where it was.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StopView {
    /// The arrival's number on the trip, from 1.
    pub stop: u32,
    pub location: Location,
    pub arrived_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RouteView {
    pub route_id: Uuid,
    pub distance_m: f64,
    pub duration_s: f64,
    pub polyline: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssistanceRequestView {
    pub request_id: Uuid,
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

impl TripView {
    /// One trip from the read models, read in one snapshot, so that its parts agree.
    pub async fn load(pool: &PgPool, id: Uuid) -> Result<Option<TripView>, sqlx::Error> {
        let mut tx = crate::views::snapshot(pool).await?;
        let view = Self::load_many(&mut tx, &[id]).await?.pop();
        tx.rollback().await?;
        Ok(view)
    }

    /// Trips by id, in no particular order, with one statement per table (run them in one
    /// snapshot, `views::snapshot`, for parts that agree).
    pub async fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<TripView>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, task_id, robot_id, trip_type, status, stops, current_lat, current_lng,
                    current_name, current_location_id, cancellation_reason, cancellation_note,
                    version, created_at, updated_at
               FROM trips WHERE id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?;
        let children = crate::views::children;
        let mut places = children(
            conn,
            "SELECT trip_id, role, ordinal, lat, lng, name, location_id, recorded_at
               FROM trip_locations WHERE trip_id = ANY($1) ORDER BY trip_id, role, ordinal",
            ids,
            "trip_id",
        )
        .await?;
        let mut routes = children(
            conn,
            "SELECT trip_id, route_id, distance_m, duration_s, polyline, recorded_at
               FROM routes WHERE trip_id = ANY($1) ORDER BY trip_id, sequence",
            ids,
            "trip_id",
        )
        .await?;
        let mut requests = children(
            conn,
            "SELECT trip_id, request_id, kind, status, note, fo_id, outcome, resolution_note,
                    requested_at, acknowledged_at, resolved_at, updated_at
               FROM fo_assistance_requests WHERE trip_id = ANY($1) ORDER BY trip_id, sequence",
            ids,
            "trip_id",
        )
        .await?;
        rows.iter()
            .map(|row| {
                let id: Uuid = row.try_get("id")?;
                Self::assemble(
                    row,
                    places.remove(&id).unwrap_or_default(),
                    routes.remove(&id).unwrap_or_default(),
                    requests.remove(&id).unwrap_or_default(),
                )
            })
            .collect()
    }

    fn assemble(
        row: &PgRow,
        places: Vec<PgRow>,
        routes: Vec<PgRow>,
        requests: Vec<PgRow>,
    ) -> Result<TripView, sqlx::Error> {
        let id: Uuid = row.try_get("id")?;
        let (mut origin, mut destination, mut stop_locations) = (None, None, Vec::new());
        for place in &places {
            let location = Location {
                lat: place.try_get("lat")?,
                lng: place.try_get("lng")?,
                name: place.try_get("name")?,
                location_id: place.try_get("location_id")?,
            };
            match place.try_get::<String, _>("role")?.as_str() {
                "ORIGIN" => origin = Some(location),
                "DESTINATION" => destination = Some(location),
                _ => stop_locations.push(StopView {
                    stop: place.try_get::<i32, _>("ordinal")? as u32,
                    location,
                    arrived_at: place.try_get("recorded_at")?,
                }),
            }
        }
        let missing = |role: &str| sqlx::Error::Decode(format!("trip {id} has no {role}").into());
        let current_location = match row.try_get::<Option<f64>, _>("current_lat")? {
            Some(lat) => Some(Location {
                lat,
                lng: row.try_get("current_lng")?,
                name: row.try_get("current_name")?,
                location_id: row.try_get("current_location_id")?,
            }),
            None => None,
        };
        Ok(TripView {
            id,
            task_id: row.try_get("task_id")?,
            robot_id: row.try_get("robot_id")?,
            trip_type: enum_value(row, "trip_type")?,
            status: enum_value(row, "status")?,
            origin: origin.ok_or_else(|| missing("origin"))?,
            destination: destination.ok_or_else(|| missing("destination"))?,
            stops: row.try_get::<i32, _>("stops")? as u32,
            current_location,
            stop_locations,
            routes: routes
                .iter()
                .map(|r| {
                    Ok(RouteView {
                        route_id: r.try_get("route_id")?,
                        distance_m: r.try_get("distance_m")?,
                        duration_s: r.try_get("duration_s")?,
                        polyline: r.try_get("polyline")?,
                        recorded_at: r.try_get("recorded_at")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
            assistance_requests: requests
                .iter()
                .map(|r| {
                    Ok(AssistanceRequestView {
                        request_id: r.try_get("request_id")?,
                        kind: enum_value(r, "kind")?,
                        status: enum_value(r, "status")?,
                        note: r.try_get("note")?,
                        fo_id: r.try_get("fo_id")?,
                        outcome: optional_enum(r, "outcome")?,
                        resolution_note: r.try_get("resolution_note")?,
                        requested_at: r.try_get("requested_at")?,
                        acknowledged_at: r.try_get("acknowledged_at")?,
                        resolved_at: r.try_get("resolved_at")?,
                        updated_at: r.try_get("updated_at")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
            cancellation_reason: optional_enum(row, "cancellation_reason")?,
            cancellation_note: row.try_get("cancellation_note")?,
            version: row.try_get::<i64, _>("version")? as u64,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}
