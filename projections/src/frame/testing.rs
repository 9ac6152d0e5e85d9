//! Folding events without a database, for the folds' unit tests.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::DomainEvent;
use uuid::Uuid;

use super::{Batch, Fact, Inconsistent};
use crate::{FeedPosition, StoredEvent};

/// The moment the `sequence`-th event of a test stream is recorded.
pub fn at(sequence: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(sequence)
}

/// An event as the feed hands it over: `sequence` in its stream, at position `10 * sequence`,
/// recorded `at(sequence)`, caused by `tester`.
pub fn stored<E: DomainEvent>(
    aggregate_type: &str,
    stream: Uuid,
    sequence: i64,
    event: &E,
) -> StoredEvent {
    StoredEvent {
        at: FeedPosition {
            transaction_id: 1,
            position: 10 * sequence,
        },
        aggregate_type: aggregate_type.to_string(),
        aggregate_id: stream.to_string(),
        sequence,
        event_type: event.event_type(),
        event_version: event.event_version(),
        payload: Some(serde_json::to_string(event).unwrap()),
        metadata: Some(r#"{"actor": "tester", "correlation_id": "c-1"}"#.to_string()),
        recorded_at: at(sequence),
        hash: None,
    }
}

/// Folds `events` (stream, sequence, event) into `batch` in order, as the frame does once the
/// rows are loaded; the first inconsistency stops it, with the index of its event.
pub fn fold<B>(
    batch: &mut B,
    aggregate_type: &str,
    events: Vec<(Uuid, i64, B::Event)>,
) -> Result<(), (usize, Inconsistent)>
where
    B: Batch,
    B::Event: DomainEvent,
{
    let stored: Vec<_> = (events.iter())
        .map(|(stream, sequence, event)| stored(aggregate_type, *stream, *sequence, event))
        .collect();
    let facts: Vec<_> = (stored.iter())
        .map(|event| Fact {
            stream: event.stream_uuid().unwrap(),
            sequence: event.sequence,
            at: event.recorded_at,
            position: event.at.position,
            event,
        })
        .collect();
    for (fact, (_, _, event)) in facts.iter().zip(&events) {
        batch.want(fact, event);
    }
    for (i, (fact, (_, _, event))) in facts.iter().zip(events).enumerate() {
        batch.fold(fact, event).map_err(|e| (i, e))?;
    }
    Ok(())
}
