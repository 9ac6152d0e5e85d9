use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use std::collections::BTreeMap;

use projections::ProjectorStatus;
use serde::Serialize;
use sqlx::Row;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use super::api::{Api, Op};
use super::context::ApiContext;
use super::schemas::schema;
use crate::auth::{Principal, Role};

pub fn api() -> Api {
    Api::new()
        .get("/healthz", healthz, |schemas| {
            Op::new("operations", "healthz", "The process is up").json(
                StatusCode::OK,
                "Up.",
                schemas.inline::<Health>(),
            )
        })
        .get("/readyz", readyz, |schemas| {
            let readiness = schemas.inline::<Readiness>();
            Op::new("operations", "readyz", "Ready when the database answers")
                .describe(
                    "`degraded` (still 200) when a long transaction holds the projectors back, \
                     a projector keeps failing or a stream is parked behind a dead letter.",
                )
                .json(StatusCode::OK, "Ready or degraded.", readiness.clone())
                .json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database does not answer.",
                    readiness,
                )
        })
}

/// The process is up and serving HTTP.
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
struct Health {
    /// `ok`.
    #[schema(schema_with = ok)]
    status: &'static str,
}

fn ok() -> RefOr<Schema> {
    schema(serde_json::json!({"type": "string", "enum": ["ok"]}))
}

/// What `/readyz` answers: the status, and for admins each check.
#[derive(Serialize, ToSchema)]
struct Readiness {
    #[schema(schema_with = readiness_status)]
    status: &'static str,
    /// Each check's outcome (`database`, `horizon`, `projectors`, `dead_letters`): `ok`, or what
    /// it found. Shown to admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    checks: Option<Checks>,
}

fn readiness_status() -> RefOr<Schema> {
    schema(serde_json::json!({"type": "string", "enum": ["ready", "degraded", "unavailable"]}))
}

#[derive(Default, Serialize)]
struct Checks {
    database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    horizon: Option<Check<Held>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    projectors: Option<Check<Vec<ProjectorStatus>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_letters: Option<Check<BTreeMap<String, i64>>>,
}

/// A check's outcome: `ok`, `unknown: <why>`, or what it found wrong.
#[derive(Serialize)]
#[serde(untagged)]
enum Check<T> {
    Said(String),
    Found(T),
}

impl<T> Check<T> {
    fn ok() -> Self {
        Self::Said("ok".into())
    }

    fn unknown(err: sqlx::Error) -> Self {
        Self::Said(format!("unknown: {err}"))
    }
}

/// Ready when the database answers (503 otherwise). `degraded` (still 200: every instance
/// shares the database, so taking them out of a load balancer would not help) when a
/// transaction holds the projectors' horizon back, a projector keeps failing or a stream is
/// parked behind a dead letter. Without an admin's credential it says only that; the checks
/// (other sessions' SQL, database names, driver errors) are for admins.
async fn readyz(
    State(ctx): State<ApiContext>,
    principal: Option<Extension<Principal>>,
) -> (StatusCode, Json<Readiness>) {
    let admin = principal.is_some_and(|Extension(p)| p.has(Role::Admin));
    let (status, mut answer) = readiness(&ctx).await;
    if !admin {
        answer.checks = None;
    }
    (status, Json(answer))
}

async fn readiness(ctx: &ApiContext) -> (StatusCode, Readiness) {
    let pool = ctx.store.pool();
    if let Err(err) = sqlx::query("SELECT 1").execute(pool).await {
        tracing::warn!(error = %err, "readiness check: database unreachable");
        let checks = Checks {
            database: err.to_string(),
            ..Checks::default()
        };
        let answer = Readiness {
            status: "unavailable",
            checks: Some(checks),
        };
        return (StatusCode::SERVICE_UNAVAILABLE, answer);
    }
    let mut degraded = false;
    let horizon = match oldest_transaction(ctx).await {
        Ok(Some(held)) => {
            degraded = true;
            Check::Found(held)
        }
        Ok(None) => Check::ok(),
        Err(err) => Check::unknown(err),
    };
    let projectors = match projections::checkpoint::statuses(pool).await {
        Ok(statuses) => {
            let failing: Vec<_> = statuses.into_iter().filter(|s| s.failures > 0).collect();
            if failing.is_empty() {
                Check::ok()
            } else {
                degraded = true;
                Check::Found(failing)
            }
        }
        Err(err) => Check::unknown(err),
    };
    let dead_letters = match projections::dead_letters::parked_counts(pool).await {
        Ok(counts) if counts.is_empty() => Check::ok(),
        Ok(counts) => {
            degraded = true;
            Check::Found(counts.into_iter().collect())
        }
        Err(err) => Check::unknown(err),
    };
    let checks = Checks {
        database: "ok".into(),
        horizon: Some(horizon),
        projectors: Some(projectors),
        dead_letters: Some(dead_letters),
    };
    let status = if degraded { "degraded" } else { "ready" };
    let answer = Readiness {
        status,
        checks: Some(checks),
    };
    (StatusCode::OK, answer)
}

/// Transactions open long: they hold every reader of the feed back.
#[derive(Serialize)]
struct Held {
    problem: &'static str,
    transactions: Vec<Transaction>,
}

#[derive(Serialize)]
struct Transaction {
    pid: i32,
    database: Option<String>,
    open_seconds: f64,
    state: Option<String>,
    query: Option<String>,
}

/// The oldest transactions (up to five) open longer than `long_transaction`. Transaction ids
/// are cluster-wide, so one in any database of the cluster holds the horizon back.
async fn oldest_transaction(ctx: &ApiContext) -> Result<Option<Held>, sqlx::Error> {
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
            Ok(Transaction {
                pid: row.try_get("pid")?,
                database: row.try_get("datname")?,
                open_seconds: row.try_get("open_seconds")?,
                state: row.try_get("state")?,
                query: row.try_get("query")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(Held {
        problem: "transactions have been open long: projectors cannot read past them",
        transactions,
    }))
}
