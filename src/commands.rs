//! Runs a command against its stream: load, decide, append; with optimistic concurrency,
//! `If-Match` preconditions and idempotency keys.
//!
//! This is cqrs-es's `CqrsFramework::execute_with_metadata` plus what the API needs and the
//! framework does not return: the appended events' sequences and positions, the expected
//! version, and the idempotency record written in the same statement as the events.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use uuid::Uuid;

use crate::store::{
    AppendError, AppendedEvent, EventMetadata, EventStore, IdempotencyRecord, Loaded, Stream,
};
use aggregates::CommandNames;

/// A command with everything the store needs to run it.
pub struct CommandEnvelope<C> {
    pub aggregate_id: Uuid,
    pub command: C,
    pub precondition: Option<Precondition>,
    pub idempotency: Option<IdempotencyRecord>,
    pub metadata: EventMetadata,
}

/// An `If-Match` precondition on the stream's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match: "N"`: the stream is at version N.
    Version(u64),
    /// `If-Match: *`: the stream exists.
    Exists,
}

impl Precondition {
    fn holds(self, version: u64) -> bool {
        match self {
            Self::Version(expected) => expected == version,
            Self::Exists => version > 0,
        }
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub aggregate_id: Uuid,
    /// The stream's version after the command.
    pub version: u64,
    /// The events the command appended, in order (none when it changed nothing).
    pub events: Vec<AppendedEvent>,
    /// True when this answer is the remembered answer to an earlier request with the same key.
    pub replayed: bool,
}

impl CommandOutcome {
    /// True when the command created the stream.
    pub fn created_stream(&self) -> bool {
        self.events.first().is_some_and(|e| e.sequence == 1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    #[error(transparent)]
    Refused(E),
    #[error("the stream changed while the command ran; reload it and decide again")]
    Conflict,
    #[error("the stream is at version {actual}, not at the version named by If-Match")]
    PreconditionFailed { actual: u64 },
    #[error("this idempotency key was already used for a different request")]
    KeyReused,
    /// A value unique among the streams of a type (the seed's unique columns) is held by
    /// another stream.
    #[error("{field} {value} already belongs to {holder}")]
    Taken {
        field: &'static str,
        value: String,
        holder: String,
    },
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl<E: std::error::Error> CommandError<E> {
    fn store(err: impl Into<anyhow::Error>) -> Self {
        Self::Store(err.into())
    }
}

pub async fn execute<A>(
    store: &EventStore,
    services: &A::Services,
    envelope: CommandEnvelope<A::Command>,
) -> Result<CommandOutcome, CommandError<A::Error>>
where
    A: Stream,
    A::Command: CommandNames,
{
    let id = envelope.aggregate_id.to_string();
    if let Some(record) = &envelope.idempotency {
        if let Some(outcome) = recall::<A>(store, record, envelope.aggregate_id).await? {
            return Ok(outcome);
        }
    }
    let Loaded {
        mut aggregate,
        version,
        snapshot_version,
        head_hash,
    } = store.load::<A>(&id).await.map_err(CommandError::store)?;
    if let Some(precondition) = envelope.precondition {
        if !precondition.holds(version) {
            return Err(CommandError::PreconditionFailed { actual: version });
        }
    }
    let sink = EventSink::<A>::default();
    if let Err(refusal) = aggregate.handle(envelope.command, services, &sink).await {
        // A concurrent request with the same key may have committed after our first look:
        // then this refusal is that request's doing, and the caller gets its answer.
        if let Some(record) = &envelope.idempotency {
            if let Some(outcome) = recall::<A>(store, record, envelope.aggregate_id).await? {
                return Ok(outcome);
            }
        }
        return Err(CommandError::Refused(refusal));
    }
    let events = sink.collect().await;
    if events.is_empty() {
        return Ok(CommandOutcome {
            aggregate_id: envelope.aggregate_id,
            version,
            events: vec![],
            replayed: false,
        });
    }
    let appended = store
        .append::<A>(
            &id,
            (version, head_hash.as_deref()),
            &events,
            &envelope.metadata,
            envelope.idempotency.as_ref(),
        )
        .await;
    match appended {
        Ok(events) => {
            let version = version + events.len() as u64;
            if let Some(every) = A::SNAPSHOT_EVERY {
                if version - snapshot_version >= every {
                    // The aggregate as `handle` left it: each new event applied exactly once.
                    if let Err(err) = store.save_snapshot(&id, version, &aggregate).await {
                        tracing::warn!(error = %err, aggregate_type = A::TYPE, aggregate_id = %id,
                            "cannot save snapshot; the next load folds more events");
                    }
                }
            }
            Ok(CommandOutcome {
                aggregate_id: envelope.aggregate_id,
                version,
                events,
                replayed: false,
            })
        }
        Err(err @ (AppendError::Conflict | AppendError::KeyTaken | AppendError::Taken { .. })) => {
            // A concurrent request with the same key may be the one that won: answer as it did.
            if let Some(record) = &envelope.idempotency {
                if let Some(outcome) = recall::<A>(store, record, envelope.aggregate_id).await? {
                    return Ok(outcome);
                }
            }
            if let AppendError::Taken {
                field,
                value,
                holder,
            } = err
            {
                return Err(CommandError::Taken {
                    field,
                    value,
                    holder,
                });
            }
            match envelope.precondition {
                // `If-Match: *` held (the stream exists): losing the race is a plain conflict.
                Some(Precondition::Version(_)) => {
                    let actual = store.load::<A>(&id).await.map_err(CommandError::store)?;
                    Err(CommandError::PreconditionFailed {
                        actual: actual.version,
                    })
                }
                Some(Precondition::Exists) | None => Err(CommandError::Conflict),
            }
        }
        Err(err) => Err(CommandError::store(err)),
    }
}

/// The remembered outcome of an earlier request with the same key, if it was this request.
async fn recall<A: Aggregate>(
    store: &EventStore,
    record: &IdempotencyRecord,
    aggregate_id: Uuid,
) -> Result<Option<CommandOutcome>, CommandError<A::Error>> {
    let Some(remembered) = store
        .recall(&record.key)
        .await
        .map_err(CommandError::store)?
    else {
        return Ok(None);
    };
    if remembered.request_hash != record.request_hash {
        return Err(CommandError::KeyReused);
    }
    Ok(Some(CommandOutcome {
        aggregate_id,
        version: remembered.events.last().map_or(0, |e| e.sequence),
        events: remembered.events,
        replayed: true,
    }))
}
