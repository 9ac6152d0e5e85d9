use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::ApiContext;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up and serving HTTP.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The service can do its work: the database answers.
async fn readyz(State(ctx): State<ApiContext>) -> (StatusCode, Json<Value>) {
    match sqlx::query("SELECT 1").execute(ctx.store.pool()).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "checks": {"database": "ok"}})),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "checks": {"database": err.to_string()}})),
            )
        }
    }
}
