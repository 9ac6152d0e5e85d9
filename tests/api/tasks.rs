use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp, HUB, ROBOT};

#[tokio::test]
async fn a_task_lives_its_whole_life_over_http() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    app.places().await;
    let (hub, robot) = (HUB, ROBOT);

    let created = app
        .command(
            "tasks",
            id,
            json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": hub,
                   "scheduled_at": "2026-11-22T12:00:00Z", "external_ref": "order-1234"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        created.headers()["location"].to_str().unwrap(),
        format!("/v1/tasks/{id}")
    );
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["version"], 1);
    assert_eq!(created["events"][0]["event_type"], "TaskCreated");
    assert_eq!(created["events"][0]["sequence"], 1);

    let steps = [
        (json!({"type": "MarkTaskPending"}), "TaskMarkedPending"),
        (
            json!({"type": "AssignRobot", "robot_id": robot}),
            "TaskRobotAssigned",
        ),
        (
            json!({"type": "AttachTrip", "trip_id": Uuid::new_v4()}),
            "TaskTripAttached",
        ),
        (json!({"type": "StartTask"}), "TaskStarted"),
        (
            json!({"type": "PauseTask", "reason": "crossing closed"}),
            "TaskPaused",
        ),
        (json!({"type": "ResumeTask"}), "TaskResumed"),
        (json!({"type": "MarkTaskArrived"}), "TaskArrived"),
        (json!({"type": "CompleteTask"}), "TaskCompleted"),
    ];
    let mut answer = Value::Null;
    for (n, (body, event)) in steps.into_iter().enumerate() {
        answer = app.ok("tasks", id, body).await;
        assert_eq!(answer["version"], n as u64 + 2);
        assert_eq!(answer["events"][0]["event_type"], event);
    }

    let response = app
        .get_consistent(&format!("/v1/tasks/{id}"), &answer)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"].to_str().unwrap(), "\"9\"");
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["id"], id.to_string());
    assert_eq!(task["status"], "COMPLETED");
    assert_eq!(task["task_type"], "DELIVERY_TRIP");
    assert_eq!(task["hub_id"], hub.to_string());
    assert_eq!(task["robot_id"], robot.to_string());
    assert_eq!(task["external_ref"], "order-1234");
    assert_eq!(task["scheduled_at"], "2026-11-22T12:00:00Z");
    assert_eq!(task["pause_reason"], Value::Null);
    assert_eq!(task["version"], 9);
    assert!(task["created_at"].as_str().unwrap() <= task["updated_at"].as_str().unwrap());

    assert_eq!(app.event_types(id).await.len(), 9);
    app.refused(
        "tasks",
        id,
        json!({"type": "StartTask"}),
        StatusCode::CONFLICT,
        "task_ended",
    )
    .await;
}

#[tokio::test]
async fn a_cancelled_task_shows_its_reason_and_note() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    let answer = app
        .ok(
            "tasks",
            id,
            json!({"type": "CancelTask", "reason": "OTHER", "note": "street festival"}),
        )
        .await;
    let task: Value = app
        .get_consistent(&format!("/v1/tasks/{id}"), &answer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(task["status"], "CANCELLED");
    assert_eq!(task["cancellation_reason"], "OTHER");
    assert_eq!(task["cancellation_note"], "street festival");
}

#[tokio::test]
async fn every_event_records_who_asked_and_in_what_flow() {
    let app = TestApp::spawn().await;
    app.places().await;
    let id = Uuid::new_v4();
    let response = app
        .client
        .post(app.url(&format!("/v1/tasks/{id}/commands")))
        .header("X-Actor", "dispatcher:ana")
        .header("X-Correlation-Id", "order-flow-77")
        .header("X-Request-Id", "req-1")
        .json(&crate::helpers::create_task_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["x-request-id"].to_str().unwrap(),
        "req-1"
    );

    let metadata: Value =
        sqlx::query_scalar("SELECT metadata::jsonb FROM events WHERE aggregate_id = $1")
            .bind(id.to_string())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        metadata,
        json!({"actor": "key:test-admin", "on_behalf_of": "dispatcher:ana",
               "command": "CreateTask", "request_id": "req-1",
               "correlation_id": "order-flow-77", "causation_id": "req-1"})
    );
}

#[tokio::test]
async fn a_request_without_ids_gets_fresh_ones_in_its_metadata() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    let metadata: Value =
        sqlx::query_scalar("SELECT metadata::jsonb FROM events WHERE aggregate_id = $1")
            .bind(id.to_string())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    for field in ["request_id", "correlation_id"] {
        let value = metadata[field].as_str().unwrap();
        assert!(Uuid::parse_str(value).is_ok(), "{field} = {value}");
    }
}

#[tokio::test]
async fn if_match_runs_a_command_only_on_the_named_version() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    let before = app.event_count().await;

    let stale = app
        .post_command("tasks", id)
        .header("If-Match", "\"3\"")
        .json(&json!({"type": "MarkTaskPending"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(stale, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
    assert_eq!(problem["current_version"], 1);
    assert_eq!(app.event_count().await, before);

    let current = app
        .post_command("tasks", id)
        .header("If-Match", "\"1\"")
        .json(&json!({"type": "MarkTaskPending"}))
        .send()
        .await
        .unwrap();
    assert_eq!(current.status(), StatusCode::OK);
    assert_eq!(current.headers()["etag"].to_str().unwrap(), "\"2\"");
}

#[tokio::test]
async fn if_match_star_requires_the_stream_to_exist() {
    let app = TestApp::spawn().await;
    let response = app
        .post_command("tasks", Uuid::new_v4())
        .header("If-Match", "*")
        .json(&crate::helpers::create_task_body())
        .send()
        .await
        .unwrap();
    assert_problem(
        response,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn reading_a_task_that_does_not_exist_is_404_and_a_bad_id_is_400() {
    let app = TestApp::spawn().await;
    let missing = app.get(&format!("/v1/tasks/{}", Uuid::new_v4())).await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
    let bad = app.get("/v1/tasks/not-a-uuid").await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_id").await;
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
}
