use uuid::Uuid;

use super::{FoTaskKind, FoTaskStatus, SubtaskSpec, SubtaskStatus};

event_enum! {
    /// What happened to a field-operations task. Every status change, of the task or of a subtask,
    /// carries the status it left, so that a history row is a copy of its event and needs no lookup.
    pub enum FoTaskEvent {
        FoTaskCreated {
            hub_id: Uuid,
            kind: FoTaskKind,
            robot_id: Option<Uuid>,
            trip_id: Option<Uuid>,
            subtasks: Vec<SubtaskSpec>,
        },
        FoSubtaskAdded {
            subtask: SubtaskSpec,
            /// The subtask's 0-based index in the task's list.
            position: u32,
        },
        /// `to_status` equals `from_status` when the task already had an operator or had started.
        FoAssigned {
            assignment_id: Uuid,
            fo_id: Uuid,
            from_status: FoTaskStatus,
            to_status: FoTaskStatus,
        },
        /// `to_status` is CREATED when the last operator of an ASSIGNED task left, else `from_status`.
        FoUnassigned {
            assignment_id: Uuid,
            fo_id: Uuid,
            reason: Option<String>,
            from_status: FoTaskStatus,
            to_status: FoTaskStatus,
        },
        FoTaskStarted {
            from_status: FoTaskStatus,
        },
        FoSubtaskStarted {
            subtask_id: Uuid,
            from_status: SubtaskStatus,
        },
        FoSubtaskCompleted {
            subtask_id: Uuid,
            from_status: SubtaskStatus,
        },
        FoSubtaskSkipped {
            subtask_id: Uuid,
            from_status: SubtaskStatus,
            reason: String,
        },
        FoTaskCompleted {
            from_status: FoTaskStatus,
        },
        FoTaskCancelled {
            from_status: FoTaskStatus,
            reason: String,
        },
    }
}

impl FoTaskEvent {
    /// The task's `(previous, new)` status if this event changes it; the creation has no
    /// previous status. An assignment that leaves the status as it was gives `None`.
    pub fn task_status_change(&self) -> Option<(Option<FoTaskStatus>, FoTaskStatus)> {
        match *self {
            Self::FoTaskCreated { .. } => Some((None, FoTaskStatus::Created)),
            Self::FoAssigned {
                from_status,
                to_status,
                ..
            }
            | Self::FoUnassigned {
                from_status,
                to_status,
                ..
            } => (from_status != to_status).then_some((Some(from_status), to_status)),
            Self::FoTaskStarted { from_status } => {
                Some((Some(from_status), FoTaskStatus::InProgress))
            }
            Self::FoTaskCompleted { from_status } => {
                Some((Some(from_status), FoTaskStatus::Completed))
            }
            Self::FoTaskCancelled { from_status, .. } => {
                Some((Some(from_status), FoTaskStatus::Cancelled))
            }
            Self::FoSubtaskAdded { .. }
            | Self::FoSubtaskStarted { .. }
            | Self::FoSubtaskCompleted { .. }
            | Self::FoSubtaskSkipped { .. } => None,
        }
    }

    /// The subtask and its `(previous, new)` status if this event changes one. A subtask's
    /// creation (in `FoTaskCreated` or `FoSubtaskAdded`, as PENDING) is not a change.
    pub fn subtask_status_change(&self) -> Option<(Uuid, SubtaskStatus, SubtaskStatus)> {
        match *self {
            Self::FoSubtaskStarted {
                subtask_id,
                from_status,
            } => Some((subtask_id, from_status, SubtaskStatus::InProgress)),
            Self::FoSubtaskCompleted {
                subtask_id,
                from_status,
            } => Some((subtask_id, from_status, SubtaskStatus::Done)),
            Self::FoSubtaskSkipped {
                subtask_id,
                from_status,
                ..
            } => Some((subtask_id, from_status, SubtaskStatus::Skipped)),
            Self::FoTaskCreated { .. }
            | Self::FoSubtaskAdded { .. }
            | Self::FoAssigned { .. }
            | Self::FoUnassigned { .. }
            | Self::FoTaskStarted { .. }
            | Self::FoTaskCompleted { .. }
            | Self::FoTaskCancelled { .. } => None,
        }
    }
}
