use aggregates::task::CancellationReason;
use aggregates::trip::{AssistanceKind, AssistanceOutcome, AssistanceStatus, TripStatus, TripType};
use aggregates::Location;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::rows::{PlaceRow, RequestRow, RouteRow, TripRow};
use crate::frame::{Append, Table};

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

impl crate::views::Load for TripView {
    /// One trip from the read models, read in one snapshot, so that its parts agree.
    async fn load(pool: &PgPool, id: Uuid) -> Result<Option<TripView>, sqlx::Error> {
        let mut tx = crate::views::snapshot(pool).await?;
        let view = Self::load_many(&mut tx, &[id]).await?.pop();
        tx.rollback().await?;
        Ok(view)
    }

    /// Trips by id, in no particular order, with one statement per table (run them in one
    /// snapshot, `views::snapshot`, for parts that agree).
    async fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<TripView>, sqlx::Error> {
        let trips = TripRow::load(conn, ids).await?;
        let mut places = crate::views::children(
            conn,
            &format!(
                "SELECT {} FROM trip_locations WHERE trip_id = ANY($1) ORDER BY trip_id, role, ordinal",
                PlaceRow::COLUMNS
            ),
            ids,
            |r: &PlaceRow| r.trip_id,
        )
        .await?;
        let mut routes = crate::views::children(
            conn,
            &format!(
                "SELECT {} FROM routes WHERE trip_id = ANY($1) ORDER BY trip_id, sequence",
                RouteRow::COLUMNS
            ),
            ids,
            |r: &RouteRow| r.trip_id,
        )
        .await?;
        let mut requests = crate::views::children(
            conn,
            &format!(
                "SELECT {} FROM fo_assistance_requests WHERE trip_id = ANY($1) ORDER BY trip_id, sequence",
                RequestRow::COLUMNS
            ),
            ids,
            |r: &RequestRow| r.trip_id,
        )
        .await?;
        trips
            .into_iter()
            .map(|trip| {
                let id = trip.id;
                Self::assemble(
                    trip,
                    places.remove(&id).unwrap_or_default(),
                    routes.remove(&id).unwrap_or_default(),
                    requests.remove(&id).unwrap_or_default(),
                )
            })
            .collect()
    }
}

impl TripView {
    fn assemble(
        trip: TripRow,
        places: Vec<PlaceRow>,
        routes: Vec<RouteRow>,
        requests: Vec<RequestRow>,
    ) -> Result<TripView, sqlx::Error> {
        let id = trip.id;
        let (mut origin, mut destination, mut stop_locations) = (None, None, Vec::new());
        for place in places {
            match place.role.as_str() {
                "ORIGIN" => origin = Some(place.location()),
                "DESTINATION" => destination = Some(place.location()),
                _ => stop_locations.push(StopView {
                    stop: place.ordinal as u32,
                    location: place.location(),
                    arrived_at: place.recorded_at,
                }),
            }
        }
        let missing = |role: &str| sqlx::Error::Decode(format!("trip {id} has no {role}").into());
        Ok(TripView {
            id,
            task_id: trip.task_id,
            robot_id: trip.robot_id,
            trip_type: trip.trip_type,
            status: trip.status,
            origin: origin.ok_or_else(|| missing("origin"))?,
            destination: destination.ok_or_else(|| missing("destination"))?,
            stops: trip.stops as u32,
            current_location: trip.current(),
            stop_locations,
            routes: routes
                .into_iter()
                .map(|r| RouteView {
                    route_id: r.route_id,
                    distance_m: r.distance_m,
                    duration_s: r.duration_s,
                    polyline: r.polyline,
                    recorded_at: r.recorded_at,
                })
                .collect(),
            assistance_requests: requests
                .into_iter()
                .map(|r| AssistanceRequestView {
                    request_id: r.request_id,
                    kind: r.kind,
                    status: r.status,
                    note: r.note,
                    fo_id: r.fo_id,
                    outcome: r.outcome,
                    resolution_note: r.resolution_note,
                    requested_at: r.requested_at,
                    acknowledged_at: r.acknowledged_at,
                    resolved_at: r.resolved_at,
                    updated_at: r.updated_at,
                })
                .collect(),
            cancellation_reason: trip.cancellation_reason,
            cancellation_note: trip.cancellation_note,
            version: trip.version as u64,
            created_at: trip.created_at,
            updated_at: trip.updated_at,
        })
    }
}
