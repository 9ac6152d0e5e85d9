//! The CLI's own jobs: what it prints goes to the terminal, not to the logs.

mod audit;
mod dead_letters;
mod export;
mod keys;
mod timeline;

pub use audit::{digest, verify};
pub use dead_letters::dead_letters;
pub use export::export;
pub use keys::keys;
pub use timeline::timeline;

use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use crate::settings::ReplaySettings;
use crate::startup;

/// `operations replay`: rebuilds read models from the events, with a progress bar.
pub async fn replay(settings: ReplaySettings) -> anyhow::Result<()> {
    let pool = startup::connect_unbounded(&settings.database).await?;
    startup::migrate(&pool).await?;
    let all = projections::all();
    let chosen: Vec<_> = match &settings.projection {
        None => all,
        Some(name) => {
            let Some(projector) = all.iter().find(|p| p.name() == name) else {
                let names: Vec<_> = all.iter().map(|p| p.name()).collect();
                bail!(
                    "no projection named `{name}`; there are: {}",
                    names.join(", ")
                );
            };
            vec![projector.clone()]
        }
    };
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .context("cannot count the events")?;
    // Every chosen read model in one pass over the feed, each into its own twin tables; one
    // switch at the end replaces them all.
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template(
            "{prefix:>16} [{bar:40}] {pos}/{len} events {per_sec} eta {eta}",
        )?
        .progress_chars("=> "),
    );
    bar.set_prefix(if chosen.len() == 1 {
        chosen[0].name()
    } else {
        "read models"
    });
    bar.enable_steady_tick(Duration::from_millis(200));
    let rebuilds: Vec<_> = (chosen.iter())
        .map(|projector| projections::Rebuild {
            projector: projector.as_ref(),
            policy: if settings
                .stop_on_failure
                .iter()
                .any(|n| n == projector.name())
            {
                projections::FailurePolicy::Stop
            } else {
                projections::FailurePolicy::Park
            },
        })
        .collect();
    let done = projections::replay_many(&pool, &rebuilds, settings.batch_size, |p| {
        bar.set_position(p.events_read);
    })
    .await
    .context("the replay failed; nothing was changed")?;
    bar.finish_and_clear();
    let seconds = done.elapsed.as_secs_f64();
    let rate = done.events_read as f64 / seconds.max(1e-9);
    let switched = done.switched_in.as_secs_f64();
    for (name, applied) in &done.applied {
        println!(
            "{name:>16}: rebuilt from {} events ({applied} applied) in {seconds:.1} s, {rate:.0} events/s; switched in {switched:.2} s",
            done.events_read,
        );
    }
    if done.applied.len() > 1 {
        println!(
            "all {} read models in one pass over {} stored events: {rate:.0} stored events/s",
            done.applied.len(),
            done.events_read
        );
    }
    Ok(())
}
