//! Adding subtasks.

use super::*;

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
