use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::Row;

use super::ApiContext;

/// A transaction open longer than this holds the projectors' horizon back noticeably.
const LONG_TRANSACTION_SECONDS: f64 = 30.0;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up and serving HTTP.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers (503 otherwise). `degraded` (still 200: every instance
/// shares the database, so taking them out of a load balancer would not help) when a
/// transaction holds the projectors' horizon back or a projector keeps failing.
async fn readyz(State(ctx): State<ApiContext>) -> (StatusCode, Json<Value>) {
    let pool = ctx.store.pool();
    if let Err(err) = sqlx::query("SELECT 1").execute(pool).await {
        tracing::warn!(error = %err, "readiness check: database unreachable");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "checks": {"database": err.to_string()}})),
        );
    }
    let mut problems = Vec::new();
    let mut checks = json!({"database": "ok"});
    match oldest_transaction(&ctx).await {
        Ok(Some(held)) => {
            problems.push("horizon");
            checks["horizon"] = held;
        }
        Ok(None) => checks["horizon"] = json!("ok"),
        Err(err) => checks["horizon"] = json!(format!("unknown: {err}")),
    }
    match projections::checkpoint::statuses(pool).await {
        Ok(statuses) => {
            let failing: Vec<_> = statuses.into_iter().filter(|s| s.failures > 0).collect();
            if failing.is_empty() {
                checks["projectors"] = json!("ok");
            } else {
                problems.push("projectors");
                checks["projectors"] = json!(failing);
            }
        }
        Err(err) => checks["projectors"] = json!(format!("unknown: {err}")),
    }
    let status = if problems.is_empty() {
        "ready"
    } else {
        "degraded"
    };
    (
        StatusCode::OK,
        Json(json!({"status": status, "checks": checks})),
    )
}

/// The oldest transaction that holds the horizon back, if it has been open too long.
async fn oldest_transaction(ctx: &ApiContext) -> Result<Option<Value>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT pid, extract(epoch FROM now() - xact_start)::float8 AS open_seconds,
                state, left(query, 200) AS query
           FROM pg_stat_activity
          WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
          ORDER BY xact_start
          LIMIT 1",
    )
    .fetch_optional(ctx.store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let open_seconds: f64 = row.try_get("open_seconds")?;
    if open_seconds < LONG_TRANSACTION_SECONDS {
        return Ok(None);
    }
    Ok(Some(json!({
        "problem": "a transaction has been open long: projectors cannot read past it",
        "pid": row.try_get::<i32, _>("pid")?,
        "open_seconds": open_seconds,
        "state": row.try_get::<Option<String>, _>("state")?,
        "query": row.try_get::<Option<String>, _>("query")?,
    })))
}
