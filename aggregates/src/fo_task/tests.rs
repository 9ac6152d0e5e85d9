use cqrs_es::test::TestFramework;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::{CommandNames, DomainError, Location, Note};

type FoTaskTest = TestFramework<FoTask>;

fn hub() -> Uuid {
    Uuid::from_u128(0x1)
}
fn robot() -> Uuid {
    Uuid::from_u128(0x2)
}
fn fo(n: u128) -> Uuid {
    Uuid::from_u128(0xf0 + n)
}
fn assignment(n: u128) -> Uuid {
    Uuid::from_u128(0xa0 + n)
}
fn sub(n: u128) -> Uuid {
    Uuid::from_u128(0x50 + n)
}

fn place(name: &str) -> Location {
    Location::new(37.77, -122.42, Some(name.into()), None).unwrap()
}

fn travel(n: u128) -> SubtaskSpec {
    SubtaskSpec {
        subtask_id: sub(n),
        detail: SubtaskDetail::Travel {
            from: place("hub"),
            to: place("robot"),
        },
    }
}

fn action(n: u128) -> SubtaskSpec {
    SubtaskSpec {
        subtask_id: sub(n),
        detail: SubtaskDetail::Action {
            action: FoAction::SwapBattery,
            location: place("robot"),
        },
    }
}

fn note(text: &str) -> Note {
    Note::parse(text).unwrap()
}

fn created_with(subtasks: Vec<SubtaskSpec>) -> FoTaskEvent {
    FoTaskEvent::FoTaskCreated {
        hub_id: hub(),
        kind: FoTaskKind::BatterySwap,
        robot_id: Some(robot()),
        trip_id: None,
        subtasks,
    }
}

/// A CREATED task with a travel subtask (1) then an action subtask (2).
fn created() -> Vec<FoTaskEvent> {
    vec![created_with(vec![travel(1), action(2)])]
}

fn assigned_event(n: u128, from_status: FoTaskStatus, to_status: FoTaskStatus) -> FoTaskEvent {
    FoTaskEvent::FoAssigned {
        assignment_id: assignment(n),
        fo_id: fo(n),
        from_status,
        to_status,
    }
}

fn unassigned_event(n: u128, from_status: FoTaskStatus, to_status: FoTaskStatus) -> FoTaskEvent {
    FoTaskEvent::FoUnassigned {
        assignment_id: assignment(n),
        fo_id: fo(n),
        reason: None,
        from_status,
        to_status,
    }
}

/// ASSIGNED to operator 1.
fn assigned() -> Vec<FoTaskEvent> {
    let mut events = created();
    events.push(assigned_event(
        1,
        FoTaskStatus::Created,
        FoTaskStatus::Assigned,
    ));
    events
}

fn in_progress() -> Vec<FoTaskEvent> {
    let mut events = assigned();
    events.push(FoTaskEvent::FoTaskStarted {
        from_status: FoTaskStatus::Assigned,
    });
    events
}

fn with(
    mut events: Vec<FoTaskEvent>,
    more: impl IntoIterator<Item = FoTaskEvent>,
) -> Vec<FoTaskEvent> {
    events.extend(more);
    events
}

fn subtask_started(n: u128) -> FoTaskEvent {
    FoTaskEvent::FoSubtaskStarted {
        subtask_id: sub(n),
        from_status: SubtaskStatus::Pending,
    }
}

fn subtask_completed(n: u128) -> FoTaskEvent {
    FoTaskEvent::FoSubtaskCompleted {
        subtask_id: sub(n),
        from_status: SubtaskStatus::InProgress,
    }
}

fn subtask_skipped(n: u128) -> FoTaskEvent {
    FoTaskEvent::FoSubtaskSkipped {
        subtask_id: sub(n),
        from_status: SubtaskStatus::Pending,
        reason: "robot already charged".into(),
    }
}

/// Both subtasks behind the operator: the first done, the second skipped.
fn subtasks_finished() -> Vec<FoTaskEvent> {
    with(
        in_progress(),
        [subtask_started(1), subtask_completed(1), subtask_skipped(2)],
    )
}

fn completed() -> Vec<FoTaskEvent> {
    with(
        subtasks_finished(),
        [FoTaskEvent::FoTaskCompleted {
            from_status: FoTaskStatus::InProgress,
        }],
    )
}

fn cancelled() -> Vec<FoTaskEvent> {
    with(
        created(),
        [FoTaskEvent::FoTaskCancelled {
            from_status: FoTaskStatus::Created,
            reason: "robot recovered by itself".into(),
        }],
    )
}

/// Every command a client can send, with valid fields, in catalogue order.
fn every_public_command() -> Vec<FoTaskCommand> {
    vec![
        FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::RobotRescue,
            robot_id: None,
            trip_id: None,
            subtasks: vec![],
        },
        FoTaskCommand::AddSubtask { subtask: action(9) },
        FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(9),
            fo_id: fo(9),
        },
        FoTaskCommand::UnassignFieldOperator {
            assignment_id: assignment(1),
            reason: None,
        },
        FoTaskCommand::StartFoTask {},
        FoTaskCommand::StartSubtask { subtask_id: sub(1) },
        FoTaskCommand::CompleteSubtask { subtask_id: sub(1) },
        FoTaskCommand::SkipSubtask {
            subtask_id: sub(1),
            reason: note("not needed"),
        },
        FoTaskCommand::CompleteFoTask {},
        FoTaskCommand::CancelFoTask {
            reason: note("duplicate request"),
        },
    ]
}

/// Runs commands through `decide` and `apply`, as the framework would, and returns the task.
fn run(commands: Vec<FoTaskCommand>) -> (FoTask, Vec<FoTaskEvent>) {
    let mut task = FoTask::default();
    let mut all = Vec::new();
    for command in commands {
        let name = command.name();
        let events = task
            .decide(command)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for event in events {
            cqrs_es::Aggregate::apply(&mut task, event.clone());
            all.push(event);
        }
    }
    (task, all)
}

// Creation.

#[test]
fn creating_a_task_records_its_fields_and_subtasks() {
    FoTaskTest::with(())
        .given_no_previous_events()
        .when(FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::BatterySwap,
            robot_id: Some(robot()),
            trip_id: None,
            subtasks: vec![travel(1), action(2)],
        })
        .then_expect_events(created());
}

#[test]
fn creating_an_existing_task_is_refused() {
    FoTaskTest::with(())
        .given(created())
        .when(every_public_command().remove(0))
        .then_expect_error(FoTaskError::AlreadyExists);
}

#[test]
fn a_task_that_does_not_exist_refuses_every_other_command() {
    for command in every_public_command().into_iter().skip(1) {
        FoTaskTest::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(FoTaskError::NotFound);
    }
}

#[test]
fn a_new_task_with_a_repeated_subtask_id_is_refused() {
    FoTaskTest::with(())
        .given_no_previous_events()
        .when(FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::Maintenance,
            robot_id: None,
            trip_id: None,
            subtasks: vec![travel(1), action(2), action(1)],
        })
        .then_expect_error(FoTaskError::DuplicateSubtask { subtask_id: sub(1) });
}

#[test]
fn a_new_task_holds_at_most_fifty_subtasks() {
    let create = |count: u128| FoTaskCommand::CreateFoTask {
        hub_id: hub(),
        kind: FoTaskKind::Inspection,
        robot_id: None,
        trip_id: None,
        subtasks: (0..count).map(action).collect(),
    };
    FoTaskTest::with(())
        .given_no_previous_events()
        .when(create(51))
        .then_expect_error(FoTaskError::TooManySubtasks { max: 50 });
    let (task, _) = run(vec![create(50)]);
    assert_eq!(task.state().unwrap().subtasks.len(), 50);
}

// Adding subtasks.

#[test]
fn a_subtask_is_added_at_the_end_with_its_position() {
    FoTaskTest::with(())
        .given(created())
        .when(FoTaskCommand::AddSubtask { subtask: travel(3) })
        .then_expect_events(vec![FoTaskEvent::FoSubtaskAdded {
            subtask: travel(3),
            position: 2,
        }]);
}

#[test]
fn a_subtask_can_be_added_to_a_task_under_way() {
    for history in [assigned(), in_progress()] {
        FoTaskTest::with(())
            .given(history)
            .when(FoTaskCommand::AddSubtask { subtask: action(3) })
            .then_expect_events(vec![FoTaskEvent::FoSubtaskAdded {
                subtask: action(3),
                position: 2,
            }]);
    }
}

#[test]
fn adding_a_subtask_with_an_id_already_on_the_task_is_refused() {
    FoTaskTest::with(())
        .given(created())
        .when(FoTaskCommand::AddSubtask { subtask: travel(2) })
        .then_expect_error(FoTaskError::DuplicateSubtask { subtask_id: sub(2) });
}

#[test]
fn a_task_with_fifty_subtasks_refuses_another() {
    FoTaskTest::with(())
        .given(vec![created_with((0..50).map(action).collect())])
        .when(FoTaskCommand::AddSubtask {
            subtask: travel(99),
        })
        .then_expect_error(FoTaskError::TooManySubtasks { max: 50 });
}

#[test]
fn a_subtask_added_after_the_others_finished_becomes_the_current_one() {
    let history = with(
        subtasks_finished(),
        [FoTaskEvent::FoSubtaskAdded {
            subtask: travel(3),
            position: 2,
        }],
    );
    FoTaskTest::with(())
        .given(history.clone())
        .when(FoTaskCommand::StartSubtask { subtask_id: sub(3) })
        .then_expect_events(vec![subtask_started(3)]);
    FoTaskTest::with(())
        .given(history)
        .when(FoTaskCommand::CompleteFoTask {})
        .then_expect_error(FoTaskError::SubtasksOpen { open: 1 });
}

// Assignments.

#[test]
fn the_first_operator_moves_a_created_task_to_assigned() {
    FoTaskTest::with(())
        .given(created())
        .when(FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(1),
            fo_id: fo(1),
        })
        .then_expect_events(vec![assigned_event(
            1,
            FoTaskStatus::Created,
            FoTaskStatus::Assigned,
        )]);
}

#[test]
fn a_second_operator_leaves_an_assigned_task_assigned() {
    FoTaskTest::with(())
        .given(assigned())
        .when(FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(2),
            fo_id: fo(2),
        })
        .then_expect_events(vec![assigned_event(
            2,
            FoTaskStatus::Assigned,
            FoTaskStatus::Assigned,
        )]);
}

#[test]
fn an_operator_assigned_to_a_task_in_progress_leaves_it_in_progress() {
    FoTaskTest::with(())
        .given(in_progress())
        .when(FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(2),
            fo_id: fo(2),
        })
        .then_expect_events(vec![assigned_event(
            2,
            FoTaskStatus::InProgress,
            FoTaskStatus::InProgress,
        )]);
}

#[test]
fn reusing_an_assignment_id_is_refused_even_after_it_ended() {
    let ended = with(
        assigned(),
        [unassigned_event(
            1,
            FoTaskStatus::Assigned,
            FoTaskStatus::Created,
        )],
    );
    for history in [assigned(), ended] {
        FoTaskTest::with(())
            .given(history)
            .when(FoTaskCommand::AssignFieldOperator {
                assignment_id: assignment(1),
                fo_id: fo(2),
            })
            .then_expect_error(FoTaskError::AssignmentAlreadyExists {
                assignment_id: assignment(1),
            });
    }
}

#[test]
fn an_operator_already_on_the_task_cannot_be_assigned_twice() {
    FoTaskTest::with(())
        .given(assigned())
        .when(FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(2),
            fo_id: fo(1),
        })
        .then_expect_error(FoTaskError::OperatorAlreadyAssigned { fo_id: fo(1) });
}

#[test]
fn an_operator_whose_assignment_ended_can_be_assigned_again() {
    let history = with(
        assigned(),
        [unassigned_event(
            1,
            FoTaskStatus::Assigned,
            FoTaskStatus::Created,
        )],
    );
    FoTaskTest::with(())
        .given(history)
        .when(FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(2),
            fo_id: fo(1),
        })
        .then_expect_events(vec![FoTaskEvent::FoAssigned {
            assignment_id: assignment(2),
            fo_id: fo(1),
            from_status: FoTaskStatus::Created,
            to_status: FoTaskStatus::Assigned,
        }]);
}

#[test]
fn unassigning_the_last_operator_of_an_assigned_task_returns_it_to_created() {
    FoTaskTest::with(())
        .given(assigned())
        .when(FoTaskCommand::UnassignFieldOperator {
            assignment_id: assignment(1),
            reason: Some(note("called in sick")),
        })
        .then_expect_events(vec![FoTaskEvent::FoUnassigned {
            assignment_id: assignment(1),
            fo_id: fo(1),
            reason: Some("called in sick".into()),
            from_status: FoTaskStatus::Assigned,
            to_status: FoTaskStatus::Created,
        }]);
}

#[test]
fn unassigning_one_of_two_operators_leaves_the_task_assigned() {
    let history = with(
        assigned(),
        [assigned_event(
            2,
            FoTaskStatus::Assigned,
            FoTaskStatus::Assigned,
        )],
    );
    FoTaskTest::with(())
        .given(history)
        .when(FoTaskCommand::UnassignFieldOperator {
            assignment_id: assignment(1),
            reason: None,
        })
        .then_expect_events(vec![unassigned_event(
            1,
            FoTaskStatus::Assigned,
            FoTaskStatus::Assigned,
        )]);
}

#[test]
fn unassigning_the_last_operator_of_a_task_in_progress_leaves_it_in_progress() {
    FoTaskTest::with(())
        .given(in_progress())
        .when(FoTaskCommand::UnassignFieldOperator {
            assignment_id: assignment(1),
            reason: None,
        })
        .then_expect_events(vec![unassigned_event(
            1,
            FoTaskStatus::InProgress,
            FoTaskStatus::InProgress,
        )]);
}

#[test]
fn unassigning_an_assignment_the_task_never_had_is_refused() {
    FoTaskTest::with(())
        .given(assigned())
        .when(FoTaskCommand::UnassignFieldOperator {
            assignment_id: assignment(7),
            reason: None,
        })
        .then_expect_error(FoTaskError::AssignmentNotFound {
            assignment_id: assignment(7),
        });
}

#[test]
fn unassigning_an_assignment_that_already_ended_is_refused() {
    let history = with(
        assigned(),
        [unassigned_event(
            1,
            FoTaskStatus::Assigned,
            FoTaskStatus::Created,
        )],
    );
    FoTaskTest::with(())
        .given(history)
        .when(FoTaskCommand::UnassignFieldOperator {
            assignment_id: assignment(1),
            reason: None,
        })
        .then_expect_error(FoTaskError::AssignmentNotActive {
            assignment_id: assignment(1),
        });
}

// Starting and finishing the task.

#[test]
fn an_assigned_task_starts() {
    FoTaskTest::with(())
        .given(assigned())
        .when(FoTaskCommand::StartFoTask {})
        .then_expect_events(vec![FoTaskEvent::FoTaskStarted {
            from_status: FoTaskStatus::Assigned,
        }]);
}

#[test]
fn a_task_without_an_operator_cannot_start() {
    let operator_left = with(
        assigned(),
        [unassigned_event(
            1,
            FoTaskStatus::Assigned,
            FoTaskStatus::Created,
        )],
    );
    for history in [created(), operator_left] {
        FoTaskTest::with(())
            .given(history)
            .when(FoTaskCommand::StartFoTask {})
            .then_expect_error(FoTaskError::NoOperatorAssigned);
    }
}

#[test]
fn a_task_in_progress_cannot_start_again() {
    FoTaskTest::with(())
        .given(in_progress())
        .when(FoTaskCommand::StartFoTask {})
        .then_expect_error(FoTaskError::InvalidTransition {
            command: "StartFoTask",
            status: FoTaskStatus::InProgress,
        });
}

#[test]
fn a_task_with_an_open_subtask_cannot_complete() {
    FoTaskTest::with(())
        .given(with(
            in_progress(),
            [subtask_started(1), subtask_completed(1)],
        ))
        .when(FoTaskCommand::CompleteFoTask {})
        .then_expect_error(FoTaskError::SubtasksOpen { open: 1 });
    FoTaskTest::with(())
        .given(in_progress())
        .when(FoTaskCommand::CompleteFoTask {})
        .then_expect_error(FoTaskError::SubtasksOpen { open: 2 });
}

#[test]
fn a_task_whose_subtasks_are_all_done_or_skipped_completes() {
    FoTaskTest::with(())
        .given(subtasks_finished())
        .when(FoTaskCommand::CompleteFoTask {})
        .then_expect_events(vec![FoTaskEvent::FoTaskCompleted {
            from_status: FoTaskStatus::InProgress,
        }]);
}

#[test]
fn a_task_without_subtasks_completes_once_started() {
    FoTaskTest::with(())
        .given(vec![
            created_with(vec![]),
            assigned_event(1, FoTaskStatus::Created, FoTaskStatus::Assigned),
            FoTaskEvent::FoTaskStarted {
                from_status: FoTaskStatus::Assigned,
            },
        ])
        .when(FoTaskCommand::CompleteFoTask {})
        .then_expect_events(vec![FoTaskEvent::FoTaskCompleted {
            from_status: FoTaskStatus::InProgress,
        }]);
}

#[test]
fn a_task_that_has_not_started_cannot_complete() {
    for (history, status) in [
        (vec![created_with(vec![])], FoTaskStatus::Created),
        (assigned(), FoTaskStatus::Assigned),
    ] {
        FoTaskTest::with(())
            .given(history)
            .when(FoTaskCommand::CompleteFoTask {})
            .then_expect_error(FoTaskError::InvalidTransition {
                command: "CompleteFoTask",
                status,
            });
    }
}

#[test]
fn any_open_task_can_be_cancelled_and_the_event_keeps_where_it_was() {
    for (history, from_status) in [
        (created(), FoTaskStatus::Created),
        (assigned(), FoTaskStatus::Assigned),
        (in_progress(), FoTaskStatus::InProgress),
    ] {
        FoTaskTest::with(())
            .given(history)
            .when(FoTaskCommand::CancelFoTask {
                reason: note("robot towed away"),
            })
            .then_expect_events(vec![FoTaskEvent::FoTaskCancelled {
                from_status,
                reason: "robot towed away".into(),
            }]);
    }
}

#[test]
fn a_completed_task_refuses_every_command() {
    for command in every_public_command().into_iter().skip(1) {
        FoTaskTest::with(())
            .given(completed())
            .when(command)
            .then_expect_error(FoTaskError::Ended {
                status: FoTaskStatus::Completed,
            });
    }
}

#[test]
fn a_cancelled_task_refuses_every_command() {
    for command in every_public_command().into_iter().skip(1) {
        FoTaskTest::with(())
            .given(cancelled())
            .when(command)
            .then_expect_error(FoTaskError::Ended {
                status: FoTaskStatus::Cancelled,
            });
    }
}

// Subtasks, in order.

#[test]
fn the_current_subtask_starts_and_then_completes() {
    FoTaskTest::with(())
        .given(in_progress())
        .when(FoTaskCommand::StartSubtask { subtask_id: sub(1) })
        .then_expect_events(vec![subtask_started(1)]);
    FoTaskTest::with(())
        .given(with(in_progress(), [subtask_started(1)]))
        .when(FoTaskCommand::CompleteSubtask { subtask_id: sub(1) })
        .then_expect_events(vec![subtask_completed(1)]);
}

#[test]
fn a_subtask_cannot_start_before_the_task_starts() {
    FoTaskTest::with(())
        .given(assigned())
        .when(FoTaskCommand::StartSubtask { subtask_id: sub(1) })
        .then_expect_error(FoTaskError::InvalidTransition {
            command: "StartSubtask",
            status: FoTaskStatus::Assigned,
        });
}

#[test]
fn a_subtask_cannot_be_skipped_before_the_task_starts() {
    FoTaskTest::with(())
        .given(created())
        .when(FoTaskCommand::SkipSubtask {
            subtask_id: sub(1),
            reason: note("not needed"),
        })
        .then_expect_error(FoTaskError::InvalidTransition {
            command: "SkipSubtask",
            status: FoTaskStatus::Created,
        });
}

#[test]
fn a_later_subtask_cannot_start_before_the_current_one() {
    FoTaskTest::with(())
        .given(in_progress())
        .when(FoTaskCommand::StartSubtask { subtask_id: sub(2) })
        .then_expect_error(FoTaskError::SubtaskOutOfOrder {
            subtask_id: sub(2),
            current: Some(sub(1)),
        });
}

#[test]
fn a_later_subtask_cannot_be_skipped_before_the_current_one() {
    FoTaskTest::with(())
        .given(with(in_progress(), [subtask_started(1)]))
        .when(FoTaskCommand::SkipSubtask {
            subtask_id: sub(2),
            reason: note("not needed"),
        })
        .then_expect_error(FoTaskError::SubtaskOutOfOrder {
            subtask_id: sub(2),
            current: Some(sub(1)),
        });
}

#[test]
fn a_subtask_in_progress_cannot_start_again() {
    FoTaskTest::with(())
        .given(with(in_progress(), [subtask_started(1)]))
        .when(FoTaskCommand::StartSubtask { subtask_id: sub(1) })
        .then_expect_error(FoTaskError::InvalidSubtaskTransition {
            subtask_id: sub(1),
            command: "StartSubtask",
            status: SubtaskStatus::InProgress,
        });
}

#[test]
fn a_finished_subtask_cannot_start_complete_or_be_skipped_again() {
    let history = with(in_progress(), [subtask_started(1), subtask_completed(1)]);
    for command in [
        FoTaskCommand::StartSubtask { subtask_id: sub(1) },
        FoTaskCommand::CompleteSubtask { subtask_id: sub(1) },
        FoTaskCommand::SkipSubtask {
            subtask_id: sub(1),
            reason: note("again"),
        },
    ] {
        let name = command.name();
        FoTaskTest::with(())
            .given(history.clone())
            .when(command)
            .then_expect_error(FoTaskError::InvalidSubtaskTransition {
                subtask_id: sub(1),
                command: name,
                status: SubtaskStatus::Done,
            });
    }
    FoTaskTest::with(())
        .given(subtasks_finished())
        .when(FoTaskCommand::StartSubtask { subtask_id: sub(2) })
        .then_expect_error(FoTaskError::InvalidSubtaskTransition {
            subtask_id: sub(2),
            command: "StartSubtask",
            status: SubtaskStatus::Skipped,
        });
}

#[test]
fn a_subtask_that_has_not_started_cannot_complete() {
    for n in [1, 2] {
        FoTaskTest::with(())
            .given(in_progress())
            .when(FoTaskCommand::CompleteSubtask { subtask_id: sub(n) })
            .then_expect_error(FoTaskError::InvalidSubtaskTransition {
                subtask_id: sub(n),
                command: "CompleteSubtask",
                status: SubtaskStatus::Pending,
            });
    }
}

#[test]
fn a_subtask_the_task_does_not_have_is_refused() {
    let unknown = Uuid::from_u128(0xdead);
    for command in [
        FoTaskCommand::StartSubtask {
            subtask_id: unknown,
        },
        FoTaskCommand::CompleteSubtask {
            subtask_id: unknown,
        },
        FoTaskCommand::SkipSubtask {
            subtask_id: unknown,
            reason: note("what?"),
        },
    ] {
        FoTaskTest::with(())
            .given(in_progress())
            .when(command)
            .then_expect_error(FoTaskError::SubtaskNotFound {
                subtask_id: unknown,
            });
    }
}

#[test]
fn the_current_subtask_is_skipped_with_its_reason_whether_pending_or_in_progress() {
    FoTaskTest::with(())
        .given(in_progress())
        .when(FoTaskCommand::SkipSubtask {
            subtask_id: sub(1),
            reason: note("robot came to the hub"),
        })
        .then_expect_events(vec![FoTaskEvent::FoSubtaskSkipped {
            subtask_id: sub(1),
            from_status: SubtaskStatus::Pending,
            reason: "robot came to the hub".into(),
        }]);
    FoTaskTest::with(())
        .given(with(in_progress(), [subtask_started(1)]))
        .when(FoTaskCommand::SkipSubtask {
            subtask_id: sub(1),
            reason: note("road closed"),
        })
        .then_expect_events(vec![FoTaskEvent::FoSubtaskSkipped {
            subtask_id: sub(1),
            from_status: SubtaskStatus::InProgress,
            reason: "road closed".into(),
        }]);
}

#[test]
fn once_a_subtask_is_skipped_the_next_one_is_current() {
    let history = with(
        in_progress(),
        [FoTaskEvent::FoSubtaskSkipped {
            subtask_id: sub(1),
            from_status: SubtaskStatus::Pending,
            reason: "not needed".into(),
        }],
    );
    FoTaskTest::with(())
        .given(history)
        .when(FoTaskCommand::StartSubtask { subtask_id: sub(2) })
        .then_expect_events(vec![subtask_started(2)]);
}

// The whole life and what the history projector reads.

#[test]
fn a_whole_life_from_creation_to_completion_gives_the_final_state() {
    let (task, events) = run(vec![
        FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::BatterySwap,
            robot_id: Some(robot()),
            trip_id: None,
            subtasks: vec![travel(1), action(2)],
        },
        FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(1),
            fo_id: fo(1),
        },
        FoTaskCommand::StartFoTask {},
        FoTaskCommand::StartSubtask { subtask_id: sub(1) },
        FoTaskCommand::CompleteSubtask { subtask_id: sub(1) },
        FoTaskCommand::SkipSubtask {
            subtask_id: sub(2),
            reason: note("robot already charged"),
        },
        FoTaskCommand::CompleteFoTask {},
    ]);
    assert_eq!(events, completed());
    let state = task.state().unwrap();
    assert_eq!(state.status, FoTaskStatus::Completed);
    assert_eq!(state.hub_id, hub());
    assert_eq!(state.robot_id, Some(robot()));
    let statuses: Vec<_> = state.subtasks.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [SubtaskStatus::Done, SubtaskStatus::Skipped]);
    assert_eq!(
        state.subtasks[1].skip_reason.as_deref(),
        Some("robot already charged")
    );
    assert_eq!(state.subtasks[0].detail, travel(1).detail);
    assert_eq!(
        state.assignments,
        [FoAssignment {
            assignment_id: assignment(1),
            fo_id: fo(1),
            active: true,
            unassign_reason: None,
        }]
    );
}

#[test]
fn applying_assignments_and_a_cancellation_keeps_who_left_and_why() {
    let (task, _) = run(vec![
        every_public_command().remove(0),
        FoTaskCommand::AssignFieldOperator {
            assignment_id: assignment(1),
            fo_id: fo(1),
        },
        FoTaskCommand::UnassignFieldOperator {
            assignment_id: assignment(1),
            reason: Some(note("shift over")),
        },
        FoTaskCommand::AddSubtask { subtask: travel(3) },
        FoTaskCommand::CancelFoTask {
            reason: note("robot recovered by itself"),
        },
    ]);
    let state = task.state().unwrap();
    assert_eq!(state.status, FoTaskStatus::Cancelled);
    assert_eq!(
        state.cancellation_reason.as_deref(),
        Some("robot recovered by itself")
    );
    assert!(!state.assignments[0].active);
    assert_eq!(
        state.assignments[0].unassign_reason.as_deref(),
        Some("shift over")
    );
    assert_eq!(state.subtasks.len(), 1);
    assert_eq!(state.subtasks[0].status, SubtaskStatus::Pending);
}

#[test]
fn events_report_the_status_changes_a_history_row_copies() {
    use FoTaskStatus::*;
    let task_changes: Vec<_> = completed()
        .iter()
        .filter_map(FoTaskEvent::task_status_change)
        .collect();
    assert_eq!(
        task_changes,
        [
            (None, Created),
            (Some(Created), Assigned),
            (Some(Assigned), InProgress),
            (Some(InProgress), Completed),
        ]
    );
    let subtask_changes: Vec<_> = completed()
        .iter()
        .filter_map(FoTaskEvent::subtask_status_change)
        .collect();
    assert_eq!(
        subtask_changes,
        [
            (sub(1), SubtaskStatus::Pending, SubtaskStatus::InProgress),
            (sub(1), SubtaskStatus::InProgress, SubtaskStatus::Done),
            (sub(2), SubtaskStatus::Pending, SubtaskStatus::Skipped),
        ]
    );
    assert_eq!(
        assigned_event(2, Assigned, Assigned).task_status_change(),
        None
    );
    assert_eq!(
        unassigned_event(1, Assigned, Created).task_status_change(),
        Some((Some(Assigned), Created))
    );
    assert_eq!(
        cancelled()[1].task_status_change(),
        Some((Some(Created), Cancelled))
    );
}

#[test]
fn every_event_has_one_of_the_listed_type_names_at_version_one() {
    use cqrs_es::DomainEvent;
    let mut events = completed();
    events.extend(cancelled());
    events.push(FoTaskEvent::FoSubtaskAdded {
        subtask: travel(3),
        position: 2,
    });
    events.push(unassigned_event(
        1,
        FoTaskStatus::Assigned,
        FoTaskStatus::Created,
    ));
    let mut names: Vec<_> = events.iter().map(|e| e.event_type()).collect();
    names.sort();
    names.dedup();
    let mut listed: Vec<_> = FoTaskEvent::TYPES.iter().map(|t| t.to_string()).collect();
    listed.sort();
    assert_eq!(names, listed);
    assert!(events.iter().all(|e| e.event_version() == "1.0"));
}

#[test]
fn events_survive_a_round_trip_through_json() {
    let mut events = completed();
    events.extend(cancelled());
    for event in events {
        let stored = serde_json::to_value(&event).unwrap();
        assert_eq!(
            serde_json::from_value::<FoTaskEvent>(stored).unwrap(),
            event
        );
    }
}

#[test]
fn only_a_missing_task_is_not_found() {
    assert!(FoTaskError::NotFound.is_not_found());
    assert_eq!(FoTaskError::NotFound.code(), "not_found");
    let unknown = FoTaskError::SubtaskNotFound { subtask_id: sub(1) };
    assert!(!unknown.is_not_found());
    assert_eq!(unknown.code(), "subtask_not_found");
    assert_eq!(
        FoTaskError::Ended {
            status: FoTaskStatus::Cancelled
        }
        .code(),
        "task_ended"
    );
}

// The JSON contract.

#[test]
fn every_public_command_name_is_listed_and_only_creation_creates_the_stream() {
    let commands = every_public_command();
    let names: Vec<_> = commands.iter().map(|c| c.name()).collect();
    assert_eq!(names, FoTaskCommand::PUBLIC);
    let creating: Vec<_> = commands
        .iter()
        .filter(|c| c.creates_stream())
        .map(|c| c.name())
        .collect();
    assert_eq!(creating, ["CreateFoTask"]);
}

#[test]
fn a_command_body_with_an_unknown_field_is_refused() {
    for body in [
        json!({"StartFoTask": {"sudo": true}}),
        json!({"UnassignFieldOperator": {"assignment_id": assignment(1), "resaon": "typo"}}),
        json!({"CreateFoTask": {"hub_id": hub(), "kind": "OTHER", "robot": robot()}}),
    ] {
        assert!(
            serde_json::from_value::<FoTaskCommand>(body.clone()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn a_create_command_parses_with_optional_fields_left_out() {
    let parsed: FoTaskCommand = serde_json::from_value(json!({
        "CreateFoTask": {"hub_id": hub(), "kind": "ROBOT_RESCUE"}
    }))
    .unwrap();
    assert_eq!(
        parsed,
        FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::RobotRescue,
            robot_id: None,
            trip_id: None,
            subtasks: vec![],
        }
    );
}

#[test]
fn a_create_command_parses_both_kinds_of_subtask() {
    let parsed: FoTaskCommand = serde_json::from_value(json!({
        "CreateFoTask": {
            "hub_id": hub(),
            "kind": "BATTERY_SWAP",
            "robot_id": robot(),
            "subtasks": [
                {"subtask_id": sub(1), "kind": "TRAVEL",
                 "from": {"lat": 37.77, "lng": -122.42, "name": "hub"},
                 "to": {"lat": 37.77, "lng": -122.42, "name": "robot"}},
                {"subtask_id": sub(2), "kind": "ACTION", "action": "SWAP_BATTERY",
                 "location": {"lat": 37.77, "lng": -122.42, "name": "robot"}}
            ]
        }
    }))
    .unwrap();
    assert_eq!(
        parsed,
        FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::BatterySwap,
            robot_id: Some(robot()),
            trip_id: None,
            subtasks: vec![travel(1), action(2)],
        }
    );
}

#[test]
fn a_subtask_spec_is_written_in_the_shape_it_is_read() {
    let written = serde_json::to_value(action(2)).unwrap();
    assert_eq!(written["kind"], "ACTION");
    assert_eq!(written["action"], "SWAP_BATTERY");
    assert_eq!(written["subtask_id"], json!(sub(2)));
    assert!(written.get("detail").is_none());
    assert_eq!(
        serde_json::from_value::<SubtaskSpec>(written).unwrap(),
        action(2)
    );
    let written = serde_json::to_value(travel(1)).unwrap();
    assert_eq!(written["kind"], "TRAVEL");
    assert_eq!(
        serde_json::from_value::<SubtaskSpec>(written).unwrap(),
        travel(1)
    );
    assert_eq!(travel(1).detail.kind(), SubtaskKind::Travel);
    assert_eq!(action(2).detail.kind(), SubtaskKind::Action);
}

#[test]
fn a_subtask_spec_with_a_wrong_or_unknown_field_or_kind_is_refused() {
    let here = json!({"lat": 1.0, "lng": 2.0});
    for bad in [
        // A field of the other kind.
        json!({"subtask_id": sub(1), "kind": "TRAVEL", "from": here, "to": here, "action": "INSPECT"}),
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "INSPECT", "location": here, "to": here}),
        // A field of no kind.
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "INSPECT", "location": here, "note": "x"}),
        // An unknown kind, no kind, an unknown action.
        json!({"subtask_id": sub(1), "kind": "FLY", "from": here, "to": here}),
        json!({"subtask_id": sub(1), "from": here, "to": here}),
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "DANCE", "location": here}),
        // A missing field, a missing id, a bad id, a bad location.
        json!({"subtask_id": sub(1), "kind": "TRAVEL", "from": here}),
        json!({"kind": "ACTION", "action": "INSPECT", "location": here}),
        json!({"subtask_id": "seven", "kind": "ACTION", "action": "INSPECT", "location": here}),
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "INSPECT", "location": {"lat": 91, "lng": 0}}),
    ] {
        assert!(
            serde_json::from_value::<SubtaskSpec>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn enum_values_are_spelt_in_screaming_snake_case() {
    assert_eq!(
        serde_json::to_value(FoTaskStatus::InProgress).unwrap(),
        "IN_PROGRESS"
    );
    assert_eq!(FoTaskStatus::InProgress.to_string(), "IN_PROGRESS");
    assert_eq!(SubtaskStatus::Skipped.to_string(), "SKIPPED");
    assert_eq!(
        serde_json::to_value(FoTaskKind::RobotRescue).unwrap(),
        "ROBOT_RESCUE"
    );
    assert_eq!(
        serde_json::to_value(FoAction::UnloadRobot).unwrap(),
        "UNLOAD_ROBOT"
    );
}
