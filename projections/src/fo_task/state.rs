use aggregates::fo_task::{FoTask, FoTaskEvent, FoTaskStatus};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use sqlx::PgConnection;

use super::rows::{AssignmentRow, FoTaskRow, SubtaskRow};
use crate::frame::{Batch, Fact, Fold, Inconsistent, Rows};

/// Keeps `fo_tasks`, `fo_subtasks` and `fo_assignments`.
pub struct FoTasksProjector;

impl Fold for FoTasksProjector {
    const NAME: &'static str = "fo_tasks";
    const AGGREGATE_TYPE: &'static str = FoTask::TYPE;
    const EVENT_TYPES: &'static [&'static str] = FoTaskEvent::TYPES;
    const TABLES: &'static [&'static str] = &["fo_tasks", "fo_subtasks", "fo_assignments"];
    type Batch = FoTasks;
}

/// What a batch of field-operations events changes.
#[derive(Default)]
pub struct FoTasks {
    pub(crate) tasks: Rows<FoTaskRow>,
    pub(crate) subtasks: Rows<SubtaskRow>,
    pub(crate) assignments: Rows<AssignmentRow>,
}

#[async_trait]
impl Batch for FoTasks {
    type Event = FoTaskEvent;

    fn want(&mut self, fact: &Fact<'_>, event: &FoTaskEvent) {
        self.tasks.want(fact.stream);
        if let Some((subtask_id, ..)) = event.subtask_status_change() {
            self.subtasks.want((fact.stream, subtask_id));
        }
        if let FoTaskEvent::FoUnassigned { assignment_id, .. } = event {
            self.assignments.want((fact.stream, *assignment_id));
        }
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.tasks.load(conn).await?;
        self.subtasks.load(conn).await?;
        self.assignments.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: FoTaskEvent) -> Result<(), Inconsistent> {
        let (task_id, at) = (fact.stream, fact.at);
        if let FoTaskEvent::FoTaskCreated {
            hub_id,
            kind,
            robot_id,
            trip_id,
            subtasks,
        } = event
        {
            let task = FoTaskRow {
                id: task_id,
                hub_id,
                kind,
                status: FoTaskStatus::Created,
                robot_id,
                trip_id,
                cancellation_reason: None,
                version: fact.sequence,
                created_at: at,
                updated_at: at,
            };
            self.tasks
                .create(task, "the field-operations task already exists")?;
            for (position, spec) in subtasks.into_iter().enumerate() {
                let subtask = SubtaskRow::new(task_id, position as u32, spec, at);
                self.subtasks
                    .create(subtask, "the subtask was already added")?;
            }
            return Ok(());
        }
        let missing = "the field-operations task was never created";
        let task = self.tasks.advance(&task_id, fact.sequence, at, missing)?;
        if let Some((_, to)) = event.task_status_change() {
            task.status = to;
        }
        if let Some((subtask_id, _, status)) = event.subtask_status_change() {
            let key = (task_id, subtask_id);
            let subtask = self.subtasks.get(&key, "the subtask was never added")?;
            subtask.status = status;
            subtask.updated_at = at;
            if let FoTaskEvent::FoSubtaskSkipped { reason, .. } = &event {
                subtask.skip_reason = Some(reason.clone());
            }
        }
        match event {
            FoTaskEvent::FoSubtaskAdded { subtask, position } => {
                let subtask = SubtaskRow::new(task_id, position, subtask, at);
                self.subtasks
                    .create(subtask, "the subtask was already added")?;
            }
            FoTaskEvent::FoAssigned {
                assignment_id,
                fo_id,
                ..
            } => {
                let assignment = AssignmentRow {
                    fo_task_id: task_id,
                    assignment_id,
                    sequence: fact.sequence,
                    fo_id,
                    active: true,
                    assigned_at: at,
                    unassigned_at: None,
                    unassign_reason: None,
                };
                (self.assignments).create(assignment, "the assignment was already made")?;
            }
            FoTaskEvent::FoUnassigned {
                assignment_id,
                reason,
                ..
            } => {
                let key = (task_id, assignment_id);
                let assignment = self
                    .assignments
                    .get(&key, "the assignment was never made")?;
                assignment.active = false;
                assignment.unassigned_at = Some(at);
                assignment.unassign_reason = reason;
            }
            FoTaskEvent::FoTaskCancelled { reason, .. } => {
                let task = self.tasks.get(&task_id, missing)?;
                task.cancellation_reason = Some(reason);
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

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.tasks.write(conn).await?;
        self.subtasks.write(conn).await?;
        self.assignments.write(conn).await
    }
}

#[cfg(test)]
mod tests {
    use aggregates::fo_task::{FoAction, FoTaskKind, SubtaskDetail, SubtaskSpec, SubtaskStatus};
    use aggregates::Location;
    use uuid::Uuid;

    use super::*;
    use crate::frame::testing::{at, fold};

    fn place() -> Location {
        Location {
            lat: 37.7,
            lng: -122.4,
            name: Some("hub".into()),
            location_id: None,
        }
    }

    fn created(subtasks: Vec<SubtaskSpec>) -> FoTaskEvent {
        FoTaskEvent::FoTaskCreated {
            hub_id: Uuid::nil(),
            kind: FoTaskKind::BatterySwap,
            robot_id: None,
            trip_id: None,
            subtasks,
        }
    }

    #[test]
    fn a_skipped_subtask_keeps_its_reason_and_an_unassigned_operator_stays_on_record() {
        let (task, travel, swap) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (assignment, fo) = (Uuid::now_v7(), Uuid::now_v7());
        let subtasks = vec![
            SubtaskSpec {
                subtask_id: travel,
                detail: SubtaskDetail::Travel {
                    from: place(),
                    to: place(),
                },
            },
            SubtaskSpec {
                subtask_id: swap,
                detail: SubtaskDetail::Action {
                    action: FoAction::SwapBattery,
                    location: place(),
                },
            },
        ];
        let events = vec![
            (task, 1, created(subtasks)),
            (
                task,
                2,
                FoTaskEvent::FoAssigned {
                    assignment_id: assignment,
                    fo_id: fo,
                    from_status: FoTaskStatus::Created,
                    to_status: FoTaskStatus::Assigned,
                },
            ),
            (
                task,
                3,
                FoTaskEvent::FoSubtaskSkipped {
                    subtask_id: travel,
                    from_status: SubtaskStatus::Pending,
                    reason: "robot came to us".into(),
                },
            ),
            (
                task,
                4,
                FoTaskEvent::FoUnassigned {
                    assignment_id: assignment,
                    fo_id: fo,
                    reason: Some("shift over".into()),
                    from_status: FoTaskStatus::Assigned,
                    to_status: FoTaskStatus::Created,
                },
            ),
        ];
        let mut batch = FoTasks::default();
        fold(&mut batch, FoTask::TYPE, events).unwrap();
        let row = batch.tasks.peek(&task).unwrap();
        assert_eq!((row.status, row.version), (FoTaskStatus::Created, 4));
        let skipped = batch.subtasks.peek(&(task, travel)).unwrap();
        assert_eq!(skipped.status, SubtaskStatus::Skipped);
        assert_eq!(skipped.skip_reason.as_deref(), Some("robot came to us"));
        let action = batch.subtasks.peek(&(task, swap)).unwrap();
        assert_eq!(
            (action.position, action.status),
            (1, SubtaskStatus::Pending)
        );
        assert_eq!(
            action.detail().unwrap(),
            SubtaskDetail::Action {
                action: FoAction::SwapBattery,
                location: place()
            }
        );
        let ended = batch.assignments.peek(&(task, assignment)).unwrap();
        assert!(!ended.active);
        assert_eq!(ended.unassigned_at, Some(at(4)));
        assert_eq!(ended.unassign_reason.as_deref(), Some("shift over"));
    }

    #[test]
    fn a_change_to_a_subtask_or_assignment_never_made_does_not_fit() {
        let task = Uuid::now_v7();
        let skipped = FoTaskEvent::FoSubtaskStarted {
            subtask_id: Uuid::now_v7(),
            from_status: SubtaskStatus::Pending,
        };
        let unassigned = FoTaskEvent::FoUnassigned {
            assignment_id: Uuid::now_v7(),
            fo_id: Uuid::now_v7(),
            reason: None,
            from_status: FoTaskStatus::Created,
            to_status: FoTaskStatus::Created,
        };
        for (event, reason) in [
            (skipped, "the subtask was never added"),
            (unassigned, "the assignment was never made"),
        ] {
            let events = vec![(task, 1, created(vec![])), (task, 2, event)];
            let refused = fold(&mut FoTasks::default(), FoTask::TYPE, events).unwrap_err();
            assert_eq!(refused, (1, Inconsistent(reason)));
        }
    }
}
