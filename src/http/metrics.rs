//! `/metrics` in Prometheus text: commands, latency, events appended, projectors, HTTP.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use super::{ApiContext, ApiError};

/// The service's metrics, in a registry of their own (one per application instance).
pub struct Metrics {
    registry: Registry,
    pub commands: IntCounterVec,
    pub command_seconds: HistogramVec,
    pub events_appended: IntCounterVec,
    http_requests: IntCounterVec,
    projector_position: IntGaugeVec,
    projector_lag: IntGaugeVec,
    projector_failures: IntGaugeVec,
    projector_dead_letters: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Arc<Self>, prometheus::Error> {
        let registry = Registry::new_custom(Some("operations".into()), None)?;
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGaugeVec::new(Opts::new(name, help), &["projector"])?;
            registry.register(Box::new(g.clone()))?;
            Ok::<_, prometheus::Error>(g)
        };
        let command_seconds = HistogramVec::new(
            HistogramOpts::new("command_duration_seconds", "Time to run a command").buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["aggregate"],
        )?;
        registry.register(Box::new(command_seconds.clone()))?;
        Ok(Arc::new(Self {
            commands: counter(
                "commands_total",
                "Commands by aggregate, command and outcome",
                &["aggregate", "command", "outcome"],
            )?,
            command_seconds,
            events_appended: counter(
                "events_appended_total",
                "Events appended to the store",
                &["aggregate"],
            )?,
            http_requests: counter(
                "http_requests_total",
                "HTTP requests by method, route and status",
                &["method", "route", "status"],
            )?,
            projector_position: gauge(
                "projector_checkpoint_position",
                "Global position of each projector's checkpoint",
            )?,
            projector_lag: gauge(
                "projector_lag_events",
                "Events committed past each projector's checkpoint",
            )?,
            projector_failures: gauge(
                "projector_failures",
                "Consecutive failed batches of each projector",
            )?,
            projector_dead_letters: gauge(
                "projector_dead_letters",
                "Streams parked behind a dead letter, by projector (and `deadlines`)",
            )?,
            registry,
        }))
    }
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/metrics", get(render))
}

/// Counts every request by its route pattern (not its path: ids would explode the series).
pub async fn count_requests(
    State(ctx): State<ApiContext>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().to_string();
    let response = next.run(request).await;
    ctx.metrics
        .http_requests
        .with_label_values(&[&method, &route, response.status().as_str()])
        .inc();
    response
}

async fn render(
    State(ctx): State<ApiContext>,
    query: Result<
        axum::extract::Query<super::reads::NoQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Response, ApiError> {
    super::reads::no_query(query)?;
    let started = Instant::now();
    for status in projections::checkpoint::statuses(ctx.store.pool()).await? {
        let name = [status.name.as_str()];
        ctx.metrics
            .projector_position
            .with_label_values(&name)
            .set(status.position);
        ctx.metrics
            .projector_lag
            .with_label_values(&name)
            .set(status.lag_events);
        ctx.metrics
            .projector_failures
            .with_label_values(&name)
            .set(status.failures.into());
        ctx.metrics
            .projector_dead_letters
            .with_label_values(&name)
            .set(0);
    }
    ctx.metrics
        .projector_dead_letters
        .with_label_values(&[projections::dead_letters::DEADLINES])
        .set(0);
    for (projector, parked) in projections::dead_letters::parked_counts(ctx.store.pool()).await? {
        ctx.metrics
            .projector_dead_letters
            .with_label_values(&[projector.as_str()])
            .set(parked);
    }
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&ctx.metrics.registry.gather(), &mut body)
        .map_err(ApiError::internal)?;
    tracing::trace!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "metrics rendered"
    );
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
