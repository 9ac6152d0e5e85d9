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

// Planning.

#[test]
fn planning_a_trip_puts_it_at_its_first_stop_with_its_fields() {
    TripTest::with(())
        .given_no_previous_events()
        .when(plan(hub(), customer()))
        .then_expect_events(planned());
}

#[test]
fn planning_an_existing_trip_is_refused() {
    TripTest::with(())
        .given(planned())
        .when(plan(hub(), customer()))
        .then_expect_error(TripError::AlreadyExists);
}

#[test]
fn a_trip_whose_origin_is_its_destination_is_refused() {
    let same_spot_other_name = place(37.77, -122.42, "Front door of the hub");
    TripTest::with(())
        .given_no_previous_events()
        .when(plan(hub(), same_spot_other_name))
        .then_expect_error(TripError::SameOriginAndDestination);
}

#[test]
fn a_trip_that_does_not_exist_refuses_every_other_command() {
    for command in every_public_command().into_iter().skip(1) {
        TripTest::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(TripError::NotFound);
    }
}

// The status machine.

#[test]
fn a_trip_at_a_stop_becomes_ready_to_depart() {
    TripTest::with(())
        .given(planned())
        .when(TripCommand::MarkReadyToDepart {})
        .then_expect_events(vec![TripEvent::TripReadyToDepart {
            from_status: TripStatus::AtStop,
        }]);
}

#[test]
fn a_trip_ready_to_depart_cannot_be_marked_ready_again() {
    TripTest::with(())
        .given(ready())
        .when(TripCommand::MarkReadyToDepart {})
        .then_expect_error(TripError::InvalidTransition {
            command: "MarkReadyToDepart",
            status: TripStatus::ReadyToDepart,
        });
}

#[test]
fn a_trip_in_transit_cannot_be_marked_ready_to_depart() {
    TripTest::with(())
        .given(in_transit())
        .when(TripCommand::MarkReadyToDepart {})
        .then_expect_error(TripError::InvalidTransition {
            command: "MarkReadyToDepart",
            status: TripStatus::InTransit,
        });
}

#[test]
fn a_trip_ready_to_depart_departs() {
    TripTest::with(())
        .given(ready())
        .when(TripCommand::DepartTrip {})
        .then_expect_events(vec![TripEvent::TripDeparted {
            from_status: TripStatus::ReadyToDepart,
        }]);
}

#[test]
fn a_trip_at_a_stop_cannot_depart_before_it_is_ready() {
    TripTest::with(())
        .given(planned())
        .when(TripCommand::DepartTrip {})
        .then_expect_error(TripError::InvalidTransition {
            command: "DepartTrip",
            status: TripStatus::AtStop,
        });
}

#[test]
fn a_trip_in_transit_cannot_depart_again() {
    TripTest::with(())
        .given(in_transit())
        .when(TripCommand::DepartTrip {})
        .then_expect_error(TripError::InvalidTransition {
            command: "DepartTrip",
            status: TripStatus::InTransit,
        });
}

#[test]
fn a_trip_in_transit_arrives_at_a_stop_and_may_depart_again() {
    TripTest::with(())
        .given(in_transit())
        .when(TripCommand::ArriveAtStop {
            location: Some(merchant()),
        })
        .then_expect_events(vec![TripEvent::TripArrivedAtStop {
            from_status: TripStatus::InTransit,
            location: Some(merchant()),
        }]);
    TripTest::with(())
        .given(at_a_stop())
        .when(TripCommand::MarkReadyToDepart {})
        .then_expect_events(vec![TripEvent::TripReadyToDepart {
            from_status: TripStatus::AtStop,
        }]);
}

#[test]
fn a_trip_arrives_at_a_stop_without_reporting_where() {
    TripTest::with(())
        .given(in_transit())
        .when(TripCommand::ArriveAtStop { location: None })
        .then_expect_events(vec![TripEvent::TripArrivedAtStop {
            from_status: TripStatus::InTransit,
            location: None,
        }]);
}

#[test]
fn a_trip_that_is_not_moving_cannot_arrive() {
    for (history, status) in [
        (planned(), TripStatus::AtStop),
        (ready(), TripStatus::ReadyToDepart),
    ] {
        TripTest::with(())
            .given(history)
            .when(TripCommand::ArriveAtStop { location: None })
            .then_expect_error(TripError::InvalidTransition {
                command: "ArriveAtStop",
                status,
            });
    }
}

#[test]
fn a_trip_completes_at_a_stop_or_in_transit() {
    for (history, from_status) in [
        (planned(), TripStatus::AtStop),
        (at_a_stop(), TripStatus::AtStop),
        (in_transit(), TripStatus::InTransit),
    ] {
        TripTest::with(())
            .given(history)
            .when(TripCommand::CompleteTrip {})
            .then_expect_events(vec![TripEvent::TripCompleted { from_status }]);
    }
}

#[test]
fn a_trip_ready_to_depart_cannot_complete() {
    TripTest::with(())
        .given(ready())
        .when(TripCommand::CompleteTrip {})
        .then_expect_error(TripError::InvalidTransition {
            command: "CompleteTrip",
            status: TripStatus::ReadyToDepart,
        });
}

#[test]
fn any_open_trip_can_be_cancelled_and_the_event_keeps_where_it_was() {
    for (history, from_status) in [
        (planned(), TripStatus::AtStop),
        (ready(), TripStatus::ReadyToDepart),
        (in_transit(), TripStatus::InTransit),
        (at_a_stop(), TripStatus::AtStop),
    ] {
        TripTest::with(())
            .given(history)
            .when(cancel(
                CancellationReason::RobotStuck,
                Some("wheel in a grate"),
            ))
            .then_expect_events(vec![TripEvent::TripCancelled {
                from_status,
                reason: CancellationReason::RobotStuck,
                note: Some("wheel in a grate".into()),
            }]);
    }
}

#[test]
fn cancelling_for_another_reason_requires_a_note() {
    TripTest::with(())
        .given(in_transit())
        .when(cancel(CancellationReason::Other, None))
        .then_expect_error(TripError::NoteRequired);
    TripTest::with(())
        .given(in_transit())
        .when(cancel(CancellationReason::Other, Some("street festival")))
        .then_expect_events(vec![TripEvent::TripCancelled {
            from_status: TripStatus::InTransit,
            reason: CancellationReason::Other,
            note: Some("street festival".into()),
        }]);
}

#[test]
fn a_completed_trip_refuses_status_changes_routes_and_new_assistance() {
    for command in commands_refused_once_ended() {
        TripTest::with(())
            .given(completed())
            .when(command)
            .then_expect_error(TripError::Ended {
                status: TripStatus::Completed,
            });
    }
}

#[test]
fn a_cancelled_trip_refuses_status_changes_routes_and_new_assistance() {
    for command in commands_refused_once_ended() {
        TripTest::with(())
            .given(cancelled())
            .when(command)
            .then_expect_error(TripError::Ended {
                status: TripStatus::Cancelled,
            });
    }
}

#[test]
fn a_trip_with_several_stops_lives_from_plan_to_completion() {
    let mut trip = Trip::default();
    let commands = vec![
        plan(hub(), customer()),
        record_route(2400.5, 900.0, Some("_p~iF~ps|U_ulLnnqC")),
        TripCommand::MarkReadyToDepart {},
        TripCommand::DepartTrip {},
        TripCommand::ArriveAtStop {
            location: Some(merchant()),
        },
        TripCommand::MarkReadyToDepart {},
        TripCommand::DepartTrip {},
        TripCommand::ArriveAtStop {
            location: Some(customer()),
        },
        TripCommand::CompleteTrip {},
    ];
    let mut names = vec![];
    for command in commands {
        for event in trip.decide(command).unwrap() {
            names.push(event.name());
            cqrs_es::Aggregate::apply(&mut trip, event);
        }
    }
    assert_eq!(
        names,
        [
            "TripPlanned",
            "TripRouteRecorded",
            "TripReadyToDepart",
            "TripDeparted",
            "TripArrivedAtStop",
            "TripReadyToDepart",
            "TripDeparted",
            "TripArrivedAtStop",
            "TripCompleted",
        ]
    );
    let state = trip.state().unwrap();
    assert_eq!(state.status, TripStatus::Completed);
    assert_eq!(state.stops, 2);
    assert_eq!(state.current_location, Some(customer()));
    assert_eq!(state.task_id, task());
    assert_eq!(state.robot_id, robot());
    assert_eq!(state.routes.len(), 1);
    assert_eq!(state.routes[0].distance_m, 2400.5);
}

#[test]
fn every_status_change_names_the_status_it_leads_to() {
    let mut trip = Trip::default();
    for event in with(completed(), [requested()]) {
        let expected = event.new_status();
        let before = trip.state().map(|s| s.status);
        cqrs_es::Aggregate::apply(&mut trip, event);
        let after = trip.state().map(|s| s.status);
        assert_eq!(after, expected.or(before));
    }
}

#[test]
fn applying_a_cancellation_keeps_its_reason_and_note() {
    let mut trip = Trip::default();
    for event in with(
        planned(),
        [TripEvent::TripCancelled {
            from_status: TripStatus::AtStop,
            reason: CancellationReason::Other,
            note: Some("street festival".into()),
        }],
    ) {
        cqrs_es::Aggregate::apply(&mut trip, event);
    }
    let state = trip.state().unwrap();
    assert_eq!(state.status, TripStatus::Cancelled);
    assert_eq!(state.cancellation_reason, Some(CancellationReason::Other));
    assert_eq!(state.cancellation_note.as_deref(), Some("street festival"));
}

// Routes.

#[test]
fn a_route_is_recorded_with_its_figures_and_polyline() {
    TripTest::with(())
        .given(in_transit())
        .when(record_route(2400.5, 900.0, Some("_p~iF~ps|U")))
        .then_expect_events(vec![TripEvent::TripRouteRecorded {
            route_id: route_id(),
            distance_m: 2400.5,
            duration_s: 900.0,
            polyline: Some("_p~iF~ps|U".into()),
        }]);
}

#[test]
fn a_route_of_zero_length_without_a_polyline_is_accepted() {
    TripTest::with(())
        .given(planned())
        .when(record_route(0.0, 0.0, None))
        .then_expect_events(vec![TripEvent::TripRouteRecorded {
            route_id: route_id(),
            distance_m: 0.0,
            duration_s: 0.0,
            polyline: None,
        }]);
}

#[test]
fn a_route_with_a_negative_or_infinite_figure_is_refused() {
    for (distance_m, duration_s) in [
        (-1.0, 60.0),
        (f64::NAN, 60.0),
        (f64::INFINITY, 60.0),
        (100.0, -0.5),
        (100.0, f64::NAN),
        (100.0, f64::NEG_INFINITY),
    ] {
        let mut trip = Trip::default();
        for event in planned() {
            cqrs_es::Aggregate::apply(&mut trip, event);
        }
        let error = trip
            .decide(record_route(distance_m, duration_s, None))
            .unwrap_err();
        assert!(
            matches!(error, TripError::InvalidRoute { .. }),
            "{distance_m} {duration_s}: {error:?}"
        );
    }
}

#[test]
fn a_route_with_a_negative_distance_says_which_figure_is_wrong() {
    TripTest::with(())
        .given(planned())
        .when(record_route(-1.0, 60.0, None))
        .then_expect_error(TripError::InvalidRoute {
            reason: "distance_m must be a finite number of 0 or more, got -1".into(),
        });
}

#[test]
fn a_route_with_a_blank_polyline_is_refused() {
    TripTest::with(())
        .given(planned())
        .when(record_route(100.0, 60.0, Some("  ")))
        .then_expect_error(TripError::InvalidRoute {
            reason: "polyline must not be blank".into(),
        });
}

#[test]
fn a_route_with_an_oversized_polyline_is_refused() {
    let at_limit = "a".repeat(Route::MAX_POLYLINE_CHARS);
    TripTest::with(())
        .given(planned())
        .when(record_route(100.0, 60.0, Some(&at_limit)))
        .then_expect_events(vec![TripEvent::TripRouteRecorded {
            route_id: route_id(),
            distance_m: 100.0,
            duration_s: 60.0,
            polyline: Some(at_limit.clone()),
        }]);
    let over = "é".repeat(Route::MAX_POLYLINE_CHARS + 1);
    TripTest::with(())
        .given(planned())
        .when(record_route(100.0, 60.0, Some(&over)))
        .then_expect_error(TripError::InvalidRoute {
            reason: "polyline must be at most 100000 characters, got 100001".into(),
        });
}

#[test]
fn a_route_is_recorded_once() {
    TripTest::with(())
        .given(with(
            planned(),
            [TripEvent::TripRouteRecorded {
                route_id: route_id(),
                distance_m: 100.0,
                duration_s: 60.0,
                polyline: None,
            }],
        ))
        .when(record_route(200.0, 90.0, None))
        .then_expect_error(TripError::RouteAlreadyRecorded {
            route_id: route_id(),
        });
}

// Field-operator assistance.

#[test]
fn a_robot_on_a_trip_requests_assistance() {
    TripTest::with(())
        .given(in_transit())
        .when(request_assistance())
        .then_expect_events(vec![requested()]);
}

#[test]
fn a_request_id_is_used_once() {
    TripTest::with(())
        .given(with(in_transit(), [requested()]))
        .when(TripCommand::RequestFoAssistance {
            request_id: request_id(),
            kind: AssistanceKind::LowBattery,
            note: None,
        })
        .then_expect_error(TripError::AssistanceAlreadyRequested {
            request_id: request_id(),
        });
}

#[test]
fn a_field_operator_acknowledges_a_request() {
    TripTest::with(())
        .given(with(in_transit(), [requested()]))
        .when(acknowledge())
        .then_expect_events(vec![acknowledged()]);
}

#[test]
fn an_acknowledged_request_cannot_be_acknowledged_again() {
    TripTest::with(())
        .given(with(in_transit(), [requested(), acknowledged()]))
        .when(acknowledge())
        .then_expect_error(TripError::AssistanceNotOpen {
            request_id: request_id(),
            status: AssistanceStatus::Acknowledged,
        });
}

#[test]
fn a_resolved_request_cannot_be_acknowledged() {
    TripTest::with(())
        .given(with(
            in_transit(),
            [requested(), acknowledged(), resolved()],
        ))
        .when(acknowledge())
        .then_expect_error(TripError::AssistanceNotOpen {
            request_id: request_id(),
            status: AssistanceStatus::Resolved,
        });
}

#[test]
fn an_acknowledged_request_is_resolved_and_keeps_the_status_it_left() {
    TripTest::with(())
        .given(with(in_transit(), [requested(), acknowledged()]))
        .when(resolve())
        .then_expect_events(vec![resolved()]);
}

#[test]
fn a_request_can_be_resolved_without_being_acknowledged() {
    TripTest::with(())
        .given(with(in_transit(), [requested()]))
        .when(TripCommand::ResolveFoAssistance {
            request_id: request_id(),
            outcome: AssistanceOutcome::Resolved,
            note: note("robot freed itself"),
        })
        .then_expect_events(vec![TripEvent::FoAssistanceResolved {
            request_id: request_id(),
            outcome: AssistanceOutcome::Resolved,
            note: Some("robot freed itself".into()),
            from_status: AssistanceStatus::Requested,
        }]);
}

#[test]
fn a_resolved_request_cannot_be_resolved_again() {
    TripTest::with(())
        .given(with(
            in_transit(),
            [requested(), acknowledged(), resolved()],
        ))
        .when(resolve())
        .then_expect_error(TripError::AssistanceNotOpen {
            request_id: request_id(),
            status: AssistanceStatus::Resolved,
        });
}

#[test]
fn acknowledging_or_resolving_an_unknown_request_is_refused() {
    for command in [acknowledge(), resolve()] {
        TripTest::with(())
            .given(in_transit())
            .when(command)
            .then_expect_error(TripError::AssistanceNotFound {
                request_id: request_id(),
            });
    }
}

#[test]
fn an_ended_trip_refuses_new_assistance_but_its_open_requests_can_still_be_closed() {
    let cancelled_with_request = with(
        with(in_transit(), [requested()]),
        [TripEvent::TripCancelled {
            from_status: TripStatus::InTransit,
            reason: CancellationReason::RobotStuck,
            note: None,
        }],
    );
    TripTest::with(())
        .given(cancelled_with_request.clone())
        .when(TripCommand::RequestFoAssistance {
            request_id: Uuid::from_u128(0x40),
            kind: AssistanceKind::Other,
            note: None,
        })
        .then_expect_error(TripError::Ended {
            status: TripStatus::Cancelled,
        });
    TripTest::with(())
        .given(cancelled_with_request.clone())
        .when(acknowledge())
        .then_expect_events(vec![acknowledged()]);
    TripTest::with(())
        .given(with(cancelled_with_request, [acknowledged()]))
        .when(resolve())
        .then_expect_events(vec![resolved()]);
    TripTest::with(())
        .given(with(completed(), [requested()]))
        .when(resolve())
        .then_expect_events(vec![TripEvent::FoAssistanceResolved {
            request_id: request_id(),
            outcome: AssistanceOutcome::RobotRecovered,
            note: None,
            from_status: AssistanceStatus::Requested,
        }]);
}

#[test]
fn applying_the_assistance_lifecycle_records_each_step_on_the_request() {
    let mut trip = Trip::default();
    for event in with(
        in_transit(),
        [
            requested(),
            acknowledged(),
            TripEvent::FoAssistanceResolved {
                request_id: request_id(),
                outcome: AssistanceOutcome::RobotRecovered,
                note: Some("lifted out".into()),
                from_status: AssistanceStatus::Acknowledged,
            },
        ],
    ) {
        cqrs_es::Aggregate::apply(&mut trip, event);
    }
    let state = trip.state().unwrap();
    assert_eq!(state.status, TripStatus::InTransit);
    assert_eq!(
        state.assistance,
        vec![AssistanceRequest {
            request_id: request_id(),
            kind: AssistanceKind::Stuck,
            status: AssistanceStatus::Resolved,
            note: Some("wheel in a grate".into()),
            fo_id: Some(fo()),
            outcome: Some(AssistanceOutcome::RobotRecovered),
            resolution_note: Some("lifted out".into()),
        }]
    );
}

// Names and wire format.

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
