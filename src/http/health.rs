use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use sqlx::Row;

use super::context::ApiContext;
use crate::auth::{Principal, Role};

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
/// transaction holds the projectors' horizon back, a projector keeps failing or a stream is
/// parked behind a dead letter. Without an
/// admin's credential it says only that; the checks (other sessions' SQL, database names,
/// driver errors) are for admins.
async fn readyz(
    State(ctx): State<ApiContext>,
    principal: Option<Extension<Principal>>,
) -> (StatusCode, Json<Value>) {
    let admin = principal.is_some_and(|Extension(p)| p.has(Role::Admin));
    let (status, Json(mut answer)) = readiness(&ctx).await;
    if !admin {
        answer = json!({"status": answer["status"]});
    }
    (status, Json(answer))
}

async fn readiness(ctx: &ApiContext) -> (StatusCode, Json<Value>) {
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
    match oldest_transaction(ctx).await {
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
    match projections::dead_letters::parked_counts(pool).await {
        Ok(counts) if counts.is_empty() => checks["dead_letters"] = json!("ok"),
        Ok(counts) => {
            problems.push("dead_letters");
            checks["dead_letters"] = counts
                .into_iter()
                .map(|(projector, parked)| (projector, json!(parked)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        Err(err) => checks["dead_letters"] = json!(format!("unknown: {err}")),
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

/// The oldest transactions (up to five) open longer than `long_transaction`. Transaction ids
/// are cluster-wide, so one in any database of the cluster holds the horizon back.
async fn oldest_transaction(ctx: &ApiContext) -> Result<Option<Value>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT pid, datname, extract(epoch FROM now() - xact_start)::float8 AS open_seconds,
                state, left(query, 200) AS query
           FROM pg_stat_activity
          WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
            AND xact_start < now() - make_interval(secs => $1)
          ORDER BY xact_start
          LIMIT 5",
    )
    .bind(ctx.long_transaction.as_secs_f64())
    .fetch_all(ctx.store.pool())
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let transactions = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "pid": row.try_get::<i32, _>("pid")?,
                "database": row.try_get::<Option<String>, _>("datname")?,
                "open_seconds": row.try_get::<f64, _>("open_seconds")?,
                "state": row.try_get::<Option<String>, _>("state")?,
                "query": row.try_get::<Option<String>, _>("query")?,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(json!({
        "problem": "transactions have been open long: projectors cannot read past them",
        "transactions": transactions,
    })))
}
