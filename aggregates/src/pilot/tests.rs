use chrono::{DateTime, Duration, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::{CommandNames, Note};

fn now() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().unwrap()
}
fn at_now() -> TestFramework<Pilot> {
    TestFramework::with(PilotServices { now: now() })
}
fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}
const SHIFT: u128 = 100;
const ASSIGNMENT: u128 = 200;
const TASK: u128 = 300;
const RESERVATION: u128 = 400;

fn registered() -> Vec<PilotEvent> {
    vec![PilotEvent::PilotRegistered {
        user_id: Some(id(1)),
        pilot_location: Some(PilotLocation::TdcxIndia),
        pilot_center_id: None,
    }]
}
fn on_shift() -> Vec<PilotEvent> {
    let mut events = registered();
    events.push(PilotEvent::PilotShiftStarted {
        shift_id: id(SHIFT),
        started_at: now() - Duration::hours(1),
    });
    events
}
fn requested() -> Vec<PilotEvent> {
    let mut events = on_shift();
    events.push(PilotEvent::PilotAssignmentRequested {
        assignment_id: id(ASSIGNMENT),
        task_id: id(TASK),
        shift_id: id(SHIFT),
        requested_at: now() - Duration::minutes(1),
    });
    events
}
fn accepted() -> Vec<PilotEvent> {
    let mut events = requested();
    events.push(PilotEvent::PilotAssignmentAccepted {
        assignment_id: id(ASSIGNMENT),
        task_id: id(TASK),
        from_status: PilotAssignmentStatus::Requested,
    });
    events
}
fn reserved(task_id: Option<Uuid>, until: DateTime<Utc>) -> Vec<PilotEvent> {
    let mut events = on_shift();
    events.push(PilotEvent::PilotReserved {
        reservation_id: id(RESERVATION),
        task_id,
        until,
    });
    events
}
fn archived() -> Vec<PilotEvent> {
    let mut events = registered();
    events.push(PilotEvent::PilotArchived {
        archived_at: now() - Duration::days(1),
        reason: None,
    });
    events
}
fn request(assignment: u128, task: u128) -> PilotCommand {
    PilotCommand::RequestAssignment {
        assignment_id: id(assignment),
        task_id: id(task),
    }
}
fn note(text: &str) -> Option<Note> {
    Some(Note::parse(text).unwrap())
}

fn every_command() -> Vec<PilotCommand> {
    vec![
        PilotCommand::RegisterPilot {
            user_id: None,
            pilot_location: None,
            pilot_center_id: None,
        },
        PilotCommand::UpdatePilotProfile {
            pilot_location: Some(PilotLocation::Us),
            pilot_center_id: None,
        },
        PilotCommand::ArchivePilot { reason: None },
        PilotCommand::StartShift { shift_id: id(900) },
        PilotCommand::ChangeShiftState {
            state: ShiftStatus::OnBreak,
        },
        PilotCommand::EndShift {},
        request(901, 902),
        PilotCommand::AcceptAssignment {
            assignment_id: id(ASSIGNMENT),
        },
        PilotCommand::RejectAssignment {
            assignment_id: id(ASSIGNMENT),
            reason: None,
        },
        PilotCommand::AbandonAssignment {
            assignment_id: id(ASSIGNMENT),
            reason: None,
        },
        PilotCommand::CancelAssignment {
            assignment_id: id(ASSIGNMENT),
            reason: None,
        },
        PilotCommand::RevokeAssignment {
            assignment_id: id(ASSIGNMENT),
            reason: None,
        },
        PilotCommand::MarkAssignmentStale {
            assignment_id: id(ASSIGNMENT),
        },
        PilotCommand::FinishAssignment {
            assignment_id: id(ASSIGNMENT),
        },
        PilotCommand::ReservePilot {
            reservation_id: id(903),
            task_id: None,
            until: now() + Duration::hours(1),
        },
        PilotCommand::ReleaseReservation {
            reservation_id: id(RESERVATION),
        },
        PilotCommand::ExpireReservation {
            reservation_id: id(RESERVATION),
        },
    ]
}

#[test]
fn the_command_list_is_the_catalogue() {
    let names: Vec<_> = every_command().iter().map(|c| c.name()).collect();
    assert_eq!(names, PilotCommand::PUBLIC);
}

#[test]
fn registering_a_pilot_records_its_profile() {
    at_now()
        .given_no_previous_events()
        .when(every_command().remove(0))
        .then_expect_events(vec![PilotEvent::PilotRegistered {
            user_id: None,
            pilot_location: None,
            pilot_center_id: None,
        }]);
}

#[test]
fn a_pilot_that_does_not_exist_refuses_every_other_command() {
    for command in every_command().into_iter().skip(1) {
        at_now()
            .given_no_previous_events()
            .when(command)
            .then_expect_error(PilotError::NotFound);
    }
}

#[test]
fn registering_an_existing_pilot_is_refused() {
    at_now()
        .given(registered())
        .when(every_command().remove(0))
        .then_expect_error(PilotError::AlreadyExists);
}

#[test]
fn an_archived_pilot_refuses_every_command() {
    for command in every_command().into_iter().skip(1) {
        at_now()
            .given(archived())
            .when(command)
            .then_expect_error(PilotError::Archived);
    }
}

#[test]
fn a_profile_update_needs_something_to_update() {
    at_now()
        .given(registered())
        .when(PilotCommand::UpdatePilotProfile {
            pilot_location: None,
            pilot_center_id: None,
        })
        .then_expect_error(PilotError::NothingToUpdate);
    at_now()
        .given(registered())
        .when(PilotCommand::UpdatePilotProfile {
            pilot_location: None,
            pilot_center_id: Some(id(5)),
        })
        .then_expect_events(vec![PilotEvent::PilotProfileUpdated {
            pilot_location: None,
            pilot_center_id: Some(id(5)),
        }]);
}

#[test]
fn an_idle_pilot_is_archived_at_the_current_time() {
    at_now()
        .given(registered())
        .when(PilotCommand::ArchivePilot { reason: None })
        .then_expect_events(vec![PilotEvent::PilotArchived {
            archived_at: now(),
            reason: None,
        }]);
}

#[test]
fn archiving_records_why() {
    at_now()
        .given(registered())
        .when(PilotCommand::ArchivePilot {
            reason: Some(Note::parse("left the company").unwrap()),
        })
        .then_expect_events(vec![PilotEvent::PilotArchived {
            archived_at: now(),
            reason: Some("left the company".to_string()),
        }]);
}

#[test]
fn a_pilot_on_shift_cannot_be_archived() {
    at_now()
        .given(on_shift())
        .when(PilotCommand::ArchivePilot { reason: None })
        .then_expect_error(PilotError::OnShift {
            shift_id: id(SHIFT),
            action: "archiving the pilot",
        });
}

#[test]
fn a_pilot_with_a_live_reservation_cannot_be_archived() {
    let mut events = registered();
    events.push(PilotEvent::PilotReserved {
        reservation_id: id(RESERVATION),
        task_id: None,
        until: now() + Duration::hours(1),
    });
    at_now()
        .given(events)
        .when(PilotCommand::ArchivePilot { reason: None })
        .then_expect_error(PilotError::AlreadyReserved {
            reservation_id: id(RESERVATION),
            until: now() + Duration::hours(1),
        });
}

#[test]
fn a_shift_starts_once_at_a_time() {
    at_now()
        .given(registered())
        .when(PilotCommand::StartShift {
            shift_id: id(SHIFT),
        })
        .then_expect_events(vec![PilotEvent::PilotShiftStarted {
            shift_id: id(SHIFT),
            started_at: now(),
        }]);
    at_now()
        .given(on_shift())
        .when(PilotCommand::StartShift { shift_id: id(101) })
        .then_expect_error(PilotError::OnShift {
            shift_id: id(SHIFT),
            action: "starting another",
        });
}

#[test]
fn a_shift_id_cannot_be_used_twice() {
    let mut events = on_shift();
    events.push(PilotEvent::PilotShiftEnded {
        shift_id: id(SHIFT),
        from_state: ShiftStatus::OnShift,
        ended_at: now(),
    });
    at_now()
        .given(events)
        .when(PilotCommand::StartShift {
            shift_id: id(SHIFT),
        })
        .then_expect_error(PilotError::IdAlreadyUsed { id: id(SHIFT) });
}

#[test]
fn the_shift_state_changes_and_records_where_it_was() {
    at_now()
        .given(on_shift())
        .when(PilotCommand::ChangeShiftState {
            state: ShiftStatus::OnBreak,
        })
        .then_expect_events(vec![PilotEvent::PilotShiftStateChanged {
            shift_id: id(SHIFT),
            from_state: ShiftStatus::OnShift,
            to_state: ShiftStatus::OnBreak,
        }]);
}

#[test]
fn a_shift_state_change_needs_a_shift_a_change_and_not_off_shift() {
    at_now()
        .given(registered())
        .when(PilotCommand::ChangeShiftState {
            state: ShiftStatus::OnBreak,
        })
        .then_expect_error(PilotError::NotOnShift);
    at_now()
        .given(on_shift())
        .when(PilotCommand::ChangeShiftState {
            state: ShiftStatus::OnShift,
        })
        .then_expect_error(PilotError::ShiftAlreadyInState {
            state: ShiftStatus::OnShift,
        });
    at_now()
        .given(on_shift())
        .when(PilotCommand::ChangeShiftState {
            state: ShiftStatus::OffShift,
        })
        .then_expect_error(PilotError::UseEndShift);
}

#[test]
fn a_shift_ends_unless_an_assignment_is_active() {
    at_now()
        .given(on_shift())
        .when(PilotCommand::EndShift {})
        .then_expect_events(vec![PilotEvent::PilotShiftEnded {
            shift_id: id(SHIFT),
            from_state: ShiftStatus::OnShift,
            ended_at: now(),
        }]);
    at_now()
        .given(accepted())
        .when(PilotCommand::EndShift {})
        .then_expect_error(PilotError::AssignmentActive {
            assignment_id: id(ASSIGNMENT),
            status: PilotAssignmentStatus::Accepted,
        });
    at_now()
        .given(registered())
        .when(PilotCommand::EndShift {})
        .then_expect_error(PilotError::NotOnShift);
}

#[test]
fn a_pilot_on_shift_can_be_requested() {
    at_now()
        .given(on_shift())
        .when(request(ASSIGNMENT, TASK))
        .then_expect_events(vec![PilotEvent::PilotAssignmentRequested {
            assignment_id: id(ASSIGNMENT),
            task_id: id(TASK),
            shift_id: id(SHIFT),
            requested_at: now(),
        }]);
}

#[test]
fn a_pilot_off_shift_or_on_break_cannot_be_requested() {
    at_now()
        .given(registered())
        .when(request(ASSIGNMENT, TASK))
        .then_expect_error(PilotError::NotOnShift);
    let mut on_break = on_shift();
    on_break.push(PilotEvent::PilotShiftStateChanged {
        shift_id: id(SHIFT),
        from_state: ShiftStatus::OnShift,
        to_state: ShiftStatus::OnBreak,
    });
    at_now()
        .given(on_break)
        .when(request(ASSIGNMENT, TASK))
        .then_expect_error(PilotError::NotAvailable {
            state: ShiftStatus::OnBreak,
        });
}

#[test]
fn a_pilot_with_an_active_assignment_cannot_be_requested_again() {
    for (history, status) in [
        (requested(), PilotAssignmentStatus::Requested),
        (accepted(), PilotAssignmentStatus::Accepted),
    ] {
        at_now()
            .given(history)
            .when(request(201, 301))
            .then_expect_error(PilotError::AssignmentActive {
                assignment_id: id(ASSIGNMENT),
                status,
            });
    }
}

#[test]
fn a_pilot_reserved_for_another_task_cannot_be_requested() {
    let until = now() + Duration::minutes(10);
    at_now()
        .given(reserved(Some(id(301)), until))
        .when(request(ASSIGNMENT, TASK))
        .then_expect_error(PilotError::ReservedForAnotherTask {
            reservation_id: id(RESERVATION),
            task_id: id(301),
            until,
        });
}

#[test]
fn a_request_for_the_reserved_task_uses_the_reservation_up() {
    at_now()
        .given(reserved(Some(id(TASK)), now() + Duration::minutes(10)))
        .when(request(ASSIGNMENT, TASK))
        .then_expect_events(vec![
            PilotEvent::PilotReservationReleased {
                reservation_id: id(RESERVATION),
                task_id: Some(id(TASK)),
                reason: Some(format!("assignment {} requested", id(ASSIGNMENT))),
            },
            PilotEvent::PilotAssignmentRequested {
                assignment_id: id(ASSIGNMENT),
                task_id: id(TASK),
                shift_id: id(SHIFT),
                requested_at: now(),
            },
        ]);
}

#[test]
fn a_lapsed_reservation_is_recorded_as_expired_before_a_request() {
    let until = now() - Duration::minutes(1);
    at_now()
        .given(reserved(Some(id(301)), until))
        .when(request(ASSIGNMENT, TASK))
        .then_expect_events(vec![
            PilotEvent::PilotReservationExpired {
                reservation_id: id(RESERVATION),
                task_id: Some(id(301)),
                until,
            },
            PilotEvent::PilotAssignmentRequested {
                assignment_id: id(ASSIGNMENT),
                task_id: id(TASK),
                shift_id: id(SHIFT),
                requested_at: now(),
            },
        ]);
}

#[test]
fn a_requested_assignment_is_accepted_rejected_canceled_revoked_or_goes_stale() {
    let a = id(ASSIGNMENT);
    let t = id(TASK);
    let from_status = PilotAssignmentStatus::Requested;
    let cases = vec![
        (
            PilotCommand::AcceptAssignment { assignment_id: a },
            PilotEvent::PilotAssignmentAccepted {
                assignment_id: a,
                task_id: t,
                from_status,
            },
        ),
        (
            PilotCommand::RejectAssignment {
                assignment_id: a,
                reason: note("too far"),
            },
            PilotEvent::PilotAssignmentRejected {
                assignment_id: a,
                task_id: t,
                from_status,
                reason: Some("too far".into()),
            },
        ),
        (
            PilotCommand::CancelAssignment {
                assignment_id: a,
                reason: None,
            },
            PilotEvent::PilotAssignmentCanceled {
                assignment_id: a,
                task_id: t,
                from_status,
                reason: None,
            },
        ),
        (
            PilotCommand::RevokeAssignment {
                assignment_id: a,
                reason: note("task ended"),
            },
            PilotEvent::PilotAssignmentRevoked {
                assignment_id: a,
                task_id: t,
                from_status,
                reason: Some("task ended".into()),
            },
        ),
        (
            PilotCommand::MarkAssignmentStale { assignment_id: a },
            PilotEvent::PilotAssignmentStale {
                assignment_id: a,
                task_id: t,
                from_status,
            },
        ),
    ];
    for (command, event) in cases {
        at_now()
            .given(requested())
            .when(command)
            .then_expect_events(vec![event]);
    }
}

#[test]
fn an_accepted_assignment_is_finished_abandoned_canceled_or_revoked() {
    let a = id(ASSIGNMENT);
    let t = id(TASK);
    let from_status = PilotAssignmentStatus::Accepted;
    let cases = vec![
        (
            PilotCommand::FinishAssignment { assignment_id: a },
            PilotEvent::PilotAssignmentFinished {
                assignment_id: a,
                task_id: t,
                from_status,
            },
        ),
        (
            PilotCommand::AbandonAssignment {
                assignment_id: a,
                reason: note("connection lost"),
            },
            PilotEvent::PilotAssignmentAbandoned {
                assignment_id: a,
                task_id: t,
                from_status,
                reason: Some("connection lost".into()),
            },
        ),
        (
            PilotCommand::CancelAssignment {
                assignment_id: a,
                reason: None,
            },
            PilotEvent::PilotAssignmentCanceled {
                assignment_id: a,
                task_id: t,
                from_status,
                reason: None,
            },
        ),
        (
            PilotCommand::RevokeAssignment {
                assignment_id: a,
                reason: None,
            },
            PilotEvent::PilotAssignmentRevoked {
                assignment_id: a,
                task_id: t,
                from_status,
                reason: None,
            },
        ),
    ];
    for (command, event) in cases {
        at_now()
            .given(accepted())
            .when(command)
            .then_expect_events(vec![event]);
    }
}

#[test]
fn assignment_commands_out_of_order_are_refused() {
    let a = id(ASSIGNMENT);
    let cases = vec![
        (
            accepted(),
            PilotCommand::AcceptAssignment { assignment_id: a },
            "AcceptAssignment",
            PilotAssignmentStatus::Accepted,
        ),
        (
            accepted(),
            PilotCommand::RejectAssignment {
                assignment_id: a,
                reason: None,
            },
            "RejectAssignment",
            PilotAssignmentStatus::Accepted,
        ),
        (
            accepted(),
            PilotCommand::MarkAssignmentStale { assignment_id: a },
            "MarkAssignmentStale",
            PilotAssignmentStatus::Accepted,
        ),
        (
            requested(),
            PilotCommand::FinishAssignment { assignment_id: a },
            "FinishAssignment",
            PilotAssignmentStatus::Requested,
        ),
        (
            requested(),
            PilotCommand::AbandonAssignment {
                assignment_id: a,
                reason: None,
            },
            "AbandonAssignment",
            PilotAssignmentStatus::Requested,
        ),
    ];
    for (history, command, name, status) in cases {
        at_now().given(history).when(command).then_expect_error(
            PilotError::InvalidAssignmentTransition {
                command: name,
                assignment_id: a,
                status,
            },
        );
    }
}

#[test]
fn a_command_on_another_assignment_is_refused() {
    at_now()
        .given(requested())
        .when(PilotCommand::AcceptAssignment {
            assignment_id: id(999),
        })
        .then_expect_error(PilotError::AssignmentNotFound {
            assignment_id: id(999),
        });
}

#[test]
fn an_ended_assignment_frees_the_pilot_but_its_id_cannot_come_back() {
    let mut events = accepted();
    events.push(PilotEvent::PilotAssignmentFinished {
        assignment_id: id(ASSIGNMENT),
        task_id: id(TASK),
        from_status: PilotAssignmentStatus::Accepted,
    });
    at_now()
        .given(events.clone())
        .when(request(201, 301))
        .then_expect_events(vec![PilotEvent::PilotAssignmentRequested {
            assignment_id: id(201),
            task_id: id(301),
            shift_id: id(SHIFT),
            requested_at: now(),
        }]);
    at_now()
        .given(events)
        .when(request(ASSIGNMENT, 301))
        .then_expect_error(PilotError::IdAlreadyUsed { id: id(ASSIGNMENT) });
}

#[test]
fn a_reservation_must_end_in_the_future() {
    at_now()
        .given(registered())
        .when(PilotCommand::ReservePilot {
            reservation_id: id(RESERVATION),
            task_id: None,
            until: now(),
        })
        .then_expect_error(PilotError::UntilNotInFuture {
            until: now(),
            now: now(),
        });
}

#[test]
fn a_pilot_holds_one_reservation_at_a_time() {
    let until = now() + Duration::minutes(30);
    at_now()
        .given(registered())
        .when(PilotCommand::ReservePilot {
            reservation_id: id(RESERVATION),
            task_id: Some(id(TASK)),
            until,
        })
        .then_expect_events(vec![PilotEvent::PilotReserved {
            reservation_id: id(RESERVATION),
            task_id: Some(id(TASK)),
            until,
        }]);
    at_now()
        .given(reserved(None, until))
        .when(PilotCommand::ReservePilot {
            reservation_id: id(401),
            task_id: None,
            until: until + Duration::minutes(5),
        })
        .then_expect_error(PilotError::AlreadyReserved {
            reservation_id: id(RESERVATION),
            until,
        });
}

#[test]
fn a_reservation_is_released_by_its_id() {
    let until = now() + Duration::minutes(30);
    at_now()
        .given(reserved(None, until))
        .when(PilotCommand::ReleaseReservation {
            reservation_id: id(RESERVATION),
        })
        .then_expect_events(vec![PilotEvent::PilotReservationReleased {
            reservation_id: id(RESERVATION),
            task_id: None,
            reason: None,
        }]);
    at_now()
        .given(reserved(None, until))
        .when(PilotCommand::ReleaseReservation {
            reservation_id: id(401),
        })
        .then_expect_error(PilotError::ReservationNotFound {
            reservation_id: id(401),
        });
}

#[test]
fn releasing_a_lapsed_reservation_records_its_expiry_instead() {
    let due = now() - Duration::seconds(1);
    at_now()
        .given(reserved(Some(id(TASK)), due))
        .when(PilotCommand::ReleaseReservation {
            reservation_id: id(RESERVATION),
        })
        .then_expect_events(vec![PilotEvent::PilotReservationExpired {
            reservation_id: id(RESERVATION),
            task_id: Some(id(TASK)),
            until: due,
        }]);
}

#[test]
fn a_reservation_expires_only_once_due() {
    let due = now() - Duration::seconds(1);
    at_now()
        .given(reserved(None, due))
        .when(PilotCommand::ExpireReservation {
            reservation_id: id(RESERVATION),
        })
        .then_expect_events(vec![PilotEvent::PilotReservationExpired {
            reservation_id: id(RESERVATION),
            task_id: None,
            until: due,
        }]);
    let later = now() + Duration::minutes(1);
    at_now()
        .given(reserved(None, later))
        .when(PilotCommand::ExpireReservation {
            reservation_id: id(RESERVATION),
        })
        .then_expect_error(PilotError::ReservationNotDue {
            reservation_id: id(RESERVATION),
            until: later,
        });
}

#[test]
fn state_after_a_day_of_work() {
    let mut pilot = Pilot::default();
    for event in accepted() {
        cqrs_es::Aggregate::apply(&mut pilot, event);
    }
    let state = pilot.state().unwrap();
    assert_eq!(state.shift.unwrap().shift_id, id(SHIFT));
    assert_eq!(
        state.assignment.unwrap().status,
        PilotAssignmentStatus::Accepted
    );
    assert_eq!(state.recent_ids, [id(SHIFT), id(ASSIGNMENT)]);
}

#[test]
fn a_command_body_with_an_unknown_field_is_refused() {
    let body = serde_json::json!({"StartShift": {"shift_id": id(1), "crew": 2}});
    assert!(serde_json::from_value::<PilotCommand>(body).is_err());
    let body = serde_json::json!({"ChangeShiftState": {"state": "NAPPING"}});
    assert!(serde_json::from_value::<PilotCommand>(body).is_err());
}

#[test]
fn archiving_a_pilot_records_its_lapsed_reservation_as_expired_first() {
    let until = now() - Duration::minutes(5);
    let mut events = registered();
    events.push(PilotEvent::PilotReserved {
        reservation_id: id(RESERVATION),
        task_id: None,
        until,
    });
    at_now()
        .given(events)
        .when(PilotCommand::ArchivePilot { reason: None })
        .then_expect_events(vec![
            PilotEvent::PilotReservationExpired {
                reservation_id: id(RESERVATION),
                task_id: None,
                until,
            },
            PilotEvent::PilotArchived {
                archived_at: now(),
                reason: None,
            },
        ]);
}
