//! Runs a command against its stream: load, decide, append; with optimistic concurrency,
//! `If-Match` preconditions and idempotency keys.
//!
//! This is cqrs-es's `CqrsFramework::execute_with_metadata` plus what the API needs and the
//! framework does not return: the appended events' sequences and positions, the expected
//! version, and the idempotency record written in the same statement as the events.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use uuid::Uuid;

use crate::companion::PrepareError;
use crate::store::{
    AppendError, AppendedEvent, EventMetadata, EventStore, IdempotencyRecord, Loaded, Prepared,
    Stream,
};
use aggregates::CommandNames;

/// A command with everything the store needs to run it.
#[derive(Clone)]
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
    /// The events another stream recorded with these, in the same transaction (a trip's
    /// robot's): the command's consistency token covers them too.
    pub companion_events: Vec<AppendedEvent>,
}

impl CommandOutcome {
    /// True when the command created the stream.
    pub fn created_stream(&self) -> bool {
        self.events.first().is_some_and(|e| e.sequence == 1)
    }

    /// The last event the command recorded, in any stream: what a read must have seen to
    /// include it.
    pub fn last_event(&self) -> Option<&AppendedEvent> {
        self.companion_events.last().or(self.events.last())
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
    /// The command names an entity that does not exist.
    #[error("{field} names no {kind}: there is none with id {value}")]
    UnknownReference {
        field: &'static str,
        value: Uuid,
        kind: &'static str,
    },
    /// The command names an entity in a state it does not allow.
    #[error("{field} names a {kind} that is {state}; it must be {}", allowed.join(" or "))]
    ReferenceState {
        field: &'static str,
        value: Uuid,
        kind: &'static str,
        state: String,
        allowed: &'static [&'static str],
    },
    /// Another stream that must move with this one's events refused (a trip's robot).
    #[error(transparent)]
    Companion(crate::companion::CompanionRefusal),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl<E: std::error::Error> CommandError<E> {
    fn store(err: impl Into<anyhow::Error>) -> Self {
        Self::Store(err.into())
    }
}

/// How many times a command that lost a race it did not see (its companion stream moved under
/// it, or a reference changed while it ran) is decided again.
const RETRIES: u32 = 10;

pub async fn execute<A>(
    store: &EventStore,
    services: &A::Services,
    envelope: CommandEnvelope<A::Command>,
) -> Result<CommandOutcome, CommandError<A::Error>>
where
    A: Stream,
    A::Command: CommandNames + Clone,
{
    let mut attempt = 0;
    loop {
        match execute_once::<A>(store, services, envelope.clone()).await {
            // The other stream (a robot) moved between its load and the append, or this one
            // did, or a reference changed state while the append ran: decide again on
            // everything as it is now, after a short pause that grows and spreads the retries
            // of racing commands apart. An `If-Match` version is checked again on the reloaded
            // stream, so a retry never passes over it.
            Err(Attempt::Retry) if attempt < RETRIES => {
                attempt += 1;
                let spread = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 4);
                let pause = u64::from(attempt) + spread;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            Err(Attempt::Retry) => return Err(CommandError::Conflict),
            Err(Attempt::Failed(err)) => return Err(err),
            Ok(outcome) => return Ok(outcome),
        }
    }
}

/// How one attempt at a command ended, when it did not succeed.
enum Attempt<E: std::error::Error> {
    Failed(CommandError<E>),
    /// A two-stream append lost a race, or a reference changed while the append ran: worth
    /// deciding again.
    Retry,
}

impl<E: std::error::Error> From<CommandError<E>> for Attempt<E> {
    fn from(err: CommandError<E>) -> Self {
        Self::Failed(err)
    }
}

async fn execute_once<A>(
    store: &EventStore,
    services: &A::Services,
    envelope: CommandEnvelope<A::Command>,
) -> Result<CommandOutcome, Attempt<A::Error>>
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
            return Err(CommandError::PreconditionFailed { actual: version }.into());
        }
    }
    let references = if store.checks_references() {
        A::references(envelope.aggregate_id, &envelope.command)
    } else {
        Vec::new()
    };
    let registered = aggregate.registry_state();
    let sink = EventSink::<A>::default();
    if let Err(refusal) = aggregate.handle(envelope.command, services, &sink).await {
        // A concurrent request with the same key may have committed after our first look:
        // then this refusal is that request's doing, and the caller gets its answer.
        if let Some(record) = &envelope.idempotency {
            if let Some(outcome) = recall::<A>(store, record, envelope.aggregate_id).await? {
                return Ok(outcome);
            }
        }
        return Err(CommandError::Refused(refusal).into());
    }
    let events = sink.collect().await;
    if events.is_empty() {
        return Ok(CommandOutcome {
            aggregate_id: envelope.aggregate_id,
            version,
            events: vec![],
            replayed: false,
            companion_events: vec![],
        });
    }
    let companion = match A::companion(envelope.aggregate_id, &aggregate, &events) {
        None => None,
        Some(companion) => match companion.prepare(store, &envelope.metadata).await {
            Ok(prepared) => prepared,
            Err(PrepareError::Refused(refusal)) => {
                return Err(CommandError::Companion(refusal).into())
            }
            Err(PrepareError::Append(err)) => return Err(CommandError::store(err).into()),
            Err(PrepareError::Store(err)) => return Err(CommandError::Store(err).into()),
        },
    };
    let at = (version, head_hash.as_deref());
    let state = aggregate.registry_state();
    let ours = Prepared::new::<A>(
        &id,
        at,
        &events,
        &envelope.metadata,
        envelope.idempotency.as_ref(),
    )
    .map_err(CommandError::store)?
    .referencing(references)
    .registering(state.filter(|_| state != registered));
    let appended = match &companion {
        None => store
            .append_prepared(&ours)
            .await
            .map(|events| (events, vec![])),
        Some(other) => store.append_together(&ours, &other.prepared).await,
    };
    match appended {
        Err(AppendError::Conflict) if companion.is_some() => {
            // A retry with the same key that won meanwhile is answered as it was.
            if let Some(record) = &envelope.idempotency {
                if let Some(outcome) = recall::<A>(store, record, envelope.aggregate_id).await? {
                    return Ok(outcome);
                }
            }
            Err(Attempt::Retry)
        }
        Err(AppendError::ReferenceChanged) => Err(Attempt::Retry),
        Ok((events, companion_events)) => {
            let version = version + events.len() as u64;
            // The aggregate as `handle` left it: each new event applied exactly once.
            store
                .snapshot_if_due(&id, version, snapshot_version, &aggregate)
                .await;
            if let Some(other) = &companion {
                other.snapshot_if_due(store).await;
            }
            Ok(CommandOutcome {
                aggregate_id: envelope.aggregate_id,
                version,
                events,
                replayed: false,
                companion_events,
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
                }
                .into());
            }
            match envelope.precondition {
                // `If-Match: *` held (the stream exists): losing the race is a plain conflict.
                Some(Precondition::Version(_)) => {
                    let actual = store.load::<A>(&id).await.map_err(CommandError::store)?;
                    Err(CommandError::PreconditionFailed {
                        actual: actual.version,
                    }
                    .into())
                }
                Some(Precondition::Exists) | None => Err(CommandError::Conflict.into()),
            }
        }
        Err(AppendError::UnknownReference { field, value, kind }) => {
            Err(CommandError::UnknownReference { field, value, kind }.into())
        }
        Err(AppendError::ReferenceState {
            field,
            value,
            kind,
            state,
            allowed,
        }) => Err(CommandError::ReferenceState {
            field,
            value,
            kind,
            state,
            allowed,
        }
        .into()),
        Err(err) => Err(CommandError::store(err).into()),
    }
}

/// The remembered outcome of an earlier request with the same key, if it was this request.
pub async fn recall<A: Aggregate>(
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
    // The stream the first request wrote: the same as this one's, unless the service picks a
    // new id per request (a quote's), which the request's hash leaves out.
    let aggregate_id = remembered.aggregate_id.parse().unwrap_or(aggregate_id);
    Ok(Some(CommandOutcome {
        aggregate_id,
        version: remembered.events.last().map_or(0, |e| e.sequence),
        events: remembered.events,
        replayed: true,
        companion_events: remembered.companion_events,
    }))
}
