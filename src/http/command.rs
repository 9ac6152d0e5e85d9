//! `POST /v1/{collection}/{id}/commands`: a command, checked, decided and recorded.

use std::time::Instant;

use aggregates::{CommandNames, DomainError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::answer::{etag, CommandAnswer, CONSISTENCY_TOKEN};
use super::collection::Collection;
use super::context::ApiContext;
use super::extract::{invalid, EntityId};
use super::headers::CommandHeaders;
use super::problem::{ApiError, Code};
use crate::auth::{Access, Principal};
use crate::commands::{self, CommandEnvelope, CommandOutcome};
use crate::store::{EventMetadata, IdempotencyRecord};

pub(super) async fn command<C: Collection>(
    State(ctx): State<ApiContext>,
    principal: Principal,
    EntityId(id): EntityId,
    headers: CommandHeaders,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // The router checked the route's access already; a handler reached another way must not
    // skip it.
    principal.require(Access::Command, Some(C::PATH))?;
    let body = read_body(body)?;
    let (command, value) = parse_command::<C::Command>(&body)?;
    let idempotency = client_key(&principal, headers.idempotency_key, C::TYPE, id, &value);
    let envelope = CommandEnvelope {
        aggregate_id: id,
        metadata: EventMetadata {
            actor: principal.actor,
            on_behalf_of: headers.on_behalf_of,
            command: command.name().to_string(),
            causation_id: headers.request_id.clone(),
            request_id: headers.request_id,
            correlation_id: headers.correlation_id,
        },
        command,
        precondition: headers.precondition,
        idempotency,
    };
    let name = envelope.metadata.command.clone();
    let started = Instant::now();
    let outcome = commands::execute::<C>(&ctx.store, &C::services(), envelope).await;
    record(&ctx, C::TYPE, &name, &outcome, started);
    let outcome = outcome?;
    Ok(command_answer::<C>(outcome))
}

pub(super) fn record<E: DomainError>(
    ctx: &ApiContext,
    aggregate: &str,
    command: &str,
    outcome: &Result<CommandOutcome, commands::CommandError<E>>,
    started: Instant,
) {
    use commands::CommandError as E;
    let label = match outcome {
        Ok(o) if o.replayed => "replayed",
        Ok(_) => "ok",
        Err(E::Refused(e)) if e.is_not_found() => "not_found",
        Err(
            E::Refused(_)
            | E::Taken { .. }
            | E::Companion(_)
            | E::UnknownReference { .. }
            | E::ReferenceState { .. },
        ) => "refused",
        Err(E::Conflict) => "conflict",
        Err(E::PreconditionFailed { .. }) => "precondition_failed",
        Err(E::KeyReused) => "key_reused",
        Err(E::Store(_)) => "error",
    };
    let metrics = &ctx.metrics;
    metrics
        .commands
        .with_label_values(&[aggregate, command, label])
        .inc();
    metrics
        .command_seconds
        .with_label_values(&[aggregate])
        .observe(started.elapsed().as_secs_f64());
    if let Ok(o) = outcome {
        if !o.replayed {
            metrics
                .events_appended
                .with_label_values(&[aggregate])
                .inc_by(o.events.len() as u64);
        }
    }
}

/// The body, or the API's error for one that could not be read.
pub(super) fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        ApiError::new(Code::UnreadableBody, rejection.body_text()).at(rejection.status())
    })
}

/// What a client's `Idempotency-Key` remembers a request by. Client keys live in a namespace
/// of their own (the processes' keys cannot be taken), one per principal: two clients that
/// pick the same key do not collide.
pub(super) fn client_key(
    principal: &Principal,
    key: Option<String>,
    aggregate_type: &str,
    id: Uuid,
    body: &Value,
) -> Option<IdempotencyRecord> {
    key.map(|key| IdempotencyRecord {
        request_hash: request_hash(aggregate_type, id, body),
        key: format!("client:{}:{key}", principal.actor),
    })
}

/// The headers of a command's answer: the stream's version, the token, where the new entity
/// is, and whether the answer is a replay.
pub(super) fn answer_headers(
    response: &mut Response,
    version: u64,
    token: Option<&str>,
    location: Option<String>,
    replayed: bool,
) {
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag(version));
    if let Some(token) = token.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert(CONSISTENCY_TOKEN, token);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
}

fn command_answer<C: Collection>(outcome: CommandOutcome) -> Response {
    let replayed = outcome.replayed;
    let status = if outcome.created_stream() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let token = outcome.last_event().map(|e| e.feed_position().to_string());
    let body = CommandAnswer {
        id: outcome.aggregate_id,
        version: outcome.version,
        events: outcome.events,
        token: token.clone(),
    };
    let (id, version) = (body.id, body.version);
    let mut response = (status, Json(body)).into_response();
    let location = (status == StatusCode::CREATED).then(|| format!("/v1/{}/{}", C::PATH, id));
    answer_headers(&mut response, version, token.as_deref(), location, replayed);
    response
}

/// Parses a command body, telling apart a body that is not JSON, not an object, names no or an
/// unknown command, or has a field of the wrong name, type or value.
pub fn parse_command<C: DeserializeOwned + CommandNames>(
    body: &[u8],
) -> Result<(C, Value), ApiError> {
    let value = json_object(body, "{\"type\": \"<CommandName>\", ...fields}")?;
    let expected = || C::PUBLIC.join(", ");
    let kind = match value.get("type") {
        None => {
            return Err(ApiError::new(
                Code::CommandTypeMissing,
                format!("the body has no \"type\"; expected one of: {}", expected()),
            ))
        }
        Some(Value::String(kind)) => kind,
        Some(_) => {
            return Err(ApiError::new(
                Code::InvalidField,
                "\"type\" must be a string naming the command",
            )
            .with("field", "type"))
        }
    };
    if !C::PUBLIC.contains(&kind.as_str()) {
        return Err(ApiError::new(
            Code::UnknownCommand,
            format!("unknown command `{kind}`; expected one of: {}", expected()),
        )
        .with("command", kind.as_str()));
    }
    // Commands deserialize from `{"<CommandName>": {...fields}}`: serde loses the path of a
    // bad field inside an internally tagged enum, and the caller deserves to know which it was.
    let mut fields = value.as_object().cloned().unwrap_or_default();
    fields.remove("type");
    let tagged = Value::Object(
        [(kind.clone(), Value::Object(fields))]
            .into_iter()
            .collect(),
    );
    let command = serde_path_to_error::deserialize(&tagged).map_err(|e| {
        let path = e.path().to_string();
        let field = path
            .strip_prefix(kind.as_str())
            .map(|p| p.trim_start_matches('.'))
            .unwrap_or(&path)
            .to_string();
        invalid(Code::InvalidField, &field, &e.into_inner().to_string())
    })?;
    Ok((command, value))
}

/// The body as JSON, which must be an object (of the `shape` the error shows).
pub(super) fn json_object(body: &[u8], shape: &str) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            Code::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            Code::BodyNotObject,
            format!("the body must be a JSON object: {shape}"),
        ));
    }
    Ok(value)
}

/// What makes two requests "the same" for an idempotency key: the stream and the body's JSON
/// value (key order and white space do not matter).
fn request_hash(aggregate_type: &str, id: Uuid, body: &Value) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(aggregate_type.as_bytes());
    hasher.update(id.as_bytes());
    hasher.update(body.to_string().as_bytes());
    hasher.finalize().to_vec()
}
