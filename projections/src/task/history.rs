use aggregates::task::{TaskEvent, TaskStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::view::{enum_text, parse_enum};
use crate::{ProjectionError, Projector, StoredEvent};

/// One status change of a task: a copy of its event and the event's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TaskHistoryRow {
    pub task_id: Uuid,
    pub sequence: i64,
    pub event_type: String,
    pub from_status: Option<TaskStatus>,
    pub to_status: TaskStatus,
    pub changed_at: DateTime<Utc>,
    pub actor: String,
    /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
    /// for itself.
    pub on_behalf_of: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub correlation_id: Option<String>,
    /// The event's global position.
    pub position: i64,
}

/// Keeps `task_history`: one row per status-changing event, appended in one multi-row insert
/// per batch.
pub struct TaskHistoryProjector;

const STATUS_EVENTS: &[&str] = &[
    "TaskCreated",
    "TaskMarkedPending",
    "TaskStarted",
    "TaskPaused",
    "TaskResumed",
    "TaskArrived",
    "TaskCompleted",
    "TaskCancelled",
];

#[async_trait]
impl Projector for TaskHistoryProjector {
    fn name(&self) -> &'static str {
        "task_history"
    }

    fn event_types(&self) -> &'static [&'static str] {
        STATUS_EVENTS
    }

    fn tables(&self) -> &'static [&'static str] {
        &["task_history"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let payload = event.decode::<TaskEvent>()?;
            let provenance = event.provenance();
            let Some(to_status) = payload.new_status() else {
                continue;
            };
            let (from_status, reason, note) = match payload {
                TaskEvent::TaskCreated { .. } => (None, None, None),
                TaskEvent::TaskPaused {
                    from_status,
                    reason,
                } => (Some(from_status), reason, None),
                TaskEvent::TaskCancelled {
                    from_status,
                    reason,
                    note,
                } => (Some(from_status), Some(enum_text(&reason)), note),
                TaskEvent::TaskMarkedPending { from_status }
                | TaskEvent::TaskStarted { from_status }
                | TaskEvent::TaskResumed { from_status }
                | TaskEvent::TaskArrived { from_status }
                | TaskEvent::TaskCompleted { from_status } => (Some(from_status), None, None),
                _ => continue,
            };
            rows.push(TaskHistoryRow {
                task_id: Uuid::parse_str(&event.aggregate_id).map_err(|_| {
                    ProjectionError::Inconsistent {
                        position: event.at.position,
                        reason: "the stream id is not a UUID".into(),
                    }
                })?,
                sequence: event.sequence,
                event_type: event.event_type.clone(),
                from_status,
                to_status,
                changed_at: event.recorded_at,
                actor: provenance.actor,
                on_behalf_of: provenance.on_behalf_of,
                reason,
                note,
                correlation_id: provenance.correlation_id,
                position: event.at.position,
            });
        }
        insert(tx, rows).await?;
        Ok(())
    }
}

async fn insert(tx: &mut PgConnection, rows: Vec<TaskHistoryRow>) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for row in rows {
        columns.0.push(row.position);
        columns.1.push(row.task_id);
        columns.2.push(row.sequence);
        columns.3.push(row.event_type);
        columns.4.push(row.from_status.as_ref().map(enum_text));
        columns.5.push(enum_text(&row.to_status));
        columns.6.push(row.changed_at);
        columns.7.push(row.actor);
        columns.8.push(row.reason);
        columns.9.push(row.note);
        columns.10.push(row.correlation_id);
    }
    sqlx::query(
        "INSERT INTO task_history (global_position, task_id, sequence, event_type, from_status,
                                   to_status, changed_at, actor, reason, note, correlation_id)
         SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::bigint[], $4::text[], $5::text[],
                              $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[],
                              $11::text[])",
    )
    .bind(columns.0)
    .bind(columns.1)
    .bind(columns.2)
    .bind(columns.3)
    .bind(columns.4)
    .bind(columns.5)
    .bind(columns.6)
    .bind(columns.7)
    .bind(columns.8)
    .bind(columns.9)
    .bind(columns.10)
    .execute(tx)
    .await?;
    Ok(())
}

impl TaskHistoryRow {
    /// A task's timeline, in order.
    pub async fn for_task(
        pool: &PgPool,
        task_id: Uuid,
    ) -> Result<Vec<TaskHistoryRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT h.*, e.metadata->>'on_behalf_of' AS on_behalf_of
               FROM (SELECT global_position, task_id, sequence, event_type, from_status,
                            to_status, changed_at, actor, reason, note, correlation_id
                       FROM task_history WHERE task_id = $1) h
               LEFT JOIN events e ON e.global_position = h.global_position
              ORDER BY h.sequence",
        )
        .bind(task_id)
        .fetch_all(pool)
        .await?;
        rows.iter().map(Self::from_row).collect()
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            task_id: row.try_get("task_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            from_status: row
                .try_get::<Option<String>, _>("from_status")?
                .map(|s| parse_enum(&s, "from_status"))
                .transpose()?,
            to_status: parse_enum(&row.try_get::<String, _>("to_status")?, "to_status")?,
            changed_at: row.try_get("changed_at")?,
            actor: row.try_get("actor")?,
            on_behalf_of: row.try_get("on_behalf_of")?,
            reason: row.try_get("reason")?,
            note: row.try_get("note")?,
            correlation_id: row.try_get("correlation_id")?,
            position: row.try_get("global_position")?,
        })
    }
}
