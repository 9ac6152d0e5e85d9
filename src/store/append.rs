use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use projections::FeedPosition;
use sqlx::postgres::PgDatabaseError;
use sqlx::Row;

use super::{EventMetadata, EventStore};

/// An event as stored: where it landed in its stream and in the global order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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

/// What to remember a command by, so that a retry with the same key gets the first answer.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_hash: Vec<u8>,
}

/// A command remembered under an idempotency key, with the events it appended.
#[derive(Debug, Clone)]
pub struct RememberedCommand {
    pub request_hash: Vec<u8>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub events: Vec<AppendedEvent>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer appended to the stream since it was loaded.
    #[error("the stream was changed by a concurrent command")]
    Conflict,
    /// A concurrent command with the same idempotency key was stored first.
    #[error("the idempotency key was used by a concurrent command")]
    KeyTaken,
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
            _ => Self::Database(err),
        }
    }
}

// One statement: the events, and the idempotency record when there is a key. The record keeps
// the range of sequences the command appended, from which the answer is rebuilt on a retry.
const APPEND: &str = "
WITH appended AS (
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                        payload, metadata)
    SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::json, $7::json
      FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[])
           AS e(sequence, event_type, event_version, payload)
    RETURNING sequence, event_type, global_position, transaction_id, recorded_at
), remembered AS (
    INSERT INTO idempotency_keys (idempotency_key, request_hash, aggregate_type, aggregate_id,
                                  first_sequence, last_sequence)
    SELECT $8, $9, $1, $2, min(sequence), max(sequence)
      FROM appended
    HAVING $8::text IS NOT NULL
)
SELECT sequence, event_type, global_position, transaction_id::text::bigint AS transaction_id,
       recorded_at
  FROM appended
 ORDER BY sequence";

const RECALL: &str = "
SELECT k.request_hash, k.aggregate_type, k.aggregate_id, e.sequence, e.event_type,
       e.global_position, e.transaction_id::text::bigint AS transaction_id, e.recorded_at
  FROM idempotency_keys k
  JOIN events e ON e.aggregate_type = k.aggregate_type
               AND e.aggregate_id = k.aggregate_id
               AND e.sequence BETWEEN k.first_sequence AND k.last_sequence
 WHERE k.idempotency_key = $1
 ORDER BY e.sequence";

fn appended_event(row: &sqlx::postgres::PgRow) -> Result<AppendedEvent, sqlx::Error> {
    Ok(AppendedEvent {
        event_type: row.try_get("event_type")?,
        sequence: row.try_get::<i64, _>("sequence")? as u64,
        position: row.try_get("global_position")?,
        transaction_id: row.try_get::<i64, _>("transaction_id")? as u64,
        recorded_at: row.try_get("recorded_at")?,
    })
}

impl EventStore {
    /// Appends `events` to a stream that is at `version`, atomically with the idempotency
    /// record if one is given. Fails with `Conflict` if the stream moved on meanwhile.
    pub async fn append<A: Aggregate>(
        &self,
        aggregate_id: &str,
        version: u64,
        events: &[A::Event],
        metadata: &EventMetadata,
        remember: Option<&IdempotencyRecord>,
    ) -> Result<Vec<AppendedEvent>, AppendError> {
        let sequences: Vec<i64> = (1..=events.len() as i64)
            .map(|n| version as i64 + n)
            .collect();
        let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
        let versions: Vec<String> = events.iter().map(DomainEvent::event_version).collect();
        let payloads = events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        let rows = sqlx::query(APPEND)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(&sequences)
            .bind(&types)
            .bind(&versions)
            .bind(&payloads)
            .bind(serde_json::to_string(metadata)?)
            .bind(remember.map(|r| r.key.as_str()))
            .bind(remember.map(|r| r.request_hash.as_slice()))
            .fetch_all(&self.pool)
            .await?;
        self.wakeup.committed();
        Ok(rows.iter().map(appended_event).collect::<Result<_, _>>()?)
    }

    /// The command remembered under an idempotency key, if any.
    pub async fn recall(&self, key: &str) -> Result<Option<RememberedCommand>, sqlx::Error> {
        let rows = sqlx::query(RECALL).bind(key).fetch_all(&self.pool).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(RememberedCommand {
            request_hash: first.try_get("request_hash")?,
            aggregate_type: first.try_get("aggregate_type")?,
            aggregate_id: first.try_get("aggregate_id")?,
            events: rows.iter().map(appended_event).collect::<Result<_, _>>()?,
        }))
    }

    /// Forgets idempotency keys older than `max_age`; returns how many.
    pub async fn forget_keys_older_than(
        &self,
        max_age: std::time::Duration,
    ) -> Result<u64, sqlx::Error> {
        let result = sqlx::query(
            "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        )
        .bind(max_age.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
