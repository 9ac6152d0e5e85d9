use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::task::CancellationReason;
use crate::{Location, Note};

type TripTest = TestFramework<Trip>;

fn task() -> Uuid {
    Uuid::from_u128(0x1)
}
fn robot() -> Uuid {
    Uuid::from_u128(0x2)
}
fn route_id() -> Uuid {
    Uuid::from_u128(0x3)
}
fn request_id() -> Uuid {
    Uuid::from_u128(0x4)
}
fn fo() -> Uuid {
    Uuid::from_u128(0x5)
}

fn place(lat: f64, lng: f64, name: &str) -> Location {
    Location::new(lat, lng, Some(name.into()), None).unwrap()
}
fn hub() -> Location {
    place(37.77, -122.42, "Hub SF")
}
fn customer() -> Location {
    place(37.79, -122.40, "Customer")
}
fn merchant() -> Location {
    place(37.78, -122.41, "Merchant")
}

fn note(text: &str) -> Option<Note> {
    Some(Note::parse(text).unwrap())
}

fn planned() -> Vec<TripEvent> {
    vec![TripEvent::TripPlanned {
        task_id: task(),
        robot_id: robot(),
        trip_type: TripType::Delivery,
        origin: hub(),
        destination: customer(),
    }]
}

fn ready() -> Vec<TripEvent> {
    let mut events = planned();
    events.push(TripEvent::TripReadyToDepart {
        from_status: TripStatus::AtStop,
    });
    events
}

fn in_transit() -> Vec<TripEvent> {
    let mut events = ready();
    events.push(TripEvent::TripDeparted {
        from_status: TripStatus::ReadyToDepart,
    });
    events
}

fn at_a_stop() -> Vec<TripEvent> {
    let mut events = in_transit();
    events.push(TripEvent::TripArrivedAtStop {
        from_status: TripStatus::InTransit,
        location: Some(merchant()),
    });
    events
}

fn completed() -> Vec<TripEvent> {
    let mut events = at_a_stop();
    events.push(TripEvent::TripCompleted {
        from_status: TripStatus::AtStop,
    });
    events
}

fn cancelled() -> Vec<TripEvent> {
    let mut events = planned();
    events.push(TripEvent::TripCancelled {
        from_status: TripStatus::AtStop,
        reason: CancellationReason::CustomerRequested,
        note: None,
    });
    events
}

fn requested() -> TripEvent {
    TripEvent::FoAssistanceRequested {
        request_id: request_id(),
        kind: AssistanceKind::Stuck,
        note: Some("wheel in a grate".into()),
    }
}

fn acknowledged() -> TripEvent {
    TripEvent::FoAssistanceAcknowledged {
        request_id: request_id(),
        fo_id: Some(fo()),
    }
}

fn resolved() -> TripEvent {
    TripEvent::FoAssistanceResolved {
        request_id: request_id(),
        outcome: AssistanceOutcome::RobotRecovered,
        note: None,
        from_status: AssistanceStatus::Acknowledged,
    }
}

fn with(mut history: Vec<TripEvent>, more: impl IntoIterator<Item = TripEvent>) -> Vec<TripEvent> {
    history.extend(more);
    history
}

fn plan(origin: Location, destination: Location) -> TripCommand {
    TripCommand::PlanTrip {
        task_id: task(),
        robot_id: robot(),
        trip_type: TripType::Delivery,
        origin,
        destination,
    }
}

fn cancel(reason: CancellationReason, note: Option<&str>) -> TripCommand {
    TripCommand::CancelTrip {
        reason,
        note: note.map(|n| Note::parse(n).unwrap()),
    }
}

fn record_route(distance_m: f64, duration_s: f64, polyline: Option<&str>) -> TripCommand {
    TripCommand::RecordRoute {
        route_id: route_id(),
        distance_m,
        duration_s,
        polyline: polyline.map(String::from),
    }
}

fn request_assistance() -> TripCommand {
    TripCommand::RequestFoAssistance {
        request_id: request_id(),
        kind: AssistanceKind::Stuck,
        note: note("wheel in a grate"),
    }
}

fn acknowledge() -> TripCommand {
    TripCommand::AcknowledgeFoAssistance {
        request_id: request_id(),
        fo_id: Some(fo()),
    }
}

fn resolve() -> TripCommand {
    TripCommand::ResolveFoAssistance {
        request_id: request_id(),
        outcome: AssistanceOutcome::RobotRecovered,
        note: None,
    }
}

/// Every command a client can send, with valid fields.
fn every_public_command() -> Vec<TripCommand> {
    vec![
        plan(hub(), customer()),
        TripCommand::MarkReadyToDepart {},
        TripCommand::DepartTrip {},
        TripCommand::ArriveAtStop { location: None },
        TripCommand::CompleteTrip {},
        cancel(CancellationReason::Weather, None),
        record_route(1200.0, 600.0, None),
        request_assistance(),
        acknowledge(),
        resolve(),
    ]
}

/// The commands an ended trip refuses with `Ended`.
fn commands_refused_once_ended() -> Vec<TripCommand> {
    every_public_command()
        .into_iter()
        .skip(1)
        .filter(|c| {
            !matches!(
                c,
                TripCommand::AcknowledgeFoAssistance { .. }
                    | TripCommand::ResolveFoAssistance { .. }
            )
        })
        .collect()
}

mod assistance;
mod planning;
mod routes;
mod status_machine;
mod wire_format;
