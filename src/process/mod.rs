//! Processes: what reacts to committed events by issuing commands. They run on the projector
//! runner (own checkpoint, one instance at a time) and make every effect idempotent with a key
//! derived from the causing event, so a redelivery after a crash does nothing twice.

pub mod assignment;
pub mod deadlines;

use aggregates::CommandNames;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::commands::{self, CommandEnvelope, CommandError, CommandOutcome};
use crate::store::{EventMetadata, EventStore, IdempotencyRecord, Stream};

/// Why a process issues a command: the causing event and the flow it belongs to.
#[derive(Debug, Clone)]
pub struct Cause {
    pub actor: &'static str,
    pub causation_id: String,
    pub correlation_id: String,
}

/// Issues `command` once for `key`: a second call with the same key gets the first outcome.
/// `Ok(Err(refusal))` when the aggregate refuses; `Err` when the store fails (the caller
/// retries). A concurrent writer on the same stream is retried here.
pub async fn issue<A>(
    store: &EventStore,
    services: &A::Services,
    key: String,
    aggregate_id: Uuid,
    command: A::Command,
    cause: &Cause,
) -> anyhow::Result<Result<CommandOutcome, A::Error>>
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
            Ok(outcome) => return Ok(Ok(outcome)),
            Err(CommandError::Refused(refusal)) => return Ok(Err(refusal)),
            Err(CommandError::Conflict) => continue,
            Err(other) => return Err(anyhow::anyhow!("{other}")),
        }
    }
    Err(anyhow::anyhow!(
        "{} {aggregate_id} kept changing under {key}",
        A::TYPE
    ))
}
