//! Upgrade steps: what a new version records once about what an older one stored. Each step
//! issues ordinary commands through the event store (hash chain, claims, registry, feed), with
//! an actor that names the step and under keys derived from what it upgrades, so that running
//! it again records nothing new. `operations migrate` runs every step; `serve` runs the steps
//! not yet marked done in `upgrades`, before its projectors and processes start.

use std::time::Duration;

use aggregates::operator::{Operator, OperatorCommand, OperatorRole, OperatorStatus};
use aggregates::pilot::Pilot;
use anyhow::Context;
use uuid::Uuid;

use crate::process::{decide_once, Cause, Effect};
use crate::store::EventStore;

/// Gives each pilot stored before pilots were operators its operator.
pub const PILOT_OPERATORS: &str = "pilot-operators";
/// Who `PILOT_OPERATORS`'s events say acted.
pub const PILOT_OPERATORS_ACTOR: &str = "upgrade:pilot-operators";

/// The key under which `PILOT_OPERATORS` decides `step` (`register`, `status`) for `pilot`.
pub fn decision_key(pilot: Uuid, step: &str) -> String {
    format!("upgrade:{PILOT_OPERATORS}:{pilot}:{step}")
}

/// What a step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub step: &'static str,
    /// Operators it registered.
    pub registered: usize,
    /// Statuses it set (a pilot on shift at the upgrade).
    pub statuses: usize,
    /// Operators registered without the pilot's `user_id`, which another operator holds.
    pub without_user: Vec<Uuid>,
}

impl Report {
    pub fn log(&self) {
        tracing::info!(step = self.step, registered = self.registered, statuses = self.statuses,
            without_user = ?self.without_user, "upgrade step done");
    }
}

/// Runs the steps: all of them (`every`), or those not yet marked done.
pub async fn run(store: &EventStore, every: bool) -> anyhow::Result<Vec<Report>> {
    let done: Option<String> = sqlx::query_scalar("SELECT name FROM upgrades WHERE name = $1")
        .bind(PILOT_OPERATORS)
        .fetch_optional(store.pool())
        .await
        .context("cannot read which upgrades are done")?;
    if done.is_some() && !every {
        return Ok(Vec::new());
    }
    let report = pilot_operators(store).await?;
    sqlx::query(
        "INSERT INTO upgrades (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET done_at = now()",
    )
    .bind(PILOT_OPERATORS)
    .execute(store.pool())
    .await?;
    Ok(vec![report])
}

/// Each pilot without an operator gets one with role PILOT (the pilot's `user_id`, unless
/// another operator holds it), and a pilot on shift its status (`OperatorStatus::of_shift`).
///
/// The status is read from the pilot once every transaction older than the registration has
/// ended: what the pilot did before it is in that read, and the shift process (which leaves
/// alone what happened before an operator was registered) takes what comes after.
///
/// A pilot is done once both steps are (`upgrade_subjects`). One whose operator the step
/// registered but which is not done (a run stopped between its two steps) is taken up again:
/// its registration is found made, and its status is set.
async fn pilot_operators(store: &EventStore) -> anyhow::Result<Report> {
    let pilots: Vec<(String, i64)> = sqlx::query_as(
        "SELECT p.aggregate_id, p.global_position FROM events p
          WHERE p.aggregate_type = 'Pilot' AND p.sequence = 1
            AND NOT EXISTS (SELECT 1 FROM events o
                             WHERE o.aggregate_type = 'Operator' AND o.sequence = 1
                               AND o.aggregate_id = p.aggregate_id
                               AND o.metadata->>'actor' IS DISTINCT FROM $1)
            AND NOT EXISTS (SELECT 1 FROM upgrade_subjects u
                             WHERE u.step = $2 AND u.subject = p.aggregate_id)
          ORDER BY p.global_position",
    )
    .bind(PILOT_OPERATORS_ACTOR)
    .bind(PILOT_OPERATORS)
    .fetch_all(store.pool())
    .await
    .context("cannot list the pilots without an operator")?;
    let mut report = Report {
        step: PILOT_OPERATORS,
        ..Report::default()
    };
    for (id, position) in pilots {
        let pilot_id: Uuid = id.parse().context("a pilot's id is not a UUID")?;
        let cause = Cause {
            actor: PILOT_OPERATORS_ACTOR,
            causation_id: format!("event:{position}"),
            correlation_id: format!("upgrade:{PILOT_OPERATORS}"),
        };
        let key = |step: &str| decision_key(pilot_id, step);
        let pilot = store.load::<Pilot>(&id).await?.aggregate;
        let user_id = pilot.state().and_then(|p| p.user_id);
        let free = match user_id {
            None => None,
            Some(user) => (!claimed_by_an_operator(store, user).await?).then_some(user),
        };
        if user_id.is_some() && free.is_none() {
            report.without_user.push(pilot_id);
        }
        let register = OperatorCommand::RegisterOperator {
            role: OperatorRole::Pilot,
            user_id: free,
            display_name: None,
        };
        let registered =
            decide_once::<Operator>(store, &(), key("register"), pilot_id, register, &cause)
                .await?;
        // Refused: registered by an earlier run of this step (its key since pruned).
        if matches!(registered, Effect::Applied(ref outcome) if !outcome.replayed) {
            report.registered += 1;
        }
        older_transactions_ended(store, pilot_id).await?;
        let pilot = store.load::<Pilot>(&id).await?.aggregate;
        let shift = pilot
            .state()
            .and_then(|p| p.shift.as_ref())
            .map(|s| s.state);
        let status = OperatorStatus::of_shift(shift);
        if status != OperatorStatus::Offline {
            let change = OperatorCommand::ChangeOperatorStatus { status };
            let changed =
                decide_once::<Operator>(store, &(), key("status"), pilot_id, change, &cause)
                    .await?;
            if matches!(changed, Effect::Applied(ref outcome) if !outcome.replayed) {
                report.statuses += 1;
            }
        }
        sqlx::query(
            "INSERT INTO upgrade_subjects (step, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(PILOT_OPERATORS)
        .bind(&id)
        .execute(store.pool())
        .await?;
    }
    Ok(report)
}

async fn claimed_by_an_operator(store: &EventStore, user: Uuid) -> anyhow::Result<bool> {
    let held: Option<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM unique_claims
          WHERE aggregate_type = 'Operator' AND field = 'user_id' AND value = $1",
    )
    .bind(user.to_string())
    .fetch_optional(store.pool())
    .await?;
    Ok(held.is_some())
}

/// Waits until every transaction older than the one that registered `operator` has ended.
async fn older_transactions_ended(store: &EventStore, operator: Uuid) -> anyhow::Result<()> {
    for _ in 0..600 {
        let ended: bool = sqlx::query_scalar(
            "SELECT feed_horizon() > transaction_id FROM events
              WHERE aggregate_type = 'Operator' AND aggregate_id = $1 AND sequence = 1",
        )
        .bind(operator.to_string())
        .fetch_one(store.pool())
        .await?;
        if ended {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("a transaction older than operator {operator}'s registration stays open")
}
