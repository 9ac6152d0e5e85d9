//! The replay's dead letters, read once at its start and consulted for every event.

use std::collections::{HashMap, HashSet};

use sqlx::PgConnection;

use crate::{FeedPosition, StoredEvent};

crate::frame::row! {
    /// A dead letter of the replay's, as the pass needs it.
    struct LetterRow {
        projector: String,
        aggregate_type: String,
        aggregate_id: String,
        transaction_id: Option<i64>,
        position: Option<i64>,
        status: String,
    }
}

/// The replay's dead letters, in memory, by projector: the streams parked (from where) and the
/// events skipped. Looked up for every event of every batch, by borrowed names (no allocation).
#[derive(Default)]
pub(super) struct Letters {
    /// Projector -> aggregate type -> aggregate id -> the earliest parked position.
    parked: HashMap<String, HashMap<String, HashMap<String, FeedPosition>>>,
    /// Projector -> skipped positions.
    skipped: HashMap<String, HashSet<i64>>,
}

impl Letters {
    pub(super) async fn load(conn: &mut PgConnection) -> Result<Self, sqlx::Error> {
        let rows: Vec<LetterRow> = sqlx::query_as(
            "SELECT projector, aggregate_type, aggregate_id,
                    transaction_id::text::bigint AS transaction_id, position, status
               FROM pg_temp.dead_letters WHERE status IN ('parked', 'skipped')",
        )
        .fetch_all(conn)
        .await?;
        let mut letters = Self::default();
        for row in rows {
            let (Some(xid), Some(position)) = (row.transaction_id, row.position) else {
                continue;
            };
            if row.status == "skipped" {
                letters
                    .skipped
                    .entry(row.projector)
                    .or_default()
                    .insert(position);
                continue;
            }
            let at = FeedPosition {
                transaction_id: xid as u64,
                position,
            };
            let from = (letters.parked.entry(row.projector).or_default())
                .entry(row.aggregate_type)
                .or_default()
                .entry(row.aggregate_id)
                .or_insert(at);
            *from = (*from).min(at);
        }
        Ok(letters)
    }

    /// True when `event` waits, for `projector`, behind a dead letter of its stream, or was
    /// skipped.
    pub(super) fn holds(&self, projector: &str, event: &StoredEvent) -> bool {
        let skipped = (self.skipped.get(projector)).is_some_and(|s| s.contains(&event.at.position));
        skipped
            || (self.parked.get(projector))
                .and_then(|types| types.get(&event.aggregate_type))
                .and_then(|ids| ids.get(&event.aggregate_id))
                .is_some_and(|from| *from <= event.at)
    }
}
