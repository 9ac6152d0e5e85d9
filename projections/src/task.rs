use aggregates::task::{CancellationReason, TaskState, TaskStatus, TaskType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A task as the API shows it: the columns of the `tasks` read model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: Uuid,
    pub status: TaskStatus,
    pub task_type: TaskType,
    pub hub_id: Uuid,
    pub robot_id: Option<Uuid>,
    pub trip_id: Option<Uuid>,
    pub pilot_id: Option<Uuid>,
    pub assignment_id: Option<Uuid>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub external_ref: Option<String>,
    pub pause_reason: Option<String>,
    pub cancellation_reason: Option<CancellationReason>,
    pub cancellation_note: Option<String>,
    /// The stream version: the number of events the task has.
    pub version: u64,
    /// When the first event was recorded.
    pub created_at: DateTime<Utc>,
    /// When the last event was recorded.
    pub updated_at: DateTime<Utc>,
}

impl TaskView {
    pub fn from_state(
        id: Uuid,
        state: &TaskState,
        version: u64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            status: state.status,
            task_type: state.task_type,
            hub_id: state.hub_id,
            robot_id: state.robot_id,
            trip_id: state.trip_id,
            pilot_id: state.pilot.map(|p| p.pilot_id),
            assignment_id: state.pilot.map(|p| p.assignment_id),
            scheduled_at: state.scheduled_at,
            external_ref: state.external_ref.clone(),
            pause_reason: state.pause_reason.clone(),
            cancellation_reason: state.cancellation_reason,
            cancellation_note: state.cancellation_note.clone(),
            version,
            created_at,
            updated_at,
        }
    }
}
