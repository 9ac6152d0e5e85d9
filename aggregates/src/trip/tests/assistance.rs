//! Field-operator assistance.

use super::*;

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
