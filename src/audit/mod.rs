//! Tamper evidence: every event is chained to its stream's previous one by a SHA-256 that the
//! append writes (a trigger; the encoding is in the migration that added it and in
//! `chain_hash`). `verify` recomputes the chains; a digest signs every stream's head, so that a
//! rewrite which recomputed every hash, or a stream deleted whole, is caught too.

pub mod digest;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// The fields of an event that its hash covers.
pub struct Chained<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a str,
    pub metadata: &'a str,
    pub recorded_at: DateTime<Utc>,
}

/// The event's hash, chained to `previous` (none for a stream's first event): the encoding of
/// the migration `event_hash_chain`, byte for byte.
pub fn chain_hash(previous: Option<&[u8]>, event: &Chained) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous.unwrap_or_default());
    hasher.update(event.sequence.to_be_bytes());
    hasher.update(event.recorded_at.timestamp_micros().to_be_bytes());
    for field in [
        event.aggregate_type,
        event.aggregate_id,
        event.event_type,
        event.event_version,
        event.payload,
        event.metadata,
    ] {
        hasher.update((field.len() as u32).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().into()
}

/// What is wrong with a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The first event found wrong (for a stream missing whole: the head the digest signed).
    pub sequence: i64,
    /// `altered` (its content or place no longer gives its hash: changed, moved, or inserted
    /// with a made-up hash), `removed` (events before it are missing), `inserted` (an event
    /// before the stream's first), `unchained` (no hash:
    /// written around the trigger), `rewritten` (the chain holds but differs from the
    /// digest's), `truncated` (the stream ends before the digest's head), `deleted` (the
    /// stream the digest signed is gone).
    pub kind: &'static str,
    pub detail: String,
}

/// The outcome of a verification.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub events: u64,
    pub streams: u64,
    pub breaks: Vec<Break>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// One stream's place in the walk: the last event read, and whether it is broken already.
struct Walk {
    aggregate_type: String,
    aggregate_id: String,
    next_sequence: i64,
    previous: Option<Vec<u8>>,
    broken: bool,
    /// The digest's head of this stream, if checked against one: (sequence, hash).
    signed: Option<(i64, Vec<u8>)>,
}

impl Walk {
    fn breaks(&self, sequence: i64, kind: &'static str, detail: String) -> Break {
        Break {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence,
            kind,
            detail,
        }
    }

    /// Called at the stream's end: the digest's head must have been met.
    fn finish(&self, report: &mut Report) {
        if let (false, Some((sequence, _))) = (self.broken, &self.signed) {
            if self.next_sequence <= *sequence {
                report.breaks.push(self.breaks(
                    *sequence,
                    "truncated",
                    format!(
                        "the stream ends at sequence {}; the digest signed it up to {sequence}",
                        self.next_sequence - 1
                    ),
                ));
            }
        }
    }
}

/// Which streams to verify.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Only this stream: (aggregate type, id).
    pub stream: Option<(String, String)>,
}

/// Recomputes the chains of the events in `scope`, stream by stream, in one pass over the
/// events in their primary key's order: memory stays constant in the number of events (a
/// digest's heads are held, one per stream). `progress` is told how many events were read.
pub async fn verify(
    pool: &PgPool,
    scope: &Scope,
    mut signed: Option<digest::Heads>,
    mut progress: impl FnMut(u64),
) -> Result<Report, sqlx::Error> {
    let (only_type, only_id) = scope.stream.clone().unzip();
    let mut rows = sqlx::query_as::<_, EventRow>(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version,
                payload::text AS payload, metadata::text AS metadata, recorded_at, hash
           FROM events
          WHERE ($1::text IS NULL OR (aggregate_type = $1 AND aggregate_id = $2))
          ORDER BY aggregate_type, aggregate_id, sequence",
    )
    .bind(only_type)
    .bind(only_id)
    .fetch(pool);
    let mut report = Report::default();
    let mut walk: Option<Walk> = None;
    while let Some(row) = rows.try_next().await? {
        report.events += 1;
        if report.events % 10_000 == 0 {
            progress(report.events);
        }
        let same = walk.as_ref().is_some_and(|w| {
            w.aggregate_type == row.aggregate_type && w.aggregate_id == row.aggregate_id
        });
        if !same {
            if let Some(done) = walk.take() {
                done.finish(&mut report);
            }
            report.streams += 1;
            let key = (row.aggregate_type.clone(), row.aggregate_id.clone());
            walk = Some(Walk {
                signed: signed.as_mut().and_then(|heads| heads.remove(&key)),
                aggregate_type: key.0,
                aggregate_id: key.1,
                next_sequence: 1,
                previous: None,
                broken: false,
            });
        }
        let walk = walk.as_mut().expect("a stream being walked");
        if walk.broken {
            continue;
        }
        let found = check(walk, &row);
        if let Some(found) = found {
            walk.broken = true;
            report.breaks.push(found);
            continue;
        }
        walk.next_sequence = row.sequence + 1;
        walk.previous = row.hash;
    }
    if let Some(done) = walk.take() {
        done.finish(&mut report);
    }
    progress(report.events);
    for ((aggregate_type, aggregate_id), (sequence, _)) in signed.into_iter().flatten() {
        // Scoped to one stream, only that stream's head matters (it is left here only if the
        // stream has no events any more).
        if scope
            .stream
            .as_ref()
            .is_some_and(|(t, i)| (t, i) != (&aggregate_type, &aggregate_id))
        {
            continue;
        }
        report.breaks.push(Break {
            aggregate_type,
            aggregate_id,
            sequence,
            kind: "deleted",
            detail: format!(
                "the digest signed this stream up to sequence {sequence}; it has no events now"
            ),
        });
    }
    report.breaks.sort_by(|a, b| {
        (&a.aggregate_type, &a.aggregate_id).cmp(&(&b.aggregate_type, &b.aggregate_id))
    });
    Ok(report)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    recorded_at: DateTime<Utc>,
    hash: Option<Vec<u8>>,
}

/// The first thing wrong with `row` as the next event of `walk`, if any.
fn check(walk: &Walk, row: &EventRow) -> Option<Break> {
    if row.sequence != walk.next_sequence {
        return Some(if row.sequence > walk.next_sequence {
            walk.breaks(
                row.sequence,
                "removed",
                format!(
                    "sequences {} to {} are missing",
                    walk.next_sequence,
                    row.sequence - 1
                ),
            )
        } else {
            walk.breaks(
                row.sequence,
                "inserted",
                format!(
                    "sequence {} stands before the stream's first event",
                    row.sequence
                ),
            )
        });
    }
    let Some(stored) = &row.hash else {
        return Some(walk.breaks(
            row.sequence,
            "unchained",
            "the event has no hash: it was written around the append".into(),
        ));
    };
    let computed = chain_hash(
        walk.previous.as_deref(),
        &Chained {
            aggregate_type: &row.aggregate_type,
            aggregate_id: &row.aggregate_id,
            sequence: row.sequence,
            event_type: &row.event_type,
            event_version: &row.event_version,
            payload: &row.payload,
            metadata: &row.metadata,
            recorded_at: row.recorded_at,
        },
    );
    if computed.as_slice() != stored.as_slice() {
        return Some(
            walk.breaks(
                row.sequence,
                "altered",
                "its content, sequence or predecessor no longer gives its hash: it was changed, \
             moved or inserted"
                    .into(),
            ),
        );
    }
    if let Some((sequence, hash)) = &walk.signed {
        if row.sequence == *sequence && hash != stored {
            return Some(
                walk.breaks(
                    row.sequence,
                    "rewritten",
                    "the chain holds, but the digest signed another hash here: the stream was \
                 rewritten with recomputed hashes"
                        .into(),
                ),
            );
        }
    }
    None
}
