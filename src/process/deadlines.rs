//! Deadlines: a REQUESTED assignment nobody accepted within the timeout goes STALE; a
//! reservation past its `until` expires. Due work is found in the read models at every tick
//! (never only in memory), so it fires after a restart too; one instance at a time runs a tick
//! (a transaction-scoped advisory lock) and each command's idempotency key names its deadline
//! (the assignment with the time it was requested, the reservation with the stream sequence at
//! which it was made), so nothing fires twice, and an id a pilot uses again later (it remembers
//! the last 64) is a new deadline.

use std::time::Duration;

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
}

pub async fn run(store: EventStore, settings: DeadlineSettings) {
    let mut every = tokio::time::interval(settings.interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(err) = tick(&store, settings).await {
            tracing::warn!(error = %format!("{err:#}"), "deadline check failed; retrying");
        }
    }
}

/// Fires every due deadline; returns how many commands it issued.
pub async fn tick(store: &EventStore, settings: DeadlineSettings) -> anyhow::Result<usize> {
    let mut lock = store.pool().begin().await?;
    let leading: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext('operations.deadlines'))")
            .fetch_one(&mut *lock)
            .await?;
    if !leading {
        return Ok(0);
    }
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
        let command = PilotCommand::MarkAssignmentStale { assignment_id };
        fired += fire(store, key, pilot_id, command, assignment_id).await;
    }
    for row in expired {
        let (pilot_id, reservation_id): (Uuid, Uuid) = (
            row.try_get("pilot_id")?,
            row.try_get("active_reservation_id")?,
        );
        let reserved_sequence: i64 = row.try_get("reserved_sequence")?;
        let key = format!("deadline:expire:{pilot_id}:{reservation_id}:{reserved_sequence}");
        let command = PilotCommand::ExpireReservation { reservation_id };
        fired += fire(store, key, pilot_id, command, reservation_id).await;
    }
    lock.commit().await?;
    Ok(fired)
}

/// Issues one deadline's command; a failure is logged and retried at the next tick, without
/// holding up the other deadlines.
async fn fire(
    store: &EventStore,
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
    match issue::<Pilot>(store, &services, key, pilot_id, command, &cause).await {
        Ok(Effect::Applied(outcome)) if !outcome.replayed => 1,
        Ok(Effect::Applied(_) | Effect::Unchanged) => 0,
        Ok(Effect::Refused(refusal)) => {
            // The read model was a moment behind: the assignment was accepted, the reservation
            // released... Nothing is due any more.
            tracing::debug!(%pilot_id, %refusal, "deadline no longer due");
            0
        }
        Err(err) => {
            tracing::warn!(%pilot_id, error = %format!("{err:#}"), "deadline failed; retrying");
            0
        }
    }
}
