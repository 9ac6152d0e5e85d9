use aggregates::fo_task::{FoTask, FoTaskEvent};
use aggregates::Label;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::{ProjectionError, Projector, StoredEvent};

/// One status change of a field-operations task (`subject` TASK) or of one of its subtasks
/// (`subject` SUBTASK): a copy of its event and the event's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FoTaskHistoryRow {
    pub fo_task_id: Uuid,
    /// `TASK` or `SUBTASK`.
    pub subject: String,
    /// The task's id for a TASK row, the subtask's for a SUBTASK row.
    pub subject_id: Uuid,
    pub sequence: i64,
    pub event_type: String,
    /// A task status (CREATED...) for TASK rows, a subtask status (PENDING...) for SUBTASK
    /// rows; `null` for the task's creation.
    pub from_status: Option<String>,
    pub to_status: String,
    pub changed_at: DateTime<Utc>,
    pub actor: String,
    /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
    /// for itself.
    pub on_behalf_of: Option<String>,
    /// Why an operator was unassigned, a subtask skipped or the task cancelled.
    pub reason: Option<String>,
    pub correlation_id: Option<String>,
    /// The event's global position.
    pub position: i64,
}

/// Keeps `fo_task_history`: one row per status change of a task or of a subtask, appended in
/// one multi-row insert per batch. An assignment that leaves the task's status as it was is
/// not a change.
pub struct FoTaskHistoryProjector;

const STATUS_EVENTS: &[&str] = &[
    "FoTaskCreated",
    "FoAssigned",
    "FoUnassigned",
    "FoTaskStarted",
    "FoSubtaskStarted",
    "FoSubtaskCompleted",
    "FoSubtaskSkipped",
    "FoTaskCompleted",
    "FoTaskCancelled",
];

const TASK: &str = "TASK";
const SUBTASK: &str = "SUBTASK";

#[async_trait]
impl Projector for FoTaskHistoryProjector {
    fn name(&self) -> &'static str {
        "fo_task_history"
    }

    fn event_types(&self) -> &'static [&'static str] {
        STATUS_EVENTS
    }

    fn tables(&self) -> &'static [&'static str] {
        &["fo_task_history"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut rows = Vec::with_capacity(events.len());
        for event in events.iter().filter(|e| e.aggregate_type == FoTask::TYPE) {
            let payload = event.decode::<FoTaskEvent>()?;
            let provenance = event.provenance();
            let fo_task_id = event.stream_uuid()?;
            let reason = match &payload {
                FoTaskEvent::FoUnassigned { reason, .. } => reason.clone(),
                FoTaskEvent::FoSubtaskSkipped { reason, .. }
                | FoTaskEvent::FoTaskCancelled { reason, .. } => Some(reason.clone()),
                _ => None,
            };
            let row = |subject: &str, subject_id, from: Option<&str>, to: &str| FoTaskHistoryRow {
                fo_task_id,
                subject: subject.to_string(),
                subject_id,
                sequence: event.sequence,
                event_type: event.event_type.clone(),
                from_status: from.map(str::to_string),
                to_status: to.to_string(),
                changed_at: event.recorded_at,
                actor: provenance.actor.clone(),
                on_behalf_of: provenance.on_behalf_of.clone(),
                reason: reason.clone(),
                correlation_id: provenance.correlation_id.clone(),
                position: event.at.position,
            };
            if let Some((from, to)) = payload.task_status_change() {
                rows.push(row(TASK, fo_task_id, from.map(|s| s.as_str()), to.as_str()));
            }
            if let Some((subtask_id, from, to)) = payload.subtask_status_change() {
                rows.push(row(SUBTASK, subtask_id, Some(from.as_str()), to.as_str()));
            }
        }
        insert(tx, rows).await?;
        Ok(())
    }
}

async fn insert(tx: &mut PgConnection, rows: Vec<FoTaskHistoryRow>) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let (mut position, mut subject, mut subject_id, mut fo_task_id) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut sequence, mut event_type, mut from_status, mut to_status) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut changed_at, mut actor, mut reason, mut correlation_id) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for row in rows {
        position.push(row.position);
        subject.push(row.subject);
        subject_id.push(row.subject_id);
        fo_task_id.push(row.fo_task_id);
        sequence.push(row.sequence);
        event_type.push(row.event_type);
        from_status.push(row.from_status);
        to_status.push(row.to_status);
        changed_at.push(row.changed_at);
        actor.push(row.actor);
        reason.push(row.reason);
        correlation_id.push(row.correlation_id);
    }
    sqlx::query(
        "INSERT INTO fo_task_history (global_position, subject, subject_id, fo_task_id, sequence,
                                      event_type, from_status, to_status, changed_at, actor,
                                      reason, correlation_id)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::uuid[], $4::uuid[], $5::bigint[],
                              $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::text[],
                              $11::text[], $12::text[])",
    )
    .bind(position)
    .bind(subject)
    .bind(subject_id)
    .bind(fo_task_id)
    .bind(sequence)
    .bind(event_type)
    .bind(from_status)
    .bind(to_status)
    .bind(changed_at)
    .bind(actor)
    .bind(reason)
    .bind(correlation_id)
    .execute(tx)
    .await?;
    Ok(())
}

impl FoTaskHistoryRow {
    /// A task's timeline, its own changes and its subtasks' merged, in stream order.
    pub async fn for_fo_task(
        pool: &PgPool,
        fo_task_id: Uuid,
    ) -> Result<Vec<FoTaskHistoryRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT h.*, e.metadata->>'on_behalf_of' AS on_behalf_of
               FROM (SELECT global_position, subject, subject_id, fo_task_id, sequence,
                            event_type, from_status, to_status, changed_at, actor, reason,
                            correlation_id
                       FROM fo_task_history WHERE fo_task_id = $1) h
               LEFT JOIN events e ON e.global_position = h.global_position
              ORDER BY h.sequence, h.subject DESC",
        )
        .bind(fo_task_id)
        .fetch_all(pool)
        .await?;
        rows.iter().map(Self::from_row).collect()
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            fo_task_id: row.try_get("fo_task_id")?,
            subject: row.try_get("subject")?,
            subject_id: row.try_get("subject_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            from_status: row.try_get("from_status")?,
            to_status: row.try_get("to_status")?,
            changed_at: row.try_get("changed_at")?,
            actor: row.try_get("actor")?,
            on_behalf_of: row.try_get("on_behalf_of")?,
            reason: row.try_get("reason")?,
            correlation_id: row.try_get("correlation_id")?,
            position: row.try_get("global_position")?,
        })
    }
}
