//! The HTTP API: one router per resource, merged here, with the layers every route shares.

pub mod access;
mod collection;
mod dead_letters;
mod events;
mod fo_tasks;
mod headers;
mod health;
mod list;
pub mod metrics;
mod openapi;
mod pilots;
mod problem;
pub mod rate;
mod reads;
mod status;
mod tasks;
mod trips;

pub use collection::{parse_command, Collection};
pub use events::{event_types, AGGREGATE_TYPES};
pub use openapi::document as openapi_document;
pub use problem::ApiError;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::store::EventStore;
use aggregates::fo_task::FoTask;
use aggregates::pilot::Pilot;
use aggregates::task::Task;
use aggregates::trip::Trip;

/// A command body may be at most 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The whole-request timeout answers 408 with no body: give it the problem document every
/// other error has.
pub async fn problem_for_timeout(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    if response.status() != StatusCode::REQUEST_TIMEOUT
        || response
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE)
    {
        return response;
    }
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request took longer than the service allows (--request-timeout); retry",
    )
    .into_response()
}

/// The collections' path segments, as in `/v1/{collection}`.
pub fn collection_paths() -> [&'static str; 4] {
    [
        <Task as Collection>::PATH,
        <Pilot as Collection>::PATH,
        <Trip as Collection>::PATH,
        <FoTask as Collection>::PATH,
    ]
}

/// The aggregate type behind a collection's path segment (`tasks` -> `Task`).
pub fn aggregate_type_of(collection: &str) -> Option<&'static str> {
    [
        (
            <Task as Collection>::PATH,
            <Task as cqrs_es::Aggregate>::TYPE,
        ),
        (
            <Pilot as Collection>::PATH,
            <Pilot as cqrs_es::Aggregate>::TYPE,
        ),
        (
            <Trip as Collection>::PATH,
            <Trip as cqrs_es::Aggregate>::TYPE,
        ),
        (
            <FoTask as Collection>::PATH,
            <FoTask as cqrs_es::Aggregate>::TYPE,
        ),
    ]
    .into_iter()
    .find(|(path, _)| *path == collection)
    .map(|(_, aggregate_type)| aggregate_type)
}

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiContext {
    pub store: EventStore,
    pub auth: crate::auth::Authenticator,
    pub rate: std::sync::Arc<rate::RateLimits>,
    /// How long a read naming a consistency token may wait.
    pub consistency_timeout: std::time::Duration,
    /// How long a transaction may stay open before /readyz reports it.
    pub long_transaction: std::time::Duration,
    pub metrics: std::sync::Arc<metrics::Metrics>,
}

pub fn router(ctx: ApiContext) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(collection::router::<Task>())
        .merge(collection::router::<Pilot>())
        .merge(collection::router::<Trip>())
        .merge(collection::router::<FoTask>())
        .merge(health::router())
        .merge(status::router())
        .merge(dead_letters::router())
        .merge(events::router())
        .merge(metrics::router())
        .merge(openapi::router())
        .route_layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            access::authenticate,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            metrics::count_requests,
        ))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .with_state(ctx)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    uri = %request.uri(),
                    request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
