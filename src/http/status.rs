//! What operators look at: each projector's checkpoint, lag and last error.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::answer::Items;
use super::context::ApiContext;
use super::problem::ApiError;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/projections", get(projections))
}

async fn projections(
    State(ctx): State<ApiContext>,
    _: super::extract::ApiQuery<super::extract::NoQuery>,
) -> Result<Json<Items<projections::ProjectorStatus>>, ApiError> {
    let items = projections::checkpoint::statuses(ctx.store.pool()).await?;
    Ok(Json(Items { items }))
}
