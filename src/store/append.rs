use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use projections::FeedPosition;
use sqlx::postgres::PgDatabaseError;
use sqlx::Row;

use super::{Claim, EventMetadata, EventStore, IdempotencyRecord, Reference, Stream};

/// An event a command appended: where it landed in its stream and in the global order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AppendedEvent {
    pub event_type: String,
    pub sequence: u64,
    pub position: i64,
    #[serde(skip)]
    pub transaction_id: u64,
    #[serde(skip)]
    pub recorded_at: DateTime<Utc>,
}

impl AppendedEvent {
    /// Where the event stands in the ordered feed the projectors read.
    pub fn feed_position(&self) -> FeedPosition {
        FeedPosition {
            transaction_id: self.transaction_id,
            position: self.position,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer appended to the stream since it was loaded.
    #[error("the stream was changed by a concurrent command")]
    Conflict,
    /// A concurrent command with the same idempotency key was stored first.
    #[error("the idempotency key was used by a concurrent command")]
    KeyTaken,
    /// A value the events claim (see `Stream::claims`) belongs to another stream.
    #[error("{field} {value} already belongs to {holder}")]
    Taken {
        field: &'static str,
        value: String,
        /// The id of the stream that holds it.
        holder: String,
    },
    /// The command names an entity that does not exist (`Stream::references`).
    #[error("{field} names no {kind}: there is none with id {value}")]
    UnknownReference {
        field: &'static str,
        value: uuid::Uuid,
        kind: &'static str,
    },
    /// The command names an entity in a state it does not allow.
    #[error("{field} names a {kind} that is {state}; it must be {}", allowed.join(" or "))]
    ReferenceState {
        field: &'static str,
        value: uuid::Uuid,
        kind: &'static str,
        state: String,
        allowed: &'static [&'static str],
    },
    /// The references' guard kept the events out; `append` answers which instead.
    #[error("a reference the command names is missing or not in a state it allows")]
    Unreferenced,
    /// The references' guard kept the events out, but each reference is fine by now: one
    /// changed while the append ran (a hub reopened, a robot registered). Worth deciding again.
    #[error("a reference the command names changed while it ran")]
    ReferenceChanged,
    /// A claim was refused; `append` answers `Taken` instead once it knows the holder (a
    /// claim is never removed, so it always does), or `Conflict` if this stream holds it.
    #[error("a value the events claim is taken")]
    Claimed,
    #[error(transparent)]
    Database(sqlx::Error),
    #[error("an event could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl From<sqlx::Error> for AppendError {
    fn from(err: sqlx::Error) -> Self {
        let constraint = err
            .as_database_error()
            .and_then(|e| e.try_downcast_ref::<PgDatabaseError>())
            .filter(|e| e.code() == "23505")
            .and_then(|e| e.constraint());
        match constraint {
            Some("events_pkey") => Self::Conflict,
            Some("idempotency_keys_pkey") => Self::KeyTaken,
            Some("unique_claims_pkey") => Self::Claimed,
            _ => Self::Database(err),
        }
    }
}

// One statement: the events, the idempotency record when there is a key, and (the full
// variant) the values the events claim. The record keeps the range of sequences the command
// appended, from which the answer is rebuilt on a retry. Commands that claim nothing (almost
// all) use the statement without the claims.
macro_rules! append_statement {
    ($guard:literal, $claims:literal) => {
        concat!(
            "
WITH appended AS (
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                        payload, metadata, recorded_at, hash)
    SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::json, $7::json, $10,
           e.hash
      FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $11::bytea[])
           AS e(sequence, event_type, event_version, payload, hash)",
            $guard,
            "
    RETURNING sequence, event_type, global_position, transaction_id, recorded_at
), remembered AS (
    INSERT INTO idempotency_keys (idempotency_key, request_hash, aggregate_type, aggregate_id,
                                  first_sequence, last_sequence)
    SELECT $8, $9, $1, $2, min(sequence), max(sequence)
      FROM appended
    HAVING $8::text IS NOT NULL AND count(*) > 0
)",
            $claims,
            "
SELECT sequence, event_type, global_position, transaction_id::text::bigint AS transaction_id,
       recorded_at
  FROM appended
 ORDER BY sequence"
        )
    };
}

const APPEND: &str = append_statement!("", "");

// The full statement: besides the events, the values they claim (`Stream::claims`), the
// entities the command names, each in a state it allows (`Stream::references`: the events are
// written only if every one is found so, and each found row is locked FOR SHARE until the
// commit, so a hub cannot close between the check and a deployment's commit), and the stream's
// own state in the registry when it changed (`Stream::registry_state`). A stream that changes
// its state locks its registry row before it writes anything: its transaction id, which orders
// the feed, is then taken after every append that holds the row FOR SHARE has its own. Were the
// events written first, an operator's deactivation could take an id below that of a shift
// whose check it waited for: the feed would show the shift starting after the deactivation
// though it committed before it.
const APPEND_FULL: &str = append_statement!(
    "
     WHERE (SELECT count(*)
              FROM (SELECT
                      FROM entity_registry r
                      JOIN UNNEST($14::text[], $15::text[], $16::text[]) AS x(t, i, allowed)
                        ON r.aggregate_type = x.t AND r.aggregate_id = x.i
                     WHERE x.allowed = '' OR r.state = ANY (string_to_array(x.allowed, ','))
                       FOR SHARE OF r) found) = $17
       AND ($18::text IS NULL
            OR (SELECT count(*)
                  FROM (SELECT FROM entity_registry o
                         WHERE o.aggregate_type = $1 AND o.aggregate_id = $2
                           FOR UPDATE OF o) mine) >= 0)",
    ", claimed AS (
    -- Only when the events were written. PostgreSQL does not promise the order in which the
    -- CTEs hit a conflict: whichever is reported, the executor first asks whether a request
    -- with the same idempotency key won, so a retry is answered as such either way.
    INSERT INTO unique_claims (aggregate_type, field, value, aggregate_id)
    SELECT $1, c.field, c.value, $2
      FROM UNNEST($12::text[], $13::text[]) AS c(field, value)
     WHERE EXISTS (SELECT FROM appended)
), registered AS (
    INSERT INTO entity_registry (aggregate_type, aggregate_id, state)
    SELECT $1, $2, $18
     WHERE $18::text IS NOT NULL AND EXISTS (SELECT FROM appended)
        ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET state = EXCLUDED.state
)"
);

pub(super) fn appended_event(row: &sqlx::postgres::PgRow) -> Result<AppendedEvent, sqlx::Error> {
    Ok(AppendedEvent {
        event_type: row.try_get("event_type")?,
        sequence: row.try_get::<i64, _>("sequence")? as u64,
        position: row.try_get("global_position")?,
        transaction_id: row.try_get::<i64, _>("transaction_id")? as u64,
        recorded_at: row.try_get("recorded_at")?,
    })
}

/// One stream's append, computed and ready to run: its events serialized and chained, its
/// claims sorted. `EventStore::append` runs one; `append_together` runs two in one
/// transaction, so that both streams move or neither does.
pub struct Prepared {
    aggregate_type: &'static str,
    aggregate_id: String,
    sequences: Vec<i64>,
    types: Vec<String>,
    versions: Vec<String>,
    payloads: Vec<String>,
    metadata: String,
    recorded_at: DateTime<Utc>,
    hashes: Vec<Vec<u8>>,
    claims: Vec<Claim>,
    remember: Option<IdempotencyRecord>,
    references: Vec<Reference>,
    registry_state: Option<&'static str>,
}

impl Prepared {
    /// The stream's type and id, and what the append claimed and named (see `explain`).
    pub(super) fn stream(&self) -> (&'static str, &str) {
        (self.aggregate_type, &self.aggregate_id)
    }

    pub(super) fn claims(&self) -> &[Claim] {
        &self.claims
    }

    pub(super) fn references(&self) -> &[Reference] {
        &self.references
    }

    /// `events` for the stream `aggregate_id` of `A`, which is at `version` with `head_hash`.
    ///
    /// Each event's link in the hash chain is computed here, from `head_hash` (the stream's
    /// last event's, as loaded), and stored with it: SHA-256 on the service's cores rather
    /// than the database's (a trigger chains what other writers insert). `recorded_at` is
    /// therefore set here too, from the service's clock, to the microsecond the database keeps.
    pub fn new<A: Stream>(
        aggregate_id: &str,
        (version, head_hash): (u64, Option<&[u8]>),
        events: &[A::Event],
        metadata: &EventMetadata,
        remember: Option<&IdempotencyRecord>,
    ) -> Result<Self, AppendError> {
        let sequences: Vec<i64> = (1..=events.len() as i64)
            .map(|n| version as i64 + n)
            .collect();
        let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
        let versions: Vec<String> = events.iter().map(DomainEvent::event_version).collect();
        let payloads = events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = serde_json::to_string(metadata)?;
        let now = Utc::now();
        let recorded_at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        let mut previous = head_hash.map(<[u8]>::to_vec);
        let hashes: Vec<Vec<u8>> = (0..events.len())
            .map(|n| {
                let hash = crate::audit::chain_hash(
                    previous.as_deref(),
                    &crate::audit::Chained {
                        aggregate_type: A::TYPE,
                        aggregate_id,
                        sequence: sequences[n],
                        event_type: &types[n],
                        event_version: &versions[n],
                        payload: &payloads[n],
                        metadata: &metadata,
                        recorded_at,
                    },
                )
                .to_vec();
                previous = Some(hash.clone());
                hash
            })
            .collect();
        let mut claims: Vec<Claim> = events.iter().flat_map(A::claims).collect();
        claims.sort_by(|a, b| (a.field, &a.value).cmp(&(b.field, &b.value)));
        claims.dedup();
        Ok(Self {
            aggregate_type: A::TYPE,
            aggregate_id: aggregate_id.to_string(),
            sequences,
            types,
            versions,
            payloads,
            metadata,
            recorded_at,
            hashes,
            claims,
            remember: remember.cloned(),
            references: Vec::new(),
            registry_state: None,
        })
    }

    /// The append happens only if each of `references` is registered in a state it allows.
    pub fn referencing(mut self, references: Vec<Reference>) -> Self {
        self.references = references;
        self
    }

    /// The append records the stream's new state in the registry (`Stream::registry_state`).
    pub fn registering(mut self, state: Option<&'static str>) -> Self {
        self.registry_state = state;
        self
    }

    /// Runs the append's one statement on `conn`.
    async fn run(&self, conn: &mut sqlx::PgConnection) -> Result<Vec<AppendedEvent>, AppendError> {
        let full =
            !self.claims.is_empty() || !self.references.is_empty() || self.registry_state.is_some();
        let statement = sqlx::query(if full { APPEND_FULL } else { APPEND })
            .bind(self.aggregate_type)
            .bind(&self.aggregate_id)
            .bind(&self.sequences)
            .bind(&self.types)
            .bind(&self.versions)
            .bind(&self.payloads)
            .bind(&self.metadata)
            .bind(self.remember.as_ref().map(|r| r.key.as_str()))
            .bind(self.remember.as_ref().map(|r| r.request_hash.as_slice()))
            .bind(self.recorded_at)
            .bind(&self.hashes);
        let statement = if full {
            let fields: Vec<&str> = self.claims.iter().map(|c| c.field).collect();
            let values: Vec<&str> = self.claims.iter().map(|c| c.value.as_str()).collect();
            let refs = &self.references;
            let types: Vec<&str> = refs.iter().map(|r| r.aggregate_type).collect();
            let ids: Vec<String> = refs.iter().map(|r| r.id.to_string()).collect();
            let allowed: Vec<String> = refs.iter().map(|r| r.allowed.join(",")).collect();
            statement
                .bind(fields)
                .bind(values)
                .bind(types)
                .bind(ids)
                .bind(allowed)
                .bind(refs.len() as i64)
                .bind(self.registry_state)
        } else {
            statement
        };
        let rows = statement.fetch_all(conn).await?;
        if rows.is_empty() && !self.sequences.is_empty() {
            // Nothing written and nothing conflicted: the guard found a reference missing or
            // in a state it does not allow.
            return Err(AppendError::Unreferenced);
        }
        Ok(rows.iter().map(appended_event).collect::<Result<_, _>>()?)
    }
}

impl EventStore {
    /// Appends `events` to a stream that is at `version`, atomically with the idempotency
    /// record if one is given and the values the events claim. Fails with `Conflict` if the
    /// stream moved on meanwhile, with `Taken` if another stream holds a claimed value.
    pub async fn append<A: Stream>(
        &self,
        aggregate_id: &str,
        at: (u64, Option<&[u8]>),
        events: &[A::Event],
        metadata: &EventMetadata,
        remember: Option<&IdempotencyRecord>,
    ) -> Result<Vec<AppendedEvent>, AppendError> {
        let prepared = Prepared::new::<A>(aggregate_id, at, events, metadata, remember)?;
        self.append_prepared(&prepared).await
    }

    /// Runs one stream's prepared append (see `Prepared`).
    pub async fn append_prepared(
        &self,
        prepared: &Prepared,
    ) -> Result<Vec<AppendedEvent>, AppendError> {
        let mut conn = self.pool.acquire().await?;
        let appended = prepared.run(&mut conn).await;
        drop(conn);
        let appended = match appended {
            Ok(events) => events,
            Err(err) => return Err(self.explain(prepared, err).await),
        };
        self.wakeup.committed();
        Ok(appended)
    }

    /// Appends to two streams in one transaction, each at the version it was loaded at: both
    /// streams move, or neither does (a multi-stream append). Answers the first's events and
    /// the second's. A `Conflict` may be either stream's.
    pub async fn append_together(
        &self,
        first: &Prepared,
        second: &Prepared,
    ) -> Result<(Vec<AppendedEvent>, Vec<AppendedEvent>), AppendError> {
        let mut tx = self.pool.begin().await?;
        // Dropping the transaction on a failure rolls back whichever stream was written.
        let ours = match first.run(&mut tx).await {
            Ok(events) => events,
            Err(err) => return Err(self.explain(first, err).await),
        };
        let theirs = match second.run(&mut tx).await {
            Ok(events) => events,
            Err(err) => return Err(self.explain(second, err).await),
        };
        tx.commit().await?;
        self.wakeup.committed();
        Ok((ours, theirs))
    }
}
