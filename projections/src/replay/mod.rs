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
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::mpsc;

mod lane;

use lane::{wanted, Lane};

use crate::{
    checkpoint, feed, FailurePolicy, FeedPosition, ProjectionError, Projector, StoredEvent,
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
/// commit only once all of them are ready (a failure before then, in any, changes nothing; a
/// crash between two commits leaves each read model consistent with its own checkpoint). With `Park`, an
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
    // The i-th projector was dealt to lane i % count, its (i / count)-th.
    let report = |lanes: &[Lane<'_>], read: u64, switched_in| {
        let applied: Vec<(&'static str, i64)> = (names.iter().enumerate())
            .map(|(i, name)| (*name, lanes[i % count].pass.applied[i / count]))
            .collect();
        ReplayProgress {
            events_read: read,
            events_applied: applied.iter().map(|(_, n)| n).sum(),
            applied,
            elapsed: started.elapsed(),
            switched_in,
        }
    };
    // The rebuild, batch by batch, each in short transactions, until a batch comes back short:
    // caught up as of then. (Under steady writes a batch rarely comes back empty.) The feed is
    // read one batch ahead, on another connection, while the lanes apply the batch before.
    let mut ahead = read_ahead(pool.clone(), wanted(rebuilds), batch_size);
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
            let read = feed::read_after(&mut conn, at, &wanted, batch_size).await;
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
