use aggregates::task::{
    CancellationReason, PilotLink, Task, TaskEvent, TaskState, TaskStatus, TaskType,
};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::frame::{table, Table};
use uuid::Uuid;

table! {
    /// A task as the API shows it: the columns of the `tasks` read model.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct TaskView in "tasks" by (pub id: Uuid) {
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

impl TaskView {
    /// The view after `event`, the `sequence`-th event of the stream, recorded at `recorded_at`.
    /// Folds with the aggregate's own `apply`, so the read model cannot drift from the state
    /// the commands decide on. `None` when the event does not apply to this (absent) view.
    pub fn fold(
        view: Option<&TaskView>,
        id: Uuid,
        event: TaskEvent,
        sequence: i64,
        recorded_at: DateTime<Utc>,
    ) -> Option<TaskView> {
        let mut task = Task(view.map(TaskView::state));
        let created_at = view.map_or(recorded_at, |v| v.created_at);
        task.apply(event);
        let state = task.state()?;
        Some(Self::from_state(
            id,
            state,
            sequence as u64,
            created_at,
            recorded_at,
        ))
    }

    fn state(&self) -> TaskState {
        TaskState {
            status: self.status,
            task_type: self.task_type,
            hub_id: self.hub_id,
            robot_id: self.robot_id,
            trip_id: self.trip_id,
            scheduled_at: self.scheduled_at,
            external_ref: self.external_ref.clone(),
            pilot: self
                .pilot_id
                .zip(self.assignment_id)
                .map(|(pilot_id, assignment_id)| PilotLink {
                    pilot_id,
                    assignment_id,
                }),
            pause_reason: self.pause_reason.clone(),
            cancellation_reason: self.cancellation_reason,
            cancellation_note: self.cancellation_note.clone(),
        }
    }
}

impl crate::views::Load for TaskView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}
