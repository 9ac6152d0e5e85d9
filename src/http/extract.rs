//! The extractors handlers take: each rejects with the API's own error, so a handler never
//! maps a rejection itself.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use super::headers::CommandHeaders;
use super::problem::{ApiError, Code};

/// The entity id of the path (`/v1/{collection}/{id}`...): `400 invalid_id` unless a UUID.
#[derive(Debug, Clone, Copy)]
pub struct EntityId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for EntityId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::new(Code::InvalidId, r.body_text()))?;
        Uuid::parse_str(&raw).map(EntityId).map_err(|_| {
            ApiError::new(Code::InvalidId, format!("`{raw}` is not a UUID")).with("id", raw)
        })
    }
}

/// A route's query parameters as `T`: `400 invalid_query` for an unknown or malformed one.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(query)| ApiQuery(query))
            .map_err(|r| ApiError::new(Code::InvalidQuery, r.body_text()))
    }
}

/// The query of a route that takes none: any parameter is `400 invalid_query`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        CommandHeaders::parse(&parts.headers)
    }
}

/// A dead letter's id in the path: `400 invalid_id` unless a positive number.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetterId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for DeadLetterId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::new(Code::InvalidId, r.body_text()))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(DeadLetterId)
            .ok_or_else(|| {
                ApiError::new(
                    Code::InvalidId,
                    format!("`{raw}` is not a dead letter's id (a positive number)"),
                )
                .with("id", raw)
            })
    }
}

/// A page of events: 100 unless `?limit=` says otherwise, at most 1,000.
pub const EVENT_PAGE: i64 = 100;
pub const MAX_EVENT_PAGE: i64 = 1000;

/// `?limit=`: 1 to 1,000, default 100.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit.unwrap_or(EVENT_PAGE) {
        n @ 1..=MAX_EVENT_PAGE => Ok(n),
        n => Err(ApiError::new(
            Code::InvalidQuery,
            format!("limit must be from 1 to {MAX_EVENT_PAGE}, got {n}"),
        )
        .with("field", "limit")),
    }
}
