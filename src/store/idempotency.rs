//! What a command is remembered by under an idempotency key, and the recall of a remembered
//! command's answer (its events, and what other streams recorded with them).

use sqlx::Row;

use super::append::{appended_event, AppendedEvent};
use super::EventStore;

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
    /// What other streams recorded in the same transaction (see `CommandOutcome`).
    pub companion_events: Vec<AppendedEvent>,
}

// The remembered command's events, then (`own` false) what other streams recorded in the same
// transaction (a trip's robot's events): a replayed answer's token must cover them too.
const RECALL: &str = "
WITH own AS (
    SELECT k.request_hash, k.aggregate_type, k.aggregate_id, e.sequence, e.event_type,
           e.global_position, e.transaction_id, e.recorded_at
      FROM idempotency_keys k
      JOIN events e ON e.aggregate_type = k.aggregate_type
                   AND e.aggregate_id = k.aggregate_id
                   AND e.sequence BETWEEN k.first_sequence AND k.last_sequence
     WHERE k.idempotency_key = $1
)
SELECT request_hash, aggregate_type, aggregate_id, sequence, event_type, global_position,
       transaction_id::text::bigint AS transaction_id, recorded_at, true AS own
  FROM own
UNION ALL
SELECT o.request_hash, o.aggregate_type, o.aggregate_id, c.sequence, c.event_type,
       c.global_position, c.transaction_id::text::bigint, c.recorded_at, false
  FROM (SELECT * FROM own LIMIT 1) o
  JOIN events c ON c.transaction_id = o.transaction_id
               AND NOT (c.aggregate_type = o.aggregate_type AND c.aggregate_id = o.aggregate_id)
 ORDER BY own DESC, global_position";

impl EventStore {
    /// The command remembered under an idempotency key, if any.
    pub async fn recall(&self, key: &str) -> Result<Option<RememberedCommand>, sqlx::Error> {
        let rows = sqlx::query(RECALL).bind(key).fetch_all(&self.pool).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let (mut events, mut companion_events) = (Vec::new(), Vec::new());
        for row in &rows {
            let own: bool = row.try_get("own")?;
            if own {
                &mut events
            } else {
                &mut companion_events
            }
            .push(appended_event(row)?);
        }
        Ok(Some(RememberedCommand {
            request_hash: first.try_get("request_hash")?,
            aggregate_type: first.try_get("aggregate_type")?,
            aggregate_id: first.try_get("aggregate_id")?,
            events,
            companion_events,
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
        let decisions = sqlx::query(
            "DELETE FROM process_decisions WHERE created_at < now() - make_interval(secs => $1)",
        )
        .bind(max_age.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() + decisions.rows_affected())
    }
}
