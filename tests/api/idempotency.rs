use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, create_task_body, TestApp, HUB};

async fn send_with_key(app: &TestApp, id: Uuid, key: &str, body: &Value) -> reqwest::Response {
    app.post_command("tasks", id)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retry_with_the_same_key_gets_the_first_answer_and_stores_nothing() {
    let app = TestApp::spawn().await;
    app.places().await;
    let id = Uuid::new_v4();
    let body = create_task_body();

    let first = send_with_key(&app, id, "create-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let retry = send_with_key(&app, id, "create-1", &body).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();

    assert_eq!(retry, first);
    assert_eq!(app.event_types(id).await, ["TaskCreated"]);
}

#[tokio::test]
async fn a_retry_after_the_stream_moved_on_still_gets_its_own_answer() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    let pending = json!({"type": "MarkTaskPending"});
    let first: Value = send_with_key(&app, id, "pending-1", &pending)
        .await
        .json()
        .await
        .unwrap();
    app.ok("tasks", id, json!({"type": "StartTask"})).await;

    let retry = send_with_key(&app, id, "pending-1", &pending).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(retry["version"], 2);
    assert_eq!(
        app.event_types(id).await,
        ["TaskCreated", "TaskMarkedPending", "TaskStarted"]
    );
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_stores_nothing() {
    let app = TestApp::spawn().await;
    app.places().await;
    let before = app.event_count().await;
    let id = Uuid::new_v4();
    send_with_key(&app, id, "k-1", &create_task_body()).await;

    let mut other = create_task_body();
    other["task_type"] = "JITP_TRIP".into();
    let other_body = send_with_key(&app, id, "k-1", &other).await;
    assert_problem(
        other_body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    let other_stream = send_with_key(&app, Uuid::new_v4(), "k-1", &create_task_body()).await;
    assert_problem(
        other_stream,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.event_count().await, before + 1);
}

#[tokio::test]
async fn key_order_and_white_space_do_not_make_another_request() {
    let app = TestApp::spawn().await;
    app.places().await;
    let (id, hub) = (Uuid::new_v4(), HUB);
    let a = format!(r#"{{"type":"CreateTask","task_type":"NONE","hub_id":"{hub}"}}"#);
    let b = format!(r#"{{ "hub_id": "{hub}",  "task_type": "NONE", "type": "CreateTask" }}"#);
    for body in [a, b] {
        let response = app
            .post_command("tasks", id)
            .header("Idempotency-Key", "same")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(app.event_types(id).await, ["TaskCreated"]);
}

#[tokio::test]
async fn parallel_retries_with_one_key_store_the_command_once() {
    let app = TestApp::spawn().await;
    app.places().await;
    let id = Uuid::new_v4();
    let body = create_task_body();
    let answers = join_all((0..10).map(|_| send_with_key(&app, id, "burst", &body))).await;
    let mut bodies = Vec::new();
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::CREATED);
        bodies.push(answer.json::<Value>().await.unwrap());
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]));
    assert_eq!(app.event_types(id).await, ["TaskCreated"]);
}

#[tokio::test]
async fn a_refused_command_is_not_remembered_under_its_key() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    let start = json!({"type": "StartTask"});
    let refused = send_with_key(&app, id, "start-1", &start).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    app.ok("tasks", id, json!({"type": "MarkTaskPending"}))
        .await;
    let retried = send_with_key(&app, id, "start-1", &start).await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(
        app.event_types(id).await,
        ["TaskCreated", "TaskMarkedPending", "TaskStarted"]
    );
}

/// A command stopped by its references (checked in the append's own statement) is not
/// remembered either: once the hub is registered, the same request under the same key runs.
#[tokio::test]
async fn a_command_refused_for_its_references_is_not_remembered_under_its_key() {
    let app = TestApp::spawn().await;
    let (id, hub, city) = (Uuid::new_v4(), Uuid::new_v4(), app.city().await);
    let body = json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": hub});
    let refused = send_with_key(&app, id, "create-1", &body).await;
    let problem = assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_reference",
    )
    .await;
    assert_eq!(problem["field"], "hub_id");
    assert!(app.event_types(id).await.is_empty());
    let remembered: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(remembered, 0);

    let register = json!({"type": "RegisterHub", "name": "Mission", "city_id": city,
                          "location": {"lat": 37.76, "lng": -122.41}});
    app.ok("hubs", hub, register).await;
    let retried = send_with_key(&app, id, "create-1", &body).await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert!(retried.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.event_types(id).await, ["TaskCreated"]);
}
