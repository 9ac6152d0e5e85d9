//! `operations verify` and `operations digest`.

use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use crate::audit::{self, digest, Scope};
use crate::http::aggregate_type_of;
use crate::settings::{DigestSettings, VerifySettings};
use crate::startup;

/// Reads only (no migration): an auditor's read-only database role is enough.
pub async fn verify(settings: VerifySettings) -> anyhow::Result<()> {
    let pool = startup::connect_unbounded(&settings.database).await?;
    let stream = match (&settings.collection, settings.id) {
        (Some(collection), Some(id)) => {
            let Some(aggregate_type) = aggregate_type_of(collection) else {
                bail!("no collection is named {collection:?}");
            };
            Some((aggregate_type.to_string(), id.to_string()))
        }
        _ => None,
    };
    let signed = match &settings.digest {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let (heads, key) = digest::read(
                std::io::BufReader::new(file),
                settings.public_key.as_deref(),
            )?;
            if settings.public_key.is_none() {
                eprintln!(
                    "the digest is signed by {key}: pass --public-key to require the key you trust"
                );
            }
            Some(heads)
        }
        None => None,
    };
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events, {per_sec}, {eta} left")
            .expect("a valid template"),
    );
    let started = Instant::now();
    let scope = Scope { stream };
    let report = audit::verify(&pool, &scope, signed, |n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "verified {} events in {} streams in {seconds:.1} s ({:.0} events/s)",
        report.events,
        report.streams,
        report.events as f64 / seconds.max(1e-9)
    );
    if report.intact() && report.events == 0 && scope.stream.is_some() {
        bail!("the stream has no events (and no digest given signed it)");
    }
    if report.intact() {
        println!(
            "intact: {} streams, {} events",
            report.streams, report.events
        );
        return Ok(());
    }
    for broken in &report.breaks {
        println!(
            "BROKEN {} {} at sequence {}: {} ({})",
            broken.aggregate_type, broken.aggregate_id, broken.sequence, broken.kind, broken.detail
        );
    }
    bail!(
        "{} of {} streams are broken",
        report.breaks.len(),
        report.streams
    )
}

pub async fn digest(settings: DigestSettings) -> anyhow::Result<()> {
    if let Some(path) = &settings.new_key {
        let public = digest::new_key(path)?;
        eprintln!(
            "made a signing key in {}; keep it off the database's hosts",
            path.display()
        );
        println!("{public}");
        return Ok(());
    }
    let key = settings.key.as_deref().context("--key is required")?;
    let pool = startup::connect_unbounded(&settings.database).await?;
    let streams = match &settings.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            digest::write(&pool, key, std::io::BufWriter::new(file)).await?
        }
        None => {
            digest::write(
                &pool,
                key,
                std::io::BufWriter::new(std::io::stdout().lock()),
            )
            .await?
        }
    };
    eprintln!("signed the heads of {streams} streams");
    Ok(())
}
