//! The request headers a command takes: for whom, in what flow, on what version, under what key.

use axum::http::HeaderMap;
use uuid::Uuid;

use super::problem::{ApiError, Code};
use crate::commands::Precondition;

const MAX_HEADER_CHARS: usize = 200;

/// The headers of a command request, validated.
pub struct CommandHeaders {
    /// `X-Actor`: the person (or system) the caller acts for, e.g. `dispatcher:ana`. The
    /// actor itself is the authenticated principal; this is recorded beside it.
    pub on_behalf_of: Option<String>,
    pub request_id: String,
    pub correlation_id: String,
    pub precondition: Option<Precondition>,
    pub idempotency_key: Option<String>,
}

impl CommandHeaders {
    pub fn parse(headers: &HeaderMap) -> Result<Self, ApiError> {
        let on_behalf_of = text(headers, "x-actor")?;
        let request_id = text(headers, "x-request-id")?.unwrap_or_else(new_id);
        let correlation_id = text(headers, "x-correlation-id")?.unwrap_or_else(new_id);
        let precondition = text(headers, "if-match")?
            .map(|value| parse_if_match(&value))
            .transpose()?;
        let idempotency_key = text(headers, "idempotency-key")?;
        Ok(Self {
            on_behalf_of,
            request_id,
            correlation_id,
            precondition,
            idempotency_key,
        })
    }
}

fn new_id() -> String {
    Uuid::new_v4().to_string()
}

/// A header's value: visible ASCII, not blank, at most 200 characters.
fn text(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::new(
            Code::InvalidHeader,
            format!("the {name} header must be 1 to {MAX_HEADER_CHARS} visible ASCII characters"),
        )
        .with("header", name)
    };
    let value = value.to_str().map_err(|_| invalid())?.trim();
    if value.is_empty()
        || value.len() > MAX_HEADER_CHARS
        || !value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(invalid());
    }
    Ok(Some(value.to_string()))
}

/// `If-Match` takes the version as an entity tag (`"3"`, as `ETag` gives it) or bare (`3`),
/// or `*` for "the stream exists".
fn parse_if_match(value: &str) -> Result<Precondition, ApiError> {
    if value == "*" {
        return Ok(Precondition::Exists);
    }
    let tag = value.strip_prefix("W/").unwrap_or(value);
    let tag = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    tag.parse::<u64>().map(Precondition::Version).map_err(|_| {
        ApiError::new(
            Code::InvalidHeader,
            "If-Match must be a stream version such as \"3\" (as the ETag header gives it) or *",
        )
        .with("header", "if-match")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_an_entity_tag_a_bare_number_or_a_star() {
        assert_eq!(parse_if_match("\"3\"").unwrap(), Precondition::Version(3));
        assert_eq!(parse_if_match("W/\"3\"").unwrap(), Precondition::Version(3));
        assert_eq!(parse_if_match("12").unwrap(), Precondition::Version(12));
        assert_eq!(parse_if_match("*").unwrap(), Precondition::Exists);
        assert!(parse_if_match("three").is_err());
        assert!(parse_if_match("-1").is_err());
    }
}
