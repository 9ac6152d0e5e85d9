use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::Row;

use super::{EventStore, Stream};

/// A stream folded into its aggregate.
pub struct Loaded<A: Aggregate> {
    pub aggregate: A,
    /// The number of events in the stream (0 when it does not exist).
    pub version: u64,
    /// The version of the snapshot the fold started from (0 when none).
    pub snapshot_version: u64,
    /// The hash of the stream's last event, to chain the next one to (none for a new stream).
    pub head_hash: Option<Vec<u8>>,
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
        source: serde_json::Error,
    },
}

const SELECT_STREAM: &str = "
SELECT sequence, event_type, event_version, payload::text AS payload, hash
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2
 ORDER BY sequence";

// The snapshot (if any) first, then the events after it: one round trip. The LIMIT keeps the
// planner on the primary key's index whatever the statistics say (without it, a stream that
// holds most of the table's rows got a sequential scan); a longer tail is read page by page.
const SELECT_FROM_SNAPSHOT: &str = "
(SELECT true AS snapshot, s.last_sequence AS sequence, NULL::text AS event_type,
        NULL::text AS event_version, s.payload::text AS payload,
        (SELECT h.hash FROM events h WHERE h.aggregate_type = $1 AND h.aggregate_id = $2
                                       AND h.sequence = s.last_sequence) AS hash
   FROM snapshots s
  WHERE s.aggregate_type = $1 AND s.aggregate_id = $2)
UNION ALL
(SELECT false, e.sequence, e.event_type, e.event_version, e.payload::text, e.hash
   FROM events e
  WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
    AND e.sequence > COALESCE((SELECT last_sequence FROM snapshots
                                WHERE aggregate_type = $1 AND aggregate_id = $2), 0)
  ORDER BY e.sequence
  LIMIT 1000)
ORDER BY snapshot DESC, sequence";

const SELECT_PAGE: &str = "
SELECT sequence, event_type, event_version, payload::text AS payload, hash
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
 ORDER BY sequence
 LIMIT 1000";

const PAGE: usize = 1000;

/// How far into a stream to fold, for time travel.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Version(u64),
    Time(DateTime<Utc>),
}

/// A stream folded up to a point, with when its first and last folded events were recorded.
pub struct Past<A: Aggregate> {
    pub aggregate: A,
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

const SELECT_UNTIL: &str = "
SELECT sequence, event_type, event_version, payload::text AS payload, recorded_at, hash
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2
   AND ($3::bigint IS NULL OR sequence <= $3)
   AND ($4::timestamptz IS NULL OR recorded_at <= $4)
 ORDER BY sequence";

impl EventStore {
    /// Folds a stream's events up to a version or a moment, ignoring snapshots.
    pub async fn load_until<A: Aggregate>(
        &self,
        aggregate_id: &str,
        until: Until,
    ) -> Result<Past<A>, LoadError> {
        let (version, time) = match until {
            Until::Version(v) => (Some(v as i64), None),
            Until::Time(t) => (None, Some(t)),
        };
        let rows = sqlx::query(SELECT_UNTIL)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(version)
            .bind(time)
            .fetch_all(&self.pool)
            .await?;
        let mut loaded = Loaded {
            aggregate: A::default(),
            version: 0,
            snapshot_version: 0,
            head_hash: None,
        };
        let (mut created_at, mut updated_at) = (None, None);
        for row in rows {
            fold(&mut loaded, aggregate_id, &row)?;
            let at: DateTime<Utc> = row.try_get("recorded_at")?;
            created_at.get_or_insert(at);
            updated_at = Some(at);
        }
        Ok(Past {
            aggregate: loaded.aggregate,
            version: loaded.version,
            created_at,
            updated_at,
        })
    }

    /// Folds a stream into its aggregate, from its snapshot when it has one.
    pub async fn load<A: Stream>(&self, aggregate_id: &str) -> Result<Loaded<A>, LoadError> {
        if A::SNAPSHOT_EVERY.is_some() {
            match self.load_from_snapshot(aggregate_id).await? {
                Some(loaded) => return Ok(loaded),
                None => tracing::warn!(
                    aggregate_type = A::TYPE,
                    aggregate_id,
                    "snapshot unreadable; folding the whole stream"
                ),
            }
        }
        self.load_all_events(aggregate_id).await
    }

    /// Folds every event of a stream, ignoring snapshots.
    pub async fn load_all_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Loaded<A>, LoadError> {
        let rows = sqlx::query(SELECT_STREAM)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await?;
        let mut loaded = Loaded {
            aggregate: A::default(),
            version: 0,
            snapshot_version: 0,
            head_hash: None,
        };
        for row in rows {
            fold(&mut loaded, aggregate_id, &row)?;
        }
        Ok(loaded)
    }

    /// `None` when the snapshot no longer deserializes (the state's shape changed).
    async fn load_from_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<Loaded<A>>, LoadError> {
        let rows = sqlx::query(SELECT_FROM_SNAPSHOT)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await?;
        let mut loaded = Loaded {
            aggregate: A::default(),
            version: 0,
            snapshot_version: 0,
            head_hash: None,
        };
        let mut events = 0;
        for row in rows {
            if row.try_get::<bool, _>("snapshot")? {
                let payload: String = row.try_get("payload")?;
                let Ok(aggregate) = serde_json::from_str(&payload) else {
                    return Ok(None);
                };
                loaded.aggregate = aggregate;
                loaded.version = row.try_get::<i64, _>("sequence")? as u64;
                loaded.snapshot_version = loaded.version;
                loaded.head_hash = row.try_get("hash")?;
            } else {
                fold(&mut loaded, aggregate_id, &row)?;
                events += 1;
            }
        }
        while events == PAGE {
            let rows = sqlx::query(SELECT_PAGE)
                .bind(A::TYPE)
                .bind(aggregate_id)
                .bind(loaded.version as i64)
                .fetch_all(&self.pool)
                .await?;
            events = rows.len();
            for row in rows {
                fold(&mut loaded, aggregate_id, &row)?;
            }
        }
        Ok(Some(loaded))
    }

    /// Saves `aggregate`, the stream at `version`, as its snapshot when the stream snapshots
    /// and the last one (at `snapshot_version`) is old enough; a failure is logged (the next
    /// load folds more events), not the command's.
    pub async fn snapshot_if_due<A: Stream>(
        &self,
        aggregate_id: &str,
        version: u64,
        snapshot_version: u64,
        aggregate: &A,
    ) {
        let Some(every) = A::SNAPSHOT_EVERY else {
            return;
        };
        if version.saturating_sub(snapshot_version) < every {
            return;
        }
        if let Err(err) = self.save_snapshot(aggregate_id, version, aggregate).await {
            tracing::warn!(error = %err, aggregate_type = A::TYPE, aggregate_id,
                "cannot save snapshot; the next load folds more events");
        }
    }

    /// Saves `aggregate` as the stream's snapshot at `version`, unless a newer one exists.
    pub async fn save_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
        version: u64,
        aggregate: &A,
    ) -> Result<(), anyhow::Error> {
        sqlx::query(
            "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot,
                                    payload)
             VALUES ($1, $2, $3, 1, $4::json)
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
                SET last_sequence = EXCLUDED.last_sequence, payload = EXCLUDED.payload,
                    current_snapshot = snapshots.current_snapshot + 1
              WHERE snapshots.last_sequence < EXCLUDED.last_sequence",
        )
        .bind(A::TYPE)
        .bind(aggregate_id)
        .bind(version as i64)
        .bind(serde_json::to_string(aggregate)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn fold<A: Aggregate>(
    loaded: &mut Loaded<A>,
    aggregate_id: &str,
    row: &sqlx::postgres::PgRow,
) -> Result<(), LoadError> {
    let sequence: i64 = row.try_get("sequence")?;
    let event_type: String = row.try_get("event_type")?;
    let event_version: String = row.try_get("event_version")?;
    let payload: String = row.try_get("payload")?;
    let event =
        aggregates::versions::decode(&event_type, &event_version, &payload).map_err(|source| {
            LoadError::Corrupt {
                aggregate_type: A::TYPE,
                aggregate_id: aggregate_id.to_string(),
                sequence,
                source,
            }
        })?;
    loaded.aggregate.apply(event);
    loaded.version = sequence as u64;
    loaded.head_hash = row.try_get("hash")?;
    Ok(())
}
