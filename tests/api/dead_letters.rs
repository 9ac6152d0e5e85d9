//! Poison events park their stream, not the projector: dead letters, their retry and skip, and
//! what reads of a parked entity say.

use std::time::Duration;

use aggregates::versions::{Upcast, Upcasters};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use operations::auth::Role;

use crate::feed::run_cli;
use crate::helpers::{assert_problem, client_with, TestApp};
use crate::process::{accept, assignment_status, pending_task, requested, within};

/// Stores an event in a stream as something other than this service (an old deployment, an
/// import, a hand) wrote it; returns its feed token.
async fn store_raw(
    pool: &PgPool,
    aggregate_type: &str,
    id: Uuid,
    sequence: i64,
    event_type: &str,
    version: &str,
    payload: Value,
) -> String {
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, '{\"actor\": \"import:2019\"}')
         RETURNING transaction_id::text || '.' || global_position",
    )
    .bind(aggregate_type)
    .bind(id.to_string())
    .bind(sequence)
    .bind(event_type)
    .bind(version)
    .bind(payload)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn parked(app: &TestApp, projector: &str) -> Vec<Value> {
    let page: Value = app
        .get(&format!(
            "/v1/dead-letters?status=parked&projector={projector}"
        ))
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

/// Waits until `projector` has `n` parked dead letters; returns them, oldest first.
async fn wait_parked(app: &TestApp, projector: &str, n: usize) -> Vec<Value> {
    within(Duration::from_secs(20), async || {
        parked(app, projector).await.len() == n
    })
    .await;
    let mut letters = parked(app, projector).await;
    letters.reverse();
    letters
}

fn letter_of(letters: &[Value], stream: Uuid) -> &Value {
    letters
        .iter()
        .find(|l| l["aggregate_id"] == stream.to_string())
        .unwrap_or_else(|| panic!("no dead letter for {stream} in {letters:?}"))
}

/// 0.9 of `TaskCancelled` called the reason `why`: what the "fix" deploys.
fn why_is_reason(fields: &mut Map<String, Value>) {
    if let Some(why) = fields.remove("why") {
        fields.insert("reason".into(), why);
    }
}
static CANCELLED_0_9: [Upcast; 1] = [Upcast {
    event_type: "TaskCancelled",
    to: "1.0",
    change: why_is_reason,
}];

#[tokio::test]
async fn a_poison_event_parks_its_stream_and_every_other_stream_goes_on() {
    let app = TestApp::spawn_with(|s| s.projections.park_after = 2).await;
    app.places().await;
    // A: an event no upcaster reads yet (0.9 said `why`), then one more behind it.
    let a = pending_task(&app).await;
    let poison = store_raw(
        &app.pool,
        "Task",
        a,
        3,
        "TaskCancelled",
        "0.9",
        json!({"TaskCancelled": {"from_status": "PENDING", "why": "CUSTOMER_REQUESTED",
                                 "note": "called twice"}}),
    )
    .await;
    let trip = Uuid::new_v4();
    store_raw(
        &app.pool,
        "Task",
        a,
        4,
        "TaskTripAttached",
        "1.0",
        json!({"TaskTripAttached": {"trip_id": trip}}),
    )
    .await;
    // B: an event that breaks the projector's rule: sequence 0, behind the row's version 1.
    let b = app.create_task().await;
    store_raw(
        &app.pool,
        "Task",
        b,
        0,
        "TaskMarkedPending",
        "1.0",
        json!({"TaskMarkedPending": {"from_status": "PENDING"}}),
    )
    .await;

    // Every other stream goes on: a task written after the poison reads back consistently.
    let _ = wait_parked(&app, "tasks", 2).await;
    let c = Uuid::new_v4();
    let answer = app.ok("tasks", c, crate::helpers::create_task_body()).await;
    let read = app.get_consistent(&format!("/v1/tasks/{c}"), &answer).await;
    assert_eq!(read.status(), StatusCode::OK);
    // No projector is stuck: every one reaches the end. Then read the dead letters again, now
    // that the checkpoint has passed A's later event (parked behind).
    app.wait_for_projections().await;
    let letters = wait_parked(&app, "tasks", 2).await;

    let (of_a, of_b) = (letter_of(&letters, a), letter_of(&letters, b));
    assert_eq!(of_a["sequence"], 3);
    assert_eq!(of_a["event_type"], "TaskCancelled");
    assert_eq!(of_a["token"], poison.as_str());
    assert_eq!(of_a["parked_events"], 1, "{of_a}");
    assert!(of_a["error"].as_str().unwrap().contains("reason"), "{of_a}");
    assert_eq!(of_a["attempts"], 2);
    assert!(
        of_b["error"]
            .as_str()
            .unwrap()
            .contains("already at or past"),
        "{of_b}"
    );

    // A read of A answers what the read model holds and says what holds it back.
    let read = app.get(&format!("/v1/tasks/{a}")).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(
        read.headers()["x-dead-letters"].to_str().unwrap(),
        of_a["id"].to_string()
    );
    let state: Value = read.json().await.unwrap();
    assert_eq!(state["status"], "PENDING");
    assert_eq!(state["version"], 2);
    assert_eq!(state["behind"][0]["dead_letter"], of_a["id"]);
    // A read that must include the poison event cannot be consistent: 503 naming it.
    let problem = assert_problem(
        app.get(&format!("/v1/tasks/{a}?consistent_with={poison}"))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "parked",
    )
    .await;
    assert_eq!(problem["dead_letter"], of_a["id"]);

    // Operators see it: readiness degraded, a metric per projector.
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["checks"]["dead_letters"]["tasks"], 2, "{ready}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("operations_projector_dead_letters{projector=\"tasks\"} 2"),
        "{metrics}"
    );

    // A retry before the fix fails again, and says why; the stream stays parked.
    let id = of_a["id"].as_i64().unwrap();
    let retry = |id: i64| {
        app.client
            .post(app.url(&format!("/v1/dead-letters/{id}/retry")))
    };
    let again = retry(id).send().await.unwrap();
    let problem = assert_problem(again, StatusCode::CONFLICT, "still_failing").await;
    assert!(problem["detail"].as_str().unwrap().contains("reason"));
    assert_eq!(letter_of(&parked(&app, "tasks").await, a)["attempts"], 3);

    // The fix is deployed (an upcaster for 0.9); the retry applies A's parked events in order.
    assert!(Upcasters::deploy(&CANCELLED_0_9));
    let done = retry(id).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "retried");
    assert_eq!(done["resolved_by"], "key:test-admin");
    let read = app.get(&format!("/v1/tasks/{a}")).await;
    assert!(read.headers().get("x-dead-letters").is_none());
    let state: Value = read.json().await.unwrap();
    assert_eq!(state["status"], "CANCELLED", "{state}");
    assert_eq!(state["cancellation_reason"], "CUSTOMER_REQUESTED");
    assert_eq!(state["trip_id"], trip.to_string());
    assert_eq!(state["version"], 4);
    assert!(state.get("behind").is_none());
    // The history projector parked A too; its retry puts the cancel in the timeline.
    let history_letter = letter_of(&wait_parked(&app, "task_history", 1).await, a).clone();
    let done = retry(history_letter["id"].as_i64().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let history: Value = app
        .get(&format!("/v1/tasks/{a}/history"))
        .await
        .json()
        .await
        .unwrap();
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["to_status"], "CANCELLED", "{history}");
    assert_eq!(last["actor"], "import:2019");
    // So does the process's: it reacts to the cancel.
    let process_letter = letter_of(&wait_parked(&app, "assignment_process", 1).await, a).clone();
    let done = retry(process_letter["id"].as_i64().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    // A consistent read of the poison event's token now answers.
    let read = app
        .get(&format!("/v1/tasks/{a}?consistent_with={poison}"))
        .await;
    assert_eq!(read.status(), StatusCode::OK);

    // B's duplicate creation is skipped, with who and why, shown in B's timeline.
    let b_id = of_b["id"].as_i64().unwrap();
    let skip = |body: Value| {
        app.client
            .post(app.url(&format!("/v1/dead-letters/{b_id}/skip")))
            .json(&body)
            .send()
    };
    assert_problem(
        skip(json!({})).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_problem(
        skip(json!({"reason": "  "})).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    let reason = "the 2019 import wrote this task's creation twice";
    let skipped = skip(json!({"reason": reason})).await.unwrap();
    assert_eq!(skipped.status(), StatusCode::OK);
    let skipped: Value = skipped.json().await.unwrap();
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(skipped["reason"], reason);
    let history: Value = app
        .get(&format!("/v1/tasks/{b}/history"))
        .await
        .json()
        .await
        .unwrap();
    let row = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["kind"] == "skipped")
        .unwrap_or_else(|| panic!("no skip in {history}"))
        .clone();
    assert_eq!(row["reason"], reason);
    assert_eq!(row["actor"], "key:test-admin");
    assert_eq!(row["sequence"], 0);
    assert_eq!(row["dead_letter"], b_id);
    // Once resolved, there is nothing to retry or skip.
    assert_problem(
        skip(json!({"reason": reason})).await.unwrap(),
        StatusCode::CONFLICT,
        "not_parked",
    )
    .await;
    assert!(parked(&app, "tasks").await.is_empty());
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["checks"]["dead_letters"], "ok", "{ready}");
}

#[tokio::test]
async fn dead_letters_are_for_admins_and_bad_requests_are_clear() {
    let app = TestApp::spawn().await;
    let reader = client_with(&app.db.key("analyst", Role::Analyst, None).await);
    for (method, path) in [
        ("GET", "/v1/dead-letters"),
        ("GET", "/v1/dead-letters/1"),
        ("POST", "/v1/dead-letters/1/retry"),
        ("POST", "/v1/dead-letters/1/skip"),
    ] {
        let request = match method {
            "GET" => reader.get(app.url(path)),
            _ => reader.post(app.url(path)).json(&json!({"reason": "x"})),
        };
        assert_problem(
            request.send().await.unwrap(),
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let anonymous = reqwest::Client::new()
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }
    assert_problem(
        app.get("/v1/dead-letters/7").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/v1/dead-letters/x").await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    )
    .await;
    assert_problem(
        app.get("/v1/dead-letters/-1").await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    )
    .await;
    assert_problem(
        app.get("/v1/dead-letters?status=lost").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get("/v1/dead-letters?colour=red").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    let retry = app
        .client
        .post(app.url("/v1/dead-letters/7/retry"))
        .send()
        .await
        .unwrap();
    assert_problem(retry, StatusCode::NOT_FOUND, "not_found").await;
    let bad = app
        .client
        .post(app.url("/v1/dead-letters/7/skip"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(bad, StatusCode::BAD_REQUEST, "malformed_json").await;
    let page: Value = app.get("/v1/dead-letters").await.json().await.unwrap();
    assert_eq!(page, json!({"items": [], "next": null}));
}

#[tokio::test]
async fn a_replay_reaches_the_same_parked_set() {
    let app = TestApp::spawn_with(|s| s.projections.park_after = 1).await;
    // Undecodable in any version: `from_status` is a number.
    for stream in [app.create_task().await, app.create_task().await] {
        store_raw(
            &app.pool,
            "Task",
            stream,
            2,
            "TaskMarkedPending",
            "1.0",
            json!({"TaskMarkedPending": {"from_status": 42}}),
        )
        .await;
    }
    let before = wait_parked(&app, "tasks", 2).await;
    app.wait_for_projections().await;
    let rows_before: Vec<(Uuid, i64)> = sqlx::query_as("SELECT id, version FROM tasks ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();

    let replay = run_cli(&app, &["replay", "--projection", "tasks"]).await;
    assert!(replay.status.success(), "{replay:?}");
    let after = wait_parked(&app, "tasks", 2).await;
    let key = |letters: &[Value]| -> Vec<(Value, Value, Value)> {
        letters
            .iter()
            .map(|l| {
                (
                    l["id"].clone(),
                    l["aggregate_id"].clone(),
                    l["position"].clone(),
                )
            })
            .collect()
    };
    // The same dead letters (the same rows, even), and the same read model.
    assert_eq!(key(&after), key(&before));
    let rows_after: Vec<(Uuid, i64)> = sqlx::query_as("SELECT id, version FROM tasks ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows_after, rows_before);
    // The CLI lists them, and skips one.
    let listed = run_cli(&app, &["dead-letters", "list", "--json"]).await;
    assert!(listed.status.success(), "{listed:?}");
    let stdout = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(
        stdout.lines().filter(|l| l.contains("\"tasks\"")).count(),
        2,
        "{stdout}"
    );
    let id = before[0]["id"].to_string();
    let skipped = run_cli(
        &app,
        &[
            "dead-letters",
            "skip",
            &id,
            "--reason",
            "bad import",
            "--actor",
            "ops:ada",
        ],
    )
    .await;
    assert!(skipped.status.success(), "{skipped:?}");
    let letter: Value = app
        .get(&format!("/v1/dead-letters/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(letter["status"], "skipped");
    assert_eq!(letter["resolved_by"], "ops:ada");
    // What was skipped stays skipped through a replay: not applied, not parked again.
    let replay = run_cli(&app, &["replay", "--projection", "tasks"]).await;
    assert!(replay.status.success(), "{replay:?}");
    let still = wait_parked(&app, "tasks", 1).await;
    assert_eq!(still[0]["id"], before[1]["id"]);
    let rows_after: Vec<(Uuid, i64)> = sqlx::query_as("SELECT id, version FROM tasks ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows_after, rows_before);
}

#[tokio::test]
async fn a_projector_set_to_stop_stops_instead_of_parking() {
    let app = TestApp::spawn_with(|s| {
        s.projections.park_after = 1;
        s.projections.stop_on_failure = vec!["tasks".into()];
    })
    .await;
    app.places().await;
    let a = app.create_task().await;
    store_raw(
        &app.pool,
        "Task",
        a,
        2,
        "TaskMarkedPending",
        "1.0",
        json!({"TaskMarkedPending": {"from_status": 42}}),
    )
    .await;
    // task_history parks A; tasks stops there, for every stream.
    wait_parked(&app, "task_history", 1).await;
    let c = Uuid::new_v4();
    let answer = app.ok("tasks", c, crate::helpers::create_task_body()).await;
    assert_problem(
        app.get_consistent(&format!("/v1/tasks/{c}"), &answer).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "not_yet_consistent",
    )
    .await;
    assert!(parked(&app, "tasks").await.is_empty());
    let statuses: Value = app.get("/v1/projections").await.json().await.unwrap();
    let tasks = statuses["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "tasks")
        .unwrap()
        .clone();
    assert_eq!(tasks["state"], "failing", "{tasks}");
}

#[tokio::test]
async fn a_broken_pilot_parks_its_own_assignments_and_deadlines_not_the_others() {
    let app = TestApp::spawn_with(|s| {
        s.projections.park_after = 2;
        s.projections.assignment_timeout = Duration::from_secs(1);
    })
    .await;
    // Pilot X's stream gets an event nothing can read, after its assignment was requested.
    let task_x = pending_task(&app).await;
    let (x, x_assignment) = requested(&app, task_x).await;
    store_raw(
        &app.pool,
        "Pilot",
        x,
        4,
        "PilotAssignmentAccepted",
        "1.0",
        json!({"PilotAssignmentAccepted": {"assignment_id": 17}}),
    )
    .await;
    // The process parks X (the accept it cannot read); the pilots' read models park X too.
    let process = wait_parked(&app, "assignment_process", 1).await;
    assert_eq!(
        letter_of(&process, x)["event_type"],
        "PilotAssignmentAccepted"
    );
    // X's assignment is due to go stale, but X cannot be loaded: the deadline parks X.
    let deadline = wait_parked(&app, "deadlines", 1).await;
    let of_x = letter_of(&deadline, x);
    assert!(of_x["deadline_key"]
        .as_str()
        .unwrap()
        .starts_with("deadline:stale:"));
    assert_eq!(of_x["position"], Value::Null);
    assert_eq!(
        assignment_status(&app.pool, x_assignment).await,
        "REQUESTED"
    );

    // Pilot Y is served as usual: accepting links the task, and a stale deadline fires.
    let task_y = pending_task(&app).await;
    let (y, y_assignment) = requested(&app, task_y).await;
    accept(&app, y, y_assignment).await;
    within(Duration::from_secs(10), async || {
        crate::process::task_state(&app, task_y).await["pilot_id"] == y.to_string()
    })
    .await;
    let task_z = pending_task(&app).await;
    let (_, z_assignment) = requested(&app, task_z).await;
    within(Duration::from_secs(10), async || {
        assignment_status(&app.pool, z_assignment).await == "STALE"
    })
    .await;

    // Skipping X's deadline drops it for good; X's other deadlines would fire again.
    let id = of_x["id"].as_i64().unwrap();
    let skipped = app
        .client
        .post(app.url(&format!("/v1/dead-letters/{id}/skip")))
        .json(&json!({"reason": "pilot X is being repaired by hand"}))
        .send()
        .await
        .unwrap();
    assert_eq!(skipped.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(parked(&app, "deadlines").await.is_empty());
}

#[tokio::test]
async fn a_request_no_runner_takes_is_accepted_and_a_different_one_waits_its_turn() {
    // No instance runs the projectors: a request stays asked for.
    let app = TestApp::spawn_with(|s| {
        s.projections.disabled = true;
        s.consistency_timeout = Duration::from_millis(300);
    })
    .await;
    let task = app.create_task().await;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO dead_letters (projector, aggregate_type, aggregate_id, transaction_id,
                                   position, sequence, event_type, error, attempts,
                                   first_failed_at, last_failed_at)
         SELECT 'tasks', aggregate_type, aggregate_id, transaction_id, global_position, sequence,
                event_type, 'made for the test', 5, now(), now()
           FROM events WHERE aggregate_id = $1
         RETURNING id",
    )
    .bind(task.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let post = |action: &str, body: Value| {
        app.client
            .post(app.url(&format!("/v1/dead-letters/{id}/{action}")))
            .json(&body)
            .send()
    };
    let first = post("retry", json!({})).await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["requested"], "retry");
    assert_eq!(first["requested_by"], "key:test-admin");
    // The same request again joins it; a different one is refused until it is done.
    assert_eq!(
        post("retry", json!({})).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    assert_problem(
        post("skip", json!({"reason": "changed my mind"}))
            .await
            .unwrap(),
        StatusCode::CONFLICT,
        "request_pending",
    )
    .await;
    let letter: Value = app
        .get(&format!("/v1/dead-letters/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(letter["requested"], "retry");
    assert_eq!(letter["reason"], Value::Null);
    assert_eq!(letter["status"], "parked");
}

#[tokio::test]
async fn a_robot_event_that_does_not_fit_parks_that_robot_alone_and_a_skip_lets_it_go_on() {
    let app = TestApp::spawn_with(|s| s.projections.park_after = 2).await;
    let hub = app.hub().await;
    let register =
        |serial: &str| json!({"type": "RegisterRobot", "serial_number": serial, "hub_id": hub});
    let robot = Uuid::new_v4();
    app.ok("robots", robot, register("SN-DL-1")).await;
    // An import ends a deployment the robot never had: the robots projector cannot apply it.
    let ended = json!({"RobotDeploymentEnded": {"deployment_id": Uuid::new_v4(),
                                                "from_status": "DEPLOYED", "reason": null}});
    store_raw(
        &app.pool,
        "Robot",
        robot,
        2,
        "RobotDeploymentEnded",
        "1.0",
        ended,
    )
    .await;
    let letters = wait_parked(&app, "robots", 1).await;
    assert_eq!(letters[0]["aggregate_id"], robot.to_string());
    let error = letters[0]["error"].as_str().unwrap();
    assert!(error.contains("no such deployment"), "{error}");

    // Every other robot goes on.
    let other = Uuid::new_v4();
    let answer = app.ok("robots", other, register("SN-DL-2")).await;
    let read = app
        .get_consistent(&format!("/v1/robots/{other}"), &answer)
        .await;
    assert_eq!(read.status(), StatusCode::OK);

    // Skipped with a reason, the robot's later events are applied again.
    let id = letters[0]["id"].as_i64().unwrap();
    let skip = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/dead-letters/{id}/skip"),
        )
        .json(&json!({"reason": "the import invented that deployment"}));
    let skipped = app.send(skip).await;
    assert_eq!(skipped.status(), StatusCode::OK);
    let deploy = json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(),
                        "hub_id": hub});
    let answer = app.ok("robots", robot, deploy).await;
    let read: Value = app
        .get_consistent(&format!("/v1/robots/{robot}"), &answer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (read["status"].clone(), read["version"].clone()),
        (json!("DEPLOYED"), json!(3))
    );
    assert!(parked(&app, "robots").await.is_empty());
}

#[tokio::test]
async fn a_skip_asked_of_an_instance_without_projectors_is_done_by_the_idle_one_that_has_them() {
    let app = TestApp::spawn_with(|s| s.projections.park_after = 2).await;
    app.places().await;
    let a = pending_task(&app).await;
    store_raw(
        &app.pool,
        "Task",
        a,
        3,
        "TaskCancelled",
        // (Not 0.9, which another test gives an upcaster: this one no fix reads.)
        "1.0",
        json!({"TaskCancelled": {"from_status": "PENDING"}}),
    )
    .await;
    let trip = Uuid::new_v4();
    store_raw(
        &app.pool,
        "Task",
        a,
        4,
        "TaskTripAttached",
        "1.0",
        json!({"TaskTripAttached": {"trip_id": trip}}),
    )
    .await;
    let letter = wait_parked(&app, "tasks", 1).await.remove(0);
    app.wait_for_projections().await;
    // Another instance, which runs no projector, takes the request; nothing else is written:
    // the runner of the first, idle, does it.
    let mut settings = TestApp::settings(&app.db);
    settings.projections.disabled = true;
    let other = TestApp::spawn_instance_with(settings).await;
    let asked = app
        .client
        .post(format!("{other}/v1/dead-letters/{}/skip", letter["id"]))
        .json(&json!({"reason": "cancelled by hand in 2019"}))
        .send()
        .await
        .unwrap();
    // It waits for the runner (up to the consistency timeout): done, not merely accepted.
    assert_eq!(asked.status(), StatusCode::OK);
    let done: Value = asked.json().await.unwrap();
    assert_eq!(done["status"], "skipped", "{done}");
    assert!(parked(&app, "tasks").await.is_empty());
    let state: Value = app
        .get(&format!("/v1/tasks/{a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["trip_id"], trip.to_string(), "{state}");
    assert_eq!(state["version"], 4, "{state}");
}
