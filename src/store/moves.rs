//! Following the database when it moves to another cluster.
//!
//! The feed is ordered by transaction id (see `projections::feed`), and transaction ids are a
//! cluster's own. A `pg_dump`/`pg_restore` into another cluster, or a cut-over to a logical
//! replica, carries the stored ids over while the new cluster hands out ids from its own
//! counter, usually far below them: new events would sort behind every checkpoint and every
//! token, and reach neither the read models nor the feed. So events store the cluster's id plus
//! an offset (`feed_xact_id()`), readers compare with the horizon plus the same offset
//! (`feed_horizon()`), and [`follow_moves`], run by every `migrate`, raises the offset when the
//! database has moved. Ids stored before the move keep their values: old tokens stay valid.

use serde::Serialize;
use sqlx::{PgPool, Row};

/// How far past everything stored the first id after a move lands. Ids the old cluster gave to
/// writes that did not make it into the dump lie just above the stored ones: with this gap, no
/// new event can take the id (and so the token) of a write that was lost in the move, unless the
/// old cluster ran four billion more transactions after the dump.
pub const MOVE_GAP: i64 = 1 << 32;

/// A move that was detected and followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    /// What gave it away.
    pub reason: String,
    pub previous_system_identifier: Option<String>,
    pub system_identifier: Option<String>,
    /// The highest transaction id stored (events and checkpoints), in the feed's ids.
    pub stored_max: i64,
    /// This cluster's own transaction id when the move was detected.
    pub raw_current: i64,
    pub previous_offset: i64,
    pub new_offset: i64,
}

/// What the detection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    /// The move, when there was one.
    pub moved: Option<Move>,
    /// Identity sequences found behind their column's values (a logical replica does not carry
    /// sequences) and set past them: `table.column`.
    pub sequences_advanced: Vec<String>,
}

/// Detects a move of the database to another cluster and raises the feed's offset so that every
/// new transaction sorts after every stored one; advances identity sequences left behind their
/// columns. Idempotent, safe to run from several instances at once (they take turns on the
/// clock's row), and cheap when nothing moved (two index lookups).
pub async fn follow_moves(pool: &PgPool) -> Result<Followed, sqlx::Error> {
    follow(pool, false).await
}

/// `follow_moves`, raising the offset whatever it finds: after a restore that the detection
/// cannot see (a point-in-time restore into the same cluster hands out again the ids of the
/// transactions it lost, and tokens naming them could pass for new writes').
pub async fn declare_move(pool: &PgPool) -> Result<Followed, sqlx::Error> {
    follow(pool, true).await
}

async fn follow(pool: &PgPool, forced: bool) -> Result<Followed, sqlx::Error> {
    // Outside the transaction: a database that refuses it (some managed services) still gets
    // the detection by transaction ids, which needs no privilege.
    let system_identifier: Option<String> =
        sqlx::query_scalar("SELECT system_identifier::text FROM pg_control_system()")
            .fetch_one(pool)
            .await
            .ok();
    let mut tx = pool.begin().await?;
    let clock = sqlx::query("SELECT xid_offset, system_identifier FROM feed_clock FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    let offset: i64 = clock.try_get("xid_offset")?;
    let previous_system: Option<String> = clock.try_get("system_identifier")?;
    let (mut raw_current, mut stored_max) = ids(&mut tx).await?;

    let new_system = system_identifier.is_some() && system_identifier != previous_system;
    let behind = raw_current + offset <= stored_max;
    let mut moved = None;
    if behind || forced || (new_system && previous_system.is_some()) {
        // No event may be written while the offset changes: wait for writers in flight (there
        // are none unless something wrote before this ran) and hold new ones until commit.
        sqlx::query("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        (raw_current, stored_max) = ids(&mut tx).await?;
        let reason = if forced {
            "declared by the operator (operations migrate --moved)".to_string()
        } else if raw_current + offset <= stored_max {
            format!(
                "stored transaction ids reach {stored_max}, above this cluster's {} (plus offset {offset})",
                raw_current
            )
        } else {
            format!(
                "the cluster's system identifier changed from {} to {}",
                previous_system.as_deref().unwrap_or("?"),
                system_identifier.as_deref().unwrap_or("?")
            )
        };
        let new_offset = (stored_max + 1 - raw_current).max(offset) + MOVE_GAP;
        let found = Move {
            reason,
            previous_system_identifier: previous_system.clone(),
            system_identifier: system_identifier.clone(),
            stored_max,
            raw_current,
            previous_offset: offset,
            new_offset,
        };
        sqlx::query(
            "INSERT INTO feed_clock_moves (reason, previous_system_identifier, system_identifier,
                                           stored_max, raw_current, previous_offset, new_offset)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&found.reason)
        .bind(&found.previous_system_identifier)
        .bind(&found.system_identifier)
        .bind(found.stored_max)
        .bind(found.raw_current)
        .bind(found.previous_offset)
        .bind(found.new_offset)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE feed_clock SET xid_offset = $1, updated_at = now()")
            .bind(new_offset)
            .execute(&mut *tx)
            .await?;
        moved = Some(found);
    }
    if new_system || (system_identifier.is_some() && moved.is_some()) {
        sqlx::query("UPDATE feed_clock SET system_identifier = $1, updated_at = now()")
            .bind(&system_identifier)
            .execute(&mut *tx)
            .await?;
    }
    let sequences_advanced = advance_sequences(&mut tx).await?;
    tx.commit().await?;
    if let Some(found) = &moved {
        tracing::warn!(
            reason = %found.reason,
            new_offset = found.new_offset,
            "the database has moved to another cluster: new transactions now sort after every stored one"
        );
    }
    for column in &sequences_advanced {
        tracing::warn!(%column, "an identity sequence was behind its column's values: advanced");
    }
    Ok(Followed {
        moved,
        sequences_advanced,
    })
}

/// The cluster's next transaction id (the snapshot's `xmax`: every transaction whose events
/// this statement sees has a lower one) and the highest stored id, read in one snapshot. Read
/// apart, a writer committing in between would pass for a move.
async fn ids(tx: &mut sqlx::PgConnection) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
                GREATEST((SELECT max(transaction_id) FROM events),
                         (SELECT max(transaction_id) FROM projector_checkpoints),
                         '0'::xid8)::text::bigint",
    )
    .fetch_one(tx)
    .await
}

/// Sets each identity sequence of this schema that is behind its column's highest value past
/// it. `pg_dump` carries sequences; logical replication does not.
async fn advance_sequences(tx: &mut sqlx::PgConnection) -> Result<Vec<String>, sqlx::Error> {
    let columns = sqlx::query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND is_identity = 'YES'
          ORDER BY table_name, column_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut advanced = Vec::new();
    for column in columns {
        let table: String = column.try_get("table_name")?;
        let name: String = column.try_get("column_name")?;
        let (table_ident, column_ident) = (quote_ident(&table), quote_ident(&name));
        // setval only when the column's values reach the sequence's next one.
        let sql = format!(
            "SELECT setval(seq::regclass, top)
               FROM (SELECT pg_get_serial_sequence($1, $2) AS seq,
                            (SELECT max({column_ident}) FROM {table_ident}) AS top) x
              WHERE top IS NOT NULL
                AND top > COALESCE(pg_sequence_last_value(seq::regclass), 0)"
        );
        let set: Option<i64> = sqlx::query_scalar(&sql)
            .bind(&table_ident)
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
        if set.is_some() {
            advanced.push(format!("{table}.{name}"));
        }
    }
    Ok(advanced)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
