//! The dead letters a reader of the feed honours: by projector, the streams parked (from where)
//! and the events skipped. Loaded with each batch's checkpoint (the runner) or once at the start
//! of a replay, and consulted for every event.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use sqlx::PgConnection;

use crate::{FeedPosition, StoredEvent};

/// A dead letter, as a reader needs it.
#[derive(Debug, Deserialize, sqlx::FromRow)]
pub(crate) struct LetterRow {
    projector: String,
    aggregate_type: String,
    aggregate_id: String,
    transaction_id: Option<i64>,
    position: Option<i64>,
    status: String,
}

/// The dead letters of some projectors, in memory. Looked up for every event of every batch, by
/// borrowed names (no allocation).
#[derive(Debug, Default)]
pub(crate) struct Letters {
    /// Projector -> aggregate type -> aggregate id -> the earliest parked position.
    parked: HashMap<String, HashMap<String, HashMap<String, FeedPosition>>>,
    /// Projector -> skipped positions.
    skipped: HashMap<String, HashSet<i64>>,
}

/// The columns of a `LetterRow`, as a JSON array of the projector's open dead letters (or
/// `NULL`), for the SQL expression `projector` naming it: the runner reads them in the statement
/// that reads its checkpoint.
pub(crate) fn letters_of(projector: &str) -> String {
    format!(
        "(SELECT json_agg(json_build_object(
                    'projector', d.projector, 'aggregate_type', d.aggregate_type,
                    'aggregate_id', d.aggregate_id,
                    'transaction_id', d.transaction_id::text::bigint, 'position', d.position,
                    'status', d.status))::text
            FROM dead_letters d
           WHERE d.projector = {projector} AND d.status IN ('parked', 'skipped'))"
    )
}

impl Letters {
    /// The open dead letters of a replay's own table.
    pub(crate) async fn load_replay(conn: &mut PgConnection) -> Result<Self, sqlx::Error> {
        let rows: Vec<LetterRow> = sqlx::query_as(
            "SELECT projector, aggregate_type, aggregate_id,
                    transaction_id::text::bigint AS transaction_id, position, status
               FROM pg_temp.dead_letters WHERE status IN ('parked', 'skipped')",
        )
        .fetch_all(conn)
        .await?;
        Ok(Self::of(rows))
    }

    /// The letters of `letters_of`'s JSON (none for `NULL`).
    pub(crate) fn from_json(json: Option<&str>) -> Result<Self, serde_json::Error> {
        match json {
            None => Ok(Self::default()),
            Some(text) => Ok(Self::of(serde_json::from_str::<Vec<LetterRow>>(text)?)),
        }
    }

    fn of(rows: Vec<LetterRow>) -> Self {
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
        letters
    }

    /// True when `event` waits, for `projector`, behind a dead letter of its stream, or was
    /// skipped.
    pub(crate) fn holds(&self, projector: &str, event: &StoredEvent) -> bool {
        let skipped = (self.skipped.get(projector)).is_some_and(|s| s.contains(&event.at.position));
        skipped
            || (self.parked.get(projector))
                .and_then(|types| types.get(&event.aggregate_type))
                .and_then(|ids| ids.get(&event.aggregate_id))
                .is_some_and(|from| *from <= event.at)
    }
}
