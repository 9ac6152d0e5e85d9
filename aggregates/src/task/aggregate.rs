use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CancellationReason, TaskCommand, TaskError, TaskEvent, TaskStatus, TaskType};
use crate::CommandNames;

/// A task's stream folded into its current state; `None` until `TaskCreated`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task(pub Option<TaskState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskState {
    pub status: TaskStatus,
    pub task_type: TaskType,
    pub hub_id: Uuid,
    pub robot_id: Option<Uuid>,
    pub trip_id: Option<Uuid>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub external_ref: Option<String>,
    pub pilot: Option<PilotLink>,
    pub pause_reason: Option<String>,
    pub cancellation_reason: Option<CancellationReason>,
    pub cancellation_note: Option<String>,
}

/// The pilot whose accepted assignment is on this task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PilotLink {
    pub pilot_id: Uuid,
    pub assignment_id: Uuid,
}

impl Task {
    pub fn state(&self) -> Option<&TaskState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this task. Pure: no I/O and no clock.
    pub fn decide(&self, command: TaskCommand) -> Result<Vec<TaskEvent>, TaskError> {
        let Some(task) = &self.0 else {
            return match command {
                TaskCommand::CreateTask {
                    task_type,
                    hub_id,
                    robot_id,
                    scheduled_at,
                    external_ref,
                } => Ok(vec![TaskEvent::TaskCreated {
                    task_type,
                    hub_id,
                    robot_id,
                    scheduled_at,
                    external_ref: external_ref.map(String::from),
                }]),
                _ => Err(TaskError::NotFound),
            };
        };
        task.decide(command)
    }
}

impl TaskState {
    fn decide(&self, command: TaskCommand) -> Result<Vec<TaskEvent>, TaskError> {
        use TaskStatus::*;
        let from_status = self.status;
        let event = match command {
            TaskCommand::CreateTask { .. } => return Err(TaskError::AlreadyExists),
            TaskCommand::MarkTaskPending {} => {
                self.require(Scheduled, &command)?;
                TaskEvent::TaskMarkedPending { from_status }
            }
            TaskCommand::StartTask {} => {
                self.require(Pending, &command)?;
                if self.robot_id.is_none() {
                    return Err(TaskError::RobotRequired);
                }
                TaskEvent::TaskStarted { from_status }
            }
            TaskCommand::PauseTask { ref reason } => {
                self.require(InProgress, &command)?;
                TaskEvent::TaskPaused {
                    from_status,
                    reason: reason.clone().map(String::from),
                }
            }
            TaskCommand::ResumeTask {} => {
                self.require(Paused, &command)?;
                TaskEvent::TaskResumed { from_status }
            }
            TaskCommand::MarkTaskArrived {} => {
                self.require(InProgress, &command)?;
                TaskEvent::TaskArrived { from_status }
            }
            TaskCommand::CompleteTask {} => {
                self.require(Arrived, &command)?;
                TaskEvent::TaskCompleted { from_status }
            }
            TaskCommand::CancelTask { reason, note } => {
                self.require_open()?;
                if reason == CancellationReason::Other && note.is_none() {
                    return Err(TaskError::NoteRequired);
                }
                TaskEvent::TaskCancelled {
                    from_status,
                    reason,
                    note: note.map(String::from),
                }
            }
            TaskCommand::AttachTrip { trip_id } => {
                self.require_open()?;
                if let Some(trip_id) = self.trip_id {
                    return Err(TaskError::TripAlreadyAttached { trip_id });
                }
                TaskEvent::TaskTripAttached { trip_id }
            }
            TaskCommand::AssignRobot { robot_id } => {
                self.require_open()?;
                if self.robot_id == Some(robot_id) {
                    return Err(TaskError::RobotAlreadyAssigned { robot_id });
                }
                TaskEvent::TaskRobotAssigned {
                    robot_id,
                    previous_robot_id: self.robot_id,
                }
            }
            TaskCommand::RecordPilotAssigned {
                pilot_id,
                assignment_id,
            } => {
                self.require_open()?;
                // Assignment ids are unique per pilot only: the pair names the assignment.
                let same = |link: PilotLink| {
                    link.pilot_id == pilot_id && link.assignment_id == assignment_id
                };
                match self.pilot {
                    Some(link) if same(link) => return Ok(vec![]),
                    Some(link) => {
                        return Err(TaskError::PilotAlreadyAssigned {
                            pilot_id: link.pilot_id,
                            assignment_id: link.assignment_id,
                        })
                    }
                    None => TaskEvent::TaskPilotAssigned {
                        pilot_id,
                        assignment_id,
                    },
                }
            }
            // Unlinking a pilot is bookkeeping of the assignment process and may arrive after
            // the task ended (a cancelled task cancels its pilot's assignment, which unlinks).
            // A completed task keeps the pilot who drove it to the end: its assignment then
            // finishes, and that is no reason to unlink.
            TaskCommand::RecordPilotUnassigned {
                pilot_id,
                assignment_id,
                reason,
            } => match self.pilot {
                _ if self.status == TaskStatus::Completed => return Ok(vec![]),
                Some(link) if link.pilot_id == pilot_id && link.assignment_id == assignment_id => {
                    TaskEvent::TaskPilotUnassigned {
                        pilot_id: link.pilot_id,
                        assignment_id,
                        reason: reason.map(String::from),
                    }
                }
                _ => return Ok(vec![]),
            },
        };
        Ok(vec![event])
    }

    /// COMPLETED and CANCELLED are final: every later command is refused.
    fn require_open(&self) -> Result<(), TaskError> {
        if self.status.is_terminal() {
            Err(TaskError::Ended {
                status: self.status,
            })
        } else {
            Ok(())
        }
    }

    fn require(&self, allowed: TaskStatus, command: &TaskCommand) -> Result<(), TaskError> {
        self.require_open()?;
        if self.status == allowed {
            Ok(())
        } else {
            Err(TaskError::InvalidTransition {
                command: command.name(),
                status: self.status,
            })
        }
    }
}

crate::aggregate!(
    Task: TaskCommand => TaskEvent, TaskError, (),
    |task, command, _| task.decide(command)
);

impl Task {
    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: TaskEvent) {
        if let TaskEvent::TaskCreated {
            task_type,
            hub_id,
            robot_id,
            scheduled_at,
            external_ref,
        } = event
        {
            self.0 = Some(TaskState {
                status: TaskStatus::Scheduled,
                task_type,
                hub_id,
                robot_id,
                trip_id: None,
                scheduled_at,
                external_ref,
                pilot: None,
                pause_reason: None,
                cancellation_reason: None,
                cancellation_note: None,
            });
            return;
        }
        let Some(task) = self.0.as_mut() else {
            return;
        };
        if let Some(status) = event.new_status() {
            task.status = status;
        }
        match event {
            TaskEvent::TaskPaused { reason, .. } => task.pause_reason = reason,
            TaskEvent::TaskResumed { .. } => task.pause_reason = None,
            TaskEvent::TaskCancelled { reason, note, .. } => {
                task.cancellation_reason = Some(reason);
                task.cancellation_note = note;
            }
            TaskEvent::TaskTripAttached { trip_id } => task.trip_id = Some(trip_id),
            TaskEvent::TaskRobotAssigned { robot_id, .. } => task.robot_id = Some(robot_id),
            TaskEvent::TaskPilotAssigned {
                pilot_id,
                assignment_id,
            } => {
                task.pilot = Some(PilotLink {
                    pilot_id,
                    assignment_id,
                })
            }
            TaskEvent::TaskPilotUnassigned { .. } => task.pilot = None,
            _ => {}
        }
    }
}
