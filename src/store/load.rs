use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::types::Json;
use sqlx::Row;

use super::EventStore;

/// A stream folded into its aggregate.
pub struct Loaded<A: Aggregate> {
    pub aggregate: A,
    /// The number of events in the stream (0 when it does not exist).
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("event {sequence} of {aggregate_type} {aggregate_id} cannot be read: {source}")]
    Corrupt {
        aggregate_type: &'static str,
        aggregate_id: String,
        sequence: i64,
        source: sqlx::Error,
    },
}

const SELECT_STREAM: &str = "
SELECT sequence, payload, recorded_at
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2
 ORDER BY sequence";

impl EventStore {
    /// Folds a whole stream into its aggregate.
    pub async fn load<A: Aggregate>(&self, aggregate_id: &str) -> Result<Loaded<A>, LoadError> {
        let mut loaded = Loaded {
            aggregate: A::default(),
            version: 0,
            created_at: None,
            updated_at: None,
        };
        let rows = sqlx::query(SELECT_STREAM)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let sequence: i64 = row.try_get("sequence")?;
            let recorded_at: DateTime<Utc> = row.try_get("recorded_at")?;
            let Json(event) = row
                .try_get::<Json<A::Event>, _>("payload")
                .map_err(|source| LoadError::Corrupt {
                    aggregate_type: A::TYPE,
                    aggregate_id: aggregate_id.to_string(),
                    sequence,
                    source,
                })?;
            loaded.aggregate.apply(event);
            loaded.version = sequence as u64;
            loaded.created_at.get_or_insert(recorded_at);
            loaded.updated_at = Some(recorded_at);
        }
        Ok(loaded)
    }
}
