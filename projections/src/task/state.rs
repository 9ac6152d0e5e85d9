use aggregates::task::{Task, TaskEvent};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use sqlx::PgConnection;

use super::TaskView;
use crate::frame::{Batch, Fact, Fold, Inconsistent, Rows};

/// Keeps `tasks`, folding each event with the aggregate's own `apply` (`TaskView::fold`).
pub struct TasksProjector;

impl Fold for TasksProjector {
    const NAME: &'static str = "tasks";
    const AGGREGATE_TYPE: &'static str = Task::TYPE;
    const EVENT_TYPES: &'static [&'static str] = TaskEvent::TYPES;
    const TABLES: &'static [&'static str] = &["tasks"];
    type Batch = Tasks;
}

/// The tasks a batch touches.
#[derive(Default)]
pub struct Tasks {
    pub tasks: Rows<TaskView>,
}

#[async_trait]
impl Batch for Tasks {
    type Event = TaskEvent;

    fn want(&mut self, fact: &Fact<'_>, _: &TaskEvent) {
        self.tasks.want(fact.stream);
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.tasks.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: TaskEvent) -> Result<(), Inconsistent> {
        let current = self.tasks.peek(&fact.stream);
        if current.is_some_and(|v| v.version as i64 >= fact.sequence) {
            return Err(Inconsistent("the row is already at or past this event"));
        }
        let next = TaskView::fold(current, fact.stream, event, fact.sequence, fact.at)
            .ok_or(Inconsistent("the task was never created"))?;
        self.tasks.put(next);
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.tasks.write(conn).await
    }
}
