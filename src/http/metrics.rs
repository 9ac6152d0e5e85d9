//! `/metrics` in Prometheus text: commands, latency, events appended, projectors, HTTP.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, TextEncoder};
use utoipa::openapi::{Content, ResponseBuilder};

use super::api::{text, Api, Op};
use super::context::ApiContext;
use super::problem::ApiError;
pub use super::registry::Metrics;

pub fn api() -> Api {
    Api::new().get("/metrics", render, |_| {
        let text = ResponseBuilder::new()
            .description("Prometheus text exposition format.")
            .content("text/plain", Content::new(Some(text())));
        Op::new("operations", "metrics", "Prometheus metrics")
            .answer(StatusCode::OK, text)
            .problems(&[StatusCode::BAD_REQUEST])
    })
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
    _: super::extract::ApiQuery<super::extract::NoQuery>,
) -> Result<Response, ApiError> {
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
    // Counters of this instance: brought up to the runner's counts.
    let catch_up = |counter: prometheus::IntCounter, count: u64| {
        counter.inc_by(count.saturating_sub(counter.get()));
    };
    let (shared, alone) = ctx.feed.reads();
    catch_up(
        ctx.metrics.feed_reads.with_label_values(&["instance"]),
        shared,
    );
    catch_up(
        ctx.metrics.feed_reads.with_label_values(&["projector"]),
        alone,
    );
    for (projector, batches) in ctx.feed.batches() {
        catch_up(
            ctx.metrics
                .projector_batches
                .with_label_values(&[projector]),
            batches,
        );
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
