//! Rebuilding a read model from the events alone, while the service runs.
//!
//! A replay builds the projector's tables anew in temporary tables of its own session (same
//! columns, indexes and constraints; temporary tables come first in PostgreSQL's name lookup,
//! so the projector's unqualified SQL writes to them unchanged), in short transactions of
//! `batch_size` events. Nothing of the live read model is touched meanwhile, and no transaction
//! stays open for long, so the visibility horizon keeps moving: the other projectors, and the
//! reads that wait for them (`consistent_with`), go on as usual. Rebuilding several, it deals
//! them to a few sessions (lanes) that apply each batch of the one read of the feed at the
//! same time, so that the database works on them with all its cores.
//!
//! Once the rebuild has caught up, one transaction per session locks its projectors'
//! checkpoints (their live runners wait), applies the events committed since, replaces the live
//! tables' rows with the rebuilt ones (`DELETE`, `INSERT ... SELECT`) and moves the
//! checkpoints. Readers keep seeing the old rows, unblocked, until that commit switches them to
//! the new ones at once; no one sees a half-built table. Only this last copy holds the horizon.
//!
//! The session is a new connection, not one of the pool's, closed at the end: a replay that
//! fails or is killed leaves nothing behind (its temporary tables go with the session) and
//! changes nothing. (Not a pooled one: a connection that ever had a temporary schema keeps
//! statements it prepared bound to the tables they first named, so a pooled connection could
//! write a replay's rows to the live tables, or later a live batch's rows to a replay's.)

use std::time::{Duration, Instant};

use futures::future::try_join_all;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
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
/// tables. The projectors are dealt, in turn, to a few sessions of their own (`lanes`), which
/// apply each batch at the same time, each in its own transaction; at the end every session
/// switches its projectors' live tables and checkpoints in a transaction of its own, and these
/// commit only once all of them are ready (a failure in any changes nothing). With `Park`, an
/// event a projector cannot apply parks its stream in the replay's own dead letters, adopted at
/// the switch (the other projectors go on); with `Stop`, it fails the replay, which changes
/// nothing. Events operators skipped stay skipped.
pub async fn replay_many(
    pool: &PgPool,
    rebuilds: &[Rebuild<'_>],
    batch_size: i64,
    mut progress: impl FnMut(ReplayProgress),
) -> Result<ReplayProgress, ProjectionError> {
    let started = Instant::now();
    let names: Vec<&'static str> = rebuilds.iter().map(|r| r.projector.name()).collect();
    checkpoint::ensure(pool, &names).await?;
    let count = lanes(rebuilds.len());
    let mut sessions = Vec::with_capacity(count);
    let mut lanes = Vec::with_capacity(count);
    for i in 0..count {
        let mine: Vec<Rebuild<'_>> = rebuilds.iter().skip(i).step_by(count).copied().collect();
        // A session of its own, closed when dropped: the temporary tables live and die with it.
        let mut session = PgConnection::connect_with(&pool.connect_options()).await?;
        lanes.push(Lane::open(&mut session, mine).await?);
        sessions.push(session);
    }
    let report = |lanes: &[Lane<'_>], read: u64, switched_in| {
        let applied: Vec<(&'static str, i64)> = lanes
            .iter()
            .flat_map(|lane| {
                (lane.rebuilds.iter())
                    .map(|r| r.projector.name())
                    .zip(lane.pass.applied.iter().copied())
            })
            .collect();
        ReplayProgress {
            events_read: read,
            events_applied: applied.iter().map(|(_, n)| n).sum(),
            applied: (names.iter())
                .map(|name| *applied.iter().find(|(n, _)| n == name).expect("dealt"))
                .collect(),
            elapsed: started.elapsed(),
            switched_in,
        }
    };
    // The rebuild, batch by batch, each in short transactions, until a batch comes back short:
    // caught up as of then. (Under steady writes a batch rarely comes back empty.) The feed is
    // read one batch ahead, on another connection, while the lanes apply the batch before.
    let mut wanted: Vec<&'static str> = (rebuilds.iter())
        .flat_map(|r| r.projector.event_types().iter().copied())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut ahead = read_ahead(pool.clone(), wanted, batch_size);
    let mut read = 0u64;
    for batch in 1u64.. {
        let events = match ahead.recv().await {
            Some(events) => events?,
            None => Vec::new(),
        };
        try_join_all(
            (sessions.iter_mut().zip(lanes.iter_mut()))
                .map(|(session, lane)| lane.batch(session, &events)),
        )
        .await?;
        read += events.len() as u64;
        if !events.is_empty() {
            progress(report(&lanes, read, Duration::ZERO));
        }
        if (events.len() as i64) < batch_size {
            break;
        }
        // Autovacuum never sees temporary tables: give the planner their statistics as they
        // grow (after batches 1, 2, 4, 8...), or it plans the projectors' reads for empty ones.
        if batch.is_power_of_two() {
            try_join_all(
                (sessions.iter_mut().zip(lanes.iter()))
                    .map(|(session, lane)| lane.analyze(session)),
            )
            .await?;
        }
    }

    // The switch: in each session, the events committed since, then the rows, then the
    // checkpoints (their live runners wait on them meanwhile); committed once all are ready.
    let switch = Instant::now();
    let switches = try_join_all(
        (sessions.iter_mut().zip(lanes.iter_mut()))
            .map(|(session, lane)| lane.switch(session, batch_size)),
    )
    .await?;
    let caught_up: u64 = switches
        .iter()
        .map(|(_, read)| read)
        .max()
        .copied()
        .unwrap_or(0);
    for (tx, _) in switches {
        tx.commit().await?;
    }
    let done = report(&lanes, read + caught_up, switch.elapsed());
    // The switch is done; a failure to say goodbye changes nothing.
    for session in sessions {
        if let Err(err) = session.close().await {
            tracing::warn!(error = %err, "cannot close the replay session");
        }
    }
    Ok(done)
}

/// How many sessions a replay of `rebuilds` projectors uses: one per core of this machine (the
/// database's are likely alike), at most 4, at most one per projector.
fn lanes(rebuilds: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.clamp(1, 4).min(rebuilds.max(1))
}

/// The projectors one session of a replay rebuilds, into its temporary tables.
struct Lane<'a> {
    rebuilds: Vec<Rebuild<'a>>,
    /// The live tables' qualified names, projector by projector, in `tables()` order.
    live: Vec<Vec<String>>,
    live_dead_letters: String,
    pass: Pass,
}

impl<'a> Lane<'a> {
    /// Makes the twins of its projectors' tables in `session`, and its own dead letters.
    async fn open(
        session: &mut PgConnection,
        rebuilds: Vec<Rebuild<'a>>,
    ) -> Result<Self, ProjectionError> {
        let mut live = Vec::with_capacity(rebuilds.len());
        for rebuild in &rebuilds {
            live.push(shadow_tables(session, rebuild.projector).await?);
        }
        // The replay parks what it cannot apply in a dead-letter table of its own, so that it
        // starts from no dead letters and ends with the set it met (adopted at the switch).
        let live_dead_letters = shadow_table(session, "dead_letters").await?;
        let names: Vec<&str> = rebuilds.iter().map(|r| r.projector.name()).collect();
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
        .execute(&mut *session)
        .await?;
        let mut wanted: Vec<&'static str> = (rebuilds.iter())
            .flat_map(|r| r.projector.event_types().iter().copied())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let pass = Pass {
            wanted,
            at: FeedPosition::default(),
            applied: vec![0; rebuilds.len()],
            letters: Letters::load(session).await?,
        };
        Ok(Self {
            rebuilds,
            live,
            live_dead_letters,
            pass,
        })
    }

    /// Applies one batch of the feed, in a transaction of its own.
    async fn batch(
        &mut self,
        session: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut tx = session.begin().await?;
        self.pass.apply(&mut tx, &self.rebuilds, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn analyze(&self, session: &mut PgConnection) -> Result<(), sqlx::Error> {
        for table in self.rebuilds.iter().flat_map(|r| r.projector.tables()) {
            sqlx::query(&format!("ANALYZE pg_temp.{table}"))
                .execute(&mut *session)
                .await?;
        }
        Ok(())
    }

    /// Locks its projectors' checkpoints, applies the events committed since, replaces the
    /// live rows with the rebuilt ones, adopts its dead letters and moves the checkpoints, in a
    /// transaction it hands back uncommitted, with the events it read to catch up.
    async fn switch<'s>(
        &mut self,
        session: &'s mut PgConnection,
        batch_size: i64,
    ) -> Result<(Transaction<'s, Postgres>, u64), ProjectionError> {
        let mut tx = session.begin().await?;
        let mut locking: Vec<&str> = self.rebuilds.iter().map(|r| r.projector.name()).collect();
        locking.sort_unstable();
        for name in &locking {
            checkpoint::lock(&mut tx, name).await?;
        }
        let mut read = 0;
        loop {
            let events =
                feed::read_after(&mut tx, "", self.pass.at, &self.pass.wanted, batch_size).await?;
            if events.is_empty() {
                break;
            }
            read += events.len() as u64;
            self.pass.apply(&mut tx, &self.rebuilds, &events).await?;
        }
        for (rebuild, qualified) in self.rebuilds.iter().zip(&self.live) {
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
        for (rebuild, applied) in self.rebuilds.iter().zip(&self.pass.applied) {
            let name = rebuild.projector.name();
            dead_letters::adopt_replayed(&mut tx, &self.live_dead_letters, name).await?;
            let to = Checkpoint {
                at: self.pass.at,
                events_applied: *applied,
            };
            checkpoint::advance(&mut tx, name, to, None).await?;
        }
        Ok((tx, read))
    }
}

/// Where one session's pass over the feed has got to.
struct Pass {
    /// Every event type some projector of the pass wants.
    wanted: Vec<&'static str>,
    at: FeedPosition,
    /// Events applied, projector by projector.
    applied: Vec<i64>,
    letters: Letters,
}

impl Pass {
    /// Hands each projector the events of `events` it wants, each in a savepoint of `tx`: an
    /// event a projector cannot apply parks its stream for it (or, with `Stop`, fails the
    /// pass) and its part of the batch is applied again without it.
    async fn apply(
        &mut self,
        tx: &mut PgConnection,
        rebuilds: &[Rebuild<'_>],
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let Some(last) = events.last().map(|e| e.at) else {
            return Ok(());
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
                    events
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
        Ok(())
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
