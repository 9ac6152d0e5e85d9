use aggregates::fo_task::{FoTaskKind, FoTaskStatus, SubtaskDetail, SubtaskStatus};
use aggregates::Location;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::task::enum_value;

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

impl FoTaskView {
    /// One task from the read models, read in one snapshot, so that its parts agree.
    pub async fn load(pool: &PgPool, id: Uuid) -> Result<Option<FoTaskView>, sqlx::Error> {
        let mut tx = crate::views::snapshot(pool).await?;
        let view = Self::load_many(&mut tx, &[id]).await?.pop();
        tx.rollback().await?;
        Ok(view)
    }

    /// Tasks by id, in no particular order, with one statement per table (run them in one
    /// snapshot, `views::snapshot`, for parts that agree).
    pub async fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<FoTaskView>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, hub_id, kind, status, robot_id, trip_id, cancellation_reason, version,
                    created_at, updated_at
               FROM fo_tasks WHERE id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?;
        let mut subtasks = crate::views::children(
            conn,
            "SELECT fo_task_id, subtask_id, position, kind, status, from_lat, from_lng,
                    from_name, from_location_id, to_lat, to_lng, to_name, to_location_id,
                    action, location_lat, location_lng, location_name, location_id,
                    skip_reason, updated_at
               FROM fo_subtasks WHERE fo_task_id = ANY($1) ORDER BY fo_task_id, position",
            ids,
            "fo_task_id",
        )
        .await?;
        let mut assignments = crate::views::children(
            conn,
            "SELECT fo_task_id, assignment_id, fo_id, active, assigned_at, unassigned_at,
                    unassign_reason
               FROM fo_assignments WHERE fo_task_id = ANY($1) ORDER BY fo_task_id, sequence",
            ids,
            "fo_task_id",
        )
        .await?;
        rows.iter()
            .map(|row| {
                let id: Uuid = row.try_get("id")?;
                Self::assemble(
                    row,
                    subtasks.remove(&id).unwrap_or_default(),
                    assignments.remove(&id).unwrap_or_default(),
                )
            })
            .collect()
    }

    fn assemble(
        row: &PgRow,
        subtasks: Vec<PgRow>,
        assignments: Vec<PgRow>,
    ) -> Result<FoTaskView, sqlx::Error> {
        Ok(FoTaskView {
            id: row.try_get("id")?,
            hub_id: row.try_get("hub_id")?,
            kind: enum_value(row, "kind")?,
            status: enum_value(row, "status")?,
            robot_id: row.try_get("robot_id")?,
            trip_id: row.try_get("trip_id")?,
            subtasks: subtasks
                .iter()
                .map(FoSubtaskView::from_row)
                .collect::<Result<_, _>>()?,
            assignments: assignments
                .iter()
                .map(|a| {
                    Ok(FoAssignmentView {
                        assignment_id: a.try_get("assignment_id")?,
                        fo_id: a.try_get("fo_id")?,
                        active: a.try_get("active")?,
                        assigned_at: a.try_get("assigned_at")?,
                        unassigned_at: a.try_get("unassigned_at")?,
                        unassign_reason: a.try_get("unassign_reason")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
            cancellation_reason: row.try_get("cancellation_reason")?,
            version: row.try_get::<i64, _>("version")? as u64,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl FoSubtaskView {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let location = |prefix: &str, id_column: &str| -> Result<Location, sqlx::Error> {
            Ok(Location {
                lat: row.try_get(format!("{prefix}_lat").as_str())?,
                lng: row.try_get(format!("{prefix}_lng").as_str())?,
                name: row.try_get(format!("{prefix}_name").as_str())?,
                location_id: row.try_get(id_column)?,
            })
        };
        let detail = match row.try_get::<String, _>("kind")?.as_str() {
            "TRAVEL" => SubtaskDetail::Travel {
                from: location("from", "from_location_id")?,
                to: location("to", "to_location_id")?,
            },
            _ => SubtaskDetail::Action {
                action: enum_value(row, "action")?,
                location: location("location", "location_id")?,
            },
        };
        Ok(Self {
            subtask_id: row.try_get("subtask_id")?,
            position: row.try_get::<i32, _>("position")? as u32,
            detail,
            status: enum_value(row, "status")?,
            skip_reason: row.try_get("skip_reason")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}
