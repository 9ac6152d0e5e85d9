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
use tokio::sync::mpsc;

mod letters;

use letters::Letters;

use crate::{
    checkpoint, dead_letters, feed, Checkpoint, FailurePolicy, FeedPosition, ProjectionError,
    Projector, StoredEvent,
};

#[derive(Debug, Clone)]
pub struct ReplayProgress {
    /// Stored events read from the feed so far (each once, however many projectors want it).
    pub events_read: u64,
    /// Events the projectors applied (each projector's wanted ones), all together.
    pub events_applied: i64,
    /// The same, projector by projector.
    pub applied: Vec<(&'static str, i64)>,
    pub elapsed: Duration,
    /// How long the switch to the rebuilt rows took: the one step that holds the horizon (and
    /// so the other projectors) back. Zero until then.
    pub switched_in: Duration,
}

/// A read model to rebuild, and what to do with an event it cannot apply.
#[derive(Clone, Copy)]
pub struct Rebuild<'a> {
    pub projector: &'a dyn Projector,
    pub policy: FailurePolicy,
}

/// Rebuilds `projector`'s tables; an event it cannot apply parks its stream (see
/// `replay_many`).
pub async fn replay(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
    progress: impl FnMut(ReplayProgress),
) -> Result<ReplayProgress, ProjectionError> {
    replay_with_policy(pool, projector, batch_size, FailurePolicy::Park, progress).await
}

/// Rebuilds one projector's tables with `policy` (see `replay_many`).
pub async fn replay_with_policy(
    pool: &PgPool,
    projector: &dyn Projector,
    batch_size: i64,
    policy: FailurePolicy,
    progress: impl FnMut(ReplayProgress),
) -> Result<ReplayProgress, ProjectionError> {
    replay_many(pool, &[Rebuild { projector, policy }], batch_size, progress).await
}

/// Rebuilds the tables of every projector of `rebuilds` in one pass over the feed: each batch
/// is read once and handed to each projector (the events it wants), each into its own twin
/// tables, all in the batch's transaction; one switch then replaces every live table and moves
/// every checkpoint at once. With `Park`, an event a projector cannot apply parks its stream in
/// the replay's own dead letters, adopted at the switch (the other projectors go on); with
/// `Stop`, it fails the replay, which changes nothing. Events operators skipped stay skipped.
pub async fn replay_many(
    pool: &PgPool,
    rebuilds: &[Rebuild<'_>],
    batch_size: i64,
    mut progress: impl FnMut(ReplayProgress),
) -> Result<ReplayProgress, ProjectionError> {
    let started = Instant::now();
    let names: Vec<&'static str> = rebuilds.iter().map(|r| r.projector.name()).collect();
    checkpoint::ensure(pool, &names).await?;
    // A session of its own, closed when dropped: the temporary tables live and die with it.
    let mut session = PgConnection::connect_with(&pool.connect_options()).await?;
    let mut live = Vec::with_capacity(rebuilds.len());
    for rebuild in rebuilds {
        live.push(shadow_tables(&mut session, rebuild.projector).await?);
    }
    // The replay parks what it cannot apply in a dead-letter table of its own, so that it
    // starts from no dead letters and ends with the set it met (adopted at the switch).
    let live_dead_letters = shadow_table(&mut session, "dead_letters").await?;
    // What operators skipped stays skipped: the pass goes over those events as the feed does.
    sqlx::query(&format!(
        "INSERT INTO pg_temp.dead_letters (projector, aggregate_type, aggregate_id,
                                           transaction_id, position, sequence, event_type,
                                           error, attempts, first_failed_at, last_failed_at,
                                           status)
         SELECT projector, aggregate_type, aggregate_id, transaction_id, position, sequence,
                event_type, error, attempts, first_failed_at, last_failed_at, status
           FROM {live_dead_letters} WHERE projector = ANY($1) AND status = 'skipped'"
    ))
    .bind(&names)
    .execute(&mut session)
    .await?;

    let mut pass = Pass {
        wanted: {
            let mut all: Vec<&str> = (rebuilds.iter())
                .flat_map(|r| r.projector.event_types().iter().copied())
                .collect();
            all.sort_unstable();
            all.dedup();
            all
        },
        at: FeedPosition::default(),
        applied: vec![0; rebuilds.len()],
        read: 0,
        letters: Letters::load(&mut session).await?,
    };
    let report = |pass: &Pass, switched_in| ReplayProgress {
        events_read: pass.read,
        events_applied: pass.applied.iter().sum(),
        applied: names
            .iter()
            .copied()
            .zip(pass.applied.iter().copied())
            .collect(),
        elapsed: started.elapsed(),
        switched_in,
    };
    // The rebuild, batch by batch, each in its own short transaction, until a batch comes back
    // short: caught up as of then. (Under steady writes a batch rarely comes back empty.) The
    // feed is read one batch ahead, on another connection, while this one applies.
    let mut ahead = read_ahead(pool.clone(), pass.wanted.clone(), batch_size);
    for batch in 1u64.. {
        let events = match ahead.recv().await {
            Some(events) => events?,
            None => Vec::new(),
        };
        let read = events.len();
        let mut tx = session.begin().await?;
        pass.apply(&mut tx, rebuilds, events).await?;
        tx.commit().await?;
        if read > 0 {
            progress(report(&pass, Duration::ZERO));
        }
        if (read as i64) < batch_size {
            break;
        }
        // Autovacuum never sees temporary tables: give the planner their statistics as they
        // grow (after batches 1, 2, 4, 8...), or it plans the projectors' reads for empty ones.
        if batch.is_power_of_two() {
            for table in rebuilds.iter().flat_map(|r| r.projector.tables()) {
                sqlx::query(&format!("ANALYZE pg_temp.{table}"))
                    .execute(&mut session)
                    .await?;
            }
        }
    }

    // The switch: the events committed since, then the rows, then the checkpoints, for every
    // projector at once (their live runners wait on their checkpoints meanwhile).
    let switch = Instant::now();
    let mut tx = session.begin().await?;
    let mut locking = names.clone();
    locking.sort_unstable();
    for name in &locking {
        checkpoint::lock(&mut tx, name).await?;
    }
    while pass.next(&mut tx, rebuilds, batch_size).await? > 0 {
        progress(report(&pass, Duration::ZERO));
    }
    for (rebuild, qualified) in rebuilds.iter().zip(&live) {
        for (table, qualified) in rebuild.projector.tables().iter().zip(qualified) {
            sqlx::query(&format!("DELETE FROM {qualified}"))
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "INSERT INTO {qualified} SELECT * FROM pg_temp.{table}"
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    for (i, name) in names.iter().enumerate() {
        dead_letters::adopt_replayed(&mut tx, &live_dead_letters, name).await?;
        let to = Checkpoint {
            at: pass.at,
            events_applied: pass.applied[i],
        };
        checkpoint::advance(&mut tx, name, to, None).await?;
    }
    tx.commit().await?;
    let done = report(&pass, switch.elapsed());
    // The switch is done; a failure to say goodbye changes nothing.
    if let Err(err) = session.close().await {
        tracing::warn!(error = %err, "cannot close the replay session");
    }
    Ok(done)
}

/// Where one pass over the feed has got to.
struct Pass {
    /// Every event type some projector of the pass wants.
    wanted: Vec<&'static str>,
    at: FeedPosition,
    /// Events applied, projector by projector.
    applied: Vec<i64>,
    read: u64,
    letters: Letters,
}

impl Pass {
    /// Reads the next batch once and hands each projector the events it wants, each in a
    /// savepoint of `tx`: an event a projector cannot apply parks its stream for it (or, with
    /// `Stop`, fails the pass) and its part of the batch is applied again without it. Answers
    /// how many events were read.
    async fn next(
        &mut self,
        tx: &mut PgConnection,
        rebuilds: &[Rebuild<'_>],
        batch_size: i64,
    ) -> Result<usize, ProjectionError> {
        // No projector's own dead letters mark the events here (`parked`): each projector's are
        // applied below, from the replay's table.
        let events = feed::read_after(tx, "", self.at, &self.wanted, batch_size).await?;
        self.apply(tx, rebuilds, events).await
    }

    /// Hands each projector the events of `events` it wants (see `next`).
    async fn apply(
        &mut self,
        tx: &mut PgConnection,
        rebuilds: &[Rebuild<'_>],
        events: Vec<StoredEvent>,
    ) -> Result<usize, ProjectionError> {
        let Some(last) = events.last().map(|e| e.at) else {
            return Ok(0);
        };
        for (i, rebuild) in rebuilds.iter().enumerate() {
            let projector = rebuild.projector;
            loop {
                let wants = |e: &StoredEvent| {
                    e.payload.is_some()
                        && projector.event_types().contains(&e.event_type.as_str())
                        && !self.letters.holds(projector.name(), e)
                };
                let count = events.iter().filter(|e| wants(e)).count();
                if count == 0 {
                    break;
                }
                // The batch itself when the projector wants all of it; a copy of its part else.
                let part: Vec<StoredEvent>;
                let mine: &[StoredEvent] = if count == events.len() {
                    &events
                } else {
                    part = events.iter().filter(|e| wants(e)).cloned().collect();
                    &part
                };
                let mut savepoint = tx.begin().await?;
                match projector.apply(&mut savepoint, mine).await {
                    Ok(()) => {
                        savepoint.commit().await?;
                        self.applied[i] += count as i64;
                        break;
                    }
                    Err(err) => {
                        savepoint.rollback().await?;
                        let Some(position) = err.position() else {
                            return Err(err);
                        };
                        if rebuild.policy == FailurePolicy::Stop {
                            tracing::error!(projector = projector.name(), error = %err, "replay stopped");
                            return Err(err);
                        }
                        let parked = dead_letters::park(
                            tx,
                            projector.name(),
                            position,
                            &err.to_string(),
                            1,
                            chrono::Utc::now(),
                            None,
                        )
                        .await?;
                        if parked.is_none() {
                            // Parked already, and failing still: nothing more to pass over.
                            return Err(err);
                        }
                        self.letters = Letters::load(tx).await?;
                    }
                }
            }
        }
        self.at = last;
        self.read += events.len() as u64;
        Ok(events.len())
    }
}

/// The feed, from its start, in batches of `batch_size`, read on a connection of the pool's (the
/// feed is the same from any session; no projector's dead letters mark it) one batch ahead of
/// the pass, until a batch comes back short. Dropping the receiver stops it.
fn read_ahead(
    pool: PgPool,
    wanted: Vec<&'static str>,
    batch_size: i64,
) -> mpsc::Receiver<Result<Vec<StoredEvent>, sqlx::Error>> {
    let (batches, receiver) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(err) => return drop(batches.send(Err(err)).await),
        };
        let mut at = FeedPosition::default();
        loop {
            let read = feed::read_after(&mut conn, "", at, &wanted, batch_size).await;
            let next = match &read {
                Ok(events) if events.len() as i64 == batch_size => events.last().map(|e| e.at),
                _ => None,
            };
            if batches.send(read).await.is_err() {
                return;
            }
            match next {
                Some(last) => at = last,
                None => return,
            }
        }
    });
    receiver
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
