use aggregates::pilot::{Pilot, PilotServices};
use projections::pilot::{PilotHistoryRow, PilotView};
use sqlx::PgPool;
use uuid::Uuid;

use super::collection::Collection;

impl Collection for Pilot {
    const PATH: &'static str = "pilots";
    const STATE_PROJECTOR: &'static str = "pilots";
    const HISTORY_PROJECTORS: &'static [&'static str] = &["pilot_history"];
    type View = PilotView;
    type HistoryRow = PilotHistoryRow;

    fn services() -> PilotServices {
        PilotServices {
            now: chrono::Utc::now(),
        }
    }

    async fn read(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<PilotView>> {
        PilotView::load(pool, id).await
    }

    async fn history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<PilotHistoryRow>> {
        PilotHistoryRow::for_pilot(pool, id).await
    }
}
