//! What operators look at: each projector's checkpoint, lag and last error.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{ApiContext, ApiError};

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/projections", get(projections))
}

async fn projections(
    State(ctx): State<ApiContext>,
    query: Result<
        axum::extract::Query<super::reads::NoQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Json<Value>, ApiError> {
    super::reads::no_query(query)?;
    let items = projections::checkpoint::statuses(ctx.store.pool()).await?;
    Ok(Json(json!({ "items": items })))
}
