//! Logging set up in one place: `RUST_LOG` for levels, text or JSON lines on stderr.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

pub fn get_subscriber<W>(
    default_filter: &str,
    format: LogFormat,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
    }
}

pub fn init_subscriber(subscriber: Box<dyn Subscriber + Send + Sync>) {
    // Set once per process; a second call (tests) keeps the first.
    let _ = tracing::subscriber::set_global_default(subscriber);
}
