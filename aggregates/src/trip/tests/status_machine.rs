//! The status machine.

use super::*;

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
