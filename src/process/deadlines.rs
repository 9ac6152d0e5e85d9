//! Deadlines: a REQUESTED assignment nobody accepted within the timeout goes STALE; a
//! reservation past its `until` expires. Due work is found in the read models at every tick
//! (never only in memory), so it fires after a restart too; one instance at a time runs a tick
//! (a transaction-scoped advisory lock) and each command's idempotency key names its deadline
//! (the assignment with the time it was requested, the reservation with the stream sequence at
//! which it was made), so nothing fires twice, and an id a pilot uses again later (it remembers
//! the last 64) is a new deadline.
//!
//! A deadline that keeps failing on its pilot (its stream cannot be loaded, say) is parked
//! after `park_after` ticks, like a projector's poison event: a dead letter of `deadlines` on
//! that pilot, whose deadlines are then passed over while the others' keep firing. A retry
//! lets them fire again at the next tick; a skip drops that one deadline for good.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use projections::dead_letters::{self, DEADLINES};

use aggregates::pilot::{Pilot, PilotCommand, PilotServices};
use sqlx::Row;
use uuid::Uuid;

use super::{issue, Cause, Effect};
use crate::store::EventStore;

#[derive(Debug, Clone, Copy)]
pub struct DeadlineSettings {
    /// How long a REQUESTED assignment waits for its pilot before it goes STALE.
    pub assignment_timeout: Duration,
    /// How often due deadlines are looked for.
    pub interval: Duration,
    /// Ticks at which a deadline fails before its pilot's deadlines are parked.
    pub park_after: u32,
}

/// The deadlines failing so far, by key: attempts and the first failure.
#[derive(Default)]
pub struct Failures(HashMap<String, (u32, DateTime<Utc>)>);

pub async fn run(store: EventStore, settings: DeadlineSettings) {
    let mut every = tokio::time::interval(settings.interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures = Failures::default();
    loop {
        every.tick().await;
        if let Err(err) = tick(&store, settings, &mut failures).await {
            tracing::warn!(error = %format!("{err:#}"), "deadline check failed; retrying");
        }
    }
}

/// Fires every due deadline; returns how many commands it issued.
pub async fn tick(
    store: &EventStore,
    settings: DeadlineSettings,
    failures: &mut Failures,
) -> anyhow::Result<usize> {
    let mut lock = store.pool().begin().await?;
    let leading: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext('operations.deadlines'))")
            .fetch_one(&mut *lock)
            .await?;
    if !leading {
        return Ok(0);
    }
    answer_requests(store).await?;
    // Pilots parked behind a deadline's dead letter, and deadlines skipped for good.
    let held: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT aggregate_id, deadline_key, status FROM dead_letters
          WHERE projector = $1 AND (status = 'parked' OR (status = 'skipped' AND deadline_key IS NOT NULL))",
    )
    .bind(DEADLINES)
    .fetch_all(store.pool())
    .await?;
    let parked: HashSet<String> = held
        .iter()
        .filter(|(_, _, status)| status == "parked")
        .map(|(pilot, _, _)| pilot.clone())
        .collect();
    let skipped: HashSet<String> = held.into_iter().filter_map(|(_, key, _)| key).collect();
    let passed_over =
        |pilot: &Uuid, key: &str| parked.contains(&pilot.to_string()) || skipped.contains(key);
    let stale = sqlx::query(
        "SELECT pilot_id, assignment_id, requested_at FROM pilot_assignments
          WHERE status = 'REQUESTED' AND requested_at <= now() - make_interval(secs => $1)
          ORDER BY requested_at LIMIT 500",
    )
    .bind(settings.assignment_timeout.as_secs_f64())
    .fetch_all(store.pool())
    .await?;
    let expired = sqlx::query(
        "SELECT p.id AS pilot_id, p.active_reservation_id, r.sequence AS reserved_sequence
           FROM pilots p
           CROSS JOIN LATERAL (
                SELECT max(h.sequence) AS sequence FROM pilot_reservation_history h
                 WHERE h.pilot_id = p.id AND h.reservation_id = p.active_reservation_id
                   AND h.event_type = 'PilotReserved') r
          WHERE p.active_reservation_id IS NOT NULL AND p.locked_until <= now()
            AND p.archived_at IS NULL AND r.sequence IS NOT NULL
          ORDER BY p.locked_until LIMIT 500",
    )
    .fetch_all(store.pool())
    .await?;
    let mut fired = 0;
    for row in stale {
        let (pilot_id, assignment_id): (Uuid, Uuid) =
            (row.try_get("pilot_id")?, row.try_get("assignment_id")?);
        let requested_at: chrono::DateTime<chrono::Utc> = row.try_get("requested_at")?;
        let key = format!(
            "deadline:stale:{pilot_id}:{assignment_id}:{}",
            requested_at.timestamp_micros()
        );
        if passed_over(&pilot_id, &key) {
            continue;
        }
        let command = PilotCommand::MarkAssignmentStale { assignment_id };
        fired += fire(
            store,
            settings,
            failures,
            key,
            pilot_id,
            command,
            assignment_id,
        )
        .await;
    }
    for row in expired {
        let (pilot_id, reservation_id): (Uuid, Uuid) = (
            row.try_get("pilot_id")?,
            row.try_get("active_reservation_id")?,
        );
        let reserved_sequence: i64 = row.try_get("reserved_sequence")?;
        let key = format!("deadline:expire:{pilot_id}:{reservation_id}:{reserved_sequence}");
        if passed_over(&pilot_id, &key) {
            continue;
        }
        let command = PilotCommand::ExpireReservation { reservation_id };
        fired += fire(
            store,
            settings,
            failures,
            key,
            pilot_id,
            command,
            reservation_id,
        )
        .await;
    }
    lock.commit().await?;
    Ok(fired)
}

/// Retries (the pilot's deadlines fire again) and skips (that deadline never fires) that
/// operators asked of the deadlines' dead letters.
async fn answer_requests(store: &EventStore) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE dead_letters
            SET status = CASE requested WHEN 'skip' THEN 'skipped' ELSE 'retried' END,
                resolved_by = requested_by, resolved_at = now(), requested = NULL
          WHERE projector = $1 AND status = 'parked' AND requested IS NOT NULL",
    )
    .bind(DEADLINES)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Issues one deadline's command; a failure is logged and retried at the next tick, without
/// holding up the other deadlines, and parked after `park_after` ticks.
#[allow(clippy::too_many_arguments)]
async fn fire(
    store: &EventStore,
    settings: DeadlineSettings,
    failures: &mut Failures,
    key: String,
    pilot_id: Uuid,
    command: PilotCommand,
    subject: Uuid,
) -> usize {
    let cause = Cause {
        actor: "process:deadlines",
        causation_id: key.clone(),
        correlation_id: subject.to_string(),
    };
    let services = PilotServices {
        now: chrono::Utc::now(),
    };
    let issued = issue::<Pilot>(store, &services, key.clone(), pilot_id, command, &cause).await;
    if issued.is_ok() {
        failures.0.remove(&key);
    }
    match issued {
        Ok(Effect::Applied(outcome)) if !outcome.replayed => 1,
        Ok(Effect::Applied(_) | Effect::Unchanged) => 0,
        Ok(Effect::Refused(refusal)) => {
            // The read model was a moment behind: the assignment was accepted, the reservation
            // released... Nothing is due any more.
            tracing::debug!(%pilot_id, %refusal, "deadline no longer due");
            0
        }
        Err(err) => {
            let error = format!("{err:#}");
            let (attempts, since) = failures.0.entry(key.clone()).or_insert((0, Utc::now()));
            *attempts += 1;
            if *attempts >= settings.park_after.max(1) {
                let parked = dead_letters::park_deadline(
                    store.pool(),
                    <Pilot as cqrs_es::Aggregate>::TYPE,
                    &pilot_id.to_string(),
                    &key,
                    &error,
                    *attempts as i32,
                    *since,
                )
                .await;
                match parked {
                    Ok(id) => {
                        tracing::warn!(%pilot_id, %error, dead_letter = ?id, "deadline parked");
                        failures.0.remove(&key);
                    }
                    Err(park_err) => {
                        tracing::warn!(%pilot_id, error = %park_err, "cannot park the deadline")
                    }
                }
            } else {
                tracing::warn!(%pilot_id, %error, "deadline failed; retrying");
            }
            0
        }
    }
}
