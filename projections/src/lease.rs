//! Projector leadership by lease (see the migration `projector_leases`).
//!
//! Each instance renews, every `heartbeat`, the leases of the projectors it holds and takes
//! those whose lease has expired or whose holder's session has ended, in one statement on a
//! connection of its own. A projector runs only where its lease is held, and only for as long
//! as this instance knows it holds it: until `ttl` after the renewal was *sent* (so the local
//! view ends no later than the database's, whatever the round trip). The fence does the rest:
//! a batch moves its checkpoint only if the lease still has the epoch it started under.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool, Row};
use tokio::sync::watch;

/// What a batch carries to prove that it runs under the current lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub holder: String,
    pub epoch: i64,
}

/// The projectors this instance holds, with their lease's epoch.
pub type Held = HashMap<&'static str, i64>;

/// This instance's name as a lease holder: `host:pid:random`, unique per start.
pub fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
}

const RENEW: &str = "
INSERT INTO projector_leases AS l (name, holder, epoch, expires_at, renewed_at, holder_pid,
                                   holder_backend_start)
SELECT n, $2, 1, now() + make_interval(secs => $3), now(), pg_backend_pid(), a.backend_start
  FROM unnest($1::text[]) n, pg_stat_activity a
 WHERE a.pid = pg_backend_pid()
ON CONFLICT (name) DO UPDATE
   SET holder = EXCLUDED.holder,
       epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END,
       expires_at = EXCLUDED.expires_at, renewed_at = EXCLUDED.renewed_at,
       holder_pid = EXCLUDED.holder_pid, holder_backend_start = EXCLUDED.holder_backend_start
 WHERE l.holder = EXCLUDED.holder
    OR l.expires_at < now()
    -- a holder whose heartbeat session has ended, and that has missed a beat since (a slow
    -- beat that timed out and reconnects is not taken from)
    OR (l.renewed_at < now() - make_interval(secs => $4)
        AND NOT EXISTS (SELECT 1 FROM pg_stat_activity s
                    WHERE s.pid = l.holder_pid
                      -- hidden (NULL) for another role's session without pg_read_all_stats
                      AND (s.backend_start IS NULL OR s.backend_start = l.holder_backend_start)))
RETURNING name, epoch";

/// Renews or takes the leases of `names` it can; answers those it holds, with their epochs.
pub async fn renew(
    conn: &mut PgConnection,
    names: &[&str],
    holder: &str,
    ttl: Duration,
    heartbeat: Duration,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let rows = sqlx::query(RENEW)
        .bind(names)
        .bind(holder)
        .bind(ttl.as_secs_f64())
        .bind(heartbeat.as_secs_f64())
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("name")?, row.try_get("epoch")?)))
        .collect()
}

/// Lets the leases go (a clean shutdown): the other instances take them at their next beat.
pub async fn release(pool: &PgPool, holder: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projector_leases SET expires_at = now() - interval '1 second' WHERE holder = $1",
    )
    .bind(holder)
    .execute(pool)
    .await?;
    Ok(())
}

/// Keeps this instance's leases, publishing which projectors it holds, for ever.
pub async fn keep(
    pool: PgPool,
    names: Vec<&'static str>,
    holder: String,
    ttl: Duration,
    heartbeat: Duration,
    connect_timeout: Duration,
    leading: watch::Sender<Held>,
) {
    let options = pool.connect_options();
    let publish = |held: Held| {
        leading.send_if_modified(|current| {
            let changed = *current != held;
            if changed {
                for name in held.keys().filter(|n| !current.contains_key(*n)) {
                    tracing::info!(projector = name, "running projector here");
                }
                for name in current.keys().filter(|n| !held.contains_key(*n)) {
                    tracing::warn!(projector = name, "no longer running projector here");
                }
            }
            *current = held;
            changed
        });
    };
    // Until when what we hold is ours, by our own clock.
    let mut valid_until: Option<Instant> = None;
    let mut conn: Option<PgConnection> = None;
    loop {
        let sent = Instant::now();
        if conn.is_none() {
            match tokio::time::timeout(connect_timeout, PgConnection::connect_with(&options)).await
            {
                Ok(Ok(c)) => conn = Some(c),
                Ok(Err(err)) => tracing::warn!(error = %err, "cannot connect to renew leases"),
                Err(_) => tracing::warn!("connecting to renew leases timed out"),
            }
        }
        let mut renewed = None;
        if let Some(c) = conn.as_mut() {
            // A beat that does not come back within its interval counts as missed.
            match tokio::time::timeout(heartbeat, renew(c, &names, &holder, ttl, heartbeat)).await {
                Ok(Ok(held)) => renewed = Some(held),
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "cannot renew the projector leases");
                    conn = None;
                }
                Err(_) => {
                    tracing::warn!("renewing the projector leases timed out");
                    conn = None;
                }
            }
        }
        match renewed {
            Some(held) => {
                valid_until = Some(sent + ttl);
                let held: Held = names
                    .iter()
                    .filter_map(|n| held.get(*n).map(|epoch| (*n, *epoch)))
                    .collect();
                publish(held);
            }
            None if valid_until.is_none_or(|until| Instant::now() >= until) => {
                publish(Held::new());
            }
            None => {}
        }
        let next = sent + heartbeat;
        // Give up what is held the moment it lapses, even between beats.
        match valid_until {
            Some(until) if until < next && until > Instant::now() => {
                tokio::time::sleep_until(until.into()).await;
                if Instant::now() >= until {
                    // The beat after will tell; meanwhile nothing runs on a lapsed lease.
                    publish(Held::new());
                    valid_until = None;
                }
                tokio::time::sleep_until(next.into()).await;
            }
            _ => tokio::time::sleep_until(next.into()).await,
        }
    }
}
