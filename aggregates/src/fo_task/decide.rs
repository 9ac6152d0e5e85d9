//! A field-operations task's decisions: what each command does to the state it finds, or why
//! it is refused.

use std::collections::HashSet;

use uuid::Uuid;

use super::{
    FoAssignment, FoTask, FoTaskCommand, FoTaskError, FoTaskEvent, FoTaskState, FoTaskStatus,
    Subtask, SubtaskSpec, SubtaskStatus,
};
use crate::CommandNames;

impl FoTask {
    /// The most subtasks one task holds, so that one stream cannot grow without bound.
    pub const MAX_SUBTASKS: usize = 50;

    pub fn state(&self) -> Option<&FoTaskState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this task. Pure: no I/O and no clock.
    pub fn decide(&self, command: FoTaskCommand) -> Result<Vec<FoTaskEvent>, FoTaskError> {
        let Some(task) = &self.0 else {
            return match command {
                FoTaskCommand::CreateFoTask {
                    hub_id,
                    kind,
                    robot_id,
                    trip_id,
                    subtasks,
                } => {
                    check_subtask_list(&subtasks)?;
                    Ok(vec![FoTaskEvent::FoTaskCreated {
                        hub_id,
                        kind,
                        robot_id,
                        trip_id,
                        subtasks,
                    }])
                }
                _ => Err(FoTaskError::NotFound),
            };
        };
        task.decide(command)
    }
}

/// A new task's subtasks: at most `MAX_SUBTASKS`, each id once.
fn check_subtask_list(subtasks: &[SubtaskSpec]) -> Result<(), FoTaskError> {
    if subtasks.len() > FoTask::MAX_SUBTASKS {
        return Err(FoTaskError::TooManySubtasks {
            max: FoTask::MAX_SUBTASKS,
        });
    }
    let mut seen = HashSet::with_capacity(subtasks.len());
    match subtasks.iter().find(|s| !seen.insert(s.subtask_id)) {
        Some(duplicate) => Err(FoTaskError::DuplicateSubtask {
            subtask_id: duplicate.subtask_id,
        }),
        None => Ok(()),
    }
}

impl FoTaskState {
    pub fn subtask(&self, subtask_id: Uuid) -> Option<&Subtask> {
        self.subtasks.iter().find(|s| s.subtask_id == subtask_id)
    }

    /// The first subtask that is neither DONE nor SKIPPED: the only one the operator may act on.
    pub fn current_subtask(&self) -> Option<&Subtask> {
        self.subtasks.iter().find(|s| !s.status.is_finished())
    }

    pub fn active_assignments(&self) -> impl Iterator<Item = &FoAssignment> {
        self.assignments.iter().filter(|a| a.active)
    }

    fn decide(&self, command: FoTaskCommand) -> Result<Vec<FoTaskEvent>, FoTaskError> {
        use FoTaskStatus::*;
        let name = command.name();
        let from_status = self.status;
        let event = match command {
            FoTaskCommand::CreateFoTask { .. } => return Err(FoTaskError::AlreadyExists),
            FoTaskCommand::AddSubtask { subtask } => {
                self.require_open()?;
                if self.subtasks.len() >= FoTask::MAX_SUBTASKS {
                    return Err(FoTaskError::TooManySubtasks {
                        max: FoTask::MAX_SUBTASKS,
                    });
                }
                if self.subtask(subtask.subtask_id).is_some() {
                    return Err(FoTaskError::DuplicateSubtask {
                        subtask_id: subtask.subtask_id,
                    });
                }
                FoTaskEvent::FoSubtaskAdded {
                    position: self.subtasks.len() as u32,
                    subtask,
                }
            }
            FoTaskCommand::AssignFieldOperator {
                assignment_id,
                fo_id,
            } => {
                self.require_open()?;
                if self
                    .assignments
                    .iter()
                    .any(|a| a.assignment_id == assignment_id)
                {
                    return Err(FoTaskError::AssignmentAlreadyExists { assignment_id });
                }
                if self.active_assignments().any(|a| a.fo_id == fo_id) {
                    return Err(FoTaskError::OperatorAlreadyAssigned { fo_id });
                }
                FoTaskEvent::FoAssigned {
                    assignment_id,
                    fo_id,
                    from_status,
                    to_status: if from_status == Created {
                        Assigned
                    } else {
                        from_status
                    },
                }
            }
            FoTaskCommand::UnassignFieldOperator {
                assignment_id,
                reason,
            } => {
                self.require_open()?;
                let assignment = self
                    .assignments
                    .iter()
                    .find(|a| a.assignment_id == assignment_id)
                    .ok_or(FoTaskError::AssignmentNotFound { assignment_id })?;
                if !assignment.active {
                    return Err(FoTaskError::AssignmentNotActive { assignment_id });
                }
                let last = self.active_assignments().count() == 1;
                FoTaskEvent::FoUnassigned {
                    assignment_id,
                    fo_id: assignment.fo_id,
                    reason: reason.map(String::from),
                    from_status,
                    to_status: if last && from_status == Assigned {
                        Created
                    } else {
                        from_status
                    },
                }
            }
            FoTaskCommand::StartFoTask {} => {
                self.require_open()?;
                match from_status {
                    Assigned if self.active_assignments().next().is_some() => {}
                    Created | Assigned => return Err(FoTaskError::NoOperatorAssigned),
                    _ => return Err(self.invalid(name)),
                }
                FoTaskEvent::FoTaskStarted { from_status }
            }
            FoTaskCommand::StartSubtask { subtask_id } => {
                let subtask = self.require_current(subtask_id, name)?;
                if subtask.status != SubtaskStatus::Pending {
                    return Err(FoTaskError::InvalidSubtaskTransition {
                        subtask_id,
                        command: name,
                        status: subtask.status,
                    });
                }
                FoTaskEvent::FoSubtaskStarted {
                    subtask_id,
                    from_status: subtask.status,
                }
            }
            FoTaskCommand::CompleteSubtask { subtask_id } => {
                self.require(InProgress, name)?;
                let subtask = self
                    .subtask(subtask_id)
                    .ok_or(FoTaskError::SubtaskNotFound { subtask_id })?;
                // Only the current subtask can be IN_PROGRESS, so this also keeps the order.
                if subtask.status != SubtaskStatus::InProgress {
                    return Err(FoTaskError::InvalidSubtaskTransition {
                        subtask_id,
                        command: name,
                        status: subtask.status,
                    });
                }
                FoTaskEvent::FoSubtaskCompleted {
                    subtask_id,
                    from_status: subtask.status,
                }
            }
            FoTaskCommand::SkipSubtask { subtask_id, reason } => {
                // The current subtask is PENDING or IN_PROGRESS: both may be skipped.
                let subtask = self.require_current(subtask_id, name)?;
                FoTaskEvent::FoSubtaskSkipped {
                    subtask_id,
                    from_status: subtask.status,
                    reason: reason.into(),
                }
            }
            FoTaskCommand::CompleteFoTask {} => {
                self.require(InProgress, name)?;
                let open = self
                    .subtasks
                    .iter()
                    .filter(|s| !s.status.is_finished())
                    .count();
                if open > 0 {
                    return Err(FoTaskError::SubtasksOpen { open });
                }
                FoTaskEvent::FoTaskCompleted { from_status }
            }
            FoTaskCommand::CancelFoTask { reason } => {
                self.require_open()?;
                FoTaskEvent::FoTaskCancelled {
                    from_status,
                    reason: reason.into(),
                }
            }
        };
        Ok(vec![event])
    }

    /// COMPLETED and CANCELLED are final: every later command is refused.
    fn require_open(&self) -> Result<(), FoTaskError> {
        if self.status.is_terminal() {
            Err(FoTaskError::Ended {
                status: self.status,
            })
        } else {
            Ok(())
        }
    }

    fn require(&self, allowed: FoTaskStatus, command: &'static str) -> Result<(), FoTaskError> {
        self.require_open()?;
        if self.status == allowed {
            Ok(())
        } else {
            Err(self.invalid(command))
        }
    }

    fn invalid(&self, command: &'static str) -> FoTaskError {
        FoTaskError::InvalidTransition {
            command,
            status: self.status,
        }
    }

    /// The subtask named by a start or a skip: the task is under way and the subtask is the
    /// current one. A finished subtask is refused for its status, a later one for the order.
    fn require_current(
        &self,
        subtask_id: Uuid,
        command: &'static str,
    ) -> Result<&Subtask, FoTaskError> {
        self.require(FoTaskStatus::InProgress, command)?;
        let subtask = self
            .subtask(subtask_id)
            .ok_or(FoTaskError::SubtaskNotFound { subtask_id })?;
        if subtask.status.is_finished() {
            return Err(FoTaskError::InvalidSubtaskTransition {
                subtask_id,
                command,
                status: subtask.status,
            });
        }
        let current = self.current_subtask().map(|s| s.subtask_id);
        if current != Some(subtask_id) {
            return Err(FoTaskError::SubtaskOutOfOrder {
                subtask_id,
                current,
            });
        }
        Ok(subtask)
    }
}
