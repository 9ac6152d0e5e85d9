//! Processes: what reacts to committed events by issuing commands. They run on the projector
//! runner (own checkpoint, one instance at a time, no transaction held while their commands
//! run) and decide each causing event once, under keys derived from it: a redelivery after a
//! crash finds every decision taken, refusals included, and does nothing twice.

pub mod assignment;
pub mod deadlines;
pub mod shift;

use aggregates::CommandNames;
use async_trait::async_trait;
use projections::{Delivery, ProjectionError, Projector, StoredEvent};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::commands::{self, CommandEnvelope, CommandError, CommandOutcome};
use crate::store::{EventMetadata, EventStore, IdempotencyRecord, Stream};

/// A process: the events it reacts to, and its reaction to one, which issues its commands with
/// `decide_once`. `Reacting` runs it on the projector runner.
#[async_trait]
pub trait Reaction: Send + Sync + 'static {
    /// Its checkpoint's name, and the prefix of its decisions' keys.
    const NAME: &'static str;
    const EVENT_TYPES: &'static [&'static str];
    async fn react(&self, event: &StoredEvent) -> anyhow::Result<()>;
}

/// A `Reaction` as a projector: no tables, its effects its own transactions (`Delivery::Effects`),
/// each event of a batch reacted to in order.
pub struct Reacting<R>(pub R);

#[async_trait]
impl<R: Reaction> Projector for Reacting<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        R::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    fn delivery(&self) -> Delivery {
        Delivery::Effects
    }

    async fn apply(
        &self,
        _tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.0
                .react(event)
                .await
                .map_err(|err| ProjectionError::Effect {
                    position: event.at.position,
                    reason: format!("{err:#}"),
                })?;
        }
        Ok(())
    }
}

/// Why a process issues a command: the causing event and the flow it belongs to.
#[derive(Debug, Clone)]
pub struct Cause {
    pub actor: &'static str,
    pub causation_id: String,
    pub correlation_id: String,
}

impl Cause {
    /// `actor` reacting to `event`: caused by it (`event:<position>`), in its flow (its
    /// correlation id, or the event itself when it has none).
    pub fn of(actor: &'static str, event: &StoredEvent) -> Self {
        let causation_id = format!("event:{}", event.at.position);
        Self {
            actor,
            correlation_id: (event.provenance().correlation_id)
                .unwrap_or_else(|| causation_id.clone()),
            causation_id,
        }
    }
}

/// What a process's command came to.
#[derive(Debug)]
pub enum Effect {
    /// It appended events (or, `replayed`, had appended them under this key before).
    Applied(CommandOutcome),
    /// The aggregate took it and had nothing to change.
    Unchanged,
    /// The aggregate refused it, for this reason.
    Refused(String),
}

/// Decides `command` once for `key`, refusals included: a second call with the same key gets
/// the first decision, whether it stored events (the idempotency record), changed nothing or
/// was refused (`process_decisions`). `Err` when the store fails (the caller retries).
pub async fn decide_once<A>(
    store: &EventStore,
    services: &A::Services,
    key: String,
    aggregate_id: Uuid,
    command: A::Command,
    cause: &Cause,
) -> anyhow::Result<Effect>
where
    A: Stream,
    A::Command: CommandNames + Clone,
{
    let decided: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT outcome, detail FROM process_decisions WHERE decision_key = $1")
            .bind(&key)
            .fetch_optional(store.pool())
            .await?;
    if let Some((outcome, detail)) = decided {
        return Ok(match outcome.as_str() {
            "refused" => Effect::Refused(detail.unwrap_or_default()),
            _ => Effect::Unchanged,
        });
    }
    let effect = issue::<A>(store, services, key.clone(), aggregate_id, command, cause).await?;
    let (outcome, detail) = match &effect {
        Effect::Applied(_) => return Ok(effect),
        Effect::Unchanged => ("unchanged", None),
        Effect::Refused(refusal) => ("refused", Some(refusal.as_str())),
    };
    sqlx::query(
        "INSERT INTO process_decisions (decision_key, outcome, detail) VALUES ($1, $2, $3)
         ON CONFLICT (decision_key) DO NOTHING",
    )
    .bind(&key)
    .bind(outcome)
    .bind(detail)
    .execute(store.pool())
    .await?;
    Ok(effect)
}

/// Issues `command` under the idempotency key `key`: once it stored events, a second call
/// with the same key gets that outcome. A refusal is not remembered (see `decide_once`). `Err`
/// when the store fails (the caller retries). A concurrent writer on the same stream is retried
/// here.
pub async fn issue<A>(
    store: &EventStore,
    services: &A::Services,
    key: String,
    aggregate_id: Uuid,
    command: A::Command,
    cause: &Cause,
) -> anyhow::Result<Effect>
where
    A: Stream,
    A::Command: CommandNames + Clone,
{
    let request_hash = Sha256::digest(key.as_bytes()).to_vec();
    for _ in 0..5 {
        let envelope = CommandEnvelope {
            aggregate_id,
            metadata: EventMetadata {
                actor: cause.actor.to_string(),
                on_behalf_of: None,
                command: command.name().to_string(),
                request_id: key.clone(),
                correlation_id: cause.correlation_id.clone(),
                causation_id: cause.causation_id.clone(),
            },
            command: command.clone(),
            precondition: None,
            idempotency: Some(IdempotencyRecord {
                key: key.clone(),
                request_hash: request_hash.clone(),
            }),
        };
        match commands::execute::<A>(store, services, envelope).await {
            Ok(outcome) if outcome.events.is_empty() => return Ok(Effect::Unchanged),
            Ok(outcome) => return Ok(Effect::Applied(outcome)),
            Err(CommandError::Refused(refusal)) => return Ok(Effect::Refused(refusal.to_string())),
            Err(CommandError::Conflict) => continue,
            Err(other) => return Err(anyhow::anyhow!("{other}")),
        }
    }
    Err(anyhow::anyhow!(
        "{} {aggregate_id} kept changing under {key}",
        A::TYPE
    ))
}
