//! The six routes every collection has (five for one that takes no command from clients),
//! each registered with its documentation: its commands, its list, and the reads of one entity
//! (state, history, events, hash chain).

use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::{RefOr, ResponseBuilder, Schema};

use super::answer::{CommandAnswer, PastState, StreamPage, Timeline, CONSISTENCY_TOKEN};
use super::api::{json as json_answer, parameter, Api, Op};
use super::collection::{Collection, FilterKind};
use super::reads::ReadQuery;
use super::schemas::{reference, schema, Components};
use super::{command, list, reads};
use aggregates::CommandNames;

const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;
const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;
const NOT_YET_CONSISTENT: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

pub fn api<C: Collection>() -> Api {
    let path = C::PATH;
    // A collection whose commands are all the service's own (a quote's) takes none from
    // clients: it has no command route.
    let commands = if C::Command::PUBLIC.is_empty() {
        Api::new()
    } else {
        Api::new().post(
            &format!("/v1/{path}/{{id}}/commands"),
            command::command::<C>,
            command_doc::<C>,
        )
    };
    commands
        .get(&format!("/v1/{path}"), list::list::<C>, list_doc::<C>)
        .get(
            &format!("/v1/{path}/{{id}}"),
            reads::show::<C>,
            show_doc::<C>,
        )
        .get(
            &format!("/v1/{path}/{{id}}/history"),
            reads::history::<C>,
            history_doc::<C>,
        )
        .get(
            &format!("/v1/{path}/{{id}}/events"),
            reads::stream_events::<C>,
            events_doc::<C>,
        )
        .get(
            &format!("/v1/{path}/{{id}}/verify"),
            reads::verify::<C>,
            verify_doc::<C>,
        )
}

/// An operation of `C`'s: tagged with its collection, named `<verb><Type>`.
pub(super) fn op<C: Collection>(verb: &str, summary: String) -> Op {
    Op::new(C::PATH, format!("{verb}{}", C::TYPE), summary)
}

/// The entity's id, in the path; for a read, then the read's parameters of `names`.
pub(super) fn id<C: Collection>(op: Op, names: &[&str]) -> Op {
    let uuid = json!({"type": "string", "format": "uuid"});
    let id = parameter(
        "id",
        ParameterIn::Path,
        uuid,
        &format!("The {}'s id.", C::TYPE),
    );
    ReadQuery::parameters(names)
        .into_iter()
        .fold(op.param(id), Op::param)
}

/// The headers a command takes: name, required, what it does.
const COMMAND_HEADERS: [(&str, bool, &str); 5] = [
    (
        "X-Actor",
        true,
        "Who issues the command (`dispatcher:ana`); kept in every event's \
                       metadata.",
    ),
    (
        "If-Match",
        false,
        "Run only if the stream is at this version (`\"3\"` or `3`); `*`: only \
                         if it exists. 412 otherwise.",
    ),
    (
        "Idempotency-Key",
        false,
        "A retry with the same key and body gets the first answer and \
                                appends nothing; another body gets 422.",
    ),
    (
        "X-Correlation-Id",
        false,
        "The flow the command belongs to; generated when absent.",
    ),
    (
        "X-Request-Id",
        false,
        "Kept as the events' causation id; generated when absent and \
                             echoed in the answer.",
    ),
];

fn command_doc<C: Collection>(schemas: &mut Components) -> Op {
    let commands = C::Command::PUBLIC.join("`, `");
    let answer = schemas.add::<CommandAnswer>();
    let applied = "The command was applied (or replayed: `Idempotent-Replayed: true`).";
    let headers =
        COMMAND_HEADERS.map(|(name, required, what)| command_header(name, required, what));
    let summary = format!("Issue a command to a {}", C::TYPE);
    let command = Op::new(C::PATH, format!("{}Command", C::TYPE), summary);
    (headers.into_iter())
        .fold(id::<C>(command, &[]), Op::param)
        .describe(format!(
            "The body names the command in `type`: `{commands}`. Answers the stream's new \
             version, the events appended and a consistency token. Nothing is stored when the \
             command fails."
        ))
        .body(command_body::<C>(schemas))
        .answer(StatusCode::OK, command_answer(applied, answer.clone()))
        .answer(
            StatusCode::CREATED,
            command_answer("The command created the stream.", answer),
        )
        .problems(&[BAD_REQUEST, NOT_FOUND, StatusCode::CONFLICT])
        .problems(&[
            StatusCode::PRECONDITION_FAILED,
            StatusCode::PAYLOAD_TOO_LARGE,
        ])
        .problems(&[
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::INTERNAL_SERVER_ERROR,
        ])
}

fn list_doc<C: Collection>(schemas: &mut Components) -> Op {
    let page = schemas.inline::<super::answer::Page<C::View>>();
    list_parameters::<C>()
        .into_iter()
        .fold(
            op::<C>("list", format!("List {}, oldest first", C::PATH)),
            Op::param,
        )
        .describe("Keyset-paginated in creation order; `next` is null on the last page.")
        .json(StatusCode::OK, "A page of rows.", page)
        .problems(&[BAD_REQUEST, NOT_YET_CONSISTENT])
}

fn show_doc<C: Collection>(schemas: &mut Components) -> Op {
    let (view, past) = (schemas.add::<C::View>(), schemas.inline::<PastState<C>>());
    schemas.add::<C>();
    let version = HeaderBuilder::new()
        .schema(text())
        .description(Some("The version shown."));
    let state = json_answer("The state.", either(view, past)).header("ETag", version.build());
    let summary = format!(
        "A {}'s current state, or its state at a moment or version",
        C::TYPE
    );
    id::<C>(
        op::<C>("get", summary),
        &["consistent_with", "as_of", "version"],
    )
    .describe(
        "Without `as_of` or `version`: the read model's row (ETag: its version). With one \
             of them: the aggregate's own state then, folded from the events.",
    )
    .answer(StatusCode::OK, state)
    .problems(&[BAD_REQUEST, NOT_FOUND, NOT_YET_CONSISTENT])
}

fn history_doc<C: Collection>(schemas: &mut Components) -> Op {
    schemas.add::<C::HistoryRow>();
    let timeline = schemas.inline::<Timeline<C::HistoryRow>>();
    let summary = format!("A {}'s status timeline: who, what, when, why", C::TYPE);
    id::<C>(
        op::<C>("history", summary),
        &["consistent_with", "since", "until"],
    )
    .json(StatusCode::OK, "The timeline, in stream order.", timeline)
    .problems(&[BAD_REQUEST, NOT_FOUND, NOT_YET_CONSISTENT])
}

fn events_doc<C: Collection>(schemas: &mut Components) -> Op {
    let summary = format!("A {}'s events, in stream order", C::TYPE);
    id::<C>(op::<C>("events", summary), &[])
        .query::<reads::StreamQuery>()
        .json(
            StatusCode::OK,
            "A page of events.",
            schemas.add::<StreamPage>(),
        )
        .problems(&[BAD_REQUEST, NOT_FOUND])
}

fn verify_doc<C: Collection>(schemas: &mut Components) -> Op {
    let summary = format!(
        "Recompute a {}'s hash chain: is its record intact?",
        C::TYPE
    );
    let verification = schemas.add::<super::answer::Verification>();
    id::<C>(op::<C>("verify", summary), &[])
        .describe(
            "Recomputes each event's hash from its content and its predecessor's hash. \
             `broken` names the first event that no longer fits. A rewrite that recomputed \
             every hash is caught only against a digest (`operations verify --digest`).",
        )
        .json(StatusCode::OK, "The chain's status.", verification)
        .problems(&[BAD_REQUEST, NOT_FOUND])
}

/// The list's filters (from its `ListSpec`), then its time range, cursor, size and token.
fn list_parameters<C: Collection>() -> Vec<Parameter> {
    let query = |name: &str, schema: Value, description: &str| {
        parameter(name, ParameterIn::Query, schema, description)
    };
    let mut parameters: Vec<Parameter> = (C::LIST.filters.iter())
        .map(|filter| {
            let only = format!("Only rows with this {}.", filter.name);
            match filter.kind {
                FilterKind::Uuid | FilterKind::Member { .. } => query(
                    filter.name,
                    json!({"type": "string", "format": "uuid"}),
                    &only,
                ),
                FilterKind::Enum { schema, .. } => query(filter.name, reference(&schema()), &only),
                FilterKind::IsSet => {
                    let whether = format!("Whether {} is set.", filter.column);
                    query(filter.name, json!({"type": "boolean"}), &whether)
                }
                FilterKind::Bool => query(filter.name, json!({"type": "boolean"}), &only),
            }
        })
        .collect();
    let time = json!({"type": "string", "format": "date-time"});
    let cursor = "^-?[0-9]{1,17}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-\
                  [0-9a-fA-F]{12}$";
    parameters.extend([
        query(
            "updated_since",
            time.clone(),
            "Only rows updated at or after this time.",
        ),
        query("updated_until", time, "Only rows updated before this time."),
        query(
            "after",
            json!({"type": "string", "pattern": cursor}),
            "The previous page's `next`.",
        ),
        super::api::limit(list::DEFAULT_LIMIT, list::MAX_LIMIT),
    ]);
    parameters.extend(ReadQuery::parameters(&["consistent_with"]));
    parameters
}

/// One of the command's headers: visible ASCII and spaces, at most 200 characters (`If-Match`:
/// a version or `*`).
fn command_header(name: &str, required: bool, description: &str) -> Parameter {
    let schema = if name == "If-Match" {
        json!({"type": "string", "pattern": r#"^(\*|(W/)?("[0-9]{1,19}"|[0-9]{1,19}))$"#})
    } else {
        json!({"type": "string", "maxLength": 200, "pattern": "^[ -~]*[!-~][ -~]*$"})
    };
    let mut header = parameter(name, ParameterIn::Header, schema, description);
    header.required = if required {
        utoipa::openapi::Required::True
    } else {
        utoipa::openapi::Required::False
    };
    header
}

/// A command's answer: the `CommandAnswer` and the headers that come with it.
fn command_answer(description: &str, answer: RefOr<Schema>) -> ResponseBuilder {
    let header = |description: &str, schema: RefOr<Schema>| {
        HeaderBuilder::new()
            .schema(schema)
            .description(Some(description))
            .build()
    };
    json_answer(description, answer)
        .header("ETag", header("The stream's new version.", text()))
        .header(
            CONSISTENCY_TOKEN,
            header("The token to name in `consistent_with`.", text()),
        )
        .header("Location", header("On 201: the new entity's path.", text()))
        .header(
            "Idempotent-Replayed",
            header(
                "`true` when the answer is the first one of a retried `Idempotency-Key`; \
                 nothing was appended.",
                schema(json!({"type": "string", "enum": ["true"]})),
            ),
        )
        .header(
            "X-Request-Id",
            header("The request's id (the caller's, or generated).", text()),
        )
}

fn text() -> RefOr<Schema> {
    super::api::text()
}

fn either(a: RefOr<Schema>, b: RefOr<Schema>) -> RefOr<Schema> {
    schema(json!({"anyOf": [a, b]}))
}

/// A command body: `{"type": "<CommandName>", ...fields}`, one schema per public command,
/// told apart by `type`.
fn command_body<C: Collection>(components: &mut Components) -> RefOr<Schema> {
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
        json!({"oneOf": one_of, "discriminator": {"propertyName": "type", "mapping": mapping}}),
    );
    schema(reference(&body))
}
