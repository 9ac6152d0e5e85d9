//! An operator's retry or skip of a dead letter: asked for here, done by the projector's running
//! runner under its checkpoint's lock (see the parent module).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};

use super::{get, park, DeadLetter};
use crate::{checkpoint, feed, FeedPosition, ProjectionError, Projector};

/// Why an operator's request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no dead letter {0}")]
    NotFound(i64),
    #[error("dead letter {id} is {status}, not parked: there is nothing to retry or skip")]
    NotParked { id: i64, status: String },
    #[error("dead letter {id} has a {pending} asked for already; wait for it (GET /v1/dead-letters/{id})")]
    Pending { id: i64, pending: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Asks the projector's runner to retry (`reason: None`) or skip a parked dead letter.
pub async fn request(
    pool: &PgPool,
    id: i64,
    skip_reason: Option<&str>,
    actor: &str,
) -> Result<DeadLetter, RequestError> {
    let action = if skip_reason.is_some() {
        "skip"
    } else {
        "retry"
    };
    let updated: Option<i64> = sqlx::query_scalar(
        "UPDATE dead_letters
            SET requested = $2, reason = $4,
                -- joining the same request pending keeps it as it was asked first
                requested_by = CASE WHEN requested IS NULL THEN $3 ELSE requested_by END,
                requested_at = CASE WHEN requested IS NULL THEN clock_timestamp()
                                    ELSE requested_at END
          WHERE id = $1 AND status = 'parked' AND (requested IS NULL OR requested = $2)
      RETURNING id",
    )
    .bind(id)
    .bind(action)
    .bind(actor)
    .bind(skip_reason)
    .fetch_optional(pool)
    .await?;
    let found = get(pool, id).await?.ok_or(RequestError::NotFound(id))?;
    if updated.is_none() {
        return Err(match found.requested {
            Some(pending) if found.status == "parked" => RequestError::Pending { id, pending },
            _ => RequestError::NotParked {
                id,
                status: found.status,
            },
        });
    }
    // Wake the runners of every instance.
    let _ = sqlx::query("SELECT pg_notify('events', '')")
        .execute(pool)
        .await;
    Ok(found)
}

/// The ids of `projector`'s dead letters with a retry or skip asked for.
pub async fn requested(pool: &PgPool, projector: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM dead_letters
          WHERE projector = $1 AND status = 'parked' AND requested IS NOT NULL ORDER BY id",
    )
    .bind(projector)
    .fetch_all(pool)
    .await
}

/// The projectors with a request on a parked dead letter.
pub async fn requested_projectors(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT projector FROM dead_letters
          WHERE status = 'parked' AND requested IS NOT NULL ORDER BY projector",
    )
    .fetch_all(pool)
    .await
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Done: the stream's parked events were applied (`moved_to`: up to a later event that
    /// failed in turn, which is now the stream's dead letter).
    Resolved { moved_to: Option<i64> },
    /// The dead letter's own event still fails (retry): it stays parked, with the error.
    StillFailing(String),
    /// Nothing to do (resolved meanwhile, or no request).
    Nothing,
}

/// A dead letter with a request, as `resolve` reads it.
struct Requested {
    aggregate_type: String,
    aggregate_id: String,
    at: FeedPosition,
    skip: bool,
    requested_at: DateTime<Utc>,
}

async fn requested_letter(
    conn: &mut PgConnection,
    id: i64,
    projector: &str,
    lock: bool,
) -> Result<Option<Requested>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT aggregate_type, aggregate_id, transaction_id::text::bigint AS transaction_id,
                position, requested, requested_at
           FROM dead_letters
          WHERE id = $1 AND projector = $2 AND status = 'parked' AND requested IS NOT NULL
            AND position IS NOT NULL {}",
        if lock { "FOR UPDATE" } else { "" }
    ))
    .bind(id)
    .bind(projector)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Requested {
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            at: FeedPosition {
                transaction_id: row.try_get::<i64, _>("transaction_id")? as u64,
                position: row.try_get("position")?,
            },
            skip: row.try_get::<String, _>("requested")? == "skip",
            requested_at: row.try_get("requested_at")?,
        })
    })
    .transpose()
}

/// Does what was asked of dead letter `id` of `projector` (see the module's comment). Only
/// the projector's runner calls it, between its batches.
pub async fn resolve(
    pool: &PgPool,
    projector: &dyn Projector,
    id: i64,
) -> Result<Resolution, ProjectionError> {
    let name = projector.name();
    let effects = projector.delivery() == crate::Delivery::Effects;
    // A read model applies the parked events in the transaction that holds its checkpoint; a
    // process's effects are commands of their own, run outside any transaction (one held open
    // across them would hold every reader's horizon).
    let mut tx = if effects {
        None
    } else {
        Some(pool.begin().await?)
    };
    let mut plain = if effects {
        Some(pool.acquire().await?)
    } else {
        None
    };
    let conn: &mut PgConnection = match (tx.as_mut(), plain.as_mut()) {
        (Some(tx), _) => tx,
        (None, Some(plain)) => plain,
        (None, None) => unreachable!("one of the two is made above"),
    };
    let checkpoint = if effects {
        checkpoint::read(conn, name).await?
    } else {
        checkpoint::lock(conn, name).await?
    };
    let Some(letter) = requested_letter(conn, id, name, !effects).await? else {
        return Ok(Resolution::Nothing);
    };
    // The batch that failed on the event rolled back: until a batch has passed over it, the
    // feed still has it ahead, and there is nothing parked to apply yet.
    if checkpoint.at < letter.at {
        return Ok(Resolution::Nothing);
    }
    let events = read_parked(conn, &letter, checkpoint.at, projector.event_types()).await?;
    let status = if letter.skip { "skipped" } else { "retried" };
    let failed = match projector.apply(conn, &events).await {
        Ok(()) => {
            if !mark_resolved(conn, id, status, letter.requested_at).await? {
                // Resolved or asked again meanwhile: this apply rolls back with the transaction.
                return Ok(Resolution::Nothing);
            }
            if let Some(tx) = tx {
                tx.commit().await?;
            }
            return Ok(Resolution::Resolved { moved_to: None });
        }
        Err(err) => err,
    };
    drop(plain);
    if let Some(tx) = tx {
        tx.rollback().await?;
    }
    let Some(position) = failed.position() else {
        // Not about one event (the database): the request stays, for the next round.
        return Err(failed);
    };
    let error = failed.to_string();
    let index = events.iter().position(|e| e.at.position == position);
    match index {
        // A later event fails in turn: the ones before it take effect, the stream parks
        // behind it.
        Some(index) if index > 0 || letter.skip => {
            let mut tx = pool.begin().await?;
            let again = checkpoint::lock(&mut tx, name).await?;
            // Checked again under the lock: nobody resolved it, and the checkpoint stood still.
            let same = requested_letter(&mut tx, id, name, true)
                .await?
                .is_some_and(|l| l.requested_at == letter.requested_at);
            if !same || again != checkpoint {
                return Ok(Resolution::Nothing);
            }
            if index > 0 && !effects {
                projector.apply(&mut tx, &events[..index]).await?;
            }
            if !mark_resolved(&mut tx, id, status, letter.requested_at).await? {
                return Ok(Resolution::Nothing);
            }
            let moved = park(
                &mut tx,
                name,
                events[index].at.position,
                &error,
                1,
                Utc::now(),
                None,
            )
            .await?;
            tx.commit().await?;
            Ok(Resolution::Resolved { moved_to: moved })
        }
        _ => {
            sqlx::query(
                "UPDATE dead_letters
                    SET requested = NULL, last_retry_error = $2, attempts = attempts + 1,
                        last_failed_at = now()
                  WHERE id = $1 AND status = 'parked' AND requested_at = $3",
            )
            .bind(id)
            .bind(&error)
            .bind(letter.requested_at)
            .execute(pool)
            .await?;
            Ok(Resolution::StillFailing(error))
        }
    }
}

async fn read_parked(
    conn: &mut PgConnection,
    letter: &Requested,
    to: FeedPosition,
    wanted: &[&str],
) -> Result<Vec<crate::StoredEvent>, sqlx::Error> {
    feed::read_stream_range(
        conn,
        &letter.aggregate_type,
        &letter.aggregate_id,
        letter.at,
        !letter.skip,
        to,
        wanted,
    )
    .await
}

async fn mark_resolved(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    requested_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let marked = sqlx::query(
        "UPDATE dead_letters
            SET status = $2, resolved_by = requested_by, resolved_at = now(), requested = NULL
          WHERE id = $1 AND status = 'parked' AND requested_at = $3",
    )
    .bind(id)
    .bind(status)
    .bind(requested_at)
    .execute(conn)
    .await?;
    Ok(marked.rows_affected() == 1)
}
