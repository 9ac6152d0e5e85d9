//! Reading events in commit order without gaps.
//!
//! `global_position` values are handed out at insert time but become visible at commit time, so
//! "everything after position N" can skip an event whose transaction commits late. We read in
//! `(transaction_id, global_position)` order and only below the visibility horizon
//! `pg_snapshot_xmin(pg_current_snapshot())`: every transaction older than the horizon has ended,
//! so no event can appear behind a position once it has been read. (The approach of the Emmett
//! event store.) A transaction that stays open holds every reader back until it ends.
//!
//! Both the stored ids and the horizon are the cluster's own plus the feed clock's offset
//! (`feed_xact_id()`, `feed_horizon()`), raised when the database moves to another cluster, whose
//! ids start again from low values (see `operations::store::moves`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

mod reads;

pub use reads::{read_page, read_stream, read_stream_range, FeedFilter};

use crate::ProjectionError;

/// A place in the ordered feed: the writing transaction and the global position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPosition {
    pub transaction_id: u64,
    pub position: i64,
}

impl fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.transaction_id, self.position)
    }
}

impl FromStr for FeedPosition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("`{s}` is not a feed token (it looks like `1234.56`)");
        let (xid, position) = s.split_once('.').ok_or_else(invalid)?;
        // Digits only: no sign (`u64`/`i64` parsing would take `+1` and `-5`).
        if ![xid, position]
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid());
        }
        Ok(Self {
            transaction_id: xid.parse().map_err(|_| invalid())?,
            position: position.parse().map_err(|_| invalid())?,
        })
    }
}

/// An event as read from the feed. `payload` and `metadata` are the stored JSON text, present
/// only for the event types the reader asked for.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub at: FeedPosition,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Option<String>,
    pub metadata: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// The event's link in its stream's hash chain, in hex (read for the feed and the export,
    /// not for the projectors).
    pub hash: Option<String>,
}

impl StoredEvent {
    /// The payload decoded as `E`, in its current shape (upcast if stored in an older version).
    pub fn decode<E: DeserializeOwned>(&self) -> Result<E, ProjectionError> {
        let text = self.payload.as_deref().unwrap_or("null");
        aggregates::versions::decode(&self.event_type, &self.event_version, text).map_err(
            |source| ProjectionError::Decode {
                position: self.at.position,
                source,
            },
        )
    }

    /// The stream id as a UUID (every stream of this service is named by one).
    pub fn stream_uuid(&self) -> Result<uuid::Uuid, ProjectionError> {
        uuid::Uuid::parse_str(&self.aggregate_id).map_err(|_| ProjectionError::Inconsistent {
            position: self.at.position,
            reason: format!("stream id `{}` is not a UUID", self.aggregate_id),
        })
    }

    /// Who caused the event and in what flow, read from its metadata in one parse
    /// (`unknown` actor for events written without metadata).
    pub fn provenance(&self) -> Provenance {
        #[derive(serde::Deserialize)]
        struct Fields {
            actor: Option<String>,
            on_behalf_of: Option<String>,
            correlation_id: Option<String>,
        }
        let fields = self
            .metadata
            .as_deref()
            .and_then(|text| serde_json::from_str::<Fields>(text).ok());
        let (actor, on_behalf_of, correlation_id) = fields.map_or((None, None, None), |f| {
            (f.actor, f.on_behalf_of, f.correlation_id)
        });
        Provenance {
            actor: actor.unwrap_or_else(|| "unknown".into()),
            on_behalf_of,
            correlation_id,
        }
    }
}

/// What history rows copy from an event's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub actor: String,
    /// Whom the actor acted for (`X-Actor`), when it said.
    pub on_behalf_of: Option<String>,
    pub correlation_id: Option<String>,
}

// Columns are qualified: the output column `transaction_id` (text to bigint, for the client)
// would otherwise shadow the table's in ORDER BY and lose the index.
const READ_AFTER: &str = "
SELECT e.transaction_id::text::bigint AS transaction_id, e.global_position, e.aggregate_type,
       e.aggregate_id, e.sequence, e.event_type, e.event_version, e.recorded_at,
       CASE WHEN e.event_type = ANY($3) THEN e.payload::text END AS payload,
       CASE WHEN e.event_type = ANY($3) THEN e.metadata::text END AS metadata,
       NULL::text AS hash
  FROM events e
 WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
   AND e.transaction_id < feed_horizon()
 ORDER BY e.transaction_id, e.global_position
 LIMIT $4";

fn stored_event(row: &PgRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        at: FeedPosition {
            transaction_id: row.try_get::<i64, _>("transaction_id")? as u64,
            position: row.try_get("global_position")?,
        },
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        hash: row.try_get("hash")?,
    })
}

/// The next `limit` events after `after` in feed order, below the visibility horizon, in one
/// statement. Payload and metadata are read only for `wanted` event types.
pub async fn read_after(
    conn: &mut PgConnection,
    after: FeedPosition,
    wanted: &[&str],
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query(READ_AFTER)
        .bind(after.transaction_id as i64)
        .bind(after.position)
        .bind(wanted)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(stored_event).collect()
}

/// The last event below the visibility horizon (the feed's start when there is none): every
/// event after it is yet to be read.
pub async fn head(conn: &mut PgConnection) -> Result<FeedPosition, sqlx::Error> {
    let at: Option<(i64, i64)> = sqlx::query_as(
        "SELECT e.transaction_id::text::bigint, e.global_position FROM events e
          WHERE e.transaction_id < feed_horizon()
          ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    Ok(
        at.map_or_else(FeedPosition::default, |(xid, position)| FeedPosition {
            transaction_id: xid as u64,
            position,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_token_is_digits_dot_digits() {
        for token in ["1.-5", "+1.5", "1.", ".5", "1.5.6", "a.b"] {
            assert!(token.parse::<FeedPosition>().is_err(), "{token}");
        }
    }

    #[test]
    fn a_feed_position_reads_back_from_its_token() {
        let at = FeedPosition {
            transaction_id: 812,
            position: 4051,
        };
        assert_eq!(at.to_string(), "812.4051");
        assert_eq!("812.4051".parse::<FeedPosition>(), Ok(at));
        assert!("812".parse::<FeedPosition>().is_err());
        assert!("a.b".parse::<FeedPosition>().is_err());
    }

    #[test]
    fn provenance_reads_actor_and_correlation_and_falls_back_to_unknown() {
        let event = |metadata: Option<&str>| StoredEvent {
            at: FeedPosition::default(),
            aggregate_type: "Task".into(),
            aggregate_id: "t".into(),
            sequence: 1,
            event_type: "TaskCreated".into(),
            event_version: "1.0".into(),
            payload: None,
            metadata: metadata.map(str::to_string),
            recorded_at: chrono::Utc::now(),
            hash: None,
        };
        let known = event(Some(
            r#"{"actor": "ops:bo", "correlation_id": "flow-1", "x": "y"}"#,
        ));
        assert_eq!(
            known.provenance(),
            Provenance {
                actor: "ops:bo".into(),
                on_behalf_of: None,
                correlation_id: Some("flow-1".into())
            }
        );
        for bare in [event(None), event(Some("{}")), event(Some("not json"))] {
            assert_eq!(bare.provenance().actor, "unknown");
            assert_eq!(bare.provenance().correlation_id, None);
        }
    }

    #[test]
    fn feed_positions_order_by_transaction_first() {
        let early_commit_late_position = FeedPosition {
            transaction_id: 10,
            position: 99,
        };
        let late = FeedPosition {
            transaction_id: 11,
            position: 5,
        };
        assert!(early_commit_late_position < late);
    }
}
