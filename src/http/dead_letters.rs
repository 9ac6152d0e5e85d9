//! Dead letters, for operators (admin only): list them, retry one after a fix is deployed, or
//! skip one with a reason. The projector's running runner does the retry or skip; the request
//! waits for it (up to the consistency timeout) and answers what became of it.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use projections::dead_letters::{self, DeadLetter, RequestError};
use serde::Deserialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

use super::answer::Page;
use super::api::{parameter, Api, Op};
use super::context::ApiContext;
use super::extract::{ApiQuery, DeadLetterId, NoQuery};
use super::problem::{ApiError, Code};
use super::schemas::{schema, Components};
use crate::auth::Principal;

pub fn api() -> Api {
    let op = |id: &str, summary: &str| Op::new("operations", id, summary);
    Api::new()
        .get("/v1/dead-letters", list, |schemas| {
            op(
                "listDeadLetters",
                "Events a projector or process could not apply, newest first",
            )
            .describe(
                "Each parks its stream for that projector: the stream's later events wait \
                 behind it, in order, while every other stream goes on.",
            )
            .query::<ListQuery>()
            .json(
                StatusCode::OK,
                "A page of dead letters.",
                schemas.inline::<Page<DeadLetter, i64>>(),
            )
            .problems(&[StatusCode::BAD_REQUEST])
        })
        .get("/v1/dead-letters/{id}", show, |schemas| {
            op("getDeadLetter", "One dead letter")
                .param(dead_letter_id())
                .json(
                    StatusCode::OK,
                    "The dead letter.",
                    schemas.add::<DeadLetter>(),
                )
                .problems(&[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND])
        })
        .post("/v1/dead-letters/{id}/retry", retry, |schemas| {
            let summary = "Apply the event and the ones parked behind it again, in order (after \
                           a fix)";
            resolution(op("retryDeadLetter", summary), schemas)
        })
        .post("/v1/dead-letters/{id}/skip", skip, |schemas| {
            let summary = "Never apply the event; apply the ones parked behind it";
            resolution(op("skipDeadLetter", summary), schemas).body(schemas.inline::<Skip>())
        })
}

fn dead_letter_id() -> Parameter {
    let schema = serde_json::json!({"type": "integer", "minimum": 1});
    parameter("id", ParameterIn::Path, schema, "The dead letter's id.")
}

/// A retry's or a skip's answers.
fn resolution(op: Op, schemas: &mut Components) -> Op {
    let letter = schemas.add::<DeadLetter>();
    op.describe(
        "Done by the projector's running runner; the request waits for it up to the \
         consistency timeout.",
    )
    .param(dead_letter_id())
    .json(
        StatusCode::OK,
        "Done: the dead letter, resolved.",
        letter.clone(),
    )
    .json(
        StatusCode::ACCEPTED,
        "Asked for; no runner has done it yet.",
        letter,
    )
    .problems(&[
        StatusCode::BAD_REQUEST,
        StatusCode::NOT_FOUND,
        StatusCode::CONFLICT,
    ])
}

/// The statuses a dead letter can have.
pub const STATUSES: [&str; 4] = ["parked", "retried", "skipped", "replaced"];
/// The longest skip reason.
pub const MAX_REASON: usize = 2000;
// The skip body's schema says 2000 (utoipa takes a literal there).
const _: () = assert!(MAX_REASON == 2000);

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this projector's (or `deadlines`).
    projector: Option<String>,
    /// (Described by its schema.)
    #[param(schema_with = status)]
    status: Option<String>,
    /// Only this aggregate type's.
    aggregate_type: Option<String>,
    /// Only this stream's.
    aggregate_id: Option<String>,
    /// The previous page's `next`.
    before: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
}

fn status() -> RefOr<Schema> {
    let description = "Only dead letters in this status.";
    schema(serde_json::json!({"type": "string", "enum": STATUSES, "description": description}))
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Skip {
    /// Why the event is never to be applied.
    #[schema(min_length = 1, max_length = 2000)]
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
