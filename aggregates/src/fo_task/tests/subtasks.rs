//! Subtasks, in order.

use super::*;

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
