//! The routes: every resource's, merged, with the layers they all share.

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use super::access;
use super::api::Api;
use super::collection::{for_each, Collection, Each};
use super::context::{ApiContext, MAX_BODY_BYTES};
use super::dead_letters;
use super::events;
use super::health;
use super::metrics;
use super::openapi;
use super::problem::{ApiError, Code};
use super::resource;
use super::status;

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
        Code::RequestTimeout,
        "the request took longer than the service allows (--request-timeout); retry",
    )
    .into_response()
}

/// Every route but the document's own, each with its operation.
fn resources() -> Api {
    struct Resources(Api);
    impl Each for Resources {
        fn each<C: Collection>(&mut self) {
            self.0 = std::mem::take(&mut self.0).merge(resource::api::<C>());
        }
    }
    let mut collections = Resources(Api::new());
    for_each(&mut collections);
    collections
        .0
        .merge(super::hubs::api())
        .merge(super::availability_quotes::api())
        .merge(events::api())
        .merge(status::api())
        .merge(dead_letters::api())
        .merge(health::api())
        .merge(metrics::api())
}

/// Every route, each with its operation.
fn api() -> Api {
    resources().merge(openapi::api(resources))
}

/// The OpenAPI document of every route, as `/openapi.json` serves it.
pub fn document() -> serde_json::Value {
    openapi::document(api())
}

pub fn router(ctx: ApiContext) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    api()
        .into_router()
        .route_layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            access::authenticate,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            metrics::count_requests,
        ))
        .fallback(|uri: axum::http::Uri| async move { no_route(uri.path()) })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                Code::MethodNotAllowed,
                "this route does not take that method",
            )
        })
        .with_state(ctx)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(trace_layer())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// What a path that matches no route is: most often a collection misspelt.
fn no_route(path: &str) -> ApiError {
    // What the caller sent is echoed back, cut short: a problem document stays small.
    let shown: String = path.chars().take(200).collect();
    let collections = super::collection::collection_paths();
    let top = ["events", "projections", "dead-letters"];
    match shown
        .strip_prefix("/v1/")
        .map(|rest| rest.split('/').next().unwrap_or_default())
    {
        Some(name) if !collections.contains(&name) && !top.contains(&name) => {
            ApiError::not_found(format!(
                "no collection `{name}`; the collections are {} (and /v1/events, /v1/projections, \
                 /v1/dead-letters)",
                collections.join(", ")
            ))
            .with("collection", name)
        }
        _ => ApiError::not_found(format!(
            "no route {shown}; GET /openapi.json (or /docs) lists them"
        )),
    }
}

/// The trace layer as `trace_layer` configures it.
type Trace = tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request<axum::body::Body>) -> tracing::Span,
    tower_http::trace::DefaultOnRequest,
    tower_http::trace::DefaultOnResponse,
    tower_http::trace::DefaultOnBodyChunk,
    tower_http::trace::DefaultOnEos,
    (),
>;

/// Each request in a span of its own. A 5xx is logged once, with its cause, where it is made
/// (`ApiError::internal`): the trace layer's own failure log would repeat it without one.
fn trace_layer() -> Trace {
    fn span(request: &Request<axum::body::Body>) -> tracing::Span {
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
    }
    TraceLayer::new_for_http()
        .on_failure(())
        .make_span_with(span as fn(&Request<axum::body::Body>) -> tracing::Span)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_misspelt_collection_is_named_with_the_ones_there_are() {
        let error = no_route("/v1/task/6f1c/history");
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        assert!(
            error.detail().contains("no collection `task`"),
            "{}",
            error.detail()
        );
        assert!(
            error.detail().contains("tasks, trips, pilots, fo-tasks"),
            "{}",
            error.detail()
        );
        assert!(no_route("/v2/tasks").detail().contains("/openapi.json"));
        let long = format!("/v2/{}", "x".repeat(10_000));
        assert!(no_route(&long).detail().len() < 300);
    }

    #[test]
    fn a_failure_of_ours_is_logged_once_with_its_cause() {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let status = tracing::subscriber::with_default(subscriber, || {
            let app: Router = Router::new()
                .route(
                    "/boom",
                    get(|| async {
                        Err::<(), _>(ApiError::internal(anyhow::anyhow!("disk on fire")))
                    }),
                )
                .layer(trace_layer());
            let request = Request::get("/boom").body(Body::empty()).unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(app.oneshot(request)).unwrap().status()
        });
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let errors: Vec<_> = text.lines().filter(|l| l.contains("ERROR")).collect();
        assert_eq!(errors.len(), 1, "{text}");
        assert!(errors[0].contains("disk on fire"), "{text}");
    }
}
