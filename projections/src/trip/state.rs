use aggregates::trip::{AssistanceStatus, Trip, TripEvent, TripStatus};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use sqlx::PgConnection;

use super::rows::{PlaceRow, RequestRow, RouteRow, TripRow};
use crate::frame::{Appends, Batch, Fact, Fold, Inconsistent, Rows};

/// Keeps `trips`, `trip_locations`, `routes` and `fo_assistance_requests` (places and routes
/// are only ever added).
pub struct TripsProjector;

impl Fold for TripsProjector {
    const NAME: &'static str = "trips";
    const AGGREGATE_TYPE: &'static str = Trip::TYPE;
    const EVENT_TYPES: &'static [&'static str] = TripEvent::TYPES;
    const TABLES: &'static [&'static str] = &[
        "trips",
        "trip_locations",
        "routes",
        "fo_assistance_requests",
    ];
    type Batch = Trips;
}

/// What a batch of trip events changes.
#[derive(Default)]
pub struct Trips {
    pub(crate) trips: Rows<TripRow>,
    pub(crate) requests: Rows<RequestRow>,
    pub(crate) places: Appends<PlaceRow>,
    pub(crate) routes: Appends<RouteRow>,
}

#[async_trait]
impl Batch for Trips {
    type Event = TripEvent;

    fn want(&mut self, fact: &Fact<'_>, event: &TripEvent) {
        self.trips.want(fact.stream);
        if let TripEvent::FoAssistanceRequested { request_id, .. }
        | TripEvent::FoAssistanceAcknowledged { request_id, .. }
        | TripEvent::FoAssistanceResolved { request_id, .. } = event
        {
            self.requests.want((fact.stream, *request_id));
        }
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.trips.load(conn).await?;
        self.requests.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: TripEvent) -> Result<(), Inconsistent> {
        let (trip_id, at) = (fact.stream, fact.at);
        if let TripEvent::TripPlanned {
            task_id,
            robot_id,
            trip_type,
            origin,
            destination,
        } = event
        {
            let trip = TripRow {
                id: trip_id,
                task_id,
                robot_id,
                trip_type,
                status: TripStatus::AtStop,
                stops: 0,
                current_lat: None,
                current_lng: None,
                current_name: None,
                current_location_id: None,
                cancellation_reason: None,
                cancellation_note: None,
                version: fact.sequence,
                created_at: at,
                updated_at: at,
            };
            self.trips.create(trip, "the trip is already planned")?;
            self.places
                .push(PlaceRow::new(trip_id, "ORIGIN", 0, at, origin));
            self.places
                .push(PlaceRow::new(trip_id, "DESTINATION", 0, at, destination));
            return Ok(());
        }
        let trip =
            (self.trips).advance(&trip_id, fact.sequence, at, "the trip was never planned")?;
        if let Some(status) = event.new_status() {
            trip.status = status;
        }
        match event {
            TripEvent::TripArrivedAtStop { location, .. } => {
                trip.stops += 1;
                trip.set_current(location.as_ref());
                if let Some(location) = location {
                    (self.places).push(PlaceRow::new(trip_id, "STOP", trip.stops, at, location));
                }
            }
            TripEvent::TripCancelled { reason, note, .. } => {
                trip.cancellation_reason = Some(reason);
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
                sequence: fact.sequence,
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
                let request = RequestRow {
                    trip_id,
                    request_id,
                    sequence: fact.sequence,
                    kind,
                    status: AssistanceStatus::Requested,
                    note,
                    fo_id: None,
                    outcome: None,
                    resolution_note: None,
                    requested_at: at,
                    acknowledged_at: None,
                    resolved_at: None,
                    updated_at: at,
                };
                (self.requests).create(request, "the assistance request was already made")?;
            }
            TripEvent::FoAssistanceAcknowledged { request_id, fo_id } => {
                let request = self.request(trip_id, request_id)?;
                request.status = AssistanceStatus::Acknowledged;
                request.fo_id = fo_id;
                request.acknowledged_at = Some(at);
                request.updated_at = at;
            }
            TripEvent::FoAssistanceResolved {
                request_id,
                outcome,
                note,
                ..
            } => {
                let request = self.request(trip_id, request_id)?;
                request.status = AssistanceStatus::Resolved;
                request.outcome = Some(outcome);
                request.resolution_note = note;
                request.resolved_at = Some(at);
                request.updated_at = at;
            }
            TripEvent::TripPlanned { .. }
            | TripEvent::TripReadyToDepart { .. }
            | TripEvent::TripDeparted { .. }
            | TripEvent::TripCompleted { .. } => {}
        }
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.trips.write(conn).await?;
        self.places.write(conn).await?;
        self.routes.write(conn).await?;
        self.requests.write(conn).await
    }
}

impl Trips {
    fn request(
        &mut self,
        trip_id: uuid::Uuid,
        request_id: uuid::Uuid,
    ) -> Result<&mut RequestRow, Inconsistent> {
        (self.requests).get(
            &(trip_id, request_id),
            "the assistance request was never made",
        )
    }
}

#[cfg(test)]
mod tests {
    use aggregates::task::CancellationReason;
    use aggregates::trip::{AssistanceKind, TripType};
    use aggregates::Location;
    use uuid::Uuid;

    use super::*;
    use crate::frame::testing::{at, fold};

    fn place(lat: f64) -> Location {
        Location {
            lat,
            lng: -122.4,
            name: None,
            location_id: None,
        }
    }

    fn planned() -> TripEvent {
        TripEvent::TripPlanned {
            task_id: Uuid::nil(),
            robot_id: Uuid::nil(),
            trip_type: TripType::Delivery,
            origin: place(37.0),
            destination: place(38.0),
        }
    }

    #[test]
    fn a_trip_that_stops_twice_and_is_cancelled_keeps_its_places_and_its_reason() {
        let trip = Uuid::now_v7();
        let mut batch = Trips::default();
        let arrived = |lat| TripEvent::TripArrivedAtStop {
            from_status: TripStatus::InTransit,
            location: Some(place(lat)),
        };
        let events = vec![
            (trip, 1, planned()),
            (trip, 2, arrived(37.5)),
            (trip, 3, arrived(37.7)),
            (
                trip,
                4,
                TripEvent::TripCancelled {
                    from_status: TripStatus::AtStop,
                    reason: CancellationReason::RouteBlocked,
                    note: Some("flooded".into()),
                },
            ),
        ];
        fold(&mut batch, Trip::TYPE, events).unwrap();
        let row = batch.trips.peek(&trip).unwrap();
        assert_eq!(row.status, TripStatus::Cancelled);
        assert_eq!((row.stops, row.version), (2, 4));
        assert_eq!(row.current(), Some(place(37.7)));
        assert_eq!(
            row.cancellation_reason,
            Some(CancellationReason::RouteBlocked)
        );
        assert_eq!((row.created_at, row.updated_at), (at(1), at(4)));
        let places: Vec<_> = (batch.places.rows().iter())
            .map(|p| (p.role.as_str(), p.ordinal, p.lat))
            .collect();
        assert_eq!(
            places,
            [
                ("ORIGIN", 0, 37.0),
                ("DESTINATION", 0, 38.0),
                ("STOP", 1, 37.5),
                ("STOP", 2, 37.7)
            ]
        );
    }

    #[test]
    fn an_acknowledged_assistance_request_names_its_operator_in_its_own_row() {
        let (trip, request) = (Uuid::now_v7(), Uuid::now_v7());
        let fo = Some(Uuid::now_v7());
        let events = vec![
            (trip, 1, planned()),
            (
                trip,
                2,
                TripEvent::FoAssistanceRequested {
                    request_id: request,
                    kind: AssistanceKind::Stuck,
                    note: None,
                },
            ),
            (
                trip,
                3,
                TripEvent::FoAssistanceAcknowledged {
                    request_id: request,
                    fo_id: fo,
                },
            ),
        ];
        let mut batch = Trips::default();
        fold(&mut batch, Trip::TYPE, events).unwrap();
        let row = batch.requests.peek(&(trip, request)).unwrap();
        assert_eq!(row.status, AssistanceStatus::Acknowledged);
        assert_eq!((row.fo_id, row.acknowledged_at), (fo, Some(at(3))));
        assert_eq!(batch.trips.peek(&trip).unwrap().version, 3);
    }

    #[test]
    fn an_event_that_does_not_fit_stops_the_fold_at_that_event() {
        let trip = Uuid::now_v7();
        let departed = TripEvent::TripDeparted {
            from_status: TripStatus::ReadyToDepart,
        };
        let cases = [
            (
                vec![(trip, 1, planned()), (trip, 2, planned())],
                "the trip is already planned",
            ),
            (
                vec![(trip, 1, departed.clone())],
                "the trip was never planned",
            ),
            (
                vec![(trip, 1, planned()), (trip, 1, departed)],
                "the row is already at or past this event",
            ),
        ];
        for (events, reason) in cases {
            let last = events.len() - 1;
            let refused = fold(&mut Trips::default(), Trip::TYPE, events).unwrap_err();
            assert_eq!(refused, (last, Inconsistent(reason)));
        }
    }
}
