//! The service's Prometheus metrics: the registry and the meters the code updates.

use std::sync::Arc;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// The service's metrics, in a registry of their own (one per application instance).
pub struct Metrics {
    pub(super) registry: Registry,
    pub commands: IntCounterVec,
    pub command_seconds: HistogramVec,
    pub events_appended: IntCounterVec,
    pub(super) http_requests: IntCounterVec,
    pub(super) projector_position: IntGaugeVec,
    pub(super) projector_lag: IntGaugeVec,
    pub(super) projector_failures: IntGaugeVec,
    pub(super) projector_dead_letters: IntGaugeVec,
    pub(super) feed_reads: IntCounterVec,
    pub(super) projector_batches: IntCounterVec,
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
                "Events of its types committed past each projector's checkpoint",
            )?,
            projector_failures: gauge(
                "projector_failures",
                "Consecutive failed batches of each projector",
            )?,
            projector_dead_letters: gauge(
                "projector_dead_letters",
                "Streams parked behind a dead letter, by projector (and `deadlines`)",
            )?,
            feed_reads: counter(
                "feed_reads_total",
                "Reads of the feed by this instance's projectors: `instance`, its one reader for \
                 all of them; `projector`, one reading on its own (its place behind the reader's)",
                &["reader"],
            )?,
            projector_batches: counter(
                "projector_batches_total",
                "Batches of events this instance's projectors applied, by projector",
                &["projector"],
            )?,
            registry,
        }))
    }
}
