//! The raw events: one ordered, gap-safe feed for analysts, in the order the projectors read.

use aggregates::fo_task::{FoTask, FoTaskEvent};
use aggregates::pilot::{Pilot, PilotEvent};
use aggregates::task::{Task, TaskEvent};
use aggregates::trip::{Trip, TripEvent};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use projections::{feed, FeedFilter, FeedPosition};
use serde::Deserialize;

use super::answer::FeedPage;
use super::context::ApiContext;
use super::extract::{page_limit, ApiQuery};
use super::problem::{ApiError, Code};

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/events", get(events))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    after: Option<String>,
    limit: Option<i64>,
    aggregate_type: Option<String>,
    /// One event type, or several separated by commas.
    event_type: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

pub const AGGREGATE_TYPES: [&str; 4] = [Task::TYPE, Trip::TYPE, Pilot::TYPE, FoTask::TYPE];

/// Every event type of the service.
pub fn event_types() -> impl Iterator<Item = &'static str> {
    [
        TaskEvent::TYPES,
        TripEvent::TYPES,
        PilotEvent::TYPES,
        FoTaskEvent::TYPES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

fn known_event_type(name: &str) -> bool {
    event_types().any(|known| known == name)
}

async fn events(
    State(ctx): State<ApiContext>,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Json<FeedPage>, ApiError> {
    let after: FeedPosition = match &query.after {
        Some(token) => token
            .parse()
            .map_err(|e: String| ApiError::new(Code::InvalidToken, e))?,
        None => FeedPosition::default(),
    };
    let limit = page_limit(query.limit)?;
    if let Some(kind) = &query.aggregate_type {
        if !AGGREGATE_TYPES.contains(&kind.as_str()) {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!(
                    "unknown aggregate_type `{kind}`; expected one of: {}",
                    AGGREGATE_TYPES.join(", ")
                ),
            )
            .with("field", "aggregate_type"));
        }
    }
    let event_types = query
        .event_type
        .as_deref()
        .map(|list| {
            list.split(',')
                .map(|name| {
                    let name = name.trim();
                    if known_event_type(name) {
                        Ok(name.to_string())
                    } else {
                        Err(ApiError::new(
                            Code::InvalidQuery,
                            format!("unknown event_type `{name}`"),
                        )
                        .with("field", "event_type"))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let filter = FeedFilter {
        aggregate_type: query.aggregate_type,
        event_types,
        since: query.since,
        until: query.until,
    };
    let page = feed::read_page(ctx.store.pool(), after, &filter, limit).await?;
    let next = page.last().map_or(after, |e| e.at);
    let items = page.iter().map(|e| e.to_json()).collect();
    Ok(Json(FeedPage {
        items,
        next: next.to_string(),
    }))
}
