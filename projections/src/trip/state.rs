use aggregates::task::CancellationReason;
use aggregates::trip::{
    AssistanceKind, AssistanceOutcome, AssistanceStatus, Trip, TripEvent, TripStatus, TripType,
};
use aggregates::Location;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::task::{enum_text, parse_enum};
use crate::{ProjectionError, Projector, StoredEvent};

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

fn enum_value<T: serde::de::DeserializeOwned>(row: &PgRow, column: &str) -> Result<T, sqlx::Error> {
    parse_enum(&row.try_get::<String, _>(column)?, column)
}

fn optional_enum<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    column: &str,
) -> Result<Option<T>, sqlx::Error> {
    row.try_get::<Option<String>, _>(column)?
        .map(|v| parse_enum(&v, column))
        .transpose()
}

/// Keeps `trips`, `trip_locations`, `routes` and `fo_assistance_requests`, event by event.
pub struct TripsProjector;

#[async_trait]
impl Projector for TripsProjector {
    fn name(&self) -> &'static str {
        "trips"
    }

    fn event_types(&self) -> &'static [&'static str] {
        TripEvent::TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "trips",
            "trip_locations",
            "routes",
            "fo_assistance_requests",
        ]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        for event in events.iter().filter(|e| e.aggregate_type == Trip::TYPE) {
            apply_one(tx, event).await?;
        }
        Ok(())
    }
}

/// A location's columns, all `NULL` for none.
fn columns(
    location: Option<&Location>,
) -> (Option<f64>, Option<f64>, Option<String>, Option<Uuid>) {
    match location {
        Some(l) => (Some(l.lat), Some(l.lng), l.name.clone(), l.location_id),
        None => (None, None, None, None),
    }
}

async fn apply_one(tx: &mut PgConnection, event: &StoredEvent) -> Result<(), ProjectionError> {
    let trip_id = event.stream_uuid()?;
    let at = event.recorded_at;
    let payload: TripEvent = event.decode()?;
    let inconsistent = |reason: &str| ProjectionError::Inconsistent {
        position: event.at.position,
        reason: reason.to_string(),
    };
    let expect_one = |done: PgQueryResult, what: &str| {
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(inconsistent(what))
        }
    };
    if let TripEvent::TripPlanned {
        task_id,
        robot_id,
        trip_type,
        origin,
        destination,
    } = &payload
    {
        sqlx::query(
            "INSERT INTO trips (id, task_id, robot_id, trip_type, status, stops, version,
                                created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $7)",
        )
        .bind(trip_id)
        .bind(task_id)
        .bind(robot_id)
        .bind(enum_text(trip_type))
        .bind(TripStatus::AtStop.as_str())
        .bind(event.sequence)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO trip_locations (trip_id, role, ordinal, lat, lng, name, location_id,
                                         recorded_at)
             VALUES ($1, 'ORIGIN', 0, $2, $3, $4, $5, $10),
                    ($1, 'DESTINATION', 0, $6, $7, $8, $9, $10)",
        )
        .bind(trip_id)
        .bind(origin.lat)
        .bind(origin.lng)
        .bind(&origin.name)
        .bind(origin.location_id)
        .bind(destination.lat)
        .bind(destination.lng)
        .bind(&destination.name)
        .bind(destination.location_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        return Ok(());
    }
    // Every later event moves the trip's version, and its status if it changes it; the match
    // below sets what else it changes.
    let moved = sqlx::query(
        "UPDATE trips SET version = $2, updated_at = $3, status = COALESCE($4, status)
          WHERE id = $1",
    )
    .bind(trip_id)
    .bind(event.sequence)
    .bind(at)
    .bind(payload.new_status().map(TripStatus::as_str))
    .execute(&mut *tx)
    .await?;
    expect_one(moved, "the trip was never planned")?;
    match payload {
        TripEvent::TripArrivedAtStop { location, .. } => {
            let (lat, lng, name, location_id) = columns(location.as_ref());
            let stop: i32 = sqlx::query_scalar(
                "UPDATE trips SET stops = stops + 1, current_lat = $2, current_lng = $3,
                        current_name = $4, current_location_id = $5
                  WHERE id = $1
              RETURNING stops",
            )
            .bind(trip_id)
            .bind(lat)
            .bind(lng)
            .bind(&name)
            .bind(location_id)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(lat) = lat {
                sqlx::query(
                    "INSERT INTO trip_locations (trip_id, role, ordinal, lat, lng, name,
                                                 location_id, recorded_at)
                     VALUES ($1, 'STOP', $2, $3, $4, $5, $6, $7)",
                )
                .bind(trip_id)
                .bind(stop)
                .bind(lat)
                .bind(lng)
                .bind(name)
                .bind(location_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
        TripEvent::TripCancelled { reason, note, .. } => {
            sqlx::query(
                "UPDATE trips SET cancellation_reason = $2, cancellation_note = $3 WHERE id = $1",
            )
            .bind(trip_id)
            .bind(enum_text(&reason))
            .bind(note)
            .execute(&mut *tx)
            .await?;
        }
        TripEvent::TripRouteRecorded {
            route_id,
            distance_m,
            duration_s,
            polyline,
        } => {
            sqlx::query(
                "INSERT INTO routes (route_id, trip_id, sequence, distance_m, duration_s,
                                     polyline, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(route_id)
            .bind(trip_id)
            .bind(event.sequence)
            .bind(distance_m)
            .bind(duration_s)
            .bind(polyline)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        TripEvent::FoAssistanceRequested {
            request_id,
            kind,
            note,
        } => {
            sqlx::query(
                "INSERT INTO fo_assistance_requests (request_id, trip_id, sequence, kind, status,
                                                     note, requested_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(request_id)
            .bind(trip_id)
            .bind(event.sequence)
            .bind(enum_text(&kind))
            .bind(AssistanceStatus::Requested.as_str())
            .bind(note)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        TripEvent::FoAssistanceAcknowledged { request_id, fo_id } => {
            let done = sqlx::query(
                "UPDATE fo_assistance_requests
                    SET status = $3, fo_id = $4, acknowledged_at = $5, updated_at = $5
                  WHERE trip_id = $1 AND request_id = $2",
            )
            .bind(trip_id)
            .bind(request_id)
            .bind(AssistanceStatus::Acknowledged.as_str())
            .bind(fo_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            expect_one(done, "the assistance request was never made")?;
        }
        TripEvent::FoAssistanceResolved {
            request_id,
            outcome,
            note,
            ..
        } => {
            let done = sqlx::query(
                "UPDATE fo_assistance_requests
                    SET status = $3, outcome = $4, resolution_note = $5, resolved_at = $6,
                        updated_at = $6
                  WHERE trip_id = $1 AND request_id = $2",
            )
            .bind(trip_id)
            .bind(request_id)
            .bind(AssistanceStatus::Resolved.as_str())
            .bind(enum_text(&outcome))
            .bind(note)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            expect_one(done, "the assistance request was never made")?;
        }
        TripEvent::TripPlanned { .. }
        | TripEvent::TripReadyToDepart { .. }
        | TripEvent::TripDeparted { .. }
        | TripEvent::TripCompleted { .. } => {}
    }
    Ok(())
}
