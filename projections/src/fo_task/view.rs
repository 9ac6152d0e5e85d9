use aggregates::fo_task::{FoTaskKind, FoTaskStatus, SubtaskDetail, SubtaskStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::rows::{AssignmentRow, FoTaskRow, SubtaskRow};
use crate::frame::Table;

/// A field-operations task as the API shows it: its `fo_tasks` row, its subtasks in order and
/// every assignment it had.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FoTaskView {
    pub id: Uuid,
    pub hub_id: Uuid,
    pub kind: FoTaskKind,
    pub status: FoTaskStatus,
    pub robot_id: Option<Uuid>,
    pub trip_id: Option<Uuid>,
    /// In the order the operator works through them.
    pub subtasks: Vec<FoSubtaskView>,
    /// Every assignment the task ever had, active or ended, in the order they were made.
    pub assignments: Vec<FoAssignmentView>,
    pub cancellation_reason: Option<String>,
    /// The stream version: the number of events the task has.
    pub version: u64,
    /// When the first event was recorded.
    pub created_at: DateTime<Utc>,
    /// When the last event was recorded.
    pub updated_at: DateTime<Utc>,
}

/// A subtask with its detail as a client gives it: `"kind": "TRAVEL"` with `from` and `to`, or
/// `"kind": "ACTION"` with `action` and `location`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FoSubtaskView {
    pub subtask_id: Uuid,
    /// The subtask's 0-based place in the task's list.
    pub position: u32,
    #[serde(flatten)]
    pub detail: SubtaskDetail,
    pub status: SubtaskStatus,
    pub skip_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FoAssignmentView {
    pub assignment_id: Uuid,
    pub fo_id: Uuid,
    pub active: bool,
    pub assigned_at: DateTime<Utc>,
    pub unassigned_at: Option<DateTime<Utc>>,
    pub unassign_reason: Option<String>,
}

impl crate::views::Load for FoTaskView {
    /// One task from the read models, read in one snapshot, so that its parts agree.
    async fn load(pool: &PgPool, id: Uuid) -> Result<Option<FoTaskView>, sqlx::Error> {
        let mut tx = crate::views::snapshot(pool).await?;
        let view = Self::load_many(&mut tx, &[id]).await?.pop();
        tx.rollback().await?;
        Ok(view)
    }

    /// Tasks by id, in no particular order, with one statement per table (run them in one
    /// snapshot, `views::snapshot`, for parts that agree).
    async fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<FoTaskView>, sqlx::Error> {
        let tasks = FoTaskRow::load(conn, ids).await?;
        let mut subtasks = crate::views::children(
            conn,
            &format!(
                "SELECT {} FROM fo_subtasks WHERE fo_task_id = ANY($1) ORDER BY fo_task_id, position",
                SubtaskRow::COLUMNS
            ),
            ids,
            |r: &SubtaskRow| r.fo_task_id,
        )
        .await?;
        let mut assignments = crate::views::children(
            conn,
            &format!(
                "SELECT {} FROM fo_assignments WHERE fo_task_id = ANY($1) ORDER BY fo_task_id, sequence",
                AssignmentRow::COLUMNS
            ),
            ids,
            |r: &AssignmentRow| r.fo_task_id,
        )
        .await?;
        tasks
            .into_iter()
            .map(|task| {
                let id = task.id;
                Self::assemble(
                    task,
                    subtasks.remove(&id).unwrap_or_default(),
                    assignments.remove(&id).unwrap_or_default(),
                )
            })
            .collect()
    }
}

impl FoTaskView {
    fn assemble(
        task: FoTaskRow,
        subtasks: Vec<SubtaskRow>,
        assignments: Vec<AssignmentRow>,
    ) -> Result<FoTaskView, sqlx::Error> {
        Ok(FoTaskView {
            id: task.id,
            hub_id: task.hub_id,
            kind: task.kind,
            status: task.status,
            robot_id: task.robot_id,
            trip_id: task.trip_id,
            subtasks: subtasks
                .into_iter()
                .map(|s| {
                    Ok(FoSubtaskView {
                        subtask_id: s.subtask_id,
                        position: s.position as u32,
                        detail: s.detail()?,
                        status: s.status,
                        skip_reason: s.skip_reason,
                        updated_at: s.updated_at,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
            assignments: assignments
                .into_iter()
                .map(|a| FoAssignmentView {
                    assignment_id: a.assignment_id,
                    fo_id: a.fo_id,
                    active: a.active,
                    assigned_at: a.assigned_at,
                    unassigned_at: a.unassigned_at,
                    unassign_reason: a.unassign_reason,
                })
                .collect(),
            cancellation_reason: task.cancellation_reason,
            version: task.version as u64,
            created_at: task.created_at,
            updated_at: task.updated_at,
        })
    }
}
