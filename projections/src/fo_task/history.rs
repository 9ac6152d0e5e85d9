use aggregates::fo_task::{FoTask, FoTaskEvent};
use aggregates::Label;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::frame::{history, row, Append, Appends, Batch, Fact, Fold, Inconsistent};

row! {
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
}

history! {
    /// A row of `fo_task_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct FoTaskHistoryEntry in "fo_task_history" by fo_task_id {
        pub subject: String,
        pub subject_id: Uuid,
        pub from_status: Option<String>,
        pub to_status: String,
        pub reason: Option<String>,
    }
}

/// Keeps `fo_task_history`: one row per status change of a task or of a subtask. An assignment
/// that leaves the task's status as it was is not a change.
pub struct FoTaskHistoryProjector;

impl Fold for FoTaskHistoryProjector {
    const NAME: &'static str = "fo_task_history";
    const AGGREGATE_TYPE: &'static str = FoTask::TYPE;
    const EVENT_TYPES: &'static [&'static str] = &[
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
    const TABLES: &'static [&'static str] = &["fo_task_history"];
    type Batch = FoTaskHistory;
}

/// The history rows a batch adds.
#[derive(Default)]
pub struct FoTaskHistory {
    pub(crate) rows: Appends<FoTaskHistoryEntry>,
}

#[async_trait]
impl Batch for FoTaskHistory {
    type Event = FoTaskEvent;

    fn fold(&mut self, fact: &Fact<'_>, event: FoTaskEvent) -> Result<(), Inconsistent> {
        let reason = match &event {
            FoTaskEvent::FoUnassigned { reason, .. } => reason.clone(),
            FoTaskEvent::FoSubtaskSkipped { reason, .. }
            | FoTaskEvent::FoTaskCancelled { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        let row = |subject: &str, subject_id, from: Option<&str>, to: &str| FoTaskHistoryEntry {
            recorded: fact.recorded(),
            subject: subject.to_string(),
            subject_id,
            from_status: from.map(str::to_string),
            to_status: to.to_string(),
            reason: reason.clone(),
        };
        if let Some((from, to)) = event.task_status_change() {
            (self.rows).push(row(
                "TASK",
                fact.stream,
                from.map(|s| s.as_str()),
                to.as_str(),
            ));
        }
        if let Some((subtask_id, from, to)) = event.subtask_status_change() {
            (self.rows).push(row("SUBTASK", subtask_id, Some(from.as_str()), to.as_str()));
        }
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.rows.write(conn).await
    }
}

impl crate::views::Timeline for FoTaskHistoryRow {
    /// A task's timeline, its own changes and its subtasks' merged, in stream order.
    async fn of(pool: &PgPool, fo_task_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT h.*, h.global_position AS position,
                    e.metadata->>'on_behalf_of' AS on_behalf_of,
                    e.metadata->>'causation_id' AS causation_id
               FROM (SELECT {} FROM fo_task_history WHERE fo_task_id = $1) h
               LEFT JOIN events e ON e.global_position = h.global_position
              ORDER BY h.sequence, h.subject DESC",
            FoTaskHistoryEntry::COLUMNS
        ))
        .bind(fo_task_id)
        .fetch_all(pool)
        .await
    }
}
