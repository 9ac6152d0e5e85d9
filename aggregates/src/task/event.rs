use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CancellationReason, TaskStatus, TaskType};

event_enum! {
    /// What happened to a task. Status changes carry the status they left, so that a history row
    /// is a copy of its event and needs no lookup.
    pub enum TaskEvent {
        TaskCreated {
            task_type: TaskType,
            hub_id: Uuid,
            robot_id: Option<Uuid>,
            scheduled_at: Option<DateTime<Utc>>,
            external_ref: Option<String>,
        },
        TaskMarkedPending {
            from_status: TaskStatus,
        },
        TaskStarted {
            from_status: TaskStatus,
        },
        TaskPaused {
            from_status: TaskStatus,
            reason: Option<String>,
        },
        TaskResumed {
            from_status: TaskStatus,
        },
        TaskArrived {
            from_status: TaskStatus,
        },
        TaskCompleted {
            from_status: TaskStatus,
        },
        TaskCancelled {
            from_status: TaskStatus,
            reason: CancellationReason,
            note: Option<String>,
        },
        TaskTripAttached {
            trip_id: Uuid,
        },
        TaskRobotAssigned {
            robot_id: Uuid,
            previous_robot_id: Option<Uuid>,
        },
        TaskPilotAssigned {
            pilot_id: Uuid,
            assignment_id: Uuid,
        },
        TaskPilotUnassigned {
            pilot_id: Uuid,
            assignment_id: Uuid,
            reason: Option<String>,
        },
    }
}

impl TaskEvent {
    /// The status this event moves the task to, if it changes the status.
    pub fn new_status(&self) -> Option<TaskStatus> {
        match self {
            Self::TaskCreated { .. } => Some(TaskStatus::Scheduled),
            Self::TaskMarkedPending { .. } => Some(TaskStatus::Pending),
            Self::TaskStarted { .. } | Self::TaskResumed { .. } => Some(TaskStatus::InProgress),
            Self::TaskPaused { .. } => Some(TaskStatus::Paused),
            Self::TaskArrived { .. } => Some(TaskStatus::Arrived),
            Self::TaskCompleted { .. } => Some(TaskStatus::Completed),
            Self::TaskCancelled { .. } => Some(TaskStatus::Cancelled),
            Self::TaskTripAttached { .. }
            | Self::TaskRobotAssigned { .. }
            | Self::TaskPilotAssigned { .. }
            | Self::TaskPilotUnassigned { .. } => None,
        }
    }
}
