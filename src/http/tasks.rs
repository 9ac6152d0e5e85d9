use aggregates::task::Task;
use projections::task::{TaskHistoryRow, TaskView};
use sqlx::PgPool;
use uuid::Uuid;

use super::collection::Collection;

impl Collection for Task {
    const PATH: &'static str = "tasks";
    const STATE_PROJECTOR: &'static str = "tasks";
    const HISTORY_PROJECTORS: &'static [&'static str] = &["task_history"];
    type View = TaskView;
    type HistoryRow = TaskHistoryRow;

    fn services() {}

    async fn read(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<TaskView>> {
        TaskView::load(pool, id).await
    }

    async fn history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<TaskHistoryRow>> {
        TaskHistoryRow::for_task(pool, id).await
    }
}
