//! Rebuilding a read model from the events alone, while the service runs.
//!
//! A replay builds the projector's tables anew in temporary tables of its own session (same
//! columns, indexes and constraints; temporary tables come first in PostgreSQL's name lookup,
//! so the projector's unqualified SQL writes to them unchanged), in short transactions of
//! `batch_size` events. Nothing of the live read model is touched meanwhile, and no transaction
//! stays open for long, so the visibility horizon keeps moving: the other projectors, and the
//! reads that wait for them (`consistent_with`), go on as usual.
//!
//! Once the rebuild has caught up, one transaction locks the projector's checkpoint (its live
//! runner waits), applies the events committed since, replaces the live tables' rows with the
//! rebuilt ones (`DELETE`, `INSERT ... SELECT`) and moves the checkpoint. Readers keep seeing
//! the old rows, unblocked, until that commit switches them to the new ones at once; no one sees
//! a half-built table. Only this last copy holds the horizon.
//!
//! The session is a new connection, not one of the pool's, closed at the end: a replay that
//! fails or is killed leaves nothing behind (its temporary tables go with the session) and
//! changes nothing. (Not a pooled one: a connection that ever had a temporary schema keeps
//! statements it prepared bound to the tables they first named, so a pooled connection could
//! write a replay's rows to the live tables, or later a live batch's rows to a replay's.)

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool};

use crate::{
    checkpoint, dead_letters, runner, Checkpoint, FailurePolicy, FeedPosition, ProjectionError,
    Projector,
};

#[derive(Debug, Clone, Copy)]
pub struct ReplayProgress {
    /// Events read from the feed so far.
    pub events_read: u64,
    /// Events the projector applied (the ones it wants).
    pub events_applied: i64,
    pub elapsed: Duration,
    /// How long the switch to the rebuilt rows took: the one step that holds the horizon (and
    /// so the other projectors) back. Zero until then.
    pub switched_in: Duration,
}

/// Rebuilds `projector`'s tables; an event it cannot apply parks its stream (see
/// `replay_with_policy`).
pub async fn replay(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
    progress: impl FnMut(ReplayProgress),
) -> Result<ReplayProgress, ProjectionError> {
    replay_with_policy(pool, projector, batch_size, FailurePolicy::Park, progress).await
}

/// Rebuilds `projector`'s tables. With `Park`, an event it cannot apply parks its stream in the
/// replay's own dead letters, adopted at the switch; with `Stop`, it fails the replay, which
/// changes nothing. Events operators skipped stay skipped.
pub async fn replay_with_policy(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
    policy: FailurePolicy,
    mut progress: impl FnMut(ReplayProgress),
) -> Result<ReplayProgress, ProjectionError> {
    let started = Instant::now();
    checkpoint::ensure(pool, &[projector.name()]).await?;
    // A session of its own, closed when dropped: the temporary tables live and die with it.
    let mut session = PgConnection::connect_with(&pool.connect_options()).await?;
    let live = shadow_tables(&mut session, projector).await?;
    // The replay parks what it cannot apply in a dead-letter table of its own, so that it
    // starts from no dead letters and ends with the set it met (adopted at the switch).
    let live_dead_letters = shadow_table(&mut session, "dead_letters").await?;
    // What operators skipped stays skipped: the feed passes over those events as it does live.
    sqlx::query(&format!(
        "INSERT INTO pg_temp.dead_letters (projector, aggregate_type, aggregate_id,
                                           transaction_id, position, sequence, event_type,
                                           error, attempts, first_failed_at, last_failed_at,
                                           status)
         SELECT projector, aggregate_type, aggregate_id, transaction_id, position, sequence,
                event_type, error, attempts, first_failed_at, last_failed_at, status
           FROM {live_dead_letters} WHERE projector = $1 AND status = 'skipped'"
    ))
    .bind(projector.name())
    .execute(&mut session)
    .await?;

    let mut at = Checkpoint {
        at: FeedPosition::default(),
        events_applied: 0,
    };
    let mut events_read = 0u64;
    let mut report = |read: usize, at: Checkpoint| {
        events_read += read as u64;
        progress(ReplayProgress {
            events_read,
            events_applied: at.events_applied,
            elapsed: started.elapsed(),
            switched_in: Duration::ZERO,
        });
    };
    // The rebuild, batch by batch, each in its own short transaction, until a batch comes back
    // short: caught up as of then. (Under steady writes a batch rarely comes back empty.)
    for batch in 1u64.. {
        let (read, next) = apply_parking(&mut session, projector, at, batch_size, policy).await?;
        at = next;
        if read > 0 {
            report(read, at);
        }
        if (read as i64) < batch_size {
            break;
        }
        // Autovacuum never sees temporary tables: give the planner their statistics as they
        // grow (after batches 1, 2, 4, 8...), or it plans the projector's reads for empty ones.
        if batch.is_power_of_two() {
            for table in projector.tables() {
                sqlx::query(&format!("ANALYZE pg_temp.{table}"))
                    .execute(&mut session)
                    .await?;
            }
        }
    }

    // The switch: the events committed since, then the rows, then the checkpoint.
    let switch = Instant::now();
    let mut tx = session.begin().await?;
    checkpoint::lock(&mut tx, projector.name()).await?;
    loop {
        let (read, next) = apply_parking(&mut tx, projector, at, batch_size, policy).await?;
        if read == 0 {
            break;
        }
        at = next;
        report(read, at);
    }
    for (table, qualified) in projector.tables().iter().zip(&live) {
        sqlx::query(&format!("DELETE FROM {qualified}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO {qualified} SELECT * FROM pg_temp.{table}"
        ))
        .execute(&mut *tx)
        .await?;
    }
    dead_letters::adopt_replayed(&mut tx, &live_dead_letters, projector.name()).await?;
    checkpoint::advance(&mut tx, projector.name(), at, None).await?;
    tx.commit().await?;
    let switched_in = switch.elapsed();
    // The switch is done; a failure to say goodbye changes nothing.
    if let Err(err) = session.close().await {
        tracing::warn!(projector = projector.name(), error = %err, "cannot close the replay session");
    }
    Ok(ReplayProgress {
        events_read,
        events_applied: at.events_applied,
        elapsed: started.elapsed(),
        switched_in,
    })
}

/// Applies the next batch in a transaction (a savepoint inside one) of its own; an event that
/// fails parks its stream in the replay's dead letters, and the batch is applied again without
/// it. A failure not about one event ends the replay.
async fn apply_parking(
    conn: &mut PgConnection,
    projector: &dyn Projector,
    at: Checkpoint,
    batch_size: i64,
    policy: FailurePolicy,
) -> Result<(usize, Checkpoint), ProjectionError> {
    loop {
        let mut tx = conn.begin().await?;
        match runner::apply_batch(&mut tx, projector, at, batch_size).await {
            Ok(applied) => {
                tx.commit().await?;
                return Ok(applied);
            }
            Err(err) => {
                tx.rollback().await?;
                let Some(position) = err.position() else {
                    return Err(err);
                };
                if policy == FailurePolicy::Stop {
                    return Err(err);
                }
                let parked = dead_letters::park(
                    conn,
                    projector.name(),
                    position,
                    &err.to_string(),
                    1,
                    chrono::Utc::now(),
                    None,
                )
                .await?;
                if parked.is_none() {
                    // Parked already, and failing still: nothing more can be passed over.
                    return Err(err);
                }
            }
        }
    }
}

/// Creates an empty temporary twin of each of the projector's tables (columns, defaults,
/// constraints, indexes); returns the live tables' schema-qualified names, in the same order.
async fn shadow_tables(
    session: &mut PgConnection,
    projector: &dyn Projector,
) -> Result<Vec<String>, sqlx::Error> {
    let mut live = Vec::new();
    for table in projector.tables() {
        live.push(shadow_table(session, table).await?);
    }
    Ok(live)
}

/// Creates an empty temporary twin of `table`; returns the live table's qualified name.
async fn shadow_table(session: &mut PgConnection, table: &str) -> Result<String, sqlx::Error> {
    let qualified: String = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.oid = $1::text::regclass",
    )
    .bind(table)
    .fetch_one(&mut *session)
    .await?;
    sqlx::query(&format!(
        "CREATE TEMPORARY TABLE {table} (LIKE {qualified} INCLUDING ALL)"
    ))
    .execute(&mut *session)
    .await?;
    Ok(qualified)
}
