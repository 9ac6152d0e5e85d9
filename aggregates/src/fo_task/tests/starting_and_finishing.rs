//! Starting and finishing the task.

use super::*;

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
