//! One session of a replay (a lane): the twins of its projectors' tables, its pass over the
//! feed, and its switch.

use sqlx::{Connection, PgConnection, Postgres, Transaction};

use super::Rebuild;
use crate::dead_letters::Letters;
use crate::{
    checkpoint, dead_letters, feed, Checkpoint, FailurePolicy, FeedPosition, ProjectionError,
    Projector, StoredEvent,
};

/// Every event type some projector of `rebuilds` wants.
pub(super) fn wanted(rebuilds: &[Rebuild<'_>]) -> Vec<&'static str> {
    crate::projector::event_types_of(rebuilds.iter().map(|r| r.projector))
}

/// The projectors one session of a replay rebuilds, into its temporary tables.
pub(super) struct Lane<'a> {
    pub(super) rebuilds: Vec<Rebuild<'a>>,
    /// The live tables' qualified names, projector by projector, in `tables()` order.
    live: Vec<Vec<String>>,
    live_dead_letters: String,
    pub(super) pass: Pass,
}

impl<'a> Lane<'a> {
    /// Makes the twins of its projectors' tables in `session`, and its own dead letters.
    pub(super) async fn open(
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
        let pass = Pass {
            wanted: wanted(&rebuilds),
            at: FeedPosition::default(),
            applied: vec![0; rebuilds.len()],
            letters: Letters::load_replay(session).await?,
        };
        Ok(Self {
            rebuilds,
            live,
            live_dead_letters,
            pass,
        })
    }

    /// Applies one batch of the feed, in a transaction of its own.
    pub(super) async fn batch(
        &mut self,
        session: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut tx = session.begin().await?;
        self.pass.apply(&mut tx, &self.rebuilds, events).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn analyze(&self, session: &mut PgConnection) -> Result<(), sqlx::Error> {
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
    pub(super) async fn switch<'s>(
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
                feed::read_after(&mut tx, self.pass.at, &self.pass.wanted, batch_size).await?;
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
pub(super) struct Pass {
    /// Every event type some projector of the pass wants.
    wanted: Vec<&'static str>,
    at: FeedPosition,
    /// Events applied, projector by projector.
    pub(super) applied: Vec<i64>,
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
                        self.letters = Letters::load_replay(tx).await?;
                    }
                }
            }
        }
        self.at = last;
        Ok(())
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
