//! A field-operations task's state: what its events have made of it (`apply` only assigns).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    FoTaskCommand, FoTaskError, FoTaskEvent, FoTaskKind, FoTaskStatus, SubtaskDetail, SubtaskSpec,
    SubtaskStatus,
};

/// A field-operations task's stream folded into its current state; `None` until `FoTaskCreated`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FoTask(pub Option<FoTaskState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FoTaskState {
    pub status: FoTaskStatus,
    pub hub_id: Uuid,
    pub kind: FoTaskKind,
    pub robot_id: Option<Uuid>,
    pub trip_id: Option<Uuid>,
    /// In the order the operator works through them.
    pub subtasks: Vec<Subtask>,
    /// Every assignment the task ever had, active or ended, in the order they were made.
    pub assignments: Vec<FoAssignment>,
    pub cancellation_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subtask {
    pub subtask_id: Uuid,
    pub detail: SubtaskDetail,
    pub status: SubtaskStatus,
    pub skip_reason: Option<String>,
}

/// A field operator put on the task; `active` until unassigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FoAssignment {
    pub assignment_id: Uuid,
    pub fo_id: Uuid,
    pub active: bool,
    pub unassign_reason: Option<String>,
}

impl Subtask {
    fn pending(spec: SubtaskSpec) -> Self {
        Self {
            subtask_id: spec.subtask_id,
            detail: spec.detail,
            status: SubtaskStatus::Pending,
            skip_reason: None,
        }
    }
}

crate::aggregate!(
    FoTask: FoTaskCommand => FoTaskEvent, FoTaskError, (),
    |task, command, _| task.decide(command)
);

impl FoTask {
    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: FoTaskEvent) {
        if let FoTaskEvent::FoTaskCreated {
            hub_id,
            kind,
            robot_id,
            trip_id,
            subtasks,
        } = event
        {
            self.0 = Some(FoTaskState {
                status: FoTaskStatus::Created,
                hub_id,
                kind,
                robot_id,
                trip_id,
                subtasks: subtasks.into_iter().map(Subtask::pending).collect(),
                assignments: Vec::new(),
                cancellation_reason: None,
            });
            return;
        }
        let Some(task) = self.0.as_mut() else {
            return;
        };
        if let Some((_, status)) = event.task_status_change() {
            task.status = status;
        }
        if let Some((subtask_id, _, status)) = event.subtask_status_change() {
            if let Some(subtask) = task
                .subtasks
                .iter_mut()
                .find(|s| s.subtask_id == subtask_id)
            {
                subtask.status = status;
            }
        }
        match event {
            FoTaskEvent::FoSubtaskAdded { subtask, .. } => {
                task.subtasks.push(Subtask::pending(subtask))
            }
            FoTaskEvent::FoAssigned {
                assignment_id,
                fo_id,
                ..
            } => task.assignments.push(FoAssignment {
                assignment_id,
                fo_id,
                active: true,
                unassign_reason: None,
            }),
            FoTaskEvent::FoUnassigned {
                assignment_id,
                reason,
                ..
            } => {
                if let Some(assignment) = task
                    .assignments
                    .iter_mut()
                    .find(|a| a.assignment_id == assignment_id)
                {
                    assignment.active = false;
                    assignment.unassign_reason = reason;
                }
            }
            FoTaskEvent::FoSubtaskSkipped {
                subtask_id, reason, ..
            } => {
                if let Some(subtask) = task
                    .subtasks
                    .iter_mut()
                    .find(|s| s.subtask_id == subtask_id)
                {
                    subtask.skip_reason = Some(reason);
                }
            }
            FoTaskEvent::FoTaskCancelled { reason, .. } => task.cancellation_reason = Some(reason),
            _ => {}
        }
    }
}
