//! `GET /openapi.json` (OpenAPI 3.1) and `GET /docs` (a browsable page rendering it).
//!
//! The document is generated from the code: every schema is derived (utoipa's `ToSchema`) from
//! the types the API deserializes and serializes, the command bodies from each aggregate's
//! command enum and `CommandNames::PUBLIC`, the list parameters from each collection's
//! `ListSpec`, the routes from the same `Collection` trait the router is built from. Only the
//! envelopes the handlers build (pages, answers, problems) are written out here; the tests
//! validate real answers against them.

use std::sync::LazyLock;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::answer::CONSISTENCY_TOKEN;
use super::collection::Collection;
use super::collection::FilterKind;
use super::context::{ApiContext, MAX_BODY_BYTES};
use super::events;
use super::problem::Code;
use aggregates::fo_task::FoTask;
use aggregates::pilot::Pilot;
use aggregates::task::Task;
use aggregates::trip::Trip;
use aggregates::CommandNames;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/docs/scalar.js", get(scalar))
}

/// Scalar's API reference, built into the binary (`assets/`): the page needs no CDN, and works
/// offline or behind a proxy that allows only this service.
static SCALAR: &[u8] = include_bytes!("../../assets/scalar-api-reference-1.72.1.js.gz");

async fn scalar() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CONTENT_ENCODING, "gzip"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        SCALAR,
    )
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

/// Scalar's API reference, served by the service itself, rendering `/openapi.json`.
async fn docs() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>operations API</title>
</head>
<body>
  <script id="api-reference" data-url="/openapi.json"></script>
  <script src="/docs/scalar.js"></script>
  <noscript>The reference needs JavaScript; the document itself is at
    <a href="/openapi.json">/openapi.json</a>.</noscript>
</body>
</html>"#,
    )
}

/// The components being gathered, by name.
#[derive(Default)]
struct Components {
    schemas: Map<String, Value>,
}

impl Components {
    /// Adds `T`'s schema and those it refers to; answers a reference to it.
    fn add<T: ToSchema>(&mut self) -> Value {
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.insert(name, to_value(schema));
        }
        let name = T::name().to_string();
        self.insert(name.clone(), to_value(T::schema()));
        reference(&name)
    }

    /// The schemas, with each struct that flattens a tagged enum into itself (`allOf` of the
    /// enum's `oneOf` and the struct's own object, as utoipa derives it) written as a `oneOf` of
    /// whole objects, one per variant: what the JSON is, and a shape every client generator
    /// takes (openapi-python-client cannot take `allOf` of a non-object).
    ///
    /// And a variant of a `oneOf` that copies a named schema (utoipa inlines the type argument
    /// of a generic enum, `TimelineItem<TaskHistoryRow>`) refers to it instead.
    fn whole(mut self) -> Map<String, Value> {
        let named: std::collections::HashMap<String, String> = (self.schemas.iter())
            .map(|(name, schema)| (schema.to_string(), name.clone()))
            .collect();
        for schema in self.schemas.values_mut() {
            let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
                continue;
            };
            for variant in variants.iter_mut() {
                if let Some(name) = named.get(&variant.to_string()) {
                    *variant = reference(name);
                }
            }
        }
        let names: Vec<String> = self.schemas.keys().cloned().collect();
        for name in names {
            let Some(parts) = self.schemas[&name]["allOf"].as_array().cloned() else {
                continue;
            };
            let (refs, own): (Vec<&Value>, Vec<&Value>) =
                parts.iter().partition(|part| part.get("$ref").is_some());
            let [reference] = refs.as_slice() else {
                continue;
            };
            let [own] = own.as_slice() else { continue };
            let target = reference["$ref"].as_str().unwrap_or_default();
            let target = target.trim_start_matches("#/components/schemas/");
            let Some(variants) = self.schemas.get(target).and_then(|s| s["oneOf"].as_array())
            else {
                continue;
            };
            let merged: Vec<Value> = variants
                .iter()
                .map(|variant| {
                    let mut whole = variant.clone();
                    let properties = whole["properties"].as_object_mut();
                    if let (Some(properties), Some(more)) =
                        (properties, own["properties"].as_object())
                    {
                        properties.extend(more.clone());
                    }
                    let mut required = whole["required"].as_array().cloned().unwrap_or_default();
                    required.extend(own["required"].as_array().cloned().unwrap_or_default());
                    whole["required"] = Value::Array(required);
                    whole
                })
                .collect();
            let schema = self.schemas.get_mut(&name).expect("listed");
            let object = schema.as_object_mut().expect("a schema object");
            object.remove("allOf");
            object.insert("oneOf".into(), Value::Array(merged));
        }
        self.schemas
    }

    /// `T`'s schema written out where it is used (a generic envelope, `Timeline<R>`), with the
    /// schemas it refers to added.
    fn inline<T: ToSchema>(&mut self) -> Value {
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.insert(name, to_value(schema));
        }
        to_value(T::schema())
    }

    fn insert(&mut self, name: String, schema: Value) {
        if let Some(known) = self.schemas.get(&name) {
            assert_eq!(known, &schema, "two different schemas are named {name}");
        }
        self.schemas.insert(name, schema);
    }

    /// The variants of an externally tagged enum (`{"<Name>": {...fields}}`, as commands and
    /// events are serialized), each added as `<prefix>.<Name>`: its fields object. Answers the
    /// variants' names and references.
    fn add_variants<T: ToSchema>(&mut self, prefix: &str) -> Vec<(String, Value)> {
        let tagged = to_value(T::schema());
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.insert(name, to_value(schema));
        }
        let variants = tagged["oneOf"].as_array().cloned().unwrap_or_default();
        variants
            .into_iter()
            .filter_map(|variant| {
                let properties = variant["properties"].as_object()?;
                let (name, fields) = properties.iter().next()?;
                let component = format!("{prefix}.{name}");
                let mut fields = fields.clone();
                if fields.get("type").is_none() {
                    fields["type"] = json!("object");
                }
                if prefix == "event" {
                    // An event holds exactly its fields, every one present (`null` when
                    // unset): an upcast event included. Commands say so on their bodies.
                    fields["additionalProperties"] = json!(false);
                    let names: Vec<Value> = fields["properties"]
                        .as_object()
                        .map(|p| p.keys().map(|k| json!(k)).collect())
                        .unwrap_or_default();
                    fields["required"] = json!(names);
                }
                self.insert(component.clone(), fields);
                Some((name.clone(), reference(&component)))
            })
            .collect()
    }
}

fn to_value(schema: impl serde::Serialize) -> Value {
    serde_json::to_value(schema).expect("a schema serializes")
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A command body: `{"type": "<CommandName>", ...fields}`, one schema per public command,
/// told apart by `type`.
fn command_body<C: Collection>(components: &mut Components) -> Value
where
    C::Command: ToSchema,
{
    let variants = components.add_variants::<C::Command>("command");
    let mut one_of = Vec::new();
    let mut mapping = Map::new();
    for (name, fields_ref) in variants {
        if !C::Command::PUBLIC.contains(&name.as_str()) {
            continue;
        }
        let component = format!("{name}Body");
        let typed = json!({
            "type": "object",
            "properties": {"type": {"type": "string", "const": name}},
            "required": ["type"],
        });
        // Unknown fields are refused (`deny_unknown_fields`): none beyond these two parts.
        components.insert(
            component.clone(),
            json!({"allOf": [typed, fields_ref], "unevaluatedProperties": false}),
        );
        mapping.insert(name, json!(format!("#/components/schemas/{component}")));
        one_of.push(reference(&component));
    }
    let body = format!("{}CommandBody", C::TYPE);
    components.insert(
        body.clone(),
        json!({
            "oneOf": one_of,
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }),
    );
    reference(&body)
}

fn parameter(name: &str, location: &str, schema: Value, description: &str) -> Value {
    json!({
        "name": name,
        "in": location,
        "required": location == "path",
        "description": description,
        "schema": schema,
    })
}

fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": json_content(schema)})
}

fn problem(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// A header's text: visible ASCII and spaces, not blank, at most 200 characters.
fn visible_text() -> Value {
    json!({"type": "string", "maxLength": 200, "pattern": "^[ -~]*[!-~][ -~]*$"})
}

/// A feed token: `<transaction id>.<position>`.
fn token() -> Value {
    json!({"type": "string", "pattern": r"^[0-9]{1,19}\.[0-9]{1,18}$"})
}

fn consistent_with() -> Value {
    parameter(
        "consistent_with",
        "query",
        token(),
        "A command answer's `token`: answer only once the read models include it (503 \
         `not_yet_consistent` if they do not within the consistency timeout; 400 \
         `unknown_token` at once for a token this store never issued).",
    )
}

fn limit(default: i64, max: i64) -> Value {
    parameter(
        "limit",
        "query",
        json!({"type": "integer", "minimum": 1, "maximum": max, "default": default}),
        "Page size.",
    )
}

/// The five routes of one collection.
fn collection_paths<C: Collection>(paths: &mut Map<String, Value>, components: &mut Components)
where
    C::Command: ToSchema,
{
    let tag = C::PATH;
    let kind = C::TYPE;
    let id = parameter("id", "path", uuid(), &format!("The {kind}'s id."));
    let body = command_body::<C>(components);
    let view = components.add::<C::View>();
    components.add::<C::HistoryRow>();
    let timeline = components.inline::<super::answer::Timeline<C::HistoryRow>>();
    components.add::<C>();
    let commands = C::Command::PUBLIC.join("`, `");

    let header = |name: &str, required: bool, description: &str| {
        let schema = if name == "If-Match" {
            json!({"type": "string", "pattern": r#"^(\*|(W/)?("[0-9]{1,19}"|[0-9]{1,19}))$"#})
        } else {
            visible_text()
        };
        json!({"name": name, "in": "header", "required": required,
               "description": description, "schema": schema})
    };
    paths.insert(
        format!("/v1/{}/{{id}}/commands", C::PATH),
        json!({"post": {
            "tags": [tag],
            "operationId": format!("{kind}Command"),
            "summary": format!("Issue a command to a {kind}"),
            "description": format!(
                "The body names the command in `type`: `{commands}`. Answers the stream's new \
                 version, the events appended and a consistency token. Nothing is stored when \
                 the command fails."),
            "parameters": [
                id,
                header("X-Actor", true, "Who issues the command (`dispatcher:ana`); kept in \
                        every event's metadata."),
                header("If-Match", false, "Run only if the stream is at this version \
                        (`\"3\"` or `3`); `*`: only if it exists. 412 otherwise."),
                header("Idempotency-Key", false, "A retry with the same key and body gets the \
                        first answer and appends nothing; another body gets 422."),
                header("X-Correlation-Id", false, "The flow the command belongs to; generated \
                        when absent."),
                header("X-Request-Id", false, "Kept as the events' causation id; generated \
                        when absent and echoed in the answer."),
            ],
            "requestBody": {"required": true, "content": json_content(body)},
            "responses": {
                "200": command_answer("The command was applied (or replayed: \
                                       `Idempotent-Replayed: true`)."),
                "201": command_answer("The command created the stream."),
                "400": problem("BadRequest"),
                "404": problem("NotFound"),
                "409": problem("Conflict"),
                "412": problem("PreconditionFailed"),
                "413": problem("PayloadTooLarge"),
                "422": problem("IdempotencyKeyReused"),
                "500": problem("InternalError"),
            },
        }}),
    );

    let mut list_parameters: Vec<Value> = C::LIST
        .filters
        .iter()
        .map(|filter| {
            let (schema, description) = match filter.kind {
                FilterKind::Uuid => (uuid(), format!("Only rows with this {}.", filter.name)),
                FilterKind::Enum { schema, .. } => (
                    reference(&schema()),
                    format!("Only rows with this {}.", filter.name),
                ),
                FilterKind::IsSet => (
                    json!({"type": "boolean"}),
                    format!("Whether {} is set.", filter.column),
                ),
            };
            parameter(filter.name, "query", schema, &description)
        })
        .collect();
    list_parameters.extend([
        parameter(
            "updated_since",
            "query",
            time(),
            "Only rows updated at or after this time.",
        ),
        parameter(
            "updated_until",
            "query",
            time(),
            "Only rows updated before this time.",
        ),
        parameter(
            "after",
            "query",
            json!({"type": "string", "pattern": "^-?[0-9]{1,17}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-\
                                                 [0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}),
            "The previous page's `next`.",
        ),
        limit(super::list::DEFAULT_LIMIT, super::list::MAX_LIMIT),
        consistent_with(),
    ]);
    paths.insert(
        format!("/v1/{}", C::PATH),
        json!({"get": {
            "tags": [tag],
            "operationId": format!("list{kind}"),
            "summary": format!("List {}, oldest first", C::PATH),
            "description": "Keyset-paginated in creation order; `next` is null on the last page.",
            "parameters": list_parameters,
            "responses": {
                "200": ok("A page of rows.", json!({
                    "type": "object",
                    "required": ["items", "next"],
                    "properties": {
                        "items": {"type": "array", "items": view},
                        "next": {"type": ["string", "null"]},
                    },
                })),
                "400": problem("BadRequest"),
                "503": problem("NotYetConsistent"),
            },
        }}),
    );

    let time_travel = components.inline::<super::answer::PastState<C>>();
    paths.insert(
        format!("/v1/{}/{{id}}", C::PATH),
        json!({"get": {
            "tags": [tag],
            "operationId": format!("get{kind}"),
            "summary": format!("A {kind}'s current state, or its state at a moment or version"),
            "description": "Without `as_of` or `version`: the read model's row (ETag: its \
                            version). With one of them: the aggregate's own state then, folded \
                            from the events.",
            "parameters": [
                id,
                consistent_with(),
                parameter("as_of", "query", time(), "The state at this moment."),
                parameter("version", "query", json!({"type": "integer", "minimum": 1}),
                          "The state after this many events."),
            ],
            "responses": {
                "200": {
                    "description": "The state.",
                    "headers": {"ETag": {"description": "The version shown.",
                                         "schema": {"type": "string"}}},
                    "content": json_content(json!({"anyOf": [view, time_travel]})),
                },
                "400": problem("BadRequest"),
                "404": problem("NotFound"),
                "503": problem("NotYetConsistent"),
            },
        }}),
    );

    paths.insert(
        format!("/v1/{}/{{id}}/history", C::PATH),
        json!({"get": {
            "tags": [tag],
            "operationId": format!("history{kind}"),
            "summary": format!("A {kind}'s status timeline: who, what, when, why"),
            "parameters": [
                id,
                consistent_with(),
                parameter("since", "query", time(), "Only changes at or after this time."),
                parameter("until", "query", time(), "Only changes before this time."),
            ],
            "responses": {
                "200": ok("The timeline, in stream order.", timeline),
                "400": problem("BadRequest"),
                "404": problem("NotFound"),
                "503": problem("NotYetConsistent"),
            },
        }}),
    );

    paths.insert(
        format!("/v1/{}/{{id}}/events", C::PATH),
        json!({"get": {
            "tags": [tag],
            "operationId": format!("events{kind}"),
            "summary": format!("A {kind}'s events, in stream order"),
            "parameters": [
                id,
                parameter("after", "query", json!({"type": "integer", "minimum": 0}),
                          "Only events after this sequence number (the previous page's `next`)."),
                limit(super::extract::EVENT_PAGE, super::extract::MAX_EVENT_PAGE),
            ],
            "responses": {
                "200": ok("A page of events.", components.add::<super::answer::StreamPage>()),
                "400": problem("BadRequest"),
                "404": problem("NotFound"),
            },
        }}),
    );

    let verification = components.add::<super::answer::Verification>();
    paths.insert(
        format!("/v1/{}/{{id}}/verify", C::PATH),
        json!({"get": {
            "tags": [tag],
            "operationId": format!("verify{kind}"),
            "summary": format!("Recompute a {kind}'s hash chain: is its record intact?"),
            "description": "Recomputes each event's hash from its content and its \
                            predecessor's hash. `broken` names the first event that no longer \
                            fits. A rewrite that recomputed every hash is caught only against \
                            a digest (`operations verify --digest`).",
            "parameters": [id.clone()],
            "responses": {
                "200": ok("The chain's status.", verification),
                "400": problem("BadRequest"),
                "404": problem("NotFound"),
            },
        }}),
    );
}

fn command_answer(description: &str) -> Value {
    let text = json!({"type": "string"});
    json!({
        "description": description,
        "headers": {
            "ETag": {"description": "The stream's new version.", "schema": text},
            CONSISTENCY_TOKEN: {
                "description": "The token to name in `consistent_with`.",
                "schema": text,
            },
            "Location": {"description": "On 201: the new entity's path.", "schema": text},
            "Idempotent-Replayed": {
                "description": "`true` when the answer is the first one of a retried \
                                `Idempotency-Key`; nothing was appended.",
                "schema": {"type": "string", "const": "true"},
            },
            "X-Request-Id": {
                "description": "The request's id (the caller's, or generated).",
                "schema": text,
            },
        },
        "content": json_content(reference("CommandAnswer")),
    })
}

/// The event payloads of every aggregate: each tied to its `event_type` (`if`/`then`).
fn event_payloads(components: &mut Components) -> Value {
    let mut payloads = Vec::new();
    payloads.extend(components.add_variants::<<Task as cqrs_es::Aggregate>::Event>("event"));
    payloads.extend(components.add_variants::<<Trip as cqrs_es::Aggregate>::Event>("event"));
    payloads.extend(components.add_variants::<<Pilot as cqrs_es::Aggregate>::Event>("event"));
    payloads.extend(components.add_variants::<<FoTask as cqrs_es::Aggregate>::Event>("event"));
    let by_type: Vec<Value> = payloads
        .into_iter()
        .map(|(name, payload)| {
            json!({
                "if": {"properties": {"event_type": {"const": name}},
                       "required": ["event_type"]},
                "then": {"properties": {"payload": payload}},
            })
        })
        .collect();
    json!(by_type)
}

fn envelopes(components: &mut Components, payload: Value) {
    let nullable_text = json!({"type": ["string", "null"]});
    components.insert(
        "Event".into(),
        json!({
            "type": "object",
            "description": "A stored event, as the feed, the per-stream events and the export \
                            give it. An event stored in an older version is shown in its \
                            current shape, `upcast_from` naming the version stored.",
            "allOf": payload,
            "required": ["token", "position", "aggregate_type", "aggregate_id", "sequence",
                         "event_type", "event_version", "upcast_from", "payload", "metadata",
                         "recorded_at"],
            "properties": {
                "token": {"type": "string", "description": "The feed token to resume after \
                                                             this event."},
                "position": {"type": "integer"},
                "aggregate_type": {"type": "string", "enum": events::AGGREGATE_TYPES},
                "aggregate_id": {"type": "string"},
                "sequence": {"type": "integer", "minimum": 1},
                "event_type": {"type": "string"},
                "event_version": {"type": "string"},
                "upcast_from": nullable_text,
                "payload": {
                    "type": "object",
                    "description": "The event's fields, in its current shape: \
                                    `#/components/schemas/event.<event_type>`.",
                },
                "metadata": {
                    "type": "object",
                    "description": "Who and in what flow: `actor`, `on_behalf_of`, `command`, \
                                    `request_id`, `causation_id`, `correlation_id`.",
                },
                "recorded_at": time(),
                "hash": {
                    "type": ["string", "null"],
                    "pattern": "^[0-9a-f]{64}$",
                    "description": "SHA-256 (hex) chaining the event to its stream's previous \
                                    one (see `GET /v1/{collection}/{id}/verify`).",
                },
            },
        }),
    );
    components.add::<super::answer::CommandAnswer>();
    components.insert(
        "Problem".into(),
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
        }),
    );
    components.add::<projections::checkpoint::ProjectorStatus>();
}

/// The shared responses, one per status, each listing the error codes of that status from the
/// code table (`Code`).
fn responses() -> Value {
    let problem = |status: StatusCode, intro: &str| {
        let codes: Vec<String> = (Code::ALL.iter())
            .filter(|code| code.status() == status)
            .map(|code| format!("`{}`: {}", code.as_str(), code.description()))
            .collect();
        let description = match (intro, codes.is_empty()) {
            (intro, true) => intro.to_string(),
            ("", false) => codes.join(" "),
            (intro, false) => format!("{intro} {}", codes.join(" ")),
        };
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": reference("Problem")}},
        })
    };
    let mut unauthorized = problem(
        StatusCode::UNAUTHORIZED,
        "The credential is missing or not valid (`detail` says why, never what was sent).",
    );
    unauthorized["headers"] = json!({"WWW-Authenticate": {"schema": {"type": "string"},
                                     "description": "`Bearer`, with the error."}});
    json!({
        "BadRequest": problem(StatusCode::BAD_REQUEST, ""),
        "NotFound": problem(StatusCode::NOT_FOUND, ""),
        "Conflict": problem(StatusCode::CONFLICT, "A domain rule refused the command (`code`: the \
                                                  rule, as the aggregate's refusals name it)."),
        "PreconditionFailed": problem(StatusCode::PRECONDITION_FAILED, ""),
        "PayloadTooLarge": problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("`unreadable_body`: the body is over {MAX_BODY_BYTES} bytes."),
        ),
        "IdempotencyKeyReused": problem(StatusCode::UNPROCESSABLE_ENTITY, ""),
        "NotYetConsistent": problem(StatusCode::SERVICE_UNAVAILABLE, ""),
        "InternalError": problem(StatusCode::INTERNAL_SERVER_ERROR, ""),
        "Unauthorized": unauthorized,
        "Forbidden": problem(StatusCode::FORBIDDEN, ""),
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut components = Components::default();
    let mut paths = Map::new();
    collection_paths::<Task>(&mut paths, &mut components);
    collection_paths::<Trip>(&mut paths, &mut components);
    collection_paths::<Pilot>(&mut paths, &mut components);
    collection_paths::<FoTask>(&mut paths, &mut components);
    let payload = event_payloads(&mut components);
    envelopes(&mut components, payload);
    let event_types: Vec<&str> = events::event_types().collect();

    paths.insert(
        "/v1/events".into(),
        json!({"get": {
            "tags": ["events"],
            "operationId": "feed",
            "summary": "Every event, in the order the projectors apply them",
            "description": "Gap-safe: an event appears only once no earlier-committing \
                            transaction can still add one before it. Resume with `next`.",
            "parameters": [
                parameter("after", "query", token(),
                          "The previous page's `next` (or an event's `token`)."),
                limit(super::extract::EVENT_PAGE, super::extract::MAX_EVENT_PAGE),
                parameter("aggregate_type", "query",
                          json!({"type": "string", "enum": events::AGGREGATE_TYPES}),
                          "Only this aggregate type."),
                parameter("event_type", "query",
                          json!({"type": "string", "pattern": format!(
                              "^ *({names}) *(, *({names}) *)*$", names = event_types.join("|"))}),
                          &format!("Only these event types, comma-separated: {}.",
                                   event_types.join(", "))),
                parameter("since", "query", time(), "Only events recorded at or after this time."),
                parameter("until", "query", time(), "Only events recorded before this time."),
            ],
            "responses": {
                "200": ok("A page of events.", components.add::<super::answer::FeedPage>()),
                "400": problem("BadRequest"),
            },
        }}),
    );
    paths.insert(
        "/v1/projections".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "projections",
            "summary": "Each projector's checkpoint, lag and last error",
            "responses": {
                "200": ok("The projectors.", json!({
                    "type": "object",
                    "required": ["items"],
                    "properties": {"items": {"type": "array",
                                             "items": reference("ProjectorStatus")}},
                })),
                "400": problem("BadRequest"),
            },
        }}),
    );
    let dead_letter = components.add::<projections::DeadLetter>();
    let dead_letter_id = parameter(
        "id",
        "path",
        json!({"type": "integer", "minimum": 1}),
        "The dead letter's id.",
    );
    paths.insert(
        "/v1/dead-letters".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "listDeadLetters",
            "summary": "Events a projector or process could not apply, newest first",
            "description": "Each parks its stream for that projector: the stream's later \
                            events wait behind it, in order, while every other stream goes on.",
            "parameters": [
                parameter("projector", "query", json!({"type": "string"}),
                          "Only this projector's (or `deadlines`)."),
                parameter("status", "query",
                          json!({"type": "string", "enum": super::dead_letters::STATUSES}),
                          "Only dead letters in this status."),
                parameter("aggregate_type", "query", json!({"type": "string"}),
                          "Only this aggregate type's."),
                parameter("aggregate_id", "query", json!({"type": "string"}),
                          "Only this stream's."),
                parameter("before", "query", json!({"type": "integer"}),
                          "The previous page's `next`."),
                limit(super::extract::EVENT_PAGE, super::extract::MAX_EVENT_PAGE),
            ],
            "responses": {
                "200": ok("A page of dead letters.", json!({
                    "type": "object",
                    "required": ["items", "next"],
                    "properties": {
                        "items": {"type": "array", "items": dead_letter.clone()},
                        "next": {"type": ["integer", "null"]},
                    },
                })),
                "400": problem("BadRequest"),
            },
        }}),
    );
    paths.insert(
        "/v1/dead-letters/{id}".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "getDeadLetter",
            "summary": "One dead letter",
            "parameters": [dead_letter_id.clone()],
            "responses": {
                "200": ok("The dead letter.", dead_letter.clone()),
                "400": problem("BadRequest"),
                "404": problem("NotFound"),
            },
        }}),
    );
    let resolved = |summary: &str, operation: &str, body: Option<Value>| {
        let mut op = json!({
            "tags": ["operations"],
            "operationId": operation,
            "summary": summary,
            "description": "Done by the projector's running runner; the request waits for \
                            it up to the consistency timeout.",
            "parameters": [dead_letter_id.clone()],
            "responses": {
                "200": ok("Done: the dead letter, resolved.", dead_letter.clone()),
                "202": ok("Asked for; no runner has done it yet.", dead_letter.clone()),
                "400": problem("BadRequest"),
                "404": problem("NotFound"),
                "409": problem("Conflict"),
            },
        });
        if let Some(body) = body {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body}}});
        }
        json!({"post": op})
    };
    paths.insert(
        "/v1/dead-letters/{id}/retry".into(),
        resolved(
            "Apply the event and the ones parked behind it again, in order (after a fix)",
            "retryDeadLetter",
            None,
        ),
    );
    paths.insert(
        "/v1/dead-letters/{id}/skip".into(),
        resolved(
            "Never apply the event; apply the ones parked behind it",
            "skipDeadLetter",
            Some(json!({
                "type": "object",
                "required": ["reason"],
                "additionalProperties": false,
                "properties": {"reason": {"type": "string", "minLength": 1,
                                          "maxLength": super::dead_letters::MAX_REASON}},
            })),
        ),
    );
    paths.insert(
        "/healthz".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "healthz",
            "summary": "The process is up",
            "responses": {"200": ok("Up.", json!({
                "type": "object", "properties": {"status": {"const": "ok"}},
            }))},
        }}),
    );
    let readiness = json!({
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "degraded", "unavailable"]},
            "checks": {"type": "object"},
        },
    });
    paths.insert(
        "/readyz".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "readyz",
            "summary": "Ready when the database answers",
            "description": "`degraded` (still 200) when a long transaction holds the \
                            projectors back, a projector keeps failing or a stream is parked \
                            behind a dead letter.",
            "responses": {
                "200": ok("Ready or degraded.", readiness.clone()),
                "503": ok("The database does not answer.", readiness),
            },
        }}),
    );
    paths.insert(
        "/metrics".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "metrics",
            "summary": "Prometheus metrics",
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "400": problem("BadRequest"),
            },
        }}),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": ok("OpenAPI 3.1.", json!({"type": "object"}))},
        }}),
    );
    paths.insert(
        "/docs".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "docs",
            "summary": "This document, rendered for reading",
            "responses": {"200": {
                "description": "An HTML page.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }},
        }}),
    );
    paths.insert(
        "/docs/scalar.js".into(),
        json!({"get": {
            "tags": ["operations"],
            "operationId": "docsScript",
            "summary": "The page's script (Scalar's API reference, built into the service)",
            "responses": {"200": {
                "description": "JavaScript, gzip-encoded.",
                "content": {"text/javascript": {"schema": {"type": "string"}}},
            }},
        }}),
    );

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "operations",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Event-sourced operations of a robot-delivery fleet: tasks, trips, \
                            pilots and field-operator tasks. Commands append events; reads \
                            come from read models projected from them, or from the events \
                            themselves. Errors are `application/problem+json`.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [
            {"name": "tasks", "description": "Delivery tasks."},
            {"name": "trips", "description": "Robot trips and field-operator assistance."},
            {"name": "pilots", "description": "Remote pilots: shifts, assignments, \
                                               reservations."},
            {"name": "fo-tasks", "description": "Field-operator tasks and their subtasks."},
            {"name": "events", "description": "The raw events, for analysts and auditors."},
            {"name": "operations", "description": "Health, readiness, metrics, projectors."},
        ],
        "paths": secured(paths),
        "security": [{"bearer": []}],
        "components": {
            "schemas": components.whole(),
            "responses": responses(),
            "securitySchemes": {"bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key issued by `operations keys create` (`ops_…`), or a \
                                JWT from the identity provider the service is configured \
                                with. Each operation's `x-roles` lists the roles it admits.",
            }},
        },
    })
}

/// Each operation's security from the one access table (`access::required`): public ones
/// need nothing; the others a bearer credential, with the roles they admit in `x-roles` and
/// in their description, and 401 and 403 among their answers.
fn secured(mut paths: Map<String, Value>) -> Map<String, Value> {
    for (template, item) in paths.iter_mut() {
        for (method, operation) in item.as_object_mut().into_iter().flatten() {
            let method: axum::http::Method = method.to_uppercase().parse().expect("a method");
            let Some((access, collection)) = super::access::required(&method, template) else {
                operation["security"] = json!([]);
                continue;
            };
            let roles: Vec<&str> = access.roles().iter().map(|r| r.as_str()).collect();
            let who = match collection {
                Some(c) => format!("service (with {c} among its collections) or admin"),
                None => roles.join(", "),
            };
            let description = operation["description"].as_str().unwrap_or_default();
            operation["description"] = json!(format!("{description}\n\nRoles: {who}.")
                .trim_start()
                .to_string());
            operation["x-roles"] = json!(roles);
            operation["responses"]["401"] = problem("Unauthorized");
            operation["responses"]["403"] = problem("Forbidden");
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in the document names a component that exists.
    #[test]
    fn every_reference_resolves() {
        let document = document();
        let mut missing = Vec::new();
        fn walk(value: &Value, document: &Value, missing: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        let pointer = target.trim_start_matches('#');
                        if document.pointer(pointer).is_none() {
                            missing.push(target.clone());
                        }
                    }
                    map.values().for_each(|v| walk(v, document, missing));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, document, missing)),
                _ => {}
            }
        }
        walk(&document, &document, &mut missing);
        assert!(missing.is_empty(), "unresolved: {missing:?}");
    }

    #[test]
    fn an_events_payload_must_have_the_shape_of_its_type() {
        let mut root = document();
        root["$ref"] = json!("#/components/schemas/Event");
        let validator = jsonschema::validator_for(&root).unwrap();
        let event = |event_type: &str, payload: Value| {
            json!({"token": "1.1", "position": 1, "aggregate_type": "Task",
                   "aggregate_id": "x", "sequence": 1, "event_type": event_type,
                   "event_version": "1.0", "upcast_from": null, "payload": payload,
                   "metadata": {}, "recorded_at": "2026-11-22T00:00:00Z"})
        };
        assert!(validator.is_valid(&event("TaskStarted", json!({"from_status": "PENDING"}))));
        assert!(!validator.is_valid(&event("TaskStarted", json!({"from_status": "FLYING"}))));
        assert!(!validator.is_valid(&event("TaskStarted", json!({"bogus": 1}))));
        assert!(!validator.is_valid(&event(
            "PilotReservationReleased",
            json!({"reservation_id": uuid::Uuid::nil(), "reason": null})
        )));
    }

    #[test]
    fn every_public_command_has_a_body_schema() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        for names in [
            <Task as cqrs_es::Aggregate>::Command::PUBLIC,
            <Trip as cqrs_es::Aggregate>::Command::PUBLIC,
            <Pilot as cqrs_es::Aggregate>::Command::PUBLIC,
            <FoTask as cqrs_es::Aggregate>::Command::PUBLIC,
        ] {
            for name in names {
                assert!(schemas.get(format!("{name}Body")).is_some(), "{name}");
            }
        }
        // Commands the processes issue are not part of the API.
        assert!(schemas.get("RecordPilotAssignedBody").is_none());
    }
}
