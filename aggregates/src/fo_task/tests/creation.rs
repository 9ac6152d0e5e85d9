//! Creation.

use super::*;

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
