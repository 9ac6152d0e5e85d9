//! `operations export`: the feed, page by page, to stdout. Memory stays that of one page.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use projections::{feed, FeedFilter, FeedPosition};

use crate::settings::{ExportFormat, ExportSettings};
use crate::startup;

const PAGE: i64 = 5000;

pub async fn export(settings: ExportSettings) -> anyhow::Result<()> {
    // As the feed's API does: a filter naming nothing that exists is a mistake, not an empty
    // export.
    if let Some(unknown) = settings
        .aggregate_type
        .as_deref()
        .filter(|t| !crate::http::aggregate_types().contains(t))
    {
        anyhow::bail!(
            "no aggregate type is named {unknown:?}; there are: {}",
            crate::http::aggregate_types().join(", ")
        );
    }
    if let Some(unknown) = settings
        .event_type
        .iter()
        .flatten()
        .find(|t| !crate::http::event_types().any(|known| known == t.as_str()))
    {
        anyhow::bail!("no event type is named {unknown:?}");
    }
    let pool = startup::connect_unbounded(&settings.database).await?;
    let mut after: FeedPosition = match &settings.after {
        Some(token) => token.parse().map_err(anyhow::Error::msg)?,
        None => FeedPosition::default(),
    };
    let filter = FeedFilter {
        aggregate_type: settings.aggregate_type.clone(),
        event_types: settings.event_type.clone(),
        since: settings.since,
        until: settings.until,
    };
    let progress = ProgressBar::new_spinner().with_style(ProgressStyle::with_template(
        "{spinner} exported {pos} events ({per_sec}) {elapsed}",
    )?);
    progress.enable_steady_tick(Duration::from_millis(200));
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut sink = match settings.format {
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(COLUMNS)?;
            Sink::Csv(Box::new(writer))
        }
        ExportFormat::Ndjson => Sink::Ndjson(out),
    };
    loop {
        let page = feed::read_page(&pool, after, &filter, PAGE)
            .await
            .context("cannot read the events")?;
        let Some(last) = page.last() else { break };
        after = last.at;
        for event in &page {
            sink.write(&event.to_json())?;
        }
        progress.inc(page.len() as u64);
    }
    sink.flush()?;
    progress.finish_and_clear();
    eprintln!(
        "exported {} events; resume with --after {after}",
        progress.position()
    );
    Ok(())
}

const COLUMNS: [&str; 12] = [
    "token",
    "position",
    "aggregate_type",
    "aggregate_id",
    "sequence",
    "event_type",
    "event_version",
    "recorded_at",
    "payload",
    "metadata",
    "upcast_from",
    "hash",
];

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Ndjson(W),
}

impl<W: Write> Sink<W> {
    fn write(&mut self, event: &serde_json::Value) -> anyhow::Result<()> {
        match self {
            Self::Csv(writer) => writer.write_record(COLUMNS.iter().map(|c| match &event[*c] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            }))?,
            Self::Ndjson(out) => {
                serde_json::to_writer(&mut *out, event)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Csv(writer) => writer.flush(),
            Self::Ndjson(out) => out.flush(),
        }
    }
}
