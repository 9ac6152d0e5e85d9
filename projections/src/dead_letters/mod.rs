//! Dead letters: an event a projector (or a process) cannot apply parks its stream, not the
//! projector (the approach of Axon's dead-letter queue, which parks the sequence).
//!
//! After its retries, the failing event becomes a row of `dead_letters`; the runner then passes
//! over that stream's later events for that projector (it reads its dead letters with its
//! checkpoint, for every batch), so they
//! wait behind it in order, and goes on with every other stream. An operator asks for a retry
//! (after deploying a fix) or a skip (with a reason); the projector's running runner does it,
//! inside the transaction that holds its checkpoint: it applies the stream's parked events up to
//! its checkpoint, in order (without the poison event for a skip), and resolves the dead letter;
//! the stream's events after the checkpoint then come through the feed as usual. If a later
//! parked event fails in turn, the events before it are applied and the stream parks behind it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

mod held;
mod resolve;

pub(crate) use held::{letters_of, Letters};

pub use resolve::{request, requested, requested_projectors, resolve, RequestError, Resolution};

use crate::FeedPosition;

/// The name dead letters of the deadlines carry as their projector.
pub const DEADLINES: &str = "deadlines";

/// An event that could not be applied, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: i64,
    /// The projector or process that could not apply it (`deadlines` for a deadline).
    pub projector: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The event's place in the feed, as a token (`null` for a deadline).
    pub token: Option<String>,
    pub position: Option<i64>,
    pub sequence: Option<i64>,
    pub event_type: Option<String>,
    /// A deadline's idempotency key (deadlines only).
    pub deadline_key: Option<String>,
    pub error: String,
    /// Attempts so far, retries by operators included.
    pub attempts: i32,
    pub first_failed_at: DateTime<Utc>,
    pub last_failed_at: DateTime<Utc>,
    /// `parked` (its stream waits behind it), `retried`, `skipped` (resolved by an operator) or
    /// `replaced` (a replay of the projector no longer failed there).
    pub status: String,
    /// A retry or skip asked for and not done yet (`retry`, `skip`).
    pub requested: Option<String>,
    pub requested_by: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// The error of the last retry that failed.
    pub last_retry_error: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Events of the stream waiting behind it (those the projector has passed over).
    pub parked_events: i64,
}

const COLUMNS: &str = "d.id, d.projector, d.aggregate_type, d.aggregate_id,
       d.transaction_id::text::bigint AS transaction_id, d.position, d.sequence, d.event_type,
       d.deadline_key, d.error, d.attempts, d.first_failed_at, d.last_failed_at, d.status,
       d.requested, d.requested_by, d.requested_at, d.reason, d.last_retry_error,
       d.resolved_by, d.resolved_at,
       CASE WHEN d.status = 'parked' AND d.position IS NOT NULL THEN
            (SELECT count(*) FROM events e, projector_checkpoints c
              WHERE c.name = d.projector
                AND e.aggregate_type = d.aggregate_type AND e.aggregate_id = d.aggregate_id
                AND (e.transaction_id, e.global_position) > (d.transaction_id, d.position)
                AND (e.transaction_id, e.global_position) <= (c.transaction_id, c.position))
            ELSE 0 END AS parked_events";

fn dead_letter(row: &PgRow) -> Result<DeadLetter, sqlx::Error> {
    let transaction_id: Option<i64> = row.try_get("transaction_id")?;
    let position: Option<i64> = row.try_get("position")?;
    Ok(DeadLetter {
        id: row.try_get("id")?,
        projector: row.try_get("projector")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        token: transaction_id.zip(position).map(|(xid, position)| {
            FeedPosition {
                transaction_id: xid as u64,
                position,
            }
            .to_string()
        }),
        position,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        deadline_key: row.try_get("deadline_key")?,
        error: row.try_get("error")?,
        attempts: row.try_get("attempts")?,
        first_failed_at: row.try_get("first_failed_at")?,
        last_failed_at: row.try_get("last_failed_at")?,
        status: row.try_get("status")?,
        requested: row.try_get("requested")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        reason: row.try_get("reason")?,
        last_retry_error: row.try_get("last_retry_error")?,
        resolved_by: row.try_get("resolved_by")?,
        resolved_at: row.try_get("resolved_at")?,
        parked_events: row.try_get("parked_events")?,
    })
}

/// What a list of dead letters is filtered by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub projector: Option<String>,
    pub status: Option<String>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    /// Only ids below this one (the list runs newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Dead letters, newest first.
pub async fn list(pool: &PgPool, filter: &Filter) -> Result<Vec<DeadLetter>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM dead_letters d
          WHERE ($1::text IS NULL OR d.projector = $1)
            AND ($2::text IS NULL OR d.status = $2)
            AND ($3::text IS NULL OR d.aggregate_type = $3)
            AND ($4::text IS NULL OR d.aggregate_id = $4)
            AND ($5::bigint IS NULL OR d.id < $5)
          ORDER BY d.id DESC LIMIT $6"
    ))
    .bind(&filter.projector)
    .bind(&filter.status)
    .bind(&filter.aggregate_type)
    .bind(&filter.aggregate_id)
    .bind(filter.before)
    .bind(filter.limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(dead_letter).collect()
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<DeadLetter>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM dead_letters d WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(dead_letter).transpose()
}

/// The dead letters holding an entity back in any of `projectors`.
pub async fn parked_for(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    projectors: &[&str],
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM dead_letters d
          WHERE d.aggregate_type = $1 AND d.aggregate_id = $2 AND d.status = 'parked'
            AND d.projector = ANY($3)
          ORDER BY d.id"
    ))
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(projectors)
    .fetch_all(pool)
    .await?;
    rows.iter().map(dead_letter).collect()
}

/// An entity's skipped dead letters, for its timeline.
pub async fn skipped_for(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM dead_letters d
          WHERE d.aggregate_type = $1 AND d.aggregate_id = $2 AND d.status = 'skipped'
          ORDER BY d.id"
    ))
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(dead_letter).collect()
}

/// Open dead letters per projector (for metrics and readiness).
pub async fn parked_counts(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT projector, count(*) FROM dead_letters WHERE status = 'parked'
          GROUP BY projector ORDER BY projector",
    )
    .fetch_all(pool)
    .await
}

/// Parks the stream of the event at `position` behind it, for `projector`, in the table
/// `dead_letters` the connection names (a replay's session has one of its own); with `ahead_of`
/// (the projector's checkpoint, locked), only if the event is still ahead of it. Returns the new
/// dead letter's id; `None` if the stream was parked already, or the event passed.
pub async fn park(
    conn: &mut PgConnection,
    projector: &str,
    position: i64,
    error: &str,
    attempts: i32,
    first_failed_at: DateTime<Utc>,
    ahead_of: Option<FeedPosition>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO dead_letters (projector, aggregate_type, aggregate_id, transaction_id,
                                   position, sequence, event_type, error, attempts,
                                   first_failed_at, last_failed_at)
         SELECT $1, e.aggregate_type, e.aggregate_id, e.transaction_id, e.global_position,
                e.sequence, e.event_type, $3, $4, $5, now()
           FROM events e
          WHERE e.global_position = $2
            AND ($6::bigint IS NULL OR (e.transaction_id, e.global_position) > ($6::text::xid8, $7))
         ON CONFLICT (projector, aggregate_type, aggregate_id) WHERE status = 'parked' DO NOTHING
         RETURNING id",
    )
    .bind(projector)
    .bind(position)
    .bind(error)
    .bind(attempts)
    .bind(first_failed_at)
    .bind(ahead_of.map(|at| at.transaction_id as i64))
    .bind(ahead_of.map(|at| at.position))
    .fetch_optional(conn)
    .await
}

/// Parks a deadline that keeps failing on its stream (the deadlines pass over it).
pub async fn park_deadline(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    key: &str,
    error: &str,
    attempts: i32,
    first_failed_at: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO dead_letters (projector, aggregate_type, aggregate_id, deadline_key, error,
                                   attempts, first_failed_at, last_failed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now())
         ON CONFLICT (projector, aggregate_type, aggregate_id) WHERE status = 'parked' DO NOTHING
         RETURNING id",
    )
    .bind(DEADLINES)
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(key)
    .bind(error)
    .bind(attempts)
    .bind(first_failed_at)
    .fetch_optional(pool)
    .await
}

/// After a replay built its own dead letters (in its session's `pg_temp.dead_letters`), makes
/// them the projector's: the live ones the replay met again stay as they are, the others are
/// `replaced`, and the replay's new ones are added.
pub async fn adopt_replayed(
    tx: &mut PgConnection,
    live: &str,
    projector: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE {live} d SET status = 'replaced', resolved_by = 'replay', resolved_at = now(),
                requested = NULL
          WHERE d.projector = $1 AND d.status = 'parked' AND d.position IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM pg_temp.dead_letters t
                             WHERE t.projector = d.projector AND t.status = 'parked'
                               AND t.position = d.position)"
    ))
    .bind(projector)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {live} (projector, aggregate_type, aggregate_id, transaction_id, position,
                             sequence, event_type, error, attempts, first_failed_at,
                             last_failed_at)
         SELECT t.projector, t.aggregate_type, t.aggregate_id, t.transaction_id, t.position,
                t.sequence, t.event_type, t.error, t.attempts, t.first_failed_at,
                t.last_failed_at
           FROM pg_temp.dead_letters t
          WHERE t.projector = $1 AND t.status = 'parked'
            AND NOT EXISTS (SELECT 1 FROM {live} d
                             WHERE d.projector = t.projector AND d.status = 'parked'
                               AND d.position = t.position)
         ON CONFLICT DO NOTHING"
    ))
    .bind(projector)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
