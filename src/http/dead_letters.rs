//! Dead letters, for operators (admin only): list them, retry one after a fix is deployed, or
//! skip one with a reason. The projector's running runner does the retry or skip; the request
//! waits for it (up to the consistency timeout) and answers what became of it.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::dead_letters::{self, DeadLetter, RequestError};
use serde::Deserialize;

use super::answer::Page;
use super::context::ApiContext;
use super::extract::{ApiQuery, DeadLetterId, NoQuery};
use super::problem::{ApiError, Code};
use crate::auth::Principal;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/v1/dead-letters", get(list))
        .route("/v1/dead-letters/{id}", get(show))
        .route("/v1/dead-letters/{id}/retry", post(retry))
        .route("/v1/dead-letters/{id}/skip", post(skip))
}

/// The statuses a dead letter can have.
pub const STATUSES: [&str; 4] = ["parked", "retried", "skipped", "replaced"];
/// The longest skip reason.
pub const MAX_REASON: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    projector: Option<String>,
    status: Option<String>,
    aggregate_type: Option<String>,
    aggregate_id: Option<String>,
    /// The previous page's `next`.
    before: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(ctx): State<ApiContext>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    if let Some(status) = &query.status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!(
                    "status must be one of {}, got `{status}`",
                    STATUSES.join(", ")
                ),
            )
            .with("field", "status"));
        }
    }
    let limit = super::extract::page_limit(query.limit)?;
    let items = dead_letters::list(
        ctx.store.pool(),
        &dead_letters::Filter {
            projector: query.projector,
            status: query.status,
            aggregate_type: query.aggregate_type,
            aggregate_id: query.aggregate_id,
            before: query.before,
            limit,
        },
    )
    .await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|d| d.id))
        .flatten();
    Ok(Json(Page { items, next }).into_response())
}

async fn show(
    State(ctx): State<ApiContext>,
    DeadLetterId(id): DeadLetterId,
    _: ApiQuery<NoQuery>,
) -> Result<Response, ApiError> {
    let found = dead_letters::get(ctx.store.pool(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no dead letter {id}")))?;
    Ok(Json(found).into_response())
}

async fn retry(
    State(ctx): State<ApiContext>,
    principal: Principal,
    DeadLetterId(id): DeadLetterId,
    _: ApiQuery<NoQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // No body, or an empty JSON object.
    if !body.is_empty() {
        let value = json_body(&body)?;
        if value.as_object().is_none_or(|o| !o.is_empty()) {
            return Err(ApiError::new(
                Code::InvalidField,
                "a retry takes no body (or `{}`)",
            ));
        }
    }
    act(&ctx, id, None, &principal.actor).await
}

/// The body as JSON, or `400 malformed_json`.
fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            Code::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Skip {
    reason: String,
}

async fn skip(
    State(ctx): State<ApiContext>,
    principal: Principal,
    DeadLetterId(id): DeadLetterId,
    _: ApiQuery<NoQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_body(&body)?;
    let Skip { reason } = serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            Code::InvalidField,
            format!("a skip's body is {{\"reason\": \"...\"}}: {e}"),
        )
        .with("field", "reason")
    })?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(ApiError::new(
            Code::InvalidField,
            format!("reason must say why, in 1 to {MAX_REASON} characters"),
        )
        .with("field", "reason"));
    }
    act(&ctx, id, Some(reason), &principal.actor).await
}

/// Asks for the retry or skip, wakes the runners, and waits for the outcome.
async fn act(
    ctx: &ApiContext,
    id: i64,
    skip_reason: Option<&str>,
    actor: &str,
) -> Result<Response, ApiError> {
    let pool = ctx.store.pool();
    match dead_letters::request(pool, id, skip_reason, actor).await {
        Ok(_) => {}
        Err(RequestError::NotFound(_)) => {
            return Err(ApiError::not_found(format!("no dead letter {id}")))
        }
        Err(err @ RequestError::Pending { .. }) => {
            return Err(ApiError::new(Code::RequestPending, err.to_string()))
        }
        Err(err @ RequestError::NotParked { .. }) => {
            return Err(ApiError::new(Code::NotParked, err.to_string()))
        }
        Err(RequestError::Database(err)) => return Err(err.into()),
    }
    let deadline = Instant::now() + ctx.consistency_timeout;
    loop {
        let current: DeadLetter = dead_letters::get(pool, id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no dead letter {id}")))?;
        if current.status != "parked" {
            return Ok(Json(current).into_response());
        }
        if current.requested.is_none() {
            // The runner tried, and the event still fails.
            return Err(ApiError::new(
                Code::StillFailing,
                format!(
                    "the event still cannot be applied: {}",
                    current
                        .last_retry_error
                        .as_deref()
                        .unwrap_or("unknown error")
                ),
            )
            .with("dead_letter", id));
        }
        if Instant::now() >= deadline {
            // No runner got to it yet (none running, or busy): it will.
            return Ok((StatusCode::ACCEPTED, Json(current)).into_response());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
