//! Names and wire format.

use super::*;

#[test]
fn every_public_command_name_is_in_the_catalogue_in_order() {
    use crate::CommandNames;
    let names: Vec<_> = every_public_command().iter().map(|c| c.name()).collect();
    assert_eq!(names, TripCommand::PUBLIC);
    let creating: Vec<_> = every_public_command()
        .iter()
        .filter(|c| c.creates_stream())
        .map(|c| c.name())
        .collect();
    assert_eq!(creating, ["PlanTrip"]);
}

#[test]
fn every_event_name_is_in_the_type_list() {
    let events = with(
        with(completed(), cancelled().into_iter().skip(1)),
        [
            TripEvent::TripRouteRecorded {
                route_id: route_id(),
                distance_m: 1.0,
                duration_s: 1.0,
                polyline: None,
            },
            requested(),
            acknowledged(),
            resolved(),
        ],
    );
    let mut names: Vec<_> = events.iter().map(|e| e.name()).collect();
    names.sort_unstable();
    names.dedup();
    let mut types = TripEvent::TYPES.to_vec();
    types.sort_unstable();
    assert_eq!(names, types);
    for event in &events {
        assert_eq!(cqrs_es::DomainEvent::event_version(event), "1.0");
        assert_eq!(cqrs_es::DomainEvent::event_type(event), event.name());
    }
}

#[test]
fn a_command_body_with_an_unknown_field_is_refused() {
    let body = serde_json::json!({"DepartTrip": {"sudo": true}});
    assert!(serde_json::from_value::<TripCommand>(body).is_err());
    let body = serde_json::json!({"ArriveAtStop": {"locaton": {"lat": 1, "lng": 2}}});
    assert!(serde_json::from_value::<TripCommand>(body).is_err());
    let body = serde_json::json!({"RecordRoute": {
        "route_id": route_id(), "distance_m": 1, "duration_s": 1, "polyine": "x"
    }});
    assert!(serde_json::from_value::<TripCommand>(body).is_err());
}

#[test]
fn a_command_body_parses_with_its_optional_fields_left_out() {
    let parsed: TripCommand = serde_json::from_value(serde_json::json!({
        "ArriveAtStop": {}
    }))
    .unwrap();
    assert_eq!(parsed, TripCommand::ArriveAtStop { location: None });
    let parsed: TripCommand = serde_json::from_value(serde_json::json!({
        "RequestFoAssistance": {"request_id": request_id(), "kind": "BLOCKED_PATH"}
    }))
    .unwrap();
    assert_eq!(
        parsed,
        TripCommand::RequestFoAssistance {
            request_id: request_id(),
            kind: AssistanceKind::BlockedPath,
            note: None,
        }
    );
}

#[test]
fn enum_values_are_the_seeds_spelling() {
    let parsed: TripCommand = serde_json::from_value(serde_json::json!({
        "PlanTrip": {
            "task_id": task(), "robot_id": robot(), "trip_type": "JITP",
            "origin": {"lat": 37.77, "lng": -122.42},
            "destination": {"lat": 37.79, "lng": -122.40}
        }
    }))
    .unwrap();
    assert!(matches!(
        parsed,
        TripCommand::PlanTrip {
            trip_type: TripType::Jitp,
            ..
        }
    ));
    assert_eq!(
        serde_json::to_value(TripStatus::ReadyToDepart).unwrap(),
        "READY_TO_DEPART"
    );
    assert_eq!(
        serde_json::to_value(AssistanceOutcome::RobotRecovered).unwrap(),
        "ROBOT_RECOVERED"
    );
    assert_eq!(
        serde_json::to_value(AssistanceKind::HardwareFault).unwrap(),
        "HARDWARE_FAULT"
    );
    assert_eq!(
        serde_json::to_value(AssistanceStatus::Acknowledged).unwrap(),
        "ACKNOWLEDGED"
    );
}

#[test]
fn every_refusal_has_a_stable_code_and_only_a_missing_trip_is_not_found() {
    use crate::DomainError;
    let errors = [
        (TripError::NotFound, "not_found"),
        (TripError::AlreadyExists, "already_exists"),
        (
            TripError::Ended {
                status: TripStatus::Completed,
            },
            "trip_ended",
        ),
        (
            TripError::InvalidTransition {
                command: "DepartTrip",
                status: TripStatus::AtStop,
            },
            "invalid_transition",
        ),
        (TripError::NoteRequired, "note_required"),
        (
            TripError::SameOriginAndDestination,
            "same_origin_and_destination",
        ),
        (
            TripError::InvalidRoute { reason: "x".into() },
            "invalid_route",
        ),
        (
            TripError::RouteAlreadyRecorded {
                route_id: route_id(),
            },
            "route_already_recorded",
        ),
        (
            TripError::AssistanceAlreadyRequested {
                request_id: request_id(),
            },
            "assistance_already_requested",
        ),
        (
            TripError::AssistanceNotFound {
                request_id: request_id(),
            },
            "assistance_not_found",
        ),
        (
            TripError::AssistanceNotOpen {
                request_id: request_id(),
                status: AssistanceStatus::Resolved,
            },
            "assistance_not_open",
        ),
    ];
    for (error, code) in errors {
        assert_eq!(error.code(), code);
        assert_eq!(error.is_not_found(), code == "not_found");
    }
    assert_eq!(
        TripError::InvalidTransition {
            command: "DepartTrip",
            status: TripStatus::AtStop,
        }
        .to_string(),
        "DepartTrip is not allowed while the trip is AT_STOP"
    );
}
