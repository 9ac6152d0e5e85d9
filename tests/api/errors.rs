//! Every bad request gets its 4xx as problem+json, and stores nothing.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{assert_problem, create_task_body, TestApp};

/// Sends a raw body to a task's command endpoint.
async fn send_raw(app: &TestApp, id: Uuid, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.send(
        app.post_command("tasks", id)
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

#[tokio::test]
async fn malformed_bodies_are_400_and_store_nothing() {
    let app = TestApp::in_process().await;
    let id = Uuid::new_v4();
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("malformed_json", r#"{"type": "CreateTask", "#.into(), None),
        ("malformed_json", "".into(), None),
        ("body_not_object", "[1, 2, 3]".into(), None),
        ("body_not_object", r#""CreateTask""#.into(), None),
        (
            "command_type_missing",
            r#"{"task_type": "NONE"}"#.into(),
            None,
        ),
        ("invalid_field", r#"{"type": 7}"#.into(), Some("type")),
        (
            "unknown_command",
            r#"{"type": "LaunchRocket"}"#.into(),
            None,
        ),
        ("unknown_command", r#"{"type": "createtask"}"#.into(), None),
        (
            "unknown_command",
            json!({"type": "RecordPilotAssigned", "pilot_id": Uuid::new_v4(),
                   "assignment_id": Uuid::new_v4()})
            .to_string(),
            None,
        ),
        (
            "invalid_field",
            json!({"type": "CreateTask", "task_type": "SPACESHIP", "hub_id": Uuid::new_v4()})
                .to_string(),
            Some("task_type"),
        ),
        (
            "invalid_field",
            json!({"type": "CreateTask", "task_type": "NONE", "hub_id": 42}).to_string(),
            Some("hub_id"),
        ),
        (
            "invalid_field",
            json!({"type": "CreateTask", "task_type": "NONE", "hub_id": "hub-1"}).to_string(),
            Some("hub_id"),
        ),
        (
            "invalid_field",
            json!({"type": "CreateTask", "task_type": "NONE"}).to_string(),
            None,
        ),
        (
            "invalid_field",
            json!({"type": "CreateTask", "task_type": "NONE", "hub_id": Uuid::new_v4(),
                   "scheduled_at": "tomorrow"})
            .to_string(),
            Some("scheduled_at"),
        ),
        (
            "invalid_field",
            json!({"type": "CreateTask", "task_type": "NONE", "hub_id": Uuid::new_v4(),
                   "hub": "typo"})
            .to_string(),
            None,
        ),
        (
            "invalid_field",
            json!({"type": "CreateTask", "task_type": "NONE", "hub_id": Uuid::new_v4(),
                   "external_ref": "x".repeat(201)})
            .to_string(),
            Some("external_ref"),
        ),
    ];
    for (code, body, field) in cases {
        let problem = assert_problem(
            send_raw(&app, id, body.clone()).await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{body}: {problem}");
        }
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn enum_and_text_rules_apply_to_later_commands_too() {
    let app = TestApp::in_process().await;
    let id = app.create_task().await;
    let before = app.event_count().await;
    for (body, field) in [
        (json!({"type": "CancelTask", "reason": "BORED"}), "reason"),
        (json!({"type": "CancelTask"}), ""),
        (json!({"type": "PauseTask", "reason": "   "}), "reason"),
        (json!({"type": "AttachTrip", "trip_id": null}), "trip_id"),
        (json!({"type": "StartTask", "force": true}), ""),
    ] {
        let problem = assert_problem(
            app.command("tasks", id, body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        if !field.is_empty() {
            assert_eq!(problem["field"], field, "{body}: {problem}");
        }
    }
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_non_uuid_stream_id_is_400() {
    let app = TestApp::in_process().await;
    let response = app
        .send(
            app.request(reqwest::Method::POST, "/v1/tasks/task-1/commands")
                .header("X-Actor", "test:runner")
                .json(&create_task_body()),
        )
        .await;
    let problem = assert_problem(response, StatusCode::BAD_REQUEST, "invalid_id").await;
    assert_eq!(problem["id"], "task-1");
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_command_without_x_actor_is_the_principals_own() {
    let app = TestApp::in_process().await;
    app.places().await;
    let id = Uuid::new_v4();
    let response = app
        .send(
            app.request(reqwest::Method::POST, &format!("/v1/tasks/{id}/commands"))
                .json(&create_task_body()),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let metadata: serde_json::Value =
        sqlx::query_scalar("SELECT metadata::jsonb FROM events WHERE aggregate_id = $1")
            .bind(id.to_string())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(metadata["actor"], "key:test-admin");
    assert!(metadata.get("on_behalf_of").is_none(), "{metadata}");
}

#[tokio::test]
async fn an_unreadable_if_match_or_idempotency_key_is_400() {
    let app = TestApp::in_process().await;
    for (header, value) in [("If-Match", "latest"), ("Idempotency-Key", "   ")] {
        let response = app
            .send(
                app.post_command("tasks", Uuid::new_v4())
                    .header(header, value)
                    .json(&create_task_body()),
            )
            .await;
        assert_problem(response, StatusCode::BAD_REQUEST, "invalid_header").await;
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = TestApp::in_process().await;
    let mut body = create_task_body();
    body["external_ref"] = json!("x".repeat(1 << 20));
    let response = send_raw(&app, Uuid::new_v4(), body.to_string()).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "unreadable_body").await;
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_command_on_a_task_that_does_not_exist_is_404() {
    let app = TestApp::in_process().await;
    let response = app
        .command("tasks", Uuid::new_v4(), json!({"type": "StartTask"}))
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_command_the_rules_refuse_is_409_and_stores_nothing() {
    let app = TestApp::in_process().await;
    let id = app.create_task().await;
    let before = app.event_count().await;
    let cases = [
        (json!({"type": "StartTask"}), "invalid_transition"),
        (json!({"type": "CompleteTask"}), "invalid_transition"),
        (
            json!({"type": "CancelTask", "reason": "OTHER"}),
            "note_required",
        ),
        (crate::helpers::create_task_body(), "already_exists"),
    ];
    for (body, code) in cases {
        assert_problem(
            app.command("tasks", id, body).await,
            StatusCode::CONFLICT,
            code,
        )
        .await;
    }
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_problems() {
    let app = TestApp::in_process().await;
    assert_problem(
        app.get("/v1/rockets").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let response = app
        .send(app.request(
            reqwest::Method::DELETE,
            &format!("/v1/tasks/{}", Uuid::new_v4()),
        ))
        .await;
    assert_problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn a_consistency_token_this_store_never_issued_is_400_at_once() {
    let app = TestApp::in_process().await;
    let task = app.create_task().await;
    let started = std::time::Instant::now();
    for token in ["999999999.999999999", "1.999999999", "5.1"] {
        let response = app
            .get(&format!("/v1/tasks/{task}?consistent_with={token}"))
            .await;
        let problem = assert_problem(response, StatusCode::BAD_REQUEST, "unknown_token").await;
        assert!(problem["detail"].as_str().unwrap().contains(token));
        let list = app.get(&format!("/v1/tasks?consistent_with={token}")).await;
        assert_problem(list, StatusCode::BAD_REQUEST, "unknown_token").await;
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refused without waiting for the consistency timeout"
    );
}

#[tokio::test]
async fn routes_that_take_no_query_parameters_refuse_them() {
    let app = TestApp::in_process().await;
    let task = app.create_task().await;
    for path in [
        "/v1/projections?foo=1".to_string(),
        "/metrics?foo=1".to_string(),
        format!("/v1/tasks/{task}/verify?consistent_with=1.1"),
    ] {
        let response = app.get(&path).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    assert_eq!(app.get("/v1/projections").await.status(), StatusCode::OK);
    assert_eq!(app.get("/metrics").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bad_time_or_a_missing_field_names_the_field_and_says_what_a_time_is() {
    let app = TestApp::in_process().await;
    let id = Uuid::new_v4();
    let body = json!({"type": "CreateTask", "task_type": "NONE", "hub_id": Uuid::new_v4(),
                      "scheduled_at": "tomorrow"});
    let problem = assert_problem(
        send_raw(&app, id, body.to_string()).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "scheduled_at", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("RFC 3339"),
        "{problem}"
    );
    let body = json!({"type": "CreateTask", "hub_id": Uuid::new_v4()});
    let problem = assert_problem(
        send_raw(&app, id, body.to_string()).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "task_type", "{problem}");
    for (query, field) in [
        ("as_of=yesterday", "as_of"),
        ("since=2026-13-01T00:00:00Z", "since"),
        ("consistent_wiht=1.1", "consistent_wiht"),
    ] {
        let path = if field == "since" { "/history" } else { "" };
        let response = app.get(&format!("/v1/tasks/{id}{path}?{query}")).await;
        let problem = assert_problem(response, StatusCode::BAD_REQUEST, "invalid_query").await;
        assert_eq!(problem["field"], field, "{query}: {problem}");
        if field != "consistent_wiht" {
            assert!(
                problem["detail"].as_str().unwrap().contains("RFC 3339"),
                "{problem}"
            );
        }
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_misspelt_collection_is_named_with_the_collections_there_are() {
    let app = TestApp::in_process().await;
    let response = app.get(&format!("/v1/task/{}", Uuid::new_v4())).await;
    let problem = assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(problem["collection"], "task");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("tasks, trips, pilots, fo-tasks"));
}
