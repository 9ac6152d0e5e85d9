//! What operators look at: each projector's checkpoint, lag and last error.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::context::ApiContext;
use super::problem::ApiError;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/projections", get(projections))
}

async fn projections(
    State(ctx): State<ApiContext>,
    _: super::extract::ApiQuery<super::extract::NoQuery>,
) -> Result<Json<Value>, ApiError> {
    let items = projections::checkpoint::statuses(ctx.store.pool()).await?;
    Ok(Json(json!({ "items": items })))
}
