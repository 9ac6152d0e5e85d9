//! The raw events: one ordered, gap-safe feed for analysts, in the order the projectors read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use projections::{feed, FeedFilter, FeedPosition};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::IntoParams;

use super::answer::FeedPage;
use super::api::{Api, Op};
use super::collection::{collections, for_each, Collection, Each};
use super::context::ApiContext;
use super::extract::{page_limit, ApiQuery};
use super::problem::{ApiError, Code};
use super::schemas::{schema, Components};

pub fn api() -> Api {
    Api::new().get("/v1/events", events, |schemas| {
        Op::new(
            "events",
            "feed",
            "Every event, in the order the projectors apply them",
        )
        .describe(
            "Gap-safe: an event appears only once no earlier-committing transaction can still \
             add one before it. Resume with `next`.",
        )
        .query::<FeedQuery>()
        .json(
            StatusCode::OK,
            "A page of events.",
            schemas.add::<FeedPage>(),
        )
        .problems(&[StatusCode::BAD_REQUEST])
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FeedQuery {
    /// The previous page's `next` (or an event's `token`).
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,19}\.[0-9]{1,18}$")]
    after: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
    /// (Described by its schema.)
    #[param(schema_with = aggregate_type)]
    aggregate_type: Option<String>,
    /// (Described by its schema.)
    #[param(schema_with = event_type)]
    event_type: Option<String>,
    /// Only events recorded at or after this time.
    since: Option<DateTime<Utc>>,
    /// Only events recorded before this time.
    until: Option<DateTime<Utc>>,
}

fn aggregate_type() -> RefOr<Schema> {
    let description = "Only this aggregate type.";
    schema(json!({"type": "string", "enum": aggregate_types(), "description": description}))
}

/// One event type, or several separated by commas.
fn event_type() -> RefOr<Schema> {
    let names: Vec<&str> = event_types().collect();
    let pattern = format!("^ *({names}) *(, *({names}) *)*$", names = names.join("|"));
    let description = format!(
        "Only these event types, comma-separated: {}.",
        names.join(", ")
    );
    schema(json!({"type": "string", "pattern": pattern, "description": description}))
}

/// Every aggregate type of the service.
pub fn aggregate_types() -> Vec<&'static str> {
    collections().iter().map(|c| c.aggregate_type).collect()
}

/// Every event type of the service.
pub fn event_types() -> impl Iterator<Item = &'static str> {
    collections()
        .iter()
        .flat_map(|c| c.event_types.iter().copied())
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
        if !aggregate_types().contains(&kind.as_str()) {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!(
                    "unknown aggregate_type `{kind}`; expected one of: {}",
                    aggregate_types().join(", ")
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

/// The `Event` schema: a stored event as the feed, the per-stream events and the export give
/// it, its payload tied to its `event_type` (`if`/`then`), each payload `event.<EventType>`.
pub fn event_schema(components: &mut Components) {
    struct Payloads<'a>(&'a mut Components, Vec<(String, Value)>);
    impl Each for Payloads<'_> {
        fn each<C: Collection>(&mut self) {
            (self.1).extend(self.0.add_variants::<C::Event>("event"));
        }
    }
    let mut gathered = Payloads(components, Vec::new());
    for_each(&mut gathered);
    let payloads = gathered.1;
    let payload: Vec<Value> = payloads
        .into_iter()
        .map(|(name, payload)| {
            json!({
                "if": {"properties": {"event_type": {"const": name}},
                       "required": ["event_type"]},
                "then": {"properties": {"payload": payload}},
            })
        })
        .collect();
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
                "aggregate_type": {"type": "string", "enum": aggregate_types()},
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
                "recorded_at": {"type": "string", "format": "date-time"},
                "hash": {
                    "type": ["string", "null"],
                    "pattern": "^[0-9a-f]{64}$",
                    "description": "SHA-256 (hex) chaining the event to its stream's previous \
                                    one (see `GET /v1/{collection}/{id}/verify`).",
                },
            },
        }),
    );
}
