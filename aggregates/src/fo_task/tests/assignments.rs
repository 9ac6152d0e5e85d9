//! Assignments.

use super::*;

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
