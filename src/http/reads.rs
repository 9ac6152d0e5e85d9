//! The reads of one entity: its state (now, or then), its history, its events.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};

use serde::Deserialize;
use utoipa::openapi::path::Parameter;
use utoipa::IntoParams;
use uuid::Uuid;

use super::answer::{
    etag, Break, ChainStatus, Head, PastState, Read, StreamPage, Timeline, TimelineItem,
    Verification,
};
use super::collection::Collection;
use super::collection::Entity;
use super::consistency::{behinds, parked_behind, wait_for_token, with_behind};
use super::context::ApiContext;
use super::extract::{ApiQuery, EntityId, NoQuery};
use super::problem::{ApiError, Code};
use crate::store::Until;

/// What a read takes: `consistent_with`, then `as_of` or `version` (the state then, from the
/// events) for a state, `since` and `until` for a history. One query for both, so that a
/// parameter of the other read is refused with a hint rather than as unknown.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ReadQuery {
    /// A command answer's `token`: answer only once the read models include it (503
    /// `not_yet_consistent` if they do not within the consistency timeout; 400 `unknown_token`
    /// at once for a token this store never issued).
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,19}\.[0-9]{1,18}$")]
    consistent_with: Option<String>,
    /// The state at this moment.
    as_of: Option<DateTime<Utc>>,
    /// The state after this many events.
    #[param(minimum = 1)]
    version: Option<u64>,
    /// Only changes at or after this time.
    since: Option<DateTime<Utc>>,
    /// Only changes before this time.
    until: Option<DateTime<Utc>>,
}

impl ReadQuery {
    /// The documented parameters of a read: those of `names`, in this order.
    pub(super) fn parameters(names: &[&str]) -> Vec<Parameter> {
        let all = Self::into_params(|| None);
        all.into_iter()
            .filter(|p| names.contains(&p.name.as_str()))
            .collect()
    }
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
    let version = view.version();
    let mut response = with_behind(
        Json(Read {
            view,
            behind: behinds(&behind),
        }),
        &behind,
    );
    response.headers_mut().insert(header::ETAG, etag(version));
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
    let mut items: Vec<TimelineItem<C::HistoryRow>> =
        rows.into_iter().map(TimelineItem::Change).collect();
    // Events an operator skipped (dead letters) are part of the timeline: who, when and why.
    let skipped =
        projections::dead_letters::skipped_for(ctx.store.pool(), C::TYPE, &id.to_string()).await?;
    items.extend(
        skipped
            .into_iter()
            .map(|letter| TimelineItem::Skipped(letter.into())),
    );
    items.sort_by_key(|item| item.position().unwrap_or(i64::MAX));
    items.retain(|item| {
        item.changed_at().is_some_and(|at| {
            query.since.is_none_or(|since| at >= since)
                && query.until.is_none_or(|until| at < until)
        })
    });
    let timeline = Timeline {
        id,
        items,
        behind: behinds(&behind),
    };
    Ok(with_behind(Json(timeline), &behind))
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
    let as_of = match until {
        Until::Time(t) => Some(t),
        Until::Version(_) => past.updated_at,
    };
    let version = past.version;
    let mut response = Json(PastState {
        id,
        version,
        as_of,
        created_at: past.created_at,
        updated_at: past.updated_at,
        state: past.aggregate,
    })
    .into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    Ok(response)
}

/// `?after=<sequence>&limit=<n>` on one stream's events.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct StreamQuery {
    /// Only events after this sequence number (the previous page's `next`).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 1000, default = 100)]
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
    let items = page.iter().map(|e| e.to_json()).collect();
    Ok(Json(StreamPage { id, items, next }).into_response())
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
    let broken = report.breaks.first().map(|b| Break {
        sequence: b.sequence,
        kind: b.kind,
        detail: b.detail.clone(),
    });
    Ok(Json(Verification {
        id,
        status: if broken.is_some() {
            ChainStatus::Broken
        } else {
            ChainStatus::Intact
        },
        events: report.events,
        head: Head { sequence, hash },
        broken,
    })
    .into_response())
}
