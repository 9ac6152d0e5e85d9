//! The read side: read models, history, read-your-writes, the runner's guarantees, replay.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{assert_problem, create_task_body, TestApp, PLACES_EVENTS};

const LIFE: [&str; 7] = [
    "MarkTaskPending",
    "StartTask",
    "PauseTask",
    "ResumeTask",
    "MarkTaskArrived",
    "CompleteTask",
    "StartTask",
];

/// Rows of a table as JSON, in a stable order, for comparison.
pub async fn snapshot(pool: &PgPool, table: &str, order: &str) -> Vec<Value> {
    sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM {table} t ORDER BY {order}"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Drives `tasks` tasks through their life from parallel clients of the instance at `base`.
async fn load(app: &TestApp, base: &str, tasks: usize) {
    app.places().await;
    join_all((0..tasks).map(|_| async {
        let id = Uuid::new_v4();
        let url = format!("{base}/v1/tasks/{id}/commands");
        let mut bodies = vec![create_task_body()];
        bodies.extend(LIFE[..6].iter().map(|command| json!({"type": command})));
        for body in bodies {
            let response = app
                .client
                .post(&url)
                .header("X-Actor", "test:load")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{body}: {}",
                response.status()
            );
        }
    }))
    .await;
}

#[tokio::test]
async fn a_read_naming_the_token_of_a_command_sees_that_command() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    for (command, status) in LIFE[..6].iter().zip([
        "PENDING",
        "IN_PROGRESS",
        "PAUSED",
        "IN_PROGRESS",
        "ARRIVED",
        "COMPLETED",
    ]) {
        let answer = app.ok("tasks", id, json!({"type": command})).await;
        let task: Value = app
            .get_consistent(&format!("/v1/tasks/{id}"), &answer)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(task["status"], status);
        assert_eq!(task["version"], answer["version"]);
    }
}

#[tokio::test]
async fn the_history_lists_every_status_change_with_who_when_and_why() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    app.ok("tasks", id, json!({"type": "MarkTaskPending"}))
        .await;
    let answer = app
        .post_command("tasks", id)
        .header("X-Correlation-Id", "flow-9")
        .json(&json!({"type": "CancelTask", "reason": "WEATHER", "note": "hail"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let history: Value = app
        .get_consistent(&format!("/v1/tasks/{id}/history"), &answer)
        .await
        .json()
        .await
        .unwrap();
    let items = history["items"].as_array().unwrap();
    let transitions: Vec<_> = items
        .iter()
        .map(|i| (i["from_status"].clone(), i["to_status"].clone()))
        .collect();
    assert_eq!(
        transitions,
        [
            (Value::Null, json!("SCHEDULED")),
            (json!("SCHEDULED"), json!("PENDING")),
            (json!("PENDING"), json!("CANCELLED")),
        ]
    );
    let cancelled = &items[2];
    assert_eq!(cancelled["actor"], "key:test-admin");
    assert_eq!(cancelled["reason"], "WEATHER");
    assert_eq!(cancelled["note"], "hail");
    assert_eq!(cancelled["correlation_id"], "flow-9");
    assert_eq!(cancelled["sequence"], 3);
    assert_eq!(cancelled["position"], answer["events"][0]["position"]);
    assert!(cancelled["changed_at"].as_str().is_some());
}

#[tokio::test]
async fn the_history_of_an_unknown_task_is_404() {
    let app = TestApp::spawn().await;
    let response = app
        .get(&format!("/v1/tasks/{}/history", Uuid::new_v4()))
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_token_the_read_models_do_not_reach_in_time_is_a_clear_503() {
    // No projector runs here: a real token is never reached.
    let app = TestApp::spawn_with(|s| {
        s.consistency_timeout = Duration::from_millis(200);
        s.projections.disabled = true;
    })
    .await;
    app.places().await;
    let id = Uuid::new_v4();
    let answer = app
        .ok("tasks", id, crate::helpers::create_task_body())
        .await;
    let token = answer["token"].as_str().unwrap();
    let response = app
        .get(&format!("/v1/tasks/{id}?consistent_with={token}"))
        .await;
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "not_yet_consistent",
    )
    .await;
    let response = app
        .get(&format!("/v1/tasks/{id}?consistent_with=soon"))
        .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "invalid_token").await;
}

#[tokio::test]
async fn the_projections_endpoint_shows_each_checkpoint_and_lag() {
    let app = TestApp::spawn().await;
    app.create_task().await;
    app.wait_for_projections().await;
    let status: Value = app.get("/v1/projections").await.json().await.unwrap();
    let names: Vec<_> = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "tasks",
        "task_history",
        "pilots",
        "pilot_history",
        "assignment_process",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing: {names:?}"
        );
    }
    for projector in status["items"].as_array().unwrap() {
        assert_eq!(projector["state"], "ok");
        assert_eq!(projector["lag_events"], 0);
    }
    let tasks = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tasks")
        .unwrap();
    assert_eq!(tasks["events_applied"], 1);
    let pilots = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "pilots")
        .unwrap();
    assert_eq!(pilots["events_applied"], 0);
}

#[tokio::test]
async fn an_event_committed_late_is_not_skipped() {
    let app = TestApp::spawn().await;
    app.places().await;
    let late_task = Uuid::new_v4();
    // A transaction that takes its position first and commits last.
    let mut late = app.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Task', $1, 1, 'TaskCreated', '1.0', $2, '{\"actor\": \"test:late\"}')",
    )
    .bind(late_task.to_string())
    .bind(
        json!({"TaskCreated": {"task_type": "NONE", "hub_id": Uuid::new_v4(),
                 "robot_id": null, "scheduled_at": null, "external_ref": null}}),
    )
    .execute(&mut *late)
    .await
    .unwrap();

    let early_answer = app.ok("tasks", Uuid::new_v4(), create_task_body()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The open transaction holds the horizon: nothing after it may be applied yet.
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(applied, 0);

    late.commit().await.unwrap();
    app.wait_for_projections().await;
    let response = app
        .get_consistent(&format!("/v1/tasks/{late_task}"), &early_answer)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let history = app.get(&format!("/v1/tasks/{late_task}/history")).await;
    let history: Value = history.json().await.unwrap();
    assert_eq!(history["items"][0]["actor"], "test:late");
}

#[tokio::test]
async fn two_runners_on_one_database_never_apply_an_event_twice() {
    let app = TestApp::spawn().await;
    let mut second = TestApp::settings(&app.db);
    second.projections.batch_size = 3;
    let second = TestApp::spawn_instance_with(second).await;
    join_all([load(&app, &app.address, 10), load(&app, &second, 10)]).await;
    app.wait_for_projections().await;

    let status_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Task'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let history_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM task_history")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(history_rows, status_events);
    let statuses = projections::checkpoint::statuses(&app.pool).await.unwrap();
    for status in statuses {
        assert_eq!(status.failures, 0, "{status:?}");
        assert_eq!(status.last_error, None, "{status:?}");
        if status.name.starts_with("task") {
            assert_eq!(status.events_applied, 20 * 7, "{status:?}");
        }
    }
}

#[tokio::test]
async fn a_replay_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    app.places().await;
    load(&app, &app.address, 12).await;
    app.wait_for_projections().await;
    let tasks = snapshot(&app.pool, "tasks", "id").await;
    let history = snapshot(&app.pool, "task_history", "global_position").await;
    assert_eq!(tasks.len(), 12);
    assert_eq!(history.len(), 12 * 7);

    for projector in projections::all() {
        let done = projections::replay(&app.pool, projector.as_ref(), 5, |_| {})
            .await
            .unwrap();
        assert_eq!(done.events_read, PLACES_EVENTS.len() as u64 + 12 * 7);
    }
    assert_eq!(snapshot(&app.pool, "tasks", "id").await, tasks);
    assert_eq!(
        snapshot(&app.pool, "task_history", "global_position").await,
        history
    );

    // The live runner carries on after the replay.
    let answer = app.ok("tasks", Uuid::new_v4(), create_task_body()).await;
    let response = app
        .get_consistent(
            &format!("/v1/tasks/{}", answer["id"].as_str().unwrap()),
            &answer,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_read_model_rebuilt_in_one_pass_over_the_feed_has_the_same_rows() {
    let app = TestApp::spawn().await;
    app.places().await;
    load(&app, &app.address, 9).await;
    let pilot = app.new_pilot().await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
    )
    .await;
    app.wait_for_projections().await;
    let tables = [
        ("tasks", "id"),
        ("task_history", "global_position"),
        ("pilots", "id"),
        ("pilot_shifts", "shift_id"),
        ("pilot_status_history", "global_position"),
        ("pilot_shift_state_history", "global_position"),
    ];
    let mut before = Vec::new();
    for (table, order) in tables {
        before.push(snapshot(&app.pool, table, order).await);
    }
    let live = projections::checkpoint::statuses(&app.pool).await.unwrap();

    let all = projections::all();
    let rebuilds: Vec<_> = (all.iter())
        .map(|p| projections::Rebuild {
            projector: p.as_ref(),
            policy: projections::FailurePolicy::Park,
        })
        .collect();
    let done = projections::replay_many(&app.pool, &rebuilds, 7, |_| {})
        .await
        .unwrap();
    // Each stored event is read once, whatever the number of read models.
    // The pilot's operator and the status its shift gave it are stored events too.
    assert_eq!(done.events_read, PLACES_EVENTS.len() as u64 + 9 * 7 + 4);
    for (i, (table, order)) in tables.into_iter().enumerate() {
        assert_eq!(
            snapshot(&app.pool, table, order).await,
            before[i],
            "{table}"
        );
    }
    // Each read model applied what its live projector had, and its checkpoint says so.
    let after = projections::checkpoint::statuses(&app.pool).await.unwrap();
    for (name, applied) in &done.applied {
        let was = live.iter().find(|s| s.name == *name).unwrap();
        let now = after.iter().find(|s| s.name == *name).unwrap();
        assert_eq!(*applied, was.events_applied, "{name}");
        assert_eq!(now.events_applied, was.events_applied, "{name}");
    }
    assert_eq!(
        done.applied.iter().find(|(n, _)| *n == "tasks").unwrap().1,
        9 * 7
    );

    // The live runners carry on after the switch.
    let answer = app.ok("tasks", Uuid::new_v4(), create_task_body()).await;
    let response = app
        .get_consistent(
            &format!("/v1/tasks/{}", answer["id"].as_str().unwrap()),
            &answer,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_projector_set_to_stop_retries_a_failing_event_reports_it_and_never_skips_it() {
    let app = TestApp::spawn_with(|s| s.projections.stop_on_failure = vec!["tasks".into()]).await;
    let broken = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Task', $1, 1, 'TaskCreated', '1.0', '{\"TaskCreated\": {\"nonsense\": 1}}', '{}')",
    )
    .bind(broken.to_string())
    .execute(&app.pool)
    .await
    .unwrap();
    let failed_at: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let after = app.create_task().await;

    let mut reported = Value::Null;
    for _ in 0..100 {
        let status: Value = app.get("/v1/projections").await.json().await.unwrap();
        let tasks = status["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "tasks")
            .unwrap()
            .clone();
        if tasks["failures"].as_i64().unwrap_or(0) >= 2 {
            reported = tasks;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reported["state"], "failing", "{reported}");
    assert_eq!(reported["failed_position"], failed_at);
    assert!(reported["last_error"]
        .as_str()
        .unwrap()
        .contains("cannot be decoded"));
    assert!(reported["lag_events"].as_i64().unwrap() >= 2);

    // Nothing after the broken event was applied: it was not skipped.
    let response = app.get(&format!("/v1/tasks/{after}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "degraded");
    let failing: Vec<_> = ready["checks"]["projectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(failing.contains(&"tasks"), "{ready}");
}

#[tokio::test]
async fn readiness_names_a_long_open_transaction_holding_the_horizon() {
    let app = TestApp::spawn_with(|s| s.long_transaction = Duration::from_millis(200)).await;
    let mut open = app.pool.begin().await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *open)
        .await
        .unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *open)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");
    let pids: Vec<_> = ready["checks"]["horizon"]["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["pid"].as_i64().unwrap())
        .collect();
    assert!(pids.contains(&(pid as i64)), "{ready}");
    open.rollback().await.unwrap();
}

#[tokio::test]
async fn the_replay_command_rebuilds_and_reports_its_count() {
    let app = TestApp::spawn().await;
    load(&app, &app.address, 3).await;
    app.wait_for_projections().await;
    let before = snapshot(&app.pool, "task_history", "global_position").await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_operations"))
        .args(["replay", "--projection", "task_history"])
        .env(
            "DATABASE_URL",
            sqlx::ConnectOptions::to_url_lossy(&app.db.options).to_string(),
        )
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("task_history: rebuilt from 26 events (21 applied)"),
        "{stdout}"
    );
    assert_eq!(
        snapshot(&app.pool, "task_history", "global_position").await,
        before
    );

    let unknown = tokio::process::Command::new(env!("CARGO_BIN_EXE_operations"))
        .args(["replay", "--projection", "rockets"])
        .env(
            "DATABASE_URL",
            sqlx::ConnectOptions::to_url_lossy(&app.db.options).to_string(),
        )
        .output()
        .await
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no projection named `rockets`"));
}

/// A replay rebuilds aside, in short transactions: while it runs, commands are projected and
/// reads naming their token answer; when it ends, the damaged rows are repaired and the rows of
/// events committed meanwhile are there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_repairs_a_damaged_read_model_while_reads_of_new_writes_go_on() {
    let app = TestApp::spawn().await;
    app.places().await;
    load(&app, &app.address, 20).await;
    app.wait_for_projections().await;
    let history = snapshot(&app.pool, "task_history", "global_position").await;
    assert_eq!(history.len(), 20 * 7);
    sqlx::raw_sql(
        "DELETE FROM task_history WHERE global_position IN
             (SELECT global_position FROM task_history ORDER BY global_position LIMIT 5);
         UPDATE task_history SET actor = 'forged' WHERE event_type = 'TaskCompleted';",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let projector = projections::all()
        .into_iter()
        .find(|p| p.name() == "task_history")
        .unwrap();
    // The replay stops after its first batch until the read below has its answer: a replay
    // that held the other projectors back would leave the read waiting (503 after the
    // consistency timeout) rather than answered.
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let (read_done, gate) = std::sync::mpsc::channel::<()>();
    let replay = tokio::spawn({
        let (pool, started) = (app.pool.clone(), started.clone());
        let mut gate = Some(gate);
        async move {
            projections::replay(&pool, projector.as_ref(), 10, |_| {
                started.notify_one();
                if let Some(gate) = gate.take() {
                    tokio::task::block_in_place(|| gate.recv_timeout(Duration::from_secs(30))).ok();
                }
            })
            .await
        }
    });
    started.notified().await;
    let id = Uuid::new_v4();
    let answer = app.ok("tasks", id, create_task_body()).await;
    let read = app
        .get_consistent(&format!("/v1/tasks/{id}/history"), &answer)
        .await;
    assert_eq!(
        read.status(),
        StatusCode::OK,
        "the read waited for the replay"
    );
    read_done.send(()).unwrap();

    let done = replay.await.unwrap().unwrap();
    assert!(done.events_read >= 20 * 7, "{done:?}");
    app.wait_for_projections().await;
    let after = snapshot(&app.pool, "task_history", "global_position").await;
    let (new, old): (Vec<_>, Vec<_>) = after
        .into_iter()
        .partition(|row| row["task_id"] == id.to_string());
    assert_eq!(old, history, "the replay repaired the damaged rows");
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0]["event_type"], "TaskCreated");
}

/// Under writes that never pause, a replay still ends, and every event committed before,
/// during (the rebuild and the switch) and after it has exactly one history row.
#[tokio::test]
async fn a_replay_under_steady_writes_ends_with_one_row_per_event() {
    let app = TestApp::spawn().await;
    app.places().await;
    load(&app, &app.address, 10).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (base, client) = (app.address.clone(), app.client.clone());
        let (stop, count) = (stop.clone(), count.clone());
        tokio::spawn(async move {
            let mut written = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let url = format!("{base}/v1/tasks/{}/commands", Uuid::new_v4());
                let response = client
                    .post(&url)
                    .header("X-Actor", "test:writer")
                    .json(&create_task_body())
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                written += 1;
                count.store(written, std::sync::atomic::Ordering::Relaxed);
            }
            written
        })
    };
    while count.load(std::sync::atomic::Ordering::Relaxed) < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let projector = projections::all()
        .into_iter()
        .find(|p| p.name() == "task_history")
        .unwrap();
    tokio::time::timeout(
        Duration::from_secs(60),
        projections::replay(&app.pool, projector.as_ref(), 3, |_| {}),
    )
    .await
    .expect("the replay ends under steady writes")
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    // The replay read what was below the horizon when it looked (on a shared cluster another
    // database's transaction may hold it back); the live runner carries on from its checkpoint.

    app.wait_for_projections().await;
    let positions = |sql: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    let events =
        positions("SELECT global_position FROM events WHERE aggregate_type = 'Task' ORDER BY 1")
            .await;
    assert_eq!(events.len(), 10 * 7 + written);
    assert_eq!(
        positions("SELECT global_position FROM task_history ORDER BY 1").await,
        events
    );
}

#[tokio::test]
async fn a_replay_that_fails_changes_nothing() {
    let app = TestApp::spawn().await;
    load(&app, &app.address, 5).await;
    app.wait_for_projections().await;
    let tasks = snapshot(&app.pool, "tasks", "id").await;
    let checkpoint = |pool: PgPool| async move {
        projections::checkpoint::statuses(&pool)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.name == "tasks")
            .map(|p| (p.position, p.events_applied))
            .unwrap()
    };
    let before = checkpoint(app.pool.clone()).await;
    // A valid event whose row the table now refuses: the write fails as a whole, with no one
    // event to blame (a poison event would be parked, not fail the replay).
    sqlx::query(
        "ALTER TABLE tasks ADD CONSTRAINT no_boom CHECK (external_ref IS DISTINCT FROM 'order-boom')
         NOT VALID",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         SELECT 'Task', $1, 1, 'TaskCreated', event_version,
                jsonb_set(payload::jsonb, '{TaskCreated,external_ref}', '\"order-boom\"')::json,
                metadata
           FROM events WHERE event_type = 'TaskCreated' LIMIT 1",
    )
    .bind(Uuid::new_v4().to_string())
    .execute(&app.pool)
    .await
    .unwrap();

    // Once the live projector fails on it, the event is below the horizon (on a shared cluster
    // another database's transaction can hold it back), where the replay must meet it too.
    for _ in 0..300 {
        let statuses = projections::checkpoint::statuses(&app.pool).await.unwrap();
        if statuses.iter().any(|p| p.name == "tasks" && p.failures > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let projector = projections::all()
        .into_iter()
        .find(|p| p.name() == "tasks")
        .unwrap();
    let failed = projections::replay(&app.pool, projector.as_ref(), 2, |_| {}).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(snapshot(&app.pool, "tasks", "id").await, tasks);
    assert_eq!(checkpoint(app.pool.clone()).await, before);

    // Rebuilding every read model, in several sessions at once, with `tasks` stopping on the
    // event: the others, though rebuilt well, are not switched in either. (A damaged
    // `task_history`, which a switch would repair, stays as it was.)
    sqlx::query("DELETE FROM task_history WHERE sequence = 1")
        .execute(&app.pool)
        .await
        .unwrap();
    let damaged = snapshot(&app.pool, "task_history", "global_position").await;
    let all = projections::all();
    let rebuilds: Vec<_> = (all.iter())
        .map(|p| projections::Rebuild {
            projector: p.as_ref(),
            policy: if p.name() == "tasks" {
                projections::FailurePolicy::Stop
            } else {
                projections::FailurePolicy::Park
            },
        })
        .collect();
    let failed = projections::replay_many(&app.pool, &rebuilds, 3, |_| {}).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(
        snapshot(&app.pool, "task_history", "global_position").await,
        damaged
    );
    assert_eq!(snapshot(&app.pool, "tasks", "id").await, tasks);
}
