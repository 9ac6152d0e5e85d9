//! `operations dead-letters list|retry|skip`.

use std::time::Instant;

use anyhow::bail;
use projections::dead_letters::{self, DeadLetter, RequestError};

use crate::settings::{DeadLettersAction, DeadLettersSettings};
use crate::startup;

pub async fn dead_letters(settings: DeadLettersSettings) -> anyhow::Result<()> {
    let pool = startup::connect(&settings.database).await?;
    startup::migrate(&pool).await?;
    let actor = settings.actor.clone().unwrap_or_else(|| {
        format!(
            "cli:{}",
            std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".into())
        )
    });
    let (id, reason) = match settings.action {
        DeadLettersAction::List {
            projector,
            all,
            json,
        } => {
            let letters = dead_letters::list(
                &pool,
                &dead_letters::Filter {
                    projector,
                    status: (!all).then(|| "parked".to_string()),
                    limit: 10_000,
                    ..Default::default()
                },
            )
            .await?;
            if json {
                for letter in letters {
                    println!("{}", serde_json::to_string(&letter)?);
                }
                return Ok(());
            }
            println!(
                "{:<6} {:<22} {:<9} {:<38} {:>5} {:<28} {:<8} {:>6} ERROR",
                "ID", "PROJECTOR", "TYPE", "STREAM", "SEQ", "EVENT", "STATUS", "BEHIND"
            );
            for l in letters {
                println!(
                    "{:<6} {:<22} {:<9} {:<38} {:>5} {:<28} {:<8} {:>6} {}",
                    l.id,
                    l.projector,
                    l.aggregate_type,
                    l.aggregate_id,
                    l.sequence.map_or("-".into(), |s| s.to_string()),
                    l.event_type.as_deref().unwrap_or("-"),
                    l.status,
                    l.parked_events,
                    l.error.lines().next().unwrap_or_default(),
                );
            }
            return Ok(());
        }
        DeadLettersAction::Retry { id } => (id, None),
        DeadLettersAction::Skip { id, reason } => {
            if reason.trim().is_empty() {
                bail!("--reason must say why the event is skipped");
            }
            (id, Some(reason))
        }
    };
    match dead_letters::request(&pool, id, reason.as_deref().map(str::trim), &actor).await {
        Ok(_) => {}
        Err(RequestError::Database(err)) => return Err(err.into()),
        Err(err) => bail!("{err}"),
    }
    // A running instance's runner does it; wait for the outcome.
    let started = Instant::now();
    loop {
        let Some(letter): Option<DeadLetter> = dead_letters::get(&pool, id).await? else {
            bail!("dead letter {id} is gone");
        };
        if letter.status != "parked" {
            println!(
                "dead letter {id}: {} by {}",
                letter.status,
                letter.resolved_by.as_deref().unwrap_or(&actor)
            );
            return Ok(());
        }
        if letter.requested.is_none() {
            bail!(
                "dead letter {id}: the event still cannot be applied: {}",
                letter
                    .last_retry_error
                    .as_deref()
                    .unwrap_or("unknown error")
            );
        }
        if started.elapsed() >= settings.wait {
            println!(
                "dead letter {id}: {} requested; no running instance has done it yet (it will \
                 when one runs the projector {})",
                if reason.is_some() { "skip" } else { "retry" },
                letter.projector
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
