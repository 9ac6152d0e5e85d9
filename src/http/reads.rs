//! The reads of one entity: its state (now, or then), its history, its events.

use std::time::{Duration, Instant};

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};

use projections::{checkpoint, DeadLetter, FeedPosition};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::collection::{etag, parse_id, Collection};
use super::{ApiContext, ApiError};
use crate::store::Until;

/// `?consistent_with=<token>`: answer only once the read models include that command.
/// A route that takes no query parameters refuses any.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoQuery {}

/// `?anything` on a route that takes no query parameters: 400 `invalid_query`.
pub(super) fn no_query(query: Result<Query<NoQuery>, QueryRejection>) -> Result<(), ApiError> {
    query
        .map(|_| ())
        .map_err(|r| ApiError::bad_request("invalid_query", r.body_text()))
}

/// `?as_of=<RFC 3339>` or `?version=N` (state reads only): the state then, from the events.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReadQuery {
    consistent_with: Option<String>,
    as_of: Option<DateTime<Utc>>,
    version: Option<u64>,
    /// History only: changes at or after this time.
    since: Option<DateTime<Utc>>,
    /// History only: changes before this time.
    until: Option<DateTime<Utc>>,
}

pub(super) async fn show<C: Collection>(
    State(ctx): State<ApiContext>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(path)?;
    let Query(query) = query.map_err(|r| ApiError::bad_request("invalid_query", r.body_text()))?;
    let until = match (query.as_of, query.version) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "name either as_of or version, not both",
            ))
        }
        (Some(at), None) => Some(Until::Time(at)),
        (None, Some(version)) => Some(Until::Version(version)),
        (None, None) => None,
    };
    if query.since.is_some() || query.until.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "since and until filter a history; name as_of to read the state at a moment",
        ));
    }
    if let Some(until) = until {
        return time_travel::<C>(&ctx, id, until).await;
    }
    let token = wait_for_token(&ctx, query.consistent_with, &[C::STATE_PROJECTOR]).await?;
    let behind = parked_behind(&ctx, C::TYPE, id, &[C::STATE_PROJECTOR], token).await?;
    let view = C::read(ctx.store.pool(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no {} with id {id}", C::TYPE)))?;
    let mut value = serde_json::to_value(&view).map_err(ApiError::internal)?;
    let version = value.get("version").and_then(Value::as_u64);
    let header = say_behind(&mut value, &behind);
    let mut response = Json(&value).into_response();
    if let Some(version) = version {
        response.headers_mut().insert(header::ETAG, etag(version));
    }
    if let Some(header) = header {
        response.headers_mut().insert(BEHIND_HEADER, header);
    }
    Ok(response)
}

pub(super) async fn history<C: Collection>(
    State(ctx): State<ApiContext>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(path)?;
    let Query(query) = query.map_err(|r| ApiError::bad_request("invalid_query", r.body_text()))?;
    if query.as_of.is_some() || query.version.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "a history is complete: as_of and version apply to state reads",
        ));
    }
    // The state read model is consulted too (does the entity exist?): wait for it as well.
    let mut projectors = C::HISTORY_PROJECTORS.to_vec();
    projectors.push(C::STATE_PROJECTOR);
    let token = wait_for_token(&ctx, query.consistent_with, &projectors).await?;
    let behind = parked_behind(&ctx, C::TYPE, id, &projectors, token).await?;
    let rows = C::history(ctx.store.pool(), id).await?;
    // An entity whose rows are not projected yet (no consistent_with) may have none: 404 only
    // if its state is unknown too.
    if rows.is_empty() && C::read(ctx.store.pool(), id).await?.is_none() {
        return Err(ApiError::not_found(format!("no {} with id {id}", C::TYPE)));
    }
    let mut rows = rows
        .into_iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::internal)?;
    // Events an operator skipped (dead letters) are part of the timeline: who, when and why.
    let skipped =
        projections::dead_letters::skipped_for(ctx.store.pool(), C::TYPE, &id.to_string()).await?;
    for letter in skipped {
        rows.push(json!({
            "kind": "skipped",
            "sequence": letter.sequence,
            "event_type": letter.event_type,
            "to_status": "SKIPPED",
            "changed_at": letter.resolved_at,
            "actor": letter.resolved_by,
            "reason": letter.reason,
            "position": letter.position,
            "dead_letter": letter.id,
            "projector": letter.projector,
        }));
    }
    rows.sort_by_key(|row| {
        row.get("position")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX)
    });
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let changed_at = row
            .get("changed_at")
            .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok());
        let in_range = changed_at.is_some_and(|at| {
            query.since.is_none_or(|since| at >= since)
                && query.until.is_none_or(|until| at < until)
        });
        if in_range {
            items.push(row);
        }
    }
    let mut value = json!({"id": id, "items": items});
    let header = say_behind(&mut value, &behind);
    let mut response = Json(value).into_response();
    if let Some(header) = header {
        response.headers_mut().insert(BEHIND_HEADER, header);
    }
    Ok(response)
}

/// Names the dead letters that hold a read back, on a read of a parked entity.
pub const BEHIND_HEADER: &str = "x-dead-letters";

/// The dead letters holding an entity back in `projectors`. With a token at or past one of
/// them, the read cannot be consistent with it: 503 naming the dead letter.
pub(super) async fn parked_behind(
    ctx: &ApiContext,
    aggregate_type: &str,
    id: Uuid,
    projectors: &[&str],
    token: Option<FeedPosition>,
) -> Result<Vec<DeadLetter>, ApiError> {
    let parked = projections::dead_letters::parked_for(
        ctx.store.pool(),
        aggregate_type,
        &id.to_string(),
        projectors,
    )
    .await?;
    if let Some(at) = token {
        let blocking = parked.iter().find(|letter| {
            letter
                .token
                .as_deref()
                .and_then(|t| t.parse::<FeedPosition>().ok())
                .is_some_and(|parked_at| parked_at <= at)
        });
        if let Some(letter) = blocking {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "parked",
                format!(
                    "the read models cannot include token {at} for this {aggregate_type}: its \
                     event at {} ({}) could not be applied by {} and waits, with the events \
                     after it, as dead letter {} (GET /v1/dead-letters/{})",
                    letter.token.as_deref().unwrap_or("?"),
                    letter.event_type.as_deref().unwrap_or("?"),
                    letter.projector,
                    letter.id,
                    letter.id
                ),
            )
            .with("dead_letter", letter.id));
        }
    }
    Ok(parked)
}

/// Adds `behind` to a read's body (what holds it back) and answers the header's value, when
/// dead letters hold it back.
fn say_behind(value: &mut Value, behind: &[DeadLetter]) -> Option<axum::http::HeaderValue> {
    if behind.is_empty() {
        return None;
    }
    if let Some(object) = value.as_object_mut() {
        let letters: Vec<Value> = behind
            .iter()
            .map(|letter| {
                json!({
                    "dead_letter": letter.id,
                    "projector": letter.projector,
                    "sequence": letter.sequence,
                    "event_type": letter.event_type,
                    "token": letter.token,
                })
            })
            .collect();
        object.insert("behind".into(), Value::Array(letters));
    }
    let ids: Vec<String> = behind.iter().map(|l| l.id.to_string()).collect();
    axum::http::HeaderValue::from_str(&ids.join(", ")).ok()
}

/// The state at a version or a moment, folded from the events with the aggregate itself: the
/// aggregate's full state, which is what the commands then decided on.
async fn time_travel<C: Collection>(
    ctx: &ApiContext,
    id: Uuid,
    until: Until,
) -> Result<Response, ApiError> {
    let past = ctx
        .store
        .load_until::<C>(&id.to_string(), until)
        .await
        .map_err(ApiError::internal)?;
    let missing = match until {
        Until::Version(v) => past.version < v || v == 0,
        Until::Time(_) => past.version == 0,
    };
    if missing {
        return Err(ApiError::not_found(match until {
            Until::Version(v) => format!("{} {id} has no version {v}", C::TYPE),
            Until::Time(t) => format!("{} {id} did not exist at {t}", C::TYPE),
        }));
    }
    let mut response = Json(json!({
        "id": id,
        "version": past.version,
        "as_of": match until { Until::Time(t) => Some(t), Until::Version(_) => past.updated_at },
        "created_at": past.created_at,
        "updated_at": past.updated_at,
        "state": past.aggregate,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(past.version));
    Ok(response)
}

/// `?after=<sequence>&limit=<n>` on one stream's events.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StreamQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

pub(super) async fn stream_events<C: Collection>(
    State(ctx): State<ApiContext>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(path)?;
    let Query(query) = query.map_err(|r| ApiError::bad_request("invalid_query", r.body_text()))?;
    let limit = super::events::page_limit(query.limit)?;
    let after = match query.after.unwrap_or(0) {
        n if n < 0 => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("after is a sequence number, 0 or more; got {n}"),
            )
            .with("field", "after"))
        }
        n => n,
    };
    let page =
        projections::feed::read_stream(ctx.store.pool(), C::TYPE, &id.to_string(), after, limit)
            .await?;
    if page.is_empty() && after == 0 {
        return Err(ApiError::not_found(format!("no {} with id {id}", C::TYPE)));
    }
    let next = page.last().map_or(after, |e| e.sequence);
    let items: Vec<Value> = page.iter().map(|e| e.to_json()).collect();
    Ok(Json(json!({"id": id, "items": items, "next": next})).into_response())
}

/// Waits, up to the consistency timeout, until `projectors` have applied the feed up to the
/// token the query names (if it names one).
pub(super) async fn wait_for_token(
    ctx: &ApiContext,
    token: Option<String>,
    projectors: &[&str],
) -> Result<Option<FeedPosition>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    let at: FeedPosition = token
        .parse()
        .map_err(|e: String| ApiError::bad_request("invalid_token", e))?;
    // A token this store issued names one of its events. One it never issued (made up, past
    // its position, from another cluster) would otherwise hold the request for the whole
    // timeout, or pass for consistent: it is refused at once.
    let issued: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM events
                         WHERE global_position = $2 AND transaction_id = $1::text::xid8)",
    )
    .bind(at.transaction_id.to_string())
    .bind(at.position)
    .fetch_one(ctx.store.pool())
    .await?;
    if !issued {
        return Err(ApiError::bad_request(
            "unknown_token",
            format!(
                "no event of this store is at {at}: the token was not issued here (a \
                 command's answer or an event of the feed gives one)"
            ),
        ));
    }
    let deadline = Instant::now() + ctx.consistency_timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if checkpoint::reached(ctx.store.pool(), projectors, at).await? {
            return Ok(Some(at));
        }
        if Instant::now() + pause > deadline {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_yet_consistent",
                format!(
                    "the read models did not include token {at} within {} ms; retry later \
                     (GET /v1/projections shows how far each projector has got)",
                    ctx.consistency_timeout.as_millis()
                ),
            )
            .with("retry_after_seconds", 1));
        }
        tokio::time::sleep(pause).await;
        // Short steps: the wait is what a client pays for reading its own write.
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// `GET /v1/{collection}/{id}/verify`: the stream's hash chain, recomputed.
pub(super) async fn verify<C: Collection>(
    State(ctx): State<ApiContext>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<NoQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(path)?;
    no_query(query)?;
    let scope = crate::audit::Scope {
        stream: Some((C::TYPE.to_string(), id.to_string())),
    };
    let report = crate::audit::verify(ctx.store.pool(), &scope, None, |_| {})
        .await
        .map_err(ApiError::internal)?;
    if report.events == 0 {
        return Err(ApiError::not_found(format!("no {} with id {id}", C::TYPE)));
    }
    let head: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT sequence, encode(hash, 'hex') FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
    )
    .bind(C::TYPE)
    .bind(id.to_string())
    .fetch_optional(ctx.store.pool())
    .await?;
    let (sequence, hash) = head.unwrap_or_default();
    let broken = report.breaks.first();
    Ok(Json(json!({
        "id": id,
        "status": if broken.is_some() { "broken" } else { "intact" },
        "events": report.events,
        "head": {"sequence": sequence, "hash": hash},
        "broken": broken.map(|b| json!({"sequence": b.sequence, "kind": b.kind, "detail": b.detail})),
    }))
    .into_response())
}
