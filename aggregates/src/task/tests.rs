use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::Note;

type TaskTest = TestFramework<Task>;

fn hub() -> Uuid {
    Uuid::from_u128(0x1)
}
fn robot() -> Uuid {
    Uuid::from_u128(0x2)
}

fn created(robot_id: Option<Uuid>) -> TaskEvent {
    TaskEvent::TaskCreated {
        task_type: TaskType::DeliveryTrip,
        hub_id: hub(),
        robot_id,
        scheduled_at: None,
        external_ref: None,
    }
}

fn pending() -> Vec<TaskEvent> {
    vec![
        created(Some(robot())),
        TaskEvent::TaskMarkedPending {
            from_status: TaskStatus::Scheduled,
        },
    ]
}

fn in_progress() -> Vec<TaskEvent> {
    let mut events = pending();
    events.push(TaskEvent::TaskStarted {
        from_status: TaskStatus::Pending,
    });
    events
}

fn arrived() -> Vec<TaskEvent> {
    let mut events = in_progress();
    events.push(TaskEvent::TaskArrived {
        from_status: TaskStatus::InProgress,
    });
    events
}

fn completed() -> Vec<TaskEvent> {
    let mut events = arrived();
    events.push(TaskEvent::TaskCompleted {
        from_status: TaskStatus::Arrived,
    });
    events
}

fn cancelled() -> Vec<TaskEvent> {
    vec![
        created(None),
        TaskEvent::TaskCancelled {
            from_status: TaskStatus::Scheduled,
            reason: CancellationReason::CustomerRequested,
            note: None,
        },
    ]
}

fn cancel(reason: CancellationReason, note: Option<&str>) -> TaskCommand {
    TaskCommand::CancelTask {
        reason,
        note: note.map(|n| Note::parse(n).unwrap()),
    }
}

/// Every command a client can send, with valid fields.
fn every_public_command() -> Vec<TaskCommand> {
    vec![
        TaskCommand::CreateTask {
            task_type: TaskType::None,
            hub_id: hub(),
            robot_id: None,
            scheduled_at: None,
            external_ref: None,
        },
        TaskCommand::MarkTaskPending {},
        TaskCommand::StartTask {},
        TaskCommand::PauseTask { reason: None },
        TaskCommand::ResumeTask {},
        TaskCommand::MarkTaskArrived {},
        TaskCommand::CompleteTask {},
        cancel(CancellationReason::Weather, None),
        TaskCommand::AttachTrip {
            trip_id: Uuid::from_u128(9),
        },
        TaskCommand::AssignRobot {
            robot_id: Uuid::from_u128(8),
        },
    ]
}

#[test]
fn creating_a_task_schedules_it_with_its_fields() {
    let at = "2026-11-22T10:00:00Z".parse().unwrap();
    TaskTest::with(())
        .given_no_previous_events()
        .when(TaskCommand::CreateTask {
            task_type: TaskType::DeliveryTrip,
            hub_id: hub(),
            robot_id: Some(robot()),
            scheduled_at: Some(at),
            external_ref: Some(crate::ExternalRef::parse("order-42").unwrap()),
        })
        .then_expect_events(vec![TaskEvent::TaskCreated {
            task_type: TaskType::DeliveryTrip,
            hub_id: hub(),
            robot_id: Some(robot()),
            scheduled_at: Some(at),
            external_ref: Some("order-42".into()),
        }]);
}

#[test]
fn creating_an_existing_task_is_refused() {
    TaskTest::with(())
        .given(vec![created(None)])
        .when(every_public_command().remove(0))
        .then_expect_error(TaskError::AlreadyExists);
}

#[test]
fn a_task_that_does_not_exist_refuses_every_other_command() {
    for command in every_public_command().into_iter().skip(1) {
        TaskTest::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(TaskError::NotFound);
    }
}

#[test]
fn a_scheduled_task_becomes_pending() {
    TaskTest::with(())
        .given(vec![created(None)])
        .when(TaskCommand::MarkTaskPending {})
        .then_expect_events(vec![TaskEvent::TaskMarkedPending {
            from_status: TaskStatus::Scheduled,
        }]);
}

#[test]
fn a_pending_task_cannot_be_marked_pending_again() {
    TaskTest::with(())
        .given(pending())
        .when(TaskCommand::MarkTaskPending {})
        .then_expect_error(TaskError::InvalidTransition {
            command: "MarkTaskPending",
            status: TaskStatus::Pending,
        });
}

#[test]
fn a_pending_task_with_a_robot_starts() {
    TaskTest::with(())
        .given(pending())
        .when(TaskCommand::StartTask {})
        .then_expect_events(vec![TaskEvent::TaskStarted {
            from_status: TaskStatus::Pending,
        }]);
}

#[test]
fn a_task_without_a_robot_refuses_to_start() {
    TaskTest::with(())
        .given(vec![
            created(None),
            TaskEvent::TaskMarkedPending {
                from_status: TaskStatus::Scheduled,
            },
        ])
        .when(TaskCommand::StartTask {})
        .then_expect_error(TaskError::RobotRequired);
}

#[test]
fn a_scheduled_task_cannot_start_before_it_is_pending() {
    TaskTest::with(())
        .given(vec![created(Some(robot()))])
        .when(TaskCommand::StartTask {})
        .then_expect_error(TaskError::InvalidTransition {
            command: "StartTask",
            status: TaskStatus::Scheduled,
        });
}

#[test]
fn a_task_in_progress_pauses_with_its_reason_and_resumes() {
    let reason = Note::parse("crossing closed").unwrap();
    TaskTest::with(())
        .given(in_progress())
        .when(TaskCommand::PauseTask {
            reason: Some(reason),
        })
        .then_expect_events(vec![TaskEvent::TaskPaused {
            from_status: TaskStatus::InProgress,
            reason: Some("crossing closed".into()),
        }]);
    let mut paused = in_progress();
    paused.push(TaskEvent::TaskPaused {
        from_status: TaskStatus::InProgress,
        reason: None,
    });
    TaskTest::with(())
        .given(paused)
        .when(TaskCommand::ResumeTask {})
        .then_expect_events(vec![TaskEvent::TaskResumed {
            from_status: TaskStatus::Paused,
        }]);
}

#[test]
fn only_a_task_in_progress_can_pause() {
    TaskTest::with(())
        .given(pending())
        .when(TaskCommand::PauseTask { reason: None })
        .then_expect_error(TaskError::InvalidTransition {
            command: "PauseTask",
            status: TaskStatus::Pending,
        });
}

#[test]
fn only_a_paused_task_can_resume() {
    TaskTest::with(())
        .given(in_progress())
        .when(TaskCommand::ResumeTask {})
        .then_expect_error(TaskError::InvalidTransition {
            command: "ResumeTask",
            status: TaskStatus::InProgress,
        });
}

#[test]
fn a_paused_task_cannot_arrive() {
    let mut paused = in_progress();
    paused.push(TaskEvent::TaskPaused {
        from_status: TaskStatus::InProgress,
        reason: None,
    });
    TaskTest::with(())
        .given(paused)
        .when(TaskCommand::MarkTaskArrived {})
        .then_expect_error(TaskError::InvalidTransition {
            command: "MarkTaskArrived",
            status: TaskStatus::Paused,
        });
}

#[test]
fn a_task_in_progress_arrives_and_then_completes() {
    TaskTest::with(())
        .given(in_progress())
        .when(TaskCommand::MarkTaskArrived {})
        .then_expect_events(vec![TaskEvent::TaskArrived {
            from_status: TaskStatus::InProgress,
        }]);
    TaskTest::with(())
        .given(arrived())
        .when(TaskCommand::CompleteTask {})
        .then_expect_events(vec![TaskEvent::TaskCompleted {
            from_status: TaskStatus::Arrived,
        }]);
}

#[test]
fn a_task_that_has_not_arrived_cannot_complete() {
    TaskTest::with(())
        .given(in_progress())
        .when(TaskCommand::CompleteTask {})
        .then_expect_error(TaskError::InvalidTransition {
            command: "CompleteTask",
            status: TaskStatus::InProgress,
        });
}

#[test]
fn any_open_task_can_be_cancelled_and_the_event_keeps_where_it_was() {
    for (history, from_status) in [
        (vec![created(None)], TaskStatus::Scheduled),
        (pending(), TaskStatus::Pending),
        (in_progress(), TaskStatus::InProgress),
        (arrived(), TaskStatus::Arrived),
    ] {
        TaskTest::with(())
            .given(history)
            .when(cancel(
                CancellationReason::RobotStuck,
                Some("wheel in a grate"),
            ))
            .then_expect_events(vec![TaskEvent::TaskCancelled {
                from_status,
                reason: CancellationReason::RobotStuck,
                note: Some("wheel in a grate".into()),
            }]);
    }
}

#[test]
fn cancelling_for_another_reason_requires_a_note() {
    TaskTest::with(())
        .given(pending())
        .when(cancel(CancellationReason::Other, None))
        .then_expect_error(TaskError::NoteRequired);
    TaskTest::with(())
        .given(pending())
        .when(cancel(CancellationReason::Other, Some("street festival")))
        .then_expect_events(vec![TaskEvent::TaskCancelled {
            from_status: TaskStatus::Pending,
            reason: CancellationReason::Other,
            note: Some("street festival".into()),
        }]);
}

#[test]
fn a_completed_task_refuses_every_command() {
    for command in every_public_command().into_iter().skip(1) {
        TaskTest::with(())
            .given(completed())
            .when(command)
            .then_expect_error(TaskError::Ended {
                status: TaskStatus::Completed,
            });
    }
}

#[test]
fn a_cancelled_task_refuses_every_command() {
    for command in every_public_command().into_iter().skip(1) {
        TaskTest::with(())
            .given(cancelled())
            .when(command)
            .then_expect_error(TaskError::Ended {
                status: TaskStatus::Cancelled,
            });
    }
}

#[test]
fn a_trip_is_attached_once() {
    let trip_id = Uuid::from_u128(7);
    TaskTest::with(())
        .given(pending())
        .when(TaskCommand::AttachTrip { trip_id })
        .then_expect_events(vec![TaskEvent::TaskTripAttached { trip_id }]);
    let mut with_trip = pending();
    with_trip.push(TaskEvent::TaskTripAttached { trip_id });
    TaskTest::with(())
        .given(with_trip)
        .when(TaskCommand::AttachTrip {
            trip_id: Uuid::from_u128(70),
        })
        .then_expect_error(TaskError::TripAlreadyAttached { trip_id });
}

#[test]
fn assigning_a_robot_records_the_one_it_replaces() {
    let other = Uuid::from_u128(3);
    TaskTest::with(())
        .given(in_progress())
        .when(TaskCommand::AssignRobot { robot_id: other })
        .then_expect_events(vec![TaskEvent::TaskRobotAssigned {
            robot_id: other,
            previous_robot_id: Some(robot()),
        }]);
}

#[test]
fn assigning_the_robot_already_on_the_task_is_refused() {
    TaskTest::with(())
        .given(pending())
        .when(TaskCommand::AssignRobot { robot_id: robot() })
        .then_expect_error(TaskError::RobotAlreadyAssigned { robot_id: robot() });
}

#[test]
fn a_task_records_one_pilot_and_refuses_a_second() {
    let (pilot_id, assignment_id) = (Uuid::from_u128(10), Uuid::from_u128(11));
    TaskTest::with(())
        .given(pending())
        .when(TaskCommand::RecordPilotAssigned {
            pilot_id,
            assignment_id,
        })
        .then_expect_events(vec![TaskEvent::TaskPilotAssigned {
            pilot_id,
            assignment_id,
        }]);
    let mut assigned = pending();
    assigned.push(TaskEvent::TaskPilotAssigned {
        pilot_id,
        assignment_id,
    });
    TaskTest::with(())
        .given(assigned.clone())
        .when(TaskCommand::RecordPilotAssigned {
            pilot_id,
            assignment_id,
        })
        .then_expect_events(vec![]);
    TaskTest::with(())
        .given(assigned)
        .when(TaskCommand::RecordPilotAssigned {
            pilot_id: Uuid::from_u128(20),
            assignment_id: Uuid::from_u128(21),
        })
        .then_expect_error(TaskError::PilotAlreadyAssigned {
            pilot_id,
            assignment_id,
        });
}

#[test]
fn an_ended_task_refuses_a_pilot_but_still_lets_its_pilot_go() {
    let (pilot_id, assignment_id) = (Uuid::from_u128(10), Uuid::from_u128(11));
    TaskTest::with(())
        .given(cancelled())
        .when(TaskCommand::RecordPilotAssigned {
            pilot_id,
            assignment_id,
        })
        .then_expect_error(TaskError::Ended {
            status: TaskStatus::Cancelled,
        });
    let mut events = vec![
        created(None),
        TaskEvent::TaskPilotAssigned {
            pilot_id,
            assignment_id,
        },
    ];
    events.extend(cancelled().into_iter().skip(1));
    TaskTest::with(())
        .given(events)
        .when(TaskCommand::RecordPilotUnassigned {
            pilot_id,
            assignment_id,
            reason: None,
        })
        .then_expect_events(vec![TaskEvent::TaskPilotUnassigned {
            pilot_id,
            assignment_id,
            reason: None,
        }]);
}

#[test]
fn a_completed_task_keeps_the_pilot_who_drove_it() {
    let (pilot_id, assignment_id) = (Uuid::from_u128(10), Uuid::from_u128(11));
    let mut events = vec![
        created(None),
        TaskEvent::TaskPilotAssigned {
            pilot_id,
            assignment_id,
        },
    ];
    events.extend(completed().into_iter().skip(1));
    TaskTest::with(())
        .given(events)
        .when(TaskCommand::RecordPilotUnassigned {
            pilot_id,
            assignment_id,
            reason: None,
        })
        .then_expect_events(vec![]);
}

#[test]
fn unassigning_an_assignment_the_task_does_not_hold_changes_nothing() {
    TaskTest::with(())
        .given(pending())
        .when(TaskCommand::RecordPilotUnassigned {
            pilot_id: Uuid::from_u128(10),
            assignment_id: Uuid::from_u128(99),
            reason: None,
        })
        .then_expect_events(vec![]);
}

#[test]
fn applying_the_events_of_a_whole_life_gives_the_final_state() {
    let mut task = Task::default();
    for event in completed() {
        cqrs_es::Aggregate::apply(&mut task, event);
    }
    let state = task.state().unwrap();
    assert_eq!(state.status, TaskStatus::Completed);
    assert_eq!(state.robot_id, Some(robot()));
    assert_eq!(state.hub_id, hub());
}

#[test]
fn every_public_command_name_parses_and_internal_ones_do_not() {
    use crate::CommandNames;
    let names: Vec<_> = every_public_command().iter().map(|c| c.name()).collect();
    assert_eq!(names, TaskCommand::PUBLIC);
    for internal in ["RecordPilotAssigned", "RecordPilotUnassigned"] {
        let body = serde_json::json!({internal: {"pilot_id": hub(), "assignment_id": hub()}});
        assert!(serde_json::from_value::<TaskCommand>(body).is_err());
    }
}

#[test]
fn a_command_body_with_an_unknown_field_is_refused() {
    let body = serde_json::json!({"StartTask": {"sudo": true}});
    assert!(serde_json::from_value::<TaskCommand>(body).is_err());
    let body = serde_json::json!({"PauseTask": {"resaon": "typo"}});
    assert!(serde_json::from_value::<TaskCommand>(body).is_err());
}

#[test]
fn enum_values_are_the_seeds_spelling() {
    let parsed: TaskCommand = serde_json::from_value(serde_json::json!({
        "CreateTask": {"task_type": "JITP_TRIP", "hub_id": hub()}
    }))
    .unwrap();
    assert!(matches!(
        parsed,
        TaskCommand::CreateTask {
            task_type: TaskType::JitpTrip,
            ..
        }
    ));
    assert_eq!(
        serde_json::to_value(TaskStatus::InProgress).unwrap(),
        "IN_PROGRESS"
    );
}

#[test]
fn the_same_assignment_id_from_another_pilot_is_another_assignment() {
    let (pilot_id, assignment_id) = (Uuid::from_u128(10), Uuid::from_u128(11));
    let other_pilot = Uuid::from_u128(12);
    let mut assigned = pending();
    assigned.push(TaskEvent::TaskPilotAssigned {
        pilot_id,
        assignment_id,
    });
    TaskTest::with(())
        .given(assigned.clone())
        .when(TaskCommand::RecordPilotAssigned {
            pilot_id: other_pilot,
            assignment_id,
        })
        .then_expect_error(TaskError::PilotAlreadyAssigned {
            pilot_id,
            assignment_id,
        });
    TaskTest::with(())
        .given(assigned)
        .when(TaskCommand::RecordPilotUnassigned {
            pilot_id: other_pilot,
            assignment_id,
            reason: None,
        })
        .then_expect_events(vec![]);
}
