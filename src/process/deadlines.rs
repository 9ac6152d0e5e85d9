//! Deadlines: a REQUESTED assignment nobody accepted within the timeout goes STALE; a
//! reservation past its `until` expires. Due work is found in the read models at every tick
//! (never only in memory), so it fires after a restart too; one instance at a time runs a tick
//! (a transaction-scoped advisory lock) and each command's idempotency key is its deadline, so
//! nothing fires twice.

use std::time::Duration;

use aggregates::pilot::{Pilot, PilotCommand, PilotServices};
use sqlx::Row;
use uuid::Uuid;

use super::{issue, Cause};
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
        "SELECT pilot_id, assignment_id FROM pilot_assignments
          WHERE status = 'REQUESTED' AND requested_at <= now() - make_interval(secs => $1)
          ORDER BY requested_at LIMIT 500",
    )
    .bind(settings.assignment_timeout.as_secs_f64())
    .fetch_all(store.pool())
    .await?;
    let expired = sqlx::query(
        "SELECT id AS pilot_id, active_reservation_id FROM pilots
          WHERE active_reservation_id IS NOT NULL AND locked_until <= now()
            AND archived_at IS NULL
          ORDER BY locked_until LIMIT 500",
    )
    .fetch_all(store.pool())
    .await?;
    let mut fired = 0;
    for row in stale {
        let (pilot_id, assignment_id): (Uuid, Uuid) =
            (row.try_get("pilot_id")?, row.try_get("assignment_id")?);
        let key = format!("deadline:stale:{pilot_id}:{assignment_id}");
        let command = PilotCommand::MarkAssignmentStale { assignment_id };
        fired += fire(store, key, pilot_id, command, assignment_id).await;
    }
    for row in expired {
        let (pilot_id, reservation_id): (Uuid, Uuid) = (
            row.try_get("pilot_id")?,
            row.try_get("active_reservation_id")?,
        );
        let key = format!("deadline:expire:{pilot_id}:{reservation_id}");
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
        Ok(Ok(outcome)) if !outcome.replayed => 1,
        Ok(Ok(_)) => 0,
        Ok(Err(refusal)) => {
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
