//! The extractors handlers take: each rejects with the API's own error, so a handler never
//! maps a rejection itself.

use axum::extract::{FromRequestParts, Path};
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

/// A route's query parameters as `T`: `400 invalid_query` for an unknown or malformed one,
/// naming it (`field`).
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                invalid(Code::InvalidQuery, &path, &e.into_inner().to_string())
            })
    }
}

/// A field's problem, named: from serde's path where it has one, else from its message
/// (`missing field `x``, `unknown field `x``); a time that does not parse says what a time is.
pub fn invalid(code: Code, path: &str, message: &str) -> ApiError {
    let named = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?;
        Some(rest.split('`').next()?.to_string())
    };
    let field = match path {
        "" | "." | "?" => named("missing field `").or_else(|| named("unknown field `")),
        path => Some(path.to_string()),
    };
    const CHRONO: [&str; 7] = [
        "premature end of input",
        "input contains invalid characters",
        "input is out of range",
        "trailing input",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
        "bad or unsupported format string",
    ];
    let mut detail = match &field {
        Some(field) if !message.contains(&format!("`{field}`")) => format!("{field}: {message}"),
        _ => message.to_string(),
    };
    if CHRONO.iter().any(|m| message.starts_with(m)) {
        detail.push_str(" (a time is RFC 3339, such as 2026-12-01T09:30:00Z)");
    }
    match field {
        Some(field) => ApiError::new(code, detail).with("field", field),
        None => ApiError::new(code, detail),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fields_problem_names_the_field_and_what_a_time_is() {
        let time = invalid(Code::InvalidQuery, "as_of", "premature end of input");
        assert_eq!(time.code(), "invalid_query");
        let missing = invalid(Code::InvalidField, "", "missing field `task_type`");
        let unknown = invalid(
            Code::InvalidQuery,
            "?",
            "unknown field `limt`, expected one of `limit`",
        );
        for (error, field) in [
            (&time, "as_of"),
            (&missing, "task_type"),
            (&unknown, "limt"),
        ] {
            assert_eq!(error.field(), Some(field));
        }
        assert!(time.detail().contains("RFC 3339"), "{}", time.detail());
        assert!(!missing.detail().contains("RFC 3339"));
    }
}
