//! Each projector's place in the feed, moved in the same transaction as its writes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row};

use crate::dead_letters::{letters_of, Letters};
use crate::lease::Fence;
use crate::FeedPosition;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub at: FeedPosition,
    pub events_applied: i64,
}

/// Creates the checkpoints of these projectors if they do not exist yet.
pub async fn ensure(pool: &PgPool, names: &[&str]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projector_checkpoints (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(names)
    .execute(pool)
    .await?;
    Ok(())
}

/// Creates the checkpoints of these projectors if they do not exist yet, and records the event
/// types each reads (see `reached`), added to those recorded before: while instances of two
/// versions run side by side, a type either reads counts (a type no version reads any more
/// only makes reads wait for the projector's next checkpoint).
pub async fn ensure_running(
    pool: &PgPool,
    projectors: &[&dyn crate::Projector],
) -> Result<(), sqlx::Error> {
    let names: Vec<&str> = projectors.iter().map(|p| p.name()).collect();
    // An array of arrays must be rectangular: the types go as one comma-joined text each.
    let types: Vec<String> = projectors
        .iter()
        .map(|p| p.event_types().join(","))
        .collect();
    sqlx::query(
        "INSERT INTO projector_checkpoints (name, event_types)
         SELECT name, string_to_array(types, ',')
           FROM unnest($1::text[], $2::text[]) AS t(name, types)
             ON CONFLICT (name) DO UPDATE
                SET event_types = ARRAY(SELECT DISTINCT t FROM unnest(
                        coalesce(projector_checkpoints.event_types, '{}') || EXCLUDED.event_types) t
                        ORDER BY t)
              WHERE NOT (EXCLUDED.event_types <@ coalesce(projector_checkpoints.event_types, '{}'))",
    )
    .bind(&names)
    .bind(&types)
    .execute(pool)
    .await?;
    Ok(())
}

/// Reads a projector's checkpoint and locks it until the transaction ends: a second runner of
/// the same projector waits here, then sees the checkpoint the first one moved.
pub async fn lock(tx: &mut PgConnection, name: &str) -> Result<Checkpoint, sqlx::Error> {
    let row = sqlx::query(
        "SELECT transaction_id::text::bigint AS transaction_id, position, events_applied
           FROM projector_checkpoints WHERE name = $1 FOR UPDATE",
    )
    .bind(name)
    .fetch_one(tx)
    .await?;
    checkpoint_of(&row)
}

/// `lock`, for a batch run under a lease, with the projector's open dead letters (what the
/// batch passes over): `None` when the lease is no longer this fence's (taken over, or lapsed),
/// and then nothing is to be applied.
pub(crate) async fn lock_fenced(
    tx: &mut PgConnection,
    name: &str,
    fence: &Fence,
) -> Result<Option<(Checkpoint, Letters)>, sqlx::Error> {
    read_fenced(tx, name, fence, "FOR UPDATE OF c").await
}

/// `lock_fenced` without the lock: for a process, whose batch holds no transaction.
pub(crate) async fn read_fenced_unlocked(
    conn: &mut PgConnection,
    name: &str,
    fence: &Fence,
) -> Result<Option<(Checkpoint, Letters)>, sqlx::Error> {
    read_fenced(conn, name, fence, "").await
}

async fn read_fenced(
    conn: &mut PgConnection,
    name: &str,
    fence: &Fence,
    lock: &str,
) -> Result<Option<(Checkpoint, Letters)>, sqlx::Error> {
    // Without a lock, the dead letters come in the same statement. With one, in a statement of
    // their own, after it: a statement that waited for the row lock sees the row as its holder
    // left it (a replay's switch, which also changes dead letters), but the other tables as
    // they were when it started.
    let letters_here = if lock.is_empty() {
        letters_of("c.name")
    } else {
        "NULL::text".to_string()
    };
    let row = sqlx::query(&format!(
        "SELECT c.transaction_id::text::bigint AS transaction_id, c.position, c.events_applied,
                EXISTS (SELECT 1 FROM projector_leases l
                         WHERE l.name = c.name AND l.holder = $2 AND l.epoch = $3
                           AND l.expires_at > now()) AS leased,
                {letters_here} AS letters
           FROM projector_checkpoints c WHERE c.name = $1 {lock}"
    ))
    .bind(name)
    .bind(&fence.holder)
    .bind(fence.epoch)
    .fetch_one(&mut *conn)
    .await?;
    if !row.try_get::<bool, _>("leased")? {
        return Ok(None);
    }
    let letters: Option<String> = if lock.is_empty() {
        row.try_get("letters")?
    } else {
        sqlx::query_scalar(&format!("SELECT {}", letters_of("$1")))
            .bind(name)
            .fetch_one(&mut *conn)
            .await?
    };
    let letters =
        Letters::from_json(letters.as_deref()).map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(Some((checkpoint_of(&row)?, letters)))
}

fn checkpoint_of(row: &sqlx::postgres::PgRow) -> Result<Checkpoint, sqlx::Error> {
    Ok(Checkpoint {
        at: FeedPosition {
            transaction_id: row.try_get::<i64, _>("transaction_id")? as u64,
            position: row.try_get("position")?,
        },
        events_applied: row.try_get("events_applied")?,
    })
}

/// Reads a projector's checkpoint without locking it.
pub async fn read(conn: &mut PgConnection, name: &str) -> Result<Checkpoint, sqlx::Error> {
    let row = sqlx::query(
        "SELECT transaction_id::text::bigint AS transaction_id, position, events_applied
           FROM projector_checkpoints WHERE name = $1",
    )
    .bind(name)
    .fetch_one(conn)
    .await?;
    checkpoint_of(&row)
}

/// Moves a checkpoint from `from` to `to` if nobody moved it meanwhile and (with a fence) the
/// lease still has the fence's epoch; returns whether it did.
pub async fn advance_from(
    conn: &mut PgConnection,
    name: &str,
    from: Checkpoint,
    to: Checkpoint,
    fence: Option<&Fence>,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE projector_checkpoints
            SET transaction_id = $4::text::xid8, position = $5, events_applied = $6,
                updated_at = now(), failures = 0
          WHERE name = $1 AND transaction_id = $2::text::xid8 AND position = $3
            AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM projector_leases l
                                              WHERE l.name = $1 AND l.holder = $7
                                                AND l.epoch = $8))",
    )
    .bind(name)
    .bind(from.at.transaction_id as i64)
    .bind(from.at.position)
    .bind(to.at.transaction_id as i64)
    .bind(to.at.position)
    .bind(to.events_applied)
    .bind(fence.map(|f| f.holder.as_str()))
    .bind(fence.map(|f| f.epoch))
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Moves a locked checkpoint (with a fence: only while the lease has the fence's epoch);
/// returns whether it did. A success clears the failure count.
pub async fn advance(
    tx: &mut PgConnection,
    name: &str,
    to: Checkpoint,
    fence: Option<&Fence>,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE projector_checkpoints
            SET transaction_id = $2::text::xid8, position = $3, events_applied = $4,
                updated_at = now(), failures = 0
          WHERE name = $1
            AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM projector_leases l
                                              WHERE l.name = $1 AND l.holder = $5
                                                AND l.epoch = $6))",
    )
    .bind(name)
    .bind(to.at.transaction_id as i64)
    .bind(to.at.position)
    .bind(to.events_applied)
    .bind(fence.map(|f| f.holder.as_str()))
    .bind(fence.map(|f| f.epoch))
    .execute(tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Records a failed batch (outside the failed transaction).
pub async fn record_failure(
    pool: &PgPool,
    name: &str,
    error: &str,
    position: Option<i64>,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE projector_checkpoints
            SET failures = failures + 1, last_error = $2, last_error_at = now(),
                failed_position = $3
          WHERE name = $1
      RETURNING failures",
    )
    .bind(name)
    .bind(error)
    .bind(position)
    .fetch_one(pool)
    .await
}

/// True when every named projector has applied the feed up to `at`: its checkpoint is there, or
/// no event of the types it reads lies between its checkpoint and `at`, every transaction up
/// to `at`'s having ended (a projector does not move its checkpoint for every event it passes
/// over).
pub async fn reached(pool: &PgPool, names: &[&str], at: FeedPosition) -> Result<bool, sqlx::Error> {
    let reached: Option<bool> = sqlx::query_scalar(
        "SELECT bool_and((c.transaction_id, c.position) >= ($2::text::xid8, $3)
                         OR (c.event_types IS NOT NULL
                             AND $2::text::xid8 < feed_horizon()
                             -- The first such event, by the feed's index: a NOT EXISTS here is
                             -- planned as a scan of the whole table (5 ms per 50,000 events,
                             -- on every poll of every read that waits).
                             AND (SELECT e.global_position FROM events e
                                   WHERE (e.transaction_id, e.global_position)
                                         > (c.transaction_id, c.position)
                                     AND (e.transaction_id, e.global_position)
                                         <= ($2::text::xid8, $3)
                                     AND e.event_type = ANY(c.event_types)
                                   ORDER BY e.transaction_id, e.global_position
                                   LIMIT 1) IS NULL))
                AND count(*) = cardinality($1)
           FROM projector_checkpoints c WHERE c.name = ANY($1)",
    )
    .bind(names)
    .bind(at.transaction_id as i64)
    .bind(at.position)
    .fetch_one(pool)
    .await?;
    Ok(reached.unwrap_or(false))
}

/// How far each named projector has read the feed, in the caller's snapshot: past its
/// checkpoint, up to the last event before the first one of its types it has yet to apply
/// (below the horizon: every event up to there is committed and in the snapshot). This is its
/// checkpoint when it has just applied its latest batch, and more when it passed over events
/// of other types since (see `reached`).
pub async fn positions(
    conn: &mut PgConnection,
    names: &[&str],
) -> Result<Vec<(String, FeedPosition)>, sqlx::Error> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT c.name, coalesce(r.transaction_id, c.transaction_id)::text::bigint,
                coalesce(r.global_position, c.position)
           FROM projector_checkpoints c
           LEFT JOIN LATERAL (
                SELECT e.transaction_id, e.global_position FROM events e
                 WHERE (e.transaction_id, e.global_position) > (c.transaction_id, c.position)
                   AND e.transaction_id < feed_horizon() AND e.event_type = ANY(c.event_types)
                 ORDER BY e.transaction_id, e.global_position LIMIT 1) n ON true
           LEFT JOIN LATERAL (
                SELECT e.transaction_id, e.global_position FROM events e
                 WHERE c.event_types IS NOT NULL
                   AND (e.transaction_id, e.global_position) > (c.transaction_id, c.position)
                   AND e.transaction_id < feed_horizon()
                   AND (n.transaction_id IS NULL
                        OR (e.transaction_id, e.global_position)
                           < (n.transaction_id, n.global_position))
                 ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1) r ON true
          WHERE c.name = ANY($1)
          ORDER BY c.name",
    )
    .bind(names)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, xid, position)| {
            let at = FeedPosition {
                transaction_id: xid as u64,
                position,
            };
            (name, at)
        })
        .collect())
}

/// What an operator sees of a projector.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectorStatus {
    pub name: String,
    /// `ok`, or `failing` while its last batch failed and it is being retried.
    pub state: &'static str,
    /// The checkpoint, as a feed token.
    pub checkpoint: String,
    pub position: i64,
    pub events_applied: i64,
    /// Events of the types it reads committed past the checkpoint (counted up to 1,000,000).
    pub lag_events: i64,
    pub updated_at: DateTime<Utc>,
    pub failures: i32,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub failed_position: Option<i64>,
    /// The instance running it (`host:pid:id`), while its lease holds.
    pub leader: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

pub async fn statuses(pool: &PgPool) -> Result<Vec<ProjectorStatus>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.name, c.transaction_id::text::bigint AS transaction_id, c.position,
                c.events_applied, c.updated_at, c.failures, c.last_error, c.last_error_at,
                c.failed_position,
                (SELECT count(*) FROM (SELECT 1 FROM events e
                   WHERE (e.transaction_id, e.global_position) > (c.transaction_id, c.position)
                     AND (c.event_types IS NULL OR e.event_type = ANY(c.event_types))
                   LIMIT 1000000) behind) AS lag_events,
                l.holder, l.expires_at
           FROM projector_checkpoints c
           LEFT JOIN projector_leases l ON l.name = c.name AND l.expires_at > now()
          ORDER BY c.name",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let failures: i32 = row.try_get("failures")?;
            let at = FeedPosition {
                transaction_id: row.try_get::<i64, _>("transaction_id")? as u64,
                position: row.try_get("position")?,
            };
            Ok(ProjectorStatus {
                name: row.try_get("name")?,
                state: if failures > 0 { "failing" } else { "ok" },
                checkpoint: at.to_string(),
                position: at.position,
                events_applied: row.try_get("events_applied")?,
                lag_events: row.try_get("lag_events")?,
                updated_at: row.try_get("updated_at")?,
                failures,
                last_error: row.try_get("last_error")?,
                last_error_at: row.try_get("last_error_at")?,
                failed_position: row.try_get("failed_position")?,
                leader: row.try_get("holder")?,
                lease_expires_at: row.try_get("expires_at")?,
            })
        })
        .collect()
}
