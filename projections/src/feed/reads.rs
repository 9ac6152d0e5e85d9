//! The feed as its readers outside the projectors see it: pages with filters (the API's feed and
//! the export), one stream's events, and the events a dead letter holds back.

use aggregates::versions::Upcasters;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{stored_event, FeedPosition, StoredEvent};

const READ_STREAM_RANGE: &str = "
SELECT e.transaction_id::text::bigint AS transaction_id, e.global_position, e.aggregate_type,
       e.aggregate_id, e.sequence, e.event_type, e.event_version, e.recorded_at,
       e.payload::text AS payload, e.metadata::text AS metadata, NULL::text AS hash
  FROM events e
 WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
   AND (e.transaction_id, e.global_position) >= ($3::text::xid8, $4)
   AND ($5 OR e.global_position <> $4)
   AND (e.transaction_id, e.global_position) <= ($6::text::xid8, $7)
   AND e.event_type = ANY($8)
 ORDER BY e.transaction_id, e.global_position";

/// One stream's `wanted` events from `from` (itself included or not) up to `to`, in feed order:
/// the events a dead letter holds back.
pub async fn read_stream_range(
    conn: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    from: FeedPosition,
    including_from: bool,
    to: FeedPosition,
    wanted: &[&str],
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query(READ_STREAM_RANGE)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(from.transaction_id as i64)
        .bind(from.position)
        .bind(including_from)
        .bind(to.transaction_id as i64)
        .bind(to.position)
        .bind(wanted)
        .fetch_all(conn)
        .await?;
    rows.iter().map(stored_event).collect()
}

/// What a reader of the feed wants: every field optional.
#[derive(Debug, Clone, Default)]
pub struct FeedFilter {
    pub aggregate_type: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

const READ_PAGE: &str = "
SELECT e.transaction_id::text::bigint AS transaction_id, e.global_position, e.aggregate_type,
       e.aggregate_id, e.sequence, e.event_type, e.event_version, e.recorded_at,
       e.payload::text AS payload, e.metadata::text AS metadata, encode(e.hash, 'hex') AS hash
  FROM events e
 WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
   AND e.transaction_id < feed_horizon()
   AND ($3::text IS NULL OR e.aggregate_type = $3)
   AND ($4::text[] IS NULL OR e.event_type = ANY($4))
   AND ($5::timestamptz IS NULL OR e.recorded_at >= $5)
   AND ($6::timestamptz IS NULL OR e.recorded_at < $6)
 ORDER BY e.transaction_id, e.global_position
 LIMIT $7";

/// A page of the feed after `after`, in the projectors' order, with payload and metadata.
pub async fn read_page(
    pool: &sqlx::PgPool,
    after: FeedPosition,
    filter: &FeedFilter,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query(READ_PAGE)
        .bind(after.transaction_id as i64)
        .bind(after.position)
        .bind(filter.aggregate_type.as_deref())
        .bind(filter.event_types.as_deref())
        .bind(filter.since)
        .bind(filter.until)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(stored_event).collect()
}

const READ_STREAM: &str = "
SELECT e.transaction_id::text::bigint AS transaction_id, e.global_position, e.aggregate_type,
       e.aggregate_id, e.sequence, e.event_type, e.event_version, e.recorded_at,
       e.payload::text AS payload, e.metadata::text AS metadata, encode(e.hash, 'hex') AS hash
  FROM events e
 WHERE e.aggregate_type = $1 AND e.aggregate_id = $2 AND e.sequence > $3
 ORDER BY e.sequence
 LIMIT $4";

/// A page of one stream's events after `after_sequence`.
pub async fn read_stream(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query(READ_STREAM)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(stored_event).collect()
}

impl StoredEvent {
    /// The event as analysts read it: the payload in its current shape (upcast if stored in an
    /// older version, `upcast_from` then naming the stored one) without its event-type
    /// wrapper, the metadata as an object, and the feed token to resume after it.
    pub fn to_json(&self) -> serde_json::Value {
        let parse = |text: &Option<String>| {
            text.as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .unwrap_or(serde_json::Value::Null)
        };
        let (mut payload, upcast_to) = Upcasters::all().upcast_payload(
            &self.event_type,
            &self.event_version,
            parse(&self.payload),
        );
        if let Some(inner) = payload
            .as_object_mut()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.remove(&self.event_type))
        {
            payload = inner;
        }
        serde_json::json!({
            "token": self.at.to_string(),
            "position": self.at.position,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "sequence": self.sequence,
            "event_type": self.event_type,
            "event_version": upcast_to.as_deref().unwrap_or(&self.event_version),
            "upcast_from": upcast_to.is_some().then_some(&self.event_version),
            "payload": payload,
            "metadata": parse(&self.metadata),
            "recorded_at": self.recorded_at,
            "hash": self.hash,
        })
    }
}
