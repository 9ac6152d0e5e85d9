//! Every error the API answers, as `application/problem+json` (RFC 9457).

use aggregates::DomainError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::commands::CommandError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Declares the API's error codes once: each with its status and what it means. The API error
/// and the OpenAPI document's responses both read this table.
macro_rules! error_codes {
    ($($name:ident = $code:literal, $status:ident, $description:literal;)+) => {
        /// An error code of the API itself (the aggregates' refusals bring their own codes, all
        /// `409`, or `404` for an entity that does not exist).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $($name),+
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$name),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $code),+
                }
            }

            pub const fn status(self) -> StatusCode {
                match self {
                    $(Code::$name => StatusCode::$status),+
                }
            }

            pub const fn description(self) -> &'static str {
                match self {
                    $(Code::$name => $description),+
                }
            }
        }
    };
}

error_codes! {
    MalformedJson = "malformed_json", BAD_REQUEST, "The body is not valid JSON.";
    BodyNotObject = "body_not_object", BAD_REQUEST, "The body is JSON but not an object.";
    CommandTypeMissing = "command_type_missing", BAD_REQUEST, "The body names no command (`type`).";
    UnknownCommand = "unknown_command", BAD_REQUEST, "`type` names no command of this collection (`command`).";
    InvalidField = "invalid_field", BAD_REQUEST, "A field is missing, unknown, of the wrong type or out of range (`field`).";
    InvalidId = "invalid_id", BAD_REQUEST, "The path's id is not a UUID (`id`).";
    InvalidHeader = "invalid_header", BAD_REQUEST, "A header is malformed (`header`).";
    InvalidQuery = "invalid_query", BAD_REQUEST, "A query parameter is unknown or malformed (`field`).";
    InvalidToken = "invalid_token", BAD_REQUEST, "`consistent_with` or `after` is not a feed token.";
    UnknownToken = "unknown_token", BAD_REQUEST, "The feed token was not issued by this store.";
    UnreadableBody = "unreadable_body", BAD_REQUEST, "The body could not be read: it stalled (400) or is over the size limit (413).";
    CredentialRequired = "credential_required", UNAUTHORIZED, "No credential was sent.";
    MalformedCredential = "malformed_credential", UNAUTHORIZED, "The credential is not an API key or a JWT.";
    UnknownKey = "unknown_key", UNAUTHORIZED, "No such API key.";
    KeyRevoked = "key_revoked", UNAUTHORIZED, "The API key was revoked.";
    CredentialExpired = "credential_expired", UNAUTHORIZED, "The API key or JWT has expired.";
    InvalidJwt = "invalid_jwt", UNAUTHORIZED, "The JWT's signature, issuer, audience or claims are not valid.";
    Forbidden = "forbidden", FORBIDDEN, "The credential's role may not do this (`roles_needed`).";
    NotFound = "not_found", NOT_FOUND, "No such entity, version or route.";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "The route does not take this method.";
    RequestTimeout = "request_timeout", REQUEST_TIMEOUT, "The request took longer than the service allows.";
    ConcurrentModification = "concurrent_modification", CONFLICT, "Another write to the stream won; retry.";
    UnknownReference = "unknown_reference", UNPROCESSABLE_ENTITY, "The command names an entity that does not exist (`field`, `value`).";
    ReferenceState = "reference_state", CONFLICT, "The command names an entity in a state it does not allow (`field`, `value`, `state`).";
    RobotUnavailable = "robot_unavailable", CONFLICT, "The trip's robot cannot set out or park as the trip asks (`robot_id`, `robot_status`).";
    ValueTaken = "value_taken", CONFLICT, "A value unique among the entities is another's (`field`, `value`, `held_by`).";
    NotParked = "not_parked", CONFLICT, "The dead letter is not parked (already retried or skipped).";
    RequestPending = "request_pending", CONFLICT, "Another action on the dead letter is pending.";
    StillFailing = "still_failing", CONFLICT, "The retried event still cannot be applied.";
    VersionMismatch = "version_mismatch", PRECONDITION_FAILED, "`If-Match` named another version (`current_version`).";
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "The `Idempotency-Key` was used with another body.";
    RateLimited = "rate_limited", TOO_MANY_REQUESTS, "Too many requests (`retry_after_seconds`).";
    InternalError = "internal_error", INTERNAL_SERVER_ERROR, "A failure of the service; `X-Request-Id` finds it in the logs.";
    NotYetConsistent = "not_yet_consistent", SERVICE_UNAVAILABLE, "The read models did not reach `consistent_with` in time; retry.";
    Parked = "parked", SERVICE_UNAVAILABLE, "The entity's stream waits behind a dead letter at or before `consistent_with` (`dead_letter`).";
    AuthenticationUnavailable = "authentication_unavailable", SERVICE_UNAVAILABLE, "The JWT keys could not be fetched; retry.";
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    extra: Map<String, Value>,
    cause: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self::with_status(code.status(), code.as_str(), detail)
    }

    /// An aggregate's refusal, with its own code.
    fn with_status(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            extra: Map::new(),
            cause: None,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(Code::NotFound, detail)
    }

    /// A failure of ours, not the caller's: logged with its cause (once, here), answered
    /// opaquely.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(
                Code::InternalError,
                "the service failed to handle the request; the x-request-id header identifies it in the logs",
            )
        }
    }

    /// Adds a member to the problem document (`field`, `current_version`...).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// The same problem with another status (`unreadable_body` is 413 for a body too large).
    pub fn at(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The `field` member, when the problem names one.
    pub fn field(&self) -> Option<&str> {
        self.extra.get("field").and_then(Value::as_str)
    }
}

impl<E: DomainError> From<CommandError<E>> for ApiError {
    fn from(err: CommandError<E>) -> Self {
        let detail = err.to_string();
        match err {
            CommandError::Refused(e) if e.is_not_found() => Self::not_found(detail),
            CommandError::Refused(e) => Self::with_status(StatusCode::CONFLICT, e.code(), detail),
            CommandError::Conflict => Self::new(Code::ConcurrentModification, detail),
            CommandError::PreconditionFailed { actual } => {
                Self::new(Code::VersionMismatch, detail).with("current_version", actual)
            }
            CommandError::KeyReused => Self::new(Code::IdempotencyKeyReused, detail),
            CommandError::Taken {
                field,
                value,
                holder,
            } => Self::new(Code::ValueTaken, detail)
                .with("field", field)
                .with("value", value)
                .with("held_by", holder),
            CommandError::UnknownReference { field, value, .. } => {
                Self::new(Code::UnknownReference, detail)
                    .with("field", field)
                    .with("value", value.to_string())
            }
            CommandError::ReferenceState {
                field,
                value,
                state,
                ..
            } => Self::new(Code::ReferenceState, detail)
                .with("field", field)
                .with("value", value.to_string())
                .with("state", state),
            CommandError::Companion(refusal) => Self::new(Code::RobotUnavailable, detail)
                .with("robot_id", refusal.robot_id.to_string())
                .with("robot_status", <&str>::from(refusal.robot_status)),
            CommandError::Store(cause) => Self::internal(cause),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = ?cause, status = self.status.as_u16(), "request failed");
        }
        let mut body = json!({
            "type": format!("urn:operations:problem:{}", self.code),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let Value::Object(members) = &mut body {
            members.extend(self.extra);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// The problem document's schema.
pub fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details. `code` is stable and machine-readable; \
                        some problems add members (`field`, `current_version`, `command`, \
                        `header`, `retry_after_seconds`, `value`, `held_by`).",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "field": {"type": "string"},
            "current_version": {"type": "integer"},
            "value": {"type": "string"},
            "held_by": {"type": "string", "description": "The id of the entity that \
                                                        holds `value` (`value_taken`)."},
        },
    })
}

/// The document's shared responses (`#/components/responses/<name>`), one per status a
/// problem has: what each operation names among its answers.
pub const SHARED_RESPONSES: [(StatusCode, &str); 10] = [
    (StatusCode::BAD_REQUEST, "BadRequest"),
    (StatusCode::UNAUTHORIZED, "Unauthorized"),
    (StatusCode::FORBIDDEN, "Forbidden"),
    (StatusCode::NOT_FOUND, "NotFound"),
    (StatusCode::CONFLICT, "Conflict"),
    (StatusCode::PRECONDITION_FAILED, "PreconditionFailed"),
    (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"),
    (StatusCode::UNPROCESSABLE_ENTITY, "IdempotencyKeyReused"),
    (StatusCode::SERVICE_UNAVAILABLE, "NotYetConsistent"),
    (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
];

/// A reference to the shared response of a problem's status.
pub fn shared_response(status: StatusCode) -> Value {
    let (_, name) = (SHARED_RESPONSES.iter())
        .find(|(shared, _)| *shared == status)
        .expect("a shared response for every status a problem has");
    json!({"$ref": format!("#/components/responses/{name}")})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_spelt_once_in_snake_case_and_describes_itself() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text}"
            );
            assert!(code.description().ends_with('.'), "{text}");
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn an_error_answers_its_codes_status_and_spelling() {
        let error = ApiError::new(Code::InvalidQuery, "no").with("field", "limit");
        assert_eq!(
            (error.status(), error.code()),
            (StatusCode::BAD_REQUEST, "invalid_query")
        );
        let too_large =
            ApiError::new(Code::UnreadableBody, "big").at(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
