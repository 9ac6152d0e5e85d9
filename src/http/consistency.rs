//! Reading one's own write: waiting for the read models to reach a token, and saying which dead
//! letters hold an entity back.

use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use projections::{checkpoint, DeadLetter, FeedPosition, Moved};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::answer::Behind;
use super::context::ApiContext;
use super::problem::{ApiError, Code};

/// Names the dead letters that hold a read back, on a read of a parked entity.
pub const BEHIND_HEADER: &str = "x-dead-letters";

/// The dead letters holding an entity back in `projectors`. With a token at or past one of
/// them, the read cannot be consistent with it: 503 naming the dead letter.
pub async fn parked_behind(
    ctx: &ApiContext,
    aggregate_type: &str,
    id: Uuid,
    projectors: &[&str],
    token: Option<FeedPosition>,
) -> Result<Vec<DeadLetter>, ApiError> {
    let parked = projections::dead_letters::parked_for(
        ctx.store.pool(),
        aggregate_type,
        &id.to_string(),
        projectors,
    )
    .await?;
    if let Some(at) = token {
        let blocking = parked.iter().find(|letter| {
            letter
                .token
                .as_deref()
                .and_then(|t| t.parse::<FeedPosition>().ok())
                .is_some_and(|parked_at| parked_at <= at)
        });
        if let Some(letter) = blocking {
            return Err(ApiError::new(
                Code::Parked,
                format!(
                    "the read models cannot include token {at} for this {aggregate_type}: its \
                     event at {} ({}) could not be applied by {} and waits, with the events \
                     after it, as dead letter {} (GET /v1/dead-letters/{})",
                    letter.token.as_deref().unwrap_or("?"),
                    letter.event_type.as_deref().unwrap_or("?"),
                    letter.projector,
                    letter.id,
                    letter.id
                ),
            )
            .with("dead_letter", letter.id));
        }
    }
    Ok(parked)
}

/// What holds a read back, for its body.
pub fn behinds(letters: &[DeadLetter]) -> Vec<Behind> {
    letters.iter().map(Behind::from).collect()
}

/// A read's answer, with the header naming the dead letters that hold it back (if any).
pub fn with_behind(body: impl IntoResponse, letters: &[DeadLetter]) -> Response {
    let mut response = body.into_response();
    let ids: Vec<String> = letters.iter().map(|l| l.id.to_string()).collect();
    if let (false, Ok(value)) = (ids.is_empty(), HeaderValue::from_str(&ids.join(", "))) {
        response.headers_mut().insert(BEHIND_HEADER, value);
    }
    response
}

/// What this instance's projectors told of their committed batches, for one waiting read.
struct News<'a> {
    projectors: &'a [&'a str],
    /// The furthest checkpoint each of `projectors` was told to have committed.
    seen: Vec<Option<FeedPosition>>,
}

impl<'a> News<'a> {
    fn new(projectors: &'a [&'a str]) -> Self {
        Self {
            projectors,
            seen: vec![None; projectors.len()],
        }
    }

    /// Until one of the projectors has committed a batch here (or too many batches went by to
    /// tell).
    async fn next(&mut self, moves: &mut broadcast::Receiver<Moved>) {
        loop {
            match moves.recv().await {
                Ok(moved) => {
                    if let Some(i) = self.projectors.iter().position(|p| *p == moved.projector) {
                        let seen = &mut self.seen[i];
                        *seen = (*seen).max(Some(moved.to));
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                // The instance runs no projectors: only the timer tells.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }

    /// Whether every projector committed a checkpoint at or past `at`: then the read models
    /// include it, and the database needs not be asked. (One that has not may have passed
    /// over events of other types: the database tells.)
    fn all_at(&self, at: FeedPosition) -> bool {
        self.seen.iter().all(|seen| seen.is_some_and(|to| to >= at))
    }
}

/// Waits, up to the consistency timeout, until `projectors` have applied the feed up to the
/// token the query names (if it names one).
pub async fn wait_for_token(
    ctx: &ApiContext,
    token: Option<String>,
    projectors: &[&str],
) -> Result<Option<FeedPosition>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    let at: FeedPosition = token
        .parse()
        .map_err(|e: String| ApiError::new(Code::InvalidToken, e))?;
    // A token this store issued names one of its events. One it never issued (made up, past
    // its position, from another cluster) would otherwise hold the request for the whole
    // timeout, or pass for consistent: it is refused at once.
    let issued: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM events
                         WHERE global_position = $2 AND transaction_id = $1::text::xid8)",
    )
    .bind(at.transaction_id.to_string())
    .bind(at.position)
    .fetch_one(ctx.store.pool())
    .await?;
    if !issued {
        return Err(ApiError::new(
            Code::UnknownToken,
            format!(
                "no event of this store is at {at}: the token was not issued here (a \
                 command's answer or an event of the feed gives one)"
            ),
        ));
    }
    let deadline = Instant::now() + ctx.consistency_timeout;
    let mut pause = Duration::from_millis(2);
    // This instance's projectors tell when a batch of theirs commits: the read looks again at
    // once when one it waits for has. The timer stays for projectors led by another instance.
    let (mut moved, mut news) = (ctx.feed.moves(), News::new(projectors));
    loop {
        if news.all_at(at) || checkpoint::reached(ctx.store.pool(), projectors, at).await? {
            return Ok(Some(at));
        }
        if Instant::now() + pause > deadline {
            return Err(ApiError::new(
                Code::NotYetConsistent,
                format!(
                    "the read models did not include token {at} within {} ms; retry later \
                     (GET /v1/projections shows how far each projector has got)",
                    ctx.consistency_timeout.as_millis()
                ),
            )
            .with("retry_after_seconds", 1));
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = news.next(&mut moved) => {}
        }
        // Short steps: the wait is what a client pays for reading its own write.
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(transaction_id: u64, position: i64) -> FeedPosition {
        FeedPosition {
            transaction_id,
            position,
        }
    }

    fn tell(send: &broadcast::Sender<Moved>, projector: &'static str, to: FeedPosition) {
        send.send(Moved { projector, to }).unwrap();
    }

    #[tokio::test]
    async fn a_read_knows_its_token_is_in_once_every_projector_it_waits_for_committed_past_it() {
        let (send, mut moves) = broadcast::channel(8);
        let waited = ["tasks", "task_history"];
        let mut news = News::new(&waited);
        let token = at(10, 5);
        assert!(!news.all_at(token), "nothing told yet");

        // Another projector's batch is no news for this read; the next of its own is.
        tell(&send, "trips", at(20, 9));
        tell(&send, "tasks", at(10, 4));
        news.next(&mut moves).await;
        assert_eq!(news.seen, vec![Some(at(10, 4)), None]);
        assert!(
            !news.all_at(token),
            "tasks is short of the token, task_history untold"
        );

        tell(&send, "tasks", at(12, 7));
        news.next(&mut moves).await;
        assert!(
            !news.all_at(token),
            "task_history untold: the database is asked"
        );

        // An older batch's news, arriving late, takes nothing back.
        tell(&send, "task_history", at(10, 5));
        tell(&send, "tasks", at(9, 1));
        news.next(&mut moves).await;
        news.next(&mut moves).await;
        assert_eq!(news.seen, vec![Some(at(12, 7)), Some(at(10, 5))]);
        assert!(news.all_at(token), "both at or past the token");
        assert!(!news.all_at(at(12, 8)), "a later token is not in");
    }
}
