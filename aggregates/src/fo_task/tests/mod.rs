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

mod adding_subtasks;
mod assignments;
mod creation;
mod json;
mod starting_and_finishing;
mod subtasks;
mod whole_life;
