//! What operators look at: each projector's checkpoint, lag and last error.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use projections::ProjectorStatus;

use super::answer::Items;
use super::api::{Api, Op};
use super::context::ApiContext;
use super::problem::ApiError;

pub fn api() -> Api {
    Api::new().get("/v1/projections", projections, |schemas| {
        let summary = "Each projector's checkpoint, lag and last error";
        Op::new("operations", "projections", summary)
            .json(
                StatusCode::OK,
                "The projectors.",
                schemas.inline::<Items<ProjectorStatus>>(),
            )
            .problems(&[StatusCode::BAD_REQUEST])
    })
}

async fn projections(
    State(ctx): State<ApiContext>,
    _: super::extract::ApiQuery<super::extract::NoQuery>,
) -> Result<Json<Items<ProjectorStatus>>, ApiError> {
    let items = projections::checkpoint::statuses(ctx.store.pool()).await?;
    Ok(Json(Items { items }))
}
