//! `GET /openapi.json` (OpenAPI 3.1) and `GET /docs` (a browsable page rendering it).
//!
//! The document is generated from the code: each route is registered with its operation
//! (`api::Api`), every schema is derived (utoipa's `ToSchema`) from the types the API takes and
//! answers, the query parameters from the queries' `IntoParams`, the command bodies from each
//! aggregate's command enum and `CommandNames::PUBLIC`, the error answers from the code table.
//! Only what no type says is written here: the event envelope, the problem document, the
//! shared responses and the document's own preamble.

use std::sync::{Arc, OnceLock};

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse};
use serde_json::{json, Map, Value};
use utoipa::openapi::{Content, ResponseBuilder};

use super::api::{text, Api, Op};
use super::collection::collections;
use super::context::MAX_BODY_BYTES;
use super::events;
use super::problem::{problem_schema, shared_response, Code, SHARED_RESPONSES};
use super::schemas::{reference, to_value, Components};

/// The document's own routes and its page's; `rest` registers every other route (the
/// document, built at its first request, covers them all).
pub fn api(rest: fn() -> Api) -> Api {
    let served: Arc<OnceLock<String>> = Arc::default();
    let page = |id: &str, summary: &str, kind: &str, description: &str| {
        let body = ResponseBuilder::new()
            .description(description)
            .content(kind, Content::new(Some(text())));
        Op::new("operations", id, summary).answer(StatusCode::OK, body)
    };
    Api::new()
        .get(
            "/openapi.json",
            move || async move {
                let document = served.get_or_init(|| document(rest().merge(api(rest))).to_string());
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    document.clone(),
                )
            },
            |_| {
                let object = super::schemas::schema(json!({"type": "object"}));
                Op::new("operations", "openapi", "This document").json(
                    StatusCode::OK,
                    "OpenAPI 3.1.",
                    object,
                )
            },
        )
        .get("/docs", docs, |_| {
            page(
                "docs",
                "This document, rendered for reading",
                "text/html",
                "An HTML page.",
            )
        })
        .get("/docs/scalar.js", scalar, |_| {
            let summary = "The page's script (Scalar's API reference, built into the service)";
            page(
                "docsScript",
                summary,
                "text/javascript",
                "JavaScript, gzip-encoded.",
            )
        })
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

/// The shared responses, one per status, each listing the error codes of that status from the
/// code table (`Code`).
fn responses() -> Value {
    let intro = |status| match status {
        StatusCode::UNAUTHORIZED => {
            "The credential is missing or not valid (`detail` says why, never what was sent)."
                .to_string()
        }
        StatusCode::CONFLICT => "A domain rule refused the command (`code`: the rule, as the \
                                 aggregate's refusals name it)."
            .to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("`unreadable_body`: the body is over {MAX_BODY_BYTES} bytes.")
        }
        _ => String::new(),
    };
    let mut responses = Map::new();
    for (status, name) in SHARED_RESPONSES {
        let codes = (Code::ALL.iter())
            .filter(|code| code.status() == status)
            .map(|code| format!("`{}`: {}", code.as_str(), code.description()));
        let description: Vec<String> = std::iter::once(intro(status))
            .filter(|intro| !intro.is_empty())
            .chain(codes)
            .collect();
        let mut response = json!({
            "description": description.join(" "),
            "content": {"application/problem+json": {"schema": reference("Problem")}},
        });
        if status == StatusCode::UNAUTHORIZED {
            response["headers"] = json!({"WWW-Authenticate": {"schema": {"type": "string"},
                                         "description": "`Bearer`, with the error."}});
        }
        responses.insert(name.to_string(), response);
    }
    Value::Object(responses)
}

/// The whole document, of the routes `api` registers.
pub fn document(api: Api) -> Value {
    let mut components: Components = api.components;
    events::event_schema(&mut components);
    components.insert("Problem".into(), problem_schema());
    components.add::<super::answer::CommandAnswer>();
    components.add::<projections::checkpoint::ProjectorStatus>();
    let mut paths = Map::new();
    for (path, method, operation) in api.operations {
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[to_value(method).as_str().expect("a method")] = to_value(operation);
    }
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
        "tags": tags(),
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

/// A tag per collection, then the feed's and the operators'.
fn tags() -> Vec<Value> {
    let collections =
        (collections().iter()).map(|c| json!({"name": c.path, "description": c.description}));
    collections
        .chain([
            json!({"name": "events", "description": "The raw events, for analysts and auditors."}),
            json!({"name": "operations", "description": "Health, readiness, metrics, projectors."}),
        ])
        .collect()
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
            operation["responses"]["401"] = shared_response(StatusCode::UNAUTHORIZED);
            operation["responses"]["403"] = shared_response(StatusCode::FORBIDDEN);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use aggregates::fo_task::FoTask;
    use aggregates::pilot::Pilot;
    use aggregates::task::Task;
    use aggregates::trip::Trip;
    use aggregates::CommandNames;

    /// Every `$ref` in the document names a component that exists.
    #[test]
    fn every_reference_resolves() {
        let document = crate::http::openapi_document();
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
        let mut root = crate::http::openapi_document();
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
        let document = crate::http::openapi_document();
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
