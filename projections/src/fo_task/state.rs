use aggregates::fo_task::{
    FoTask, FoTaskEvent, FoTaskKind, FoTaskStatus, SubtaskDetail, SubtaskSpec, SubtaskStatus,
};
use aggregates::Location;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::task::{enum_text, parse_enum};
use crate::{ProjectionError, Projector, StoredEvent};

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

fn enum_value<T: serde::de::DeserializeOwned>(row: &PgRow, column: &str) -> Result<T, sqlx::Error> {
    parse_enum(&row.try_get::<String, _>(column)?, column)
}

/// Keeps `fo_tasks`, `fo_subtasks` and `fo_assignments`, event by event.
pub struct FoTasksProjector;

#[async_trait]
impl Projector for FoTasksProjector {
    fn name(&self) -> &'static str {
        "fo_tasks"
    }

    fn event_types(&self) -> &'static [&'static str] {
        FoTaskEvent::TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &["fo_tasks", "fo_subtasks", "fo_assignments"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        for event in events.iter().filter(|e| e.aggregate_type == FoTask::TYPE) {
            apply_one(tx, event).await?;
        }
        Ok(())
    }
}

async fn insert_subtask(
    tx: &mut PgConnection,
    fo_task_id: Uuid,
    position: u32,
    spec: &SubtaskSpec,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let none = || (None, None, None, None);
    let some = |l: &Location| (Some(l.lat), Some(l.lng), l.name.clone(), l.location_id);
    let (from, to, action, place) = match &spec.detail {
        SubtaskDetail::Travel { from, to } => (some(from), some(to), None, none()),
        SubtaskDetail::Action { action, location } => {
            (none(), none(), Some(enum_text(action)), some(location))
        }
    };
    sqlx::query(
        "INSERT INTO fo_subtasks (subtask_id, fo_task_id, position, kind, status,
                                  from_lat, from_lng, from_name, from_location_id,
                                  to_lat, to_lng, to_name, to_location_id, action,
                                  location_lat, location_lng, location_name, location_id,
                                  updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19)",
    )
    .bind(spec.subtask_id)
    .bind(fo_task_id)
    .bind(position as i32)
    .bind(enum_text(&spec.detail.kind()))
    .bind(SubtaskStatus::Pending.as_str())
    .bind(from.0)
    .bind(from.1)
    .bind(from.2)
    .bind(from.3)
    .bind(to.0)
    .bind(to.1)
    .bind(to.2)
    .bind(to.3)
    .bind(action)
    .bind(place.0)
    .bind(place.1)
    .bind(place.2)
    .bind(place.3)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn apply_one(tx: &mut PgConnection, event: &StoredEvent) -> Result<(), ProjectionError> {
    let fo_task_id = event.stream_uuid()?;
    let at = event.recorded_at;
    let payload: FoTaskEvent = event.decode()?;
    let expect_one = |done: PgQueryResult, what: &str| {
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(ProjectionError::Inconsistent {
                position: event.at.position,
                reason: what.to_string(),
            })
        }
    };
    if let FoTaskEvent::FoTaskCreated {
        hub_id,
        kind,
        robot_id,
        trip_id,
        subtasks,
    } = &payload
    {
        sqlx::query(
            "INSERT INTO fo_tasks (id, hub_id, kind, status, robot_id, trip_id, version,
                                   created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(fo_task_id)
        .bind(hub_id)
        .bind(enum_text(kind))
        .bind(FoTaskStatus::Created.as_str())
        .bind(robot_id)
        .bind(trip_id)
        .bind(event.sequence)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        for (position, spec) in subtasks.iter().enumerate() {
            insert_subtask(tx, fo_task_id, position as u32, spec, at).await?;
        }
        return Ok(());
    }
    // Every later event moves the task's version, and its status if it changes it.
    let moved = sqlx::query(
        "UPDATE fo_tasks SET version = $2, updated_at = $3, status = COALESCE($4, status)
          WHERE id = $1",
    )
    .bind(fo_task_id)
    .bind(event.sequence)
    .bind(at)
    .bind(payload.task_status_change().map(|(_, to)| to.as_str()))
    .execute(&mut *tx)
    .await?;
    expect_one(moved, "the field-operations task was never created")?;
    if let Some((subtask_id, _, status)) = payload.subtask_status_change() {
        let skip_reason = match &payload {
            FoTaskEvent::FoSubtaskSkipped { reason, .. } => Some(reason.as_str()),
            _ => None,
        };
        let done = sqlx::query(
            "UPDATE fo_subtasks SET status = $3, updated_at = $4,
                    skip_reason = COALESCE($5, skip_reason)
              WHERE fo_task_id = $1 AND subtask_id = $2",
        )
        .bind(fo_task_id)
        .bind(subtask_id)
        .bind(status.as_str())
        .bind(at)
        .bind(skip_reason)
        .execute(&mut *tx)
        .await?;
        expect_one(done, "the subtask was never added")?;
    }
    match payload {
        FoTaskEvent::FoSubtaskAdded { subtask, position } => {
            insert_subtask(tx, fo_task_id, position, &subtask, at).await?;
        }
        FoTaskEvent::FoAssigned {
            assignment_id,
            fo_id,
            ..
        } => {
            sqlx::query(
                "INSERT INTO fo_assignments (assignment_id, fo_task_id, sequence, fo_id, active,
                                             assigned_at)
                 VALUES ($1, $2, $3, $4, true, $5)",
            )
            .bind(assignment_id)
            .bind(fo_task_id)
            .bind(event.sequence)
            .bind(fo_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        FoTaskEvent::FoUnassigned {
            assignment_id,
            reason,
            ..
        } => {
            let done = sqlx::query(
                "UPDATE fo_assignments SET active = false, unassigned_at = $3, unassign_reason = $4
                  WHERE fo_task_id = $1 AND assignment_id = $2",
            )
            .bind(fo_task_id)
            .bind(assignment_id)
            .bind(at)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            expect_one(done, "the assignment was never made")?;
        }
        FoTaskEvent::FoTaskCancelled { reason, .. } => {
            sqlx::query("UPDATE fo_tasks SET cancellation_reason = $2 WHERE id = $1")
                .bind(fo_task_id)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
        }
        FoTaskEvent::FoTaskCreated { .. }
        | FoTaskEvent::FoTaskStarted { .. }
        | FoTaskEvent::FoSubtaskStarted { .. }
        | FoTaskEvent::FoSubtaskCompleted { .. }
        | FoTaskEvent::FoSubtaskSkipped { .. }
        | FoTaskEvent::FoTaskCompleted { .. } => {}
    }
    Ok(())
}
