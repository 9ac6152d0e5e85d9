//! The reads of one entity: its state (now, or then), its history, its events.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};

use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::answer::etag;
use super::collection::Collection;
use super::consistency::{parked_behind, say_behind, wait_for_token, BEHIND_HEADER};
use super::context::ApiContext;
use super::extract::{ApiQuery, EntityId, NoQuery};
use super::problem::{ApiError, Code};
use crate::store::Until;

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
    EntityId(id): EntityId,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    let until = match (query.as_of, query.version) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                Code::InvalidQuery,
                "name either as_of or version, not both",
            ))
        }
        (Some(at), None) => Some(Until::Time(at)),
        (None, Some(version)) => Some(Until::Version(version)),
        (None, None) => None,
    };
    if query.since.is_some() || query.until.is_some() {
        return Err(ApiError::new(
            Code::InvalidQuery,
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
    EntityId(id): EntityId,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    if query.as_of.is_some() || query.version.is_some() {
        return Err(ApiError::new(
            Code::InvalidQuery,
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
    EntityId(id): EntityId,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> Result<Response, ApiError> {
    let limit = super::extract::page_limit(query.limit)?;
    let after = match query.after.unwrap_or(0) {
        n if n < 0 => {
            return Err(ApiError::new(
                Code::InvalidQuery,
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

/// `GET /v1/{collection}/{id}/verify`: the stream's hash chain, recomputed.
pub(super) async fn verify<C: Collection>(
    State(ctx): State<ApiContext>,
    EntityId(id): EntityId,
    _: ApiQuery<NoQuery>,
) -> Result<Response, ApiError> {
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
