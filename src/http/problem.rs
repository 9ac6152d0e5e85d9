//! Every error the API answers, as `application/problem+json` (RFC 9457).

use aggregates::DomainError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::commands::CommandError;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    extra: Map<String, Value>,
    cause: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            extra: Map::new(),
            cause: None,
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// A failure of ours, not the caller's: logged with its cause, answered opaquely.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the service failed to handle the request; the x-request-id header identifies it in the logs",
            )
        }
    }

    /// Adds a member to the problem document (`field`, `current_version`...).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl<E: DomainError> From<CommandError<E>> for ApiError {
    fn from(err: CommandError<E>) -> Self {
        let detail = err.to_string();
        match err {
            CommandError::Refused(e) if e.is_not_found() => Self::not_found(detail),
            CommandError::Refused(e) => Self::new(StatusCode::CONFLICT, e.code(), detail),
            CommandError::Conflict => {
                Self::new(StatusCode::CONFLICT, "concurrent_modification", detail)
            }
            CommandError::PreconditionFailed { actual } => {
                Self::new(StatusCode::PRECONDITION_FAILED, "version_mismatch", detail)
                    .with("current_version", actual)
            }
            CommandError::KeyReused => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                detail,
            ),
            CommandError::Taken {
                field,
                value,
                holder,
            } => Self::new(StatusCode::CONFLICT, "value_taken", detail)
                .with("field", field)
                .with("value", value)
                .with("held_by", holder),
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
