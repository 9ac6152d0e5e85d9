//! The whole life and what the history projector reads.

use super::*;

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
