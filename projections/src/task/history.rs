use aggregates::task::{Task, TaskEvent, TaskStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::frame::{row, table, timeline, Changes, Fact, Inconsistent};

row! {
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
}

table! {
    /// A row of `task_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TaskHistoryEntry in "task_history" {
        pub global_position: i64,
        pub task_id: Uuid,
        pub sequence: i64,
        pub event_type: String,
        pub from_status: Option<TaskStatus>,
        pub to_status: TaskStatus,
        pub changed_at: DateTime<Utc>,
        pub actor: String,
        pub reason: Option<String>,
        pub note: Option<String>,
        pub correlation_id: Option<String>,
    }
}

/// Keeps `task_history`: one row per status-changing event.
pub struct TaskHistoryProjector;

impl Changes for TaskHistoryProjector {
    const NAME: &'static str = "task_history";
    type Aggregate = Task;
    const EVENT_TYPES: &'static [&'static str] = &[
        "TaskCreated",
        "TaskMarkedPending",
        "TaskStarted",
        "TaskPaused",
        "TaskResumed",
        "TaskArrived",
        "TaskCompleted",
        "TaskCancelled",
    ];
    type Event = TaskEvent;
    type Entry = TaskHistoryEntry;

    fn entry(fact: &Fact<'_>, event: TaskEvent) -> Result<Option<TaskHistoryEntry>, Inconsistent> {
        let Some(to_status) = event.new_status() else {
            return Ok(None);
        };
        let (from_status, reason, note) = match event {
            TaskEvent::TaskPaused {
                from_status,
                reason,
            } => (Some(from_status), reason, None),
            TaskEvent::TaskCancelled {
                from_status,
                reason,
                note,
            } => (Some(from_status), Some(reason.to_string()), note),
            TaskEvent::TaskMarkedPending { from_status }
            | TaskEvent::TaskStarted { from_status }
            | TaskEvent::TaskResumed { from_status }
            | TaskEvent::TaskArrived { from_status }
            | TaskEvent::TaskCompleted { from_status } => (Some(from_status), None, None),
            _ => (None, None, None),
        };
        let provenance = fact.provenance();
        Ok(Some(TaskHistoryEntry {
            global_position: fact.position,
            task_id: fact.stream,
            sequence: fact.sequence,
            event_type: fact.event_type().to_string(),
            from_status,
            to_status,
            changed_at: fact.at,
            actor: provenance.actor,
            reason,
            note,
            correlation_id: provenance.correlation_id,
        }))
    }
}

impl crate::views::Timeline for TaskHistoryRow {
    /// A task's timeline, in order.
    async fn of(pool: &PgPool, task_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        timeline::<TaskHistoryEntry, Self>(pool, "task_id", task_id).await
    }
}

#[cfg(test)]
mod tests {
    use aggregates::task::{CancellationReason, TaskType};
    use cqrs_es::Aggregate;

    use super::*;
    use crate::frame::testing::{at, fold};
    use crate::frame::History;

    #[test]
    fn each_status_change_is_one_row_with_who_and_why_and_other_events_none() {
        let task = Uuid::now_v7();
        let events = vec![
            (
                task,
                1,
                TaskEvent::TaskCreated {
                    task_type: TaskType::DeliveryTrip,
                    hub_id: Uuid::nil(),
                    robot_id: None,
                    scheduled_at: None,
                    external_ref: None,
                },
            ),
            (
                task,
                2,
                TaskEvent::TaskTripAttached {
                    trip_id: Uuid::nil(),
                },
            ),
            (
                task,
                3,
                TaskEvent::TaskCancelled {
                    from_status: TaskStatus::Scheduled,
                    reason: CancellationReason::CustomerRequested,
                    note: Some("changed their mind".into()),
                },
            ),
        ];
        let mut batch = History::<TaskHistoryProjector>::default();
        fold(&mut batch, Task::TYPE, events).unwrap();
        let rows: Vec<_> = (batch.rows.rows().iter())
            .map(|r| (r.sequence, r.from_status, r.to_status, r.reason.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                (1, None, TaskStatus::Scheduled, None),
                (
                    3,
                    Some(TaskStatus::Scheduled),
                    TaskStatus::Cancelled,
                    Some("CUSTOMER_REQUESTED")
                ),
            ]
        );
        let cancelled = &batch.rows.rows()[1];
        assert_eq!(
            (cancelled.actor.as_str(), cancelled.changed_at),
            ("tester", at(3))
        );
        assert_eq!(cancelled.global_position, 30);
        assert_eq!(cancelled.correlation_id.as_deref(), Some("c-1"));
    }
}
