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
            self.tasks.create(task, "the field-operations task already exists")?;
            for (position, spec) in subtasks.into_iter().enumerate() {
                let subtask = SubtaskRow::new(task_id, position as u32, spec, at);
                self.subtasks.create(subtask, "the subtask was already added")?;
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
                self.subtasks.create(subtask, "the subtask was already added")?;
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
                let assignment = self.assignments.get(&key, "the assignment was never made")?;
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
