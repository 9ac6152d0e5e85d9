use aggregates::task::{Task, TaskEvent, TaskStatus};
use serde::Serialize;

use crate::frame::{history, Changes, Fact, Inconsistent};

history! {
    /// One status change of a task: a copy of its event and the event's metadata.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct TaskHistoryRow;
    /// A row of `task_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TaskHistoryEntry in "task_history" by task_id {
        pub from_status: Option<TaskStatus>,
        pub to_status: TaskStatus,
        pub reason: Option<String>,
        pub note: Option<String>,
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
        Ok(Some(TaskHistoryEntry {
            recorded: fact.recorded(),
            from_status,
            to_status,
            reason,
            note,
        }))
    }
}

#[cfg(test)]
mod tests {
    use aggregates::task::{CancellationReason, TaskType};
    use cqrs_es::Aggregate;
    use uuid::Uuid;

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
            .map(|r| {
                (
                    r.recorded.sequence,
                    r.from_status,
                    r.to_status,
                    r.reason.as_deref(),
                )
            })
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
            (
                cancelled.recorded.actor.as_str(),
                cancelled.recorded.changed_at
            ),
            ("tester", at(3))
        );
        assert_eq!(cancelled.recorded.global_position, 30);
        assert_eq!(cancelled.recorded.correlation_id.as_deref(), Some("c-1"));
    }
}
