//! The shift process: a pilot's shift moves its operator's status, so that the operator's
//! timeline is complete without clients sending both.
//!
//! - `PilotShiftStarted` -> AVAILABLE;
//! - `PilotShiftStateChanged` -> what the new state gives (`OperatorStatus::of_shift`: IN_BREAK
//!   on a break, on cooldown or unresponsive; AVAILABLE back on shift);
//! - `PilotShiftEnded` -> OFFLINE.
//!
//! Each `OperatorStatusChanged` it records carries the shift event as causation id
//! (`event:<position>`). A shift event from before the pilot's operator was registered (a pilot
//! stored before pilots were operators) is left alone: the upgrade step that registered the
//! operator set its status from the shift as it then was (see `crate::upgrade`). As in the
//! assignment process, each decision is stored under a key derived from its event, so a batch
//! redelivered after a crash decides nothing twice.

use aggregates::operator::{Operator, OperatorCommand, OperatorStatus};
use aggregates::pilot::PilotEvent;
use async_trait::async_trait;
use projections::{FeedPosition, StoredEvent};
use uuid::Uuid;

use super::{decide_once, Cause, Effect, Reaction};
use crate::store::EventStore;

pub const NAME: &str = "shift_process";

pub struct ShiftProcess {
    store: EventStore,
}

impl ShiftProcess {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Reaction for ShiftProcess {
    const NAME: &'static str = NAME;
    const EVENT_TYPES: &'static [&'static str] = &[
        "PilotShiftStarted",
        "PilotShiftStateChanged",
        "PilotShiftEnded",
    ];

    async fn react(&self, event: &StoredEvent) -> anyhow::Result<()> {
        let status = match event.decode::<PilotEvent>()? {
            PilotEvent::PilotShiftStarted { .. } => OperatorStatus::Available,
            PilotEvent::PilotShiftStateChanged { to_state, .. } => {
                OperatorStatus::of_shift(Some(to_state))
            }
            PilotEvent::PilotShiftEnded { .. } => OperatorStatus::Offline,
            _ => return Ok(()),
        };
        let operator = event.stream_uuid()?;
        match self.registered_at(operator).await? {
            Some(registered) if registered < event.at => {}
            // No operator (imported with references unchecked), or one registered after this
            // shift event: the upgrade set its status.
            _ => return Ok(()),
        }
        let cause = Cause::of("process:shift", event);
        let key = format!("{NAME}:{}:status", event.at.position);
        let command = OperatorCommand::ChangeOperatorStatus { status };
        let effect =
            decide_once::<Operator>(&self.store, &(), key, operator, command, &cause).await?;
        if let Effect::Refused(refusal) = effect {
            // A deactivated operator stays OFFLINE whatever its pilot does.
            tracing::debug!(%operator, %refusal, "operator status not moved by its pilot's shift");
        }
        Ok(())
    }
}

impl ShiftProcess {
    /// Where in the feed the operator `id` was registered, if it was.
    async fn registered_at(&self, id: Uuid) -> anyhow::Result<Option<FeedPosition>> {
        let at: Option<(i64, i64)> = sqlx::query_as(
            "SELECT transaction_id::text::bigint, global_position FROM events
              WHERE aggregate_type = 'Operator' AND aggregate_id = $1 AND sequence = 1",
        )
        .bind(id.to_string())
        .fetch_optional(self.store.pool())
        .await?;
        Ok(at.map(|(transaction_id, position)| FeedPosition {
            transaction_id: transaction_id as u64,
            position,
        }))
    }
}
