//! The raw event feed and per-stream events.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp, PLACES_EVENTS};

async fn page(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/v1/events?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn types(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_feed_pages_through_every_event_in_order_and_resumes_from_next() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    for command in ["MarkTaskPending", "StartTask", "MarkTaskArrived"] {
        app.ok("tasks", task, json!({"type": command})).await;
    }
    app.new_pilot().await;
    // The feed shows an event once every older transaction has ended (the horizon).
    app.wait_for_projections().await;

    let places = page(&app, "limit=5").await;
    assert_eq!(types(&places), PLACES_EVENTS);
    let places = places["next"].as_str().unwrap();
    let first = page(&app, &format!("after={places}&limit=3")).await;
    assert_eq!(
        types(&first),
        ["TaskCreated", "TaskMarkedPending", "TaskStarted"]
    );
    let event = &first["items"][1];
    assert_eq!(event["aggregate_type"], "Task");
    assert_eq!(event["aggregate_id"], task.to_string());
    assert_eq!(event["sequence"], 2);
    assert_eq!(event["event_version"], "1.0");
    assert_eq!(event["payload"], json!({"from_status": "SCHEDULED"}));
    assert_eq!(event["metadata"]["actor"], "key:test-admin");
    assert_eq!(event["metadata"]["on_behalf_of"], "test:runner");
    assert!(event["recorded_at"].is_string());

    let next = first["next"].as_str().unwrap();
    let rest = page(&app, &format!("after={next}")).await;
    assert_eq!(
        types(&rest),
        ["TaskArrived", "OperatorRegistered", "PilotRegistered"]
    );
    let positions: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));

    let end = page(&app, &format!("after={}", rest["next"].as_str().unwrap())).await;
    assert_eq!(types(&end), Vec::<String>::new());
    assert_eq!(end["next"], rest["next"]);
}

#[tokio::test]
async fn the_feed_filters_by_aggregate_event_type_and_time() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    app.ok("tasks", task, json!({"type": "MarkTaskPending"}))
        .await;
    app.new_pilot().await;
    app.wait_for_projections().await;

    assert_eq!(
        types(&page(&app, "aggregate_type=Pilot").await),
        ["PilotRegistered"]
    );
    assert_eq!(
        types(&page(&app, "event_type=TaskMarkedPending,PilotRegistered").await),
        ["TaskMarkedPending", "PilotRegistered"]
    );
    assert_eq!(
        types(&page(&app, "until=2000-01-01T00:00:00Z").await).len(),
        0
    );
    assert_eq!(
        types(&page(&app, "since=2000-01-01T00:00:00Z").await).len(),
        PLACES_EVENTS.len() + 4
    );
}

#[tokio::test]
async fn bad_feed_queries_are_400() {
    let app = TestApp::spawn().await;
    for (query, code) in [
        ("limit=0", "invalid_query"),
        ("limit=5000", "invalid_query"),
        ("aggregate_type=Rocket", "invalid_query"),
        ("event_type=TaskExploded", "invalid_query"),
        ("since=yesterday", "invalid_query"),
        ("after=12", "invalid_token"),
        ("colour=blue", "invalid_query"),
    ] {
        let response = app.get(&format!("/v1/events?{query}")).await;
        assert_problem(response, StatusCode::BAD_REQUEST, code).await;
    }
    let task = app.create_task().await;
    for query in [
        "after=-1",
        "after=one",
        "limit=0",
        "limit=1001",
        "colour=blue",
    ] {
        let response = app.get(&format!("/v1/tasks/{task}/events?{query}")).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
}

#[tokio::test]
async fn a_streams_events_page_by_sequence() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    for command in ["MarkTaskPending", "StartTask"] {
        app.ok("tasks", task, json!({"type": command})).await;
    }
    let response = app.get(&format!("/v1/tasks/{task}/events?limit=2")).await;
    let first: Value = response.json().await.unwrap();
    assert_eq!(types(&first), ["TaskCreated", "TaskMarkedPending"]);
    assert_eq!(first["next"], 2);
    let rest: Value = app
        .get(&format!("/v1/tasks/{task}/events?after=2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(types(&rest), ["TaskStarted"]);
    let missing = app
        .get(&format!("/v1/tasks/{}/events", Uuid::new_v4()))
        .await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_collection = app.get(&format!("/v1/pilots/{task}/events")).await;
    assert_problem(wrong_collection, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_task_can_be_read_as_it_was_at_a_version_or_a_moment() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    for command in ["MarkTaskPending", "StartTask", "MarkTaskArrived"] {
        app.ok("tasks", task, json!({"type": command})).await;
    }
    let at_two: Value = app
        .get(&format!("/v1/tasks/{task}?version=2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(at_two["version"], 2);
    assert_eq!(at_two["state"]["status"], "PENDING");

    let events: Value = app
        .get(&format!("/v1/tasks/{task}/events"))
        .await
        .json()
        .await
        .unwrap();
    let started_at = events["items"][2]["recorded_at"].as_str().unwrap();
    let response = app
        .get(&format!(
            "/v1/tasks/{task}?as_of={}",
            started_at.replace('+', "%2B")
        ))
        .await;
    assert_eq!(response.headers()["etag"], "\"3\"");
    let then: Value = response.json().await.unwrap();
    assert_eq!(then["state"]["status"], "IN_PROGRESS");
    assert_eq!(then["version"], 3);
    assert_eq!(then["as_of"].as_str().unwrap()[..19], started_at[..19]);

    let before = app
        .get(&format!("/v1/tasks/{task}?as_of=2000-01-01T00:00:00Z"))
        .await;
    assert_problem(before, StatusCode::NOT_FOUND, "not_found").await;
    let beyond = app.get(&format!("/v1/tasks/{task}?version=9")).await;
    assert_problem(beyond, StatusCode::NOT_FOUND, "not_found").await;
    for query in [
        "version=2&as_of=2026-01-01T00:00:00Z",
        "as_of=yesterday",
        "version=-1",
        "colour=blue",
    ] {
        let bad = app.get(&format!("/v1/tasks/{task}?{query}")).await;
        assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    let history = app
        .get(&format!("/v1/tasks/{task}/history?version=2"))
        .await;
    assert_problem(history, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[tokio::test]
async fn a_pilot_can_be_read_as_it_was_at_a_version() {
    let app = TestApp::spawn().await;
    let pilot = Uuid::new_v4();
    let shift = Uuid::new_v4();
    app.pilot(
        pilot,
        json!({"type": "RegisterPilot", "pilot_location": "US"}),
    )
    .await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "StartShift", "shift_id": shift}),
    )
    .await;
    app.ok("pilots", pilot, json!({"type": "EndShift"})).await;
    let on_shift: Value = app
        .get(&format!("/v1/pilots/{pilot}?version=2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(on_shift["state"]["shift"]["shift_id"], shift.to_string());
    assert_eq!(on_shift["state"]["pilot_location"], "US");
    let now: Value = app
        .get(&format!("/v1/pilots/{pilot}?version=3"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["state"]["shift"], Value::Null);
}

/// Runs the `operations` binary against the test database.
pub async fn run_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    // Async: a blocking wait would stop this runtime's service tasks, some perhaps holding a
    // checkpoint lock the command waits for.
    tokio::process::Command::new(env!("CARGO_BIN_EXE_operations"))
        .args(args)
        .env(
            "DATABASE_URL",
            sqlx::ConnectOptions::to_url_lossy(&app.db.options).to_string(),
        )
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn export_writes_every_event_as_ndjson_or_csv() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    app.ok("tasks", task, json!({"type": "MarkTaskPending"}))
        .await;
    app.new_pilot().await;
    app.wait_for_projections().await;

    let ndjson = run_cli(&app, &["export", "--format", "ndjson"]).await;
    assert!(ndjson.status.success(), "{ndjson:?}");
    let lines: Vec<Value> = String::from_utf8(ndjson.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exported: Vec<_> = lines.iter().map(|e| e["event_type"].clone()).collect();
    let mut expected: Vec<_> = PLACES_EVENTS.iter().map(|t| json!(t)).collect();
    expected.extend([
        json!("TaskCreated"),
        json!("TaskMarkedPending"),
        json!("OperatorRegistered"),
        json!("PilotRegistered"),
    ]);
    assert_eq!(exported, expected);
    let pending = &lines[PLACES_EVENTS.len() + 1];
    assert_eq!(pending["payload"]["from_status"], "SCHEDULED");
    assert!(String::from_utf8_lossy(&ndjson.stderr).contains("exported 9 events"));

    let csv = run_cli(
        &app,
        &["export", "--format", "csv", "--aggregate-type", "Task"],
    )
    .await;
    assert!(csv.status.success(), "{csv:?}");
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[5], "event_type");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[1][5], "TaskMarkedPending");
    let payload: Value = serde_json::from_str(&rows[1][8]).unwrap();
    assert_eq!(payload["from_status"], "SCHEDULED");

    let resumed = run_cli(
        &app,
        &["export", "--after", pending["token"].as_str().unwrap()],
    )
    .await;
    // The pilot's operator and the pilot follow the pending task.
    assert_eq!(
        String::from_utf8(resumed.stdout).unwrap().lines().count(),
        2
    );
}

#[tokio::test]
async fn the_timeline_command_prints_who_changed_what_when_and_why() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    let answer = app
        .ok(
            "tasks",
            task,
            json!({"type": "CancelTask", "reason": "OTHER", "note": "street fair"}),
        )
        .await;
    app.get_consistent(&format!("/v1/tasks/{task}/history"), &answer)
        .await;
    let output = run_cli(&app, &["timeline", "tasks", &task.to_string()]).await;
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains("TaskCreated") && lines[1].contains("- -> SCHEDULED"));
    assert!(lines[2].contains("SCHEDULED -> CANCELLED"));
    assert!(lines[2].contains("key:test-admin"));
    assert!(lines[2].contains("OTHER: street fair"));

    let unknown = run_cli(&app, &["timeline", "rockets", &task.to_string()]).await;
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn a_history_can_be_narrowed_to_a_time_range() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    app.ok("tasks", task, json!({"type": "MarkTaskPending"}))
        .await;
    let answer = app.ok("tasks", task, json!({"type": "StartTask"})).await;
    let response = app
        .get_consistent(&format!("/v1/tasks/{task}/history"), &answer)
        .await;
    let status = response.status();
    let all: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["items"].as_array().map(Vec::len), Some(3), "{all}");
    let second = all["items"][1]["changed_at"]
        .as_str()
        .unwrap()
        .replace('+', "%2B");
    let from_second: Value = app
        .get(&format!("/v1/tasks/{task}/history?since={second}"))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<_> = from_second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["TaskMarkedPending", "TaskStarted"]);
    let before_second: Value = app
        .get(&format!("/v1/tasks/{task}/history?until={second}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before_second["items"].as_array().unwrap().len(), 1);
    let on_state = app.get(&format!("/v1/tasks/{task}?since={second}")).await;
    assert_problem(on_state, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[tokio::test]
async fn export_refuses_a_filter_that_names_nothing() {
    let app = TestApp::spawn().await;
    app.create_task().await;
    // The export shows an event once the horizon has passed it (another test's transaction on
    // the shared cluster may hold it back for a moment).
    app.wait_for_projections().await;
    for args in [
        ["export", "--aggregate-type", "task"],
        ["export", "--event-type", "Nope"],
    ] {
        let output = run_cli(&app, &args).await;
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("no "), "{stderr}");
    }
    let good = run_cli(&app, &["export", "--aggregate-type", "Task"]).await;
    assert!(good.status.success());
    assert_eq!(String::from_utf8(good.stdout).unwrap().lines().count(), 1);
}
