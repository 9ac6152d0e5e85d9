use aggregates::trip::Trip;
use projections::trip::{TripHistoryRow, TripView};
use sqlx::PgPool;
use uuid::Uuid;

use super::collection::Collection;

impl Collection for Trip {
    const PATH: &'static str = "trips";
    const STATE_PROJECTOR: &'static str = "trips";
    const HISTORY_PROJECTORS: &'static [&'static str] = &["trip_history"];
    type View = TripView;
    type HistoryRow = TripHistoryRow;

    fn services() {}

    async fn read(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<TripView>> {
        TripView::load(pool, id).await
    }

    async fn history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<TripHistoryRow>> {
        TripHistoryRow::for_trip(pool, id).await
    }
}
