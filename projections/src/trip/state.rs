use aggregates::Label;
use std::collections::{HashMap, HashSet};

use aggregates::trip::{AssistanceStatus, Trip, TripEvent, TripStatus};
use aggregates::Location;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::task::{enum_text, enum_value};
use crate::{ProjectionError, Projector, StoredEvent};

/// Keeps `trips`, `trip_locations`, `routes` and `fo_assistance_requests`. A batch is applied
/// in memory: the trips and assistance requests it touches are read in one statement per table,
/// every event is folded into them in order, and the changes are written back in one multi-row
/// statement per table (places and routes are only ever added).
///
/// Per stream, the feed is in sequence order: an event at or below its row's version, or a
/// second creation, stops the projector (`Inconsistent`, with the event's position) rather than
/// being applied twice.
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
        let mut decoded = Vec::with_capacity(events.len());
        let (mut trip_ids, mut request_keys) = (Vec::new(), Vec::new());
        for event in events.iter().filter(|e| e.aggregate_type == Trip::TYPE) {
            let trip_id = event.stream_uuid()?;
            let payload: TripEvent = event.decode()?;
            trip_ids.push(trip_id);
            if let TripEvent::FoAssistanceRequested { request_id, .. }
            | TripEvent::FoAssistanceAcknowledged { request_id, .. }
            | TripEvent::FoAssistanceResolved { request_id, .. } = &payload
            {
                request_keys.push((trip_id, *request_id));
            }
            decoded.push((event, trip_id, payload));
        }
        let mut batch = Batch {
            trips: TripRow::load_many(tx, &trip_ids).await?,
            requests: RequestRow::load_many(tx, &request_keys).await?,
            changed_trips: HashSet::new(),
            changed_requests: HashSet::new(),
            places: Vec::new(),
            routes: Vec::new(),
        };
        for (event, trip_id, payload) in decoded {
            batch.apply(event, trip_id, payload)?;
        }
        batch.write(tx).await?;
        Ok(())
    }
}

/// What a batch changes, as it is after each event.
struct Batch {
    trips: HashMap<Uuid, TripRow>,
    requests: HashMap<(Uuid, Uuid), RequestRow>,
    changed_trips: HashSet<Uuid>,
    changed_requests: HashSet<(Uuid, Uuid)>,
    places: Vec<PlaceRow>,
    routes: Vec<RouteRow>,
}

impl Batch {
    fn apply(
        &mut self,
        event: &StoredEvent,
        trip_id: Uuid,
        payload: TripEvent,
    ) -> Result<(), ProjectionError> {
        let at = event.recorded_at;
        let inconsistent = |reason: &str| ProjectionError::Inconsistent {
            position: event.at.position,
            reason: reason.to_string(),
        };
        if let TripEvent::TripPlanned {
            task_id,
            robot_id,
            trip_type,
            origin,
            destination,
        } = payload
        {
            if self.trips.contains_key(&trip_id) {
                return Err(inconsistent("the trip is already planned"));
            }
            self.trips.insert(
                trip_id,
                TripRow {
                    id: trip_id,
                    task_id,
                    robot_id,
                    trip_type: enum_text(&trip_type),
                    status: TripStatus::AtStop.as_str().to_string(),
                    stops: 0,
                    current: None,
                    cancellation_reason: None,
                    cancellation_note: None,
                    version: event.sequence,
                    created_at: at,
                    updated_at: at,
                },
            );
            self.changed_trips.insert(trip_id);
            for (role, location) in [("ORIGIN", origin), ("DESTINATION", destination)] {
                self.places.push(PlaceRow {
                    trip_id,
                    role,
                    ordinal: 0,
                    location,
                    recorded_at: at,
                });
            }
            return Ok(());
        }
        // Every later event moves the trip's version, and its status if it changes it; the
        // match below sets what else it changes.
        let trip = self
            .trips
            .get_mut(&trip_id)
            .ok_or_else(|| inconsistent("the trip was never planned"))?;
        if trip.version >= event.sequence {
            return Err(inconsistent("the row is already at or past this event"));
        }
        trip.version = event.sequence;
        trip.updated_at = at;
        if let Some(status) = payload.new_status() {
            trip.status = status.as_str().to_string();
        }
        self.changed_trips.insert(trip_id);
        match payload {
            TripEvent::TripArrivedAtStop { location, .. } => {
                trip.stops += 1;
                trip.current = location.clone();
                if let Some(location) = location {
                    self.places.push(PlaceRow {
                        trip_id,
                        role: "STOP",
                        ordinal: trip.stops,
                        location,
                        recorded_at: at,
                    });
                }
            }
            TripEvent::TripCancelled { reason, note, .. } => {
                trip.cancellation_reason = Some(enum_text(&reason));
                trip.cancellation_note = note;
            }
            TripEvent::TripRouteRecorded {
                route_id,
                distance_m,
                duration_s,
                polyline,
            } => self.routes.push(RouteRow {
                route_id,
                trip_id,
                sequence: event.sequence,
                distance_m,
                duration_s,
                polyline,
                recorded_at: at,
            }),
            TripEvent::FoAssistanceRequested {
                request_id,
                kind,
                note,
            } => {
                if self.requests.contains_key(&(trip_id, request_id)) {
                    return Err(inconsistent("the assistance request was already made"));
                }
                self.requests.insert(
                    (trip_id, request_id),
                    RequestRow {
                        request_id,
                        trip_id,
                        sequence: event.sequence,
                        kind: enum_text(&kind),
                        status: AssistanceStatus::Requested.as_str(),
                        note,
                        fo_id: None,
                        outcome: None,
                        resolution_note: None,
                        requested_at: at,
                        acknowledged_at: None,
                        resolved_at: None,
                        updated_at: at,
                    },
                );
                self.changed_requests.insert((trip_id, request_id));
            }
            TripEvent::FoAssistanceAcknowledged { request_id, fo_id } => {
                let request = self
                    .requests
                    .get_mut(&(trip_id, request_id))
                    .ok_or_else(|| inconsistent("the assistance request was never made"))?;
                request.status = AssistanceStatus::Acknowledged.as_str();
                request.fo_id = fo_id;
                request.acknowledged_at = Some(at);
                request.updated_at = at;
                self.changed_requests.insert((trip_id, request_id));
            }
            TripEvent::FoAssistanceResolved {
                request_id,
                outcome,
                note,
                ..
            } => {
                let request = self
                    .requests
                    .get_mut(&(trip_id, request_id))
                    .ok_or_else(|| inconsistent("the assistance request was never made"))?;
                request.status = AssistanceStatus::Resolved.as_str();
                request.outcome = Some(enum_text(&outcome));
                request.resolution_note = note;
                request.resolved_at = Some(at);
                request.updated_at = at;
                self.changed_requests.insert((trip_id, request_id));
            }
            TripEvent::TripPlanned { .. }
            | TripEvent::TripReadyToDepart { .. }
            | TripEvent::TripDeparted { .. }
            | TripEvent::TripCompleted { .. } => {}
        }
        Ok(())
    }

    async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let trips: Vec<_> = (self.changed_trips.iter())
            .filter_map(|id| self.trips.get(id))
            .collect();
        TripRow::upsert(tx, &trips).await?;
        PlaceRow::insert(tx, &self.places).await?;
        RouteRow::insert(tx, &self.routes).await?;
        let requests: Vec<_> = (self.changed_requests.iter())
            .filter_map(|key| self.requests.get(key))
            .collect();
        RequestRow::upsert(tx, &requests).await
    }
}

/// A row of `trips`, enums as their text.
struct TripRow {
    id: Uuid,
    task_id: Uuid,
    robot_id: Uuid,
    trip_type: String,
    status: String,
    stops: i32,
    current: Option<Location>,
    cancellation_reason: Option<String>,
    cancellation_note: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TripRow {
    async fn load_many(
        tx: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Self>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, task_id, robot_id, trip_type, status, stops, current_lat, current_lng,
                    current_name, current_location_id, cancellation_reason, cancellation_note,
                    version, created_at, updated_at
               FROM trips WHERE id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(tx)
        .await?;
        rows.iter()
            .map(|row| {
                let current = match row.try_get::<Option<f64>, _>("current_lat")? {
                    Some(lat) => Some(Location {
                        lat,
                        lng: row.try_get("current_lng")?,
                        name: row.try_get("current_name")?,
                        location_id: row.try_get("current_location_id")?,
                    }),
                    None => None,
                };
                let trip = Self {
                    id: row.try_get("id")?,
                    task_id: row.try_get("task_id")?,
                    robot_id: row.try_get("robot_id")?,
                    trip_type: row.try_get("trip_type")?,
                    status: row.try_get("status")?,
                    stops: row.try_get("stops")?,
                    current,
                    cancellation_reason: row.try_get("cancellation_reason")?,
                    cancellation_note: row.try_get("cancellation_note")?,
                    version: row.try_get("version")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                };
                Ok((trip.id, trip))
            })
            .collect()
    }

    async fn upsert(tx: &mut PgConnection, rows: &[&Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let current = |f: fn(&Location) -> f64| {
            rows.iter()
                .map(|r| r.current.as_ref().map(f))
                .collect::<Vec<_>>()
        };
        sqlx::query(
            "INSERT INTO trips (id, task_id, robot_id, trip_type, status, stops, current_lat,
                                current_lng, current_name, current_location_id,
                                cancellation_reason, cancellation_note, version, created_at,
                                updated_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
                                  $6::int[], $7::float8[], $8::float8[], $9::text[], $10::uuid[],
                                  $11::text[], $12::text[], $13::bigint[], $14::timestamptz[],
                                  $15::timestamptz[])
             ON CONFLICT (id) DO UPDATE SET
                 task_id = EXCLUDED.task_id, robot_id = EXCLUDED.robot_id,
                 trip_type = EXCLUDED.trip_type, status = EXCLUDED.status,
                 stops = EXCLUDED.stops, current_lat = EXCLUDED.current_lat,
                 current_lng = EXCLUDED.current_lng, current_name = EXCLUDED.current_name,
                 current_location_id = EXCLUDED.current_location_id,
                 cancellation_reason = EXCLUDED.cancellation_reason,
                 cancellation_note = EXCLUDED.cancellation_note, version = EXCLUDED.version,
                 created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at",
        )
        .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.task_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.robot_id).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.trip_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.stops).collect::<Vec<_>>())
        .bind(current(|l| l.lat))
        .bind(current(|l| l.lng))
        .bind(
            rows.iter()
                .map(|r| r.current.as_ref().and_then(|l| l.name.as_deref()))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.current.as_ref().and_then(|l| l.location_id))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.cancellation_reason.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.cancellation_note.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// A row of `trip_locations`.
struct PlaceRow {
    trip_id: Uuid,
    role: &'static str,
    ordinal: i32,
    location: Location,
    recorded_at: DateTime<Utc>,
}

impl PlaceRow {
    async fn insert(tx: &mut PgConnection, rows: &[Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO trip_locations (trip_id, role, ordinal, lat, lng, name, location_id,
                                         recorded_at)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int[], $4::float8[],
                                  $5::float8[], $6::text[], $7::uuid[], $8::timestamptz[])",
        )
        .bind(rows.iter().map(|r| r.trip_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.role).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.ordinal).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.location.lat).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.location.lng).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.location.name.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.location.location_id)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.recorded_at).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// A row of `routes`.
struct RouteRow {
    route_id: Uuid,
    trip_id: Uuid,
    sequence: i64,
    distance_m: f64,
    duration_s: f64,
    polyline: Option<String>,
    recorded_at: DateTime<Utc>,
}

impl RouteRow {
    async fn insert(tx: &mut PgConnection, rows: &[Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO routes (route_id, trip_id, sequence, distance_m, duration_s, polyline,
                                 recorded_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::float8[],
                                  $5::float8[], $6::text[], $7::timestamptz[])",
        )
        .bind(rows.iter().map(|r| r.route_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.trip_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.sequence).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.distance_m).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.duration_s).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.polyline.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.recorded_at).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// A row of `fo_assistance_requests`, enums as their text.
struct RequestRow {
    request_id: Uuid,
    trip_id: Uuid,
    sequence: i64,
    kind: String,
    status: &'static str,
    note: Option<String>,
    fo_id: Option<Uuid>,
    outcome: Option<String>,
    resolution_note: Option<String>,
    requested_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl RequestRow {
    async fn load_many(
        tx: &mut PgConnection,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), Self>, sqlx::Error> {
        let (trips, requests): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
        let rows = sqlx::query(
            "SELECT r.request_id, r.trip_id, r.sequence, r.kind, r.status, r.note, r.fo_id,
                    r.outcome, r.resolution_note, r.requested_at, r.acknowledged_at,
                    r.resolved_at, r.updated_at
               FROM fo_assistance_requests r
               JOIN UNNEST($1::uuid[], $2::uuid[]) AS k(trip_id, request_id)
                 ON r.trip_id = k.trip_id AND r.request_id = k.request_id",
        )
        .bind(trips)
        .bind(requests)
        .fetch_all(tx)
        .await?;
        rows.iter()
            .map(|row| {
                let status: AssistanceStatus = enum_value(row, "status")?;
                let request = Self {
                    request_id: row.try_get("request_id")?,
                    trip_id: row.try_get("trip_id")?,
                    sequence: row.try_get("sequence")?,
                    kind: row.try_get("kind")?,
                    status: status.as_str(),
                    note: row.try_get("note")?,
                    fo_id: row.try_get("fo_id")?,
                    outcome: row.try_get("outcome")?,
                    resolution_note: row.try_get("resolution_note")?,
                    requested_at: row.try_get("requested_at")?,
                    acknowledged_at: row.try_get("acknowledged_at")?,
                    resolved_at: row.try_get("resolved_at")?,
                    updated_at: row.try_get("updated_at")?,
                };
                Ok(((request.trip_id, request.request_id), request))
            })
            .collect()
    }

    async fn upsert(tx: &mut PgConnection, rows: &[&Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO fo_assistance_requests (request_id, trip_id, sequence, kind, status,
                                                 note, fo_id, outcome, resolution_note,
                                                 requested_at, acknowledged_at, resolved_at,
                                                 updated_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[],
                                  $6::text[], $7::uuid[], $8::text[], $9::text[],
                                  $10::timestamptz[], $11::timestamptz[], $12::timestamptz[],
                                  $13::timestamptz[])
             ON CONFLICT (trip_id, request_id) DO UPDATE SET
                 sequence = EXCLUDED.sequence, kind = EXCLUDED.kind, status = EXCLUDED.status,
                 note = EXCLUDED.note, fo_id = EXCLUDED.fo_id, outcome = EXCLUDED.outcome,
                 resolution_note = EXCLUDED.resolution_note,
                 requested_at = EXCLUDED.requested_at,
                 acknowledged_at = EXCLUDED.acknowledged_at,
                 resolved_at = EXCLUDED.resolved_at, updated_at = EXCLUDED.updated_at",
        )
        .bind(rows.iter().map(|r| r.request_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.trip_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.sequence).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.status).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.note.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.fo_id).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.outcome.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.resolution_note.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.requested_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.acknowledged_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.resolved_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }
}
