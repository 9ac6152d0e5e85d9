use aggregates::fo_task::FoTask;
use projections::fo_task::{FoTaskHistoryRow, FoTaskView};
use sqlx::PgPool;
use uuid::Uuid;

use super::collection::Collection;

impl Collection for FoTask {
    const PATH: &'static str = "fo-tasks";
    const STATE_PROJECTOR: &'static str = "fo_tasks";
    const HISTORY_PROJECTORS: &'static [&'static str] = &["fo_task_history"];
    type View = FoTaskView;
    type HistoryRow = FoTaskHistoryRow;

    fn services() {}

    async fn read(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<FoTaskView>> {
        FoTaskView::load(pool, id).await
    }

    async fn history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<FoTaskHistoryRow>> {
        FoTaskHistoryRow::for_fo_task(pool, id).await
    }
}
