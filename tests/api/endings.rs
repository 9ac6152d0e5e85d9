//! Every way a pilot's assignment ends, against a task that is still open: the task lets the
//! pilot go, the pilot can take another task, another pilot can take this one, and no pilot is
//! ever shown on two open tasks. And the process decides each event once, refusals included,
//! also when a batch is delivered again.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::process::{accept, assignment_status, pending_task, requested, task_state, within};

/// Pilots shown on more than one open task, by the tasks read model.
async fn pilots_on_two_open_tasks(pool: &PgPool) -> Vec<(Uuid, i64)> {
    sqlx::query_as(
        "SELECT pilot_id, count(*) FROM tasks
          WHERE pilot_id IS NOT NULL AND status NOT IN ('COMPLETED', 'CANCELLED')
          GROUP BY pilot_id HAVING count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Ends `assignment` of `pilot` with `command` (a catalogue command a client may send).
async fn end(app: &TestApp, pilot: Uuid, assignment: Uuid, command: &str) {
    let mut body = json!({"type": command, "assignment_id": assignment});
    if !matches!(command, "FinishAssignment" | "MarkAssignmentStale") {
        body["reason"] = json!("test ending");
    }
    app.ok("pilots", pilot, body).await;
}

/// X takes task 1 (accepting it when `accepted`), its assignment ends with `command`; then X
/// takes task 2 and Y takes task 1. Returns what went wrong, if anything.
async fn scenario(app: &TestApp, command: &'static str, accepted: bool) -> Result<(), String> {
    let (first, second) = (pending_task(app).await, pending_task(app).await);
    let (x, x_first) = requested(app, first).await;
    if accepted {
        accept(app, x, x_first).await;
        app.wait_for_projections().await;
        let state = task_state(app, first).await;
        if state["pilot_id"] != x.to_string() {
            return Err(format!("{command}: task 1 did not take X: {state}"));
        }
    }
    end(app, x, x_first, command).await;
    let x_second = Uuid::new_v4();
    app.ok(
        "pilots",
        x,
        json!({"type": "RequestAssignment", "assignment_id": x_second, "task_id": second}),
    )
    .await;
    accept(app, x, x_second).await;
    let (y, y_first) = requested(app, first).await;
    accept(app, y, y_first).await;
    app.wait_for_projections().await;

    let (one, two) = (task_state(app, first).await, task_state(app, second).await);
    let mut wrong = Vec::new();
    if one["pilot_id"] != y.to_string() || one["assignment_id"] != y_first.to_string() {
        wrong.push(format!("task 1 should have Y: {one}"));
    }
    if two["pilot_id"] != x.to_string() {
        wrong.push(format!("task 2 should have X: {two}"));
    }
    for (name, assignment) in [("Y", y_first), ("X's second", x_second)] {
        let status = assignment_status(&app.pool, assignment).await;
        if status != "ACCEPTED" {
            wrong.push(format!("{name} assignment is {status}"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{command} (accepted: {accepted}): {}",
            wrong.join("; ")
        ))
    }
}

#[tokio::test]
async fn every_way_an_assignment_ends_frees_its_open_task_and_no_pilot_is_on_two() {
    let app = TestApp::spawn().await;
    let endings = [
        ("FinishAssignment", true),
        ("AbandonAssignment", true),
        ("CancelAssignment", true),
        ("RevokeAssignment", true),
        ("RejectAssignment", false),
        ("CancelAssignment", false),
        ("RevokeAssignment", false),
        ("MarkAssignmentStale", false),
    ];
    let outcomes = join_all(
        endings
            .iter()
            .map(|&(command, accepted)| scenario(&app, command, accepted)),
    )
    .await;
    let failures: Vec<String> = outcomes.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(pilots_on_two_open_tasks(&app.pool).await, []);
    // Each ending's task 1 was free for Y: the process revoked nobody.
    let revoked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'PilotAssignmentRevoked'
            AND metadata->>'actor' = 'process:assignment'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(revoked, 0);
}

#[tokio::test]
async fn a_finished_assignment_unlinks_its_open_task_with_a_reason() {
    let app = TestApp::spawn().await;
    let task = pending_task(&app).await;
    let (pilot, assignment) = requested(&app, task).await;
    accept(&app, pilot, assignment).await;
    app.wait_for_projections().await;
    end(&app, pilot, assignment, "FinishAssignment").await;
    app.wait_for_projections().await;
    let state = task_state(&app, task).await;
    assert_eq!(state["pilot_id"], Value::Null, "{state}");
    assert_eq!(state["status"], "PENDING");
    let events: Value = app
        .get(&format!("/v1/tasks/{task}/events"))
        .await
        .json()
        .await
        .unwrap();
    let unassigned: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["event_type"] == "TaskPilotUnassigned")
        .collect();
    assert_eq!(unassigned.len(), 1, "{events}");
    assert_eq!(
        unassigned[0]["payload"]["reason"],
        "the pilot's assignment finished"
    );
    assert_eq!(unassigned[0]["metadata"]["actor"], "process:assignment");
}

/// Every event the assignment process wrote, as (stream, type, causation id), in feed order.
async fn process_effects(pool: &PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT aggregate_id, event_type, metadata->>'causation_id' FROM events
          WHERE metadata->>'actor' = 'process:assignment' ORDER BY global_position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_batch_delivered_again_decides_nothing_again_refusals_included() {
    // The commands are written with the process stopped, so that it meets them all at once:
    // when it reacts to X's acceptance, X has already cancelled, and the revocation it decides
    // on is refused. A redelivery that forgot that refusal would find the task free by then
    // (Y abandoned) and write a spurious assigned/unassigned pair into its trail.
    let app = TestApp::spawn_with(|s| s.projections.disabled = true).await;
    let task = pending_task(&app).await;
    let (y, y_assignment) = requested(&app, task).await;
    accept(&app, y, y_assignment).await;
    let (x, x_assignment) = requested(&app, task).await;
    accept(&app, x, x_assignment).await;
    end(&app, x, x_assignment, "CancelAssignment").await;
    end(&app, y, y_assignment, "AbandonAssignment").await;
    let _runner = TestApp::spawn_instance(&app.db).await;
    app.wait_for_projections().await;
    let first = process_effects(&app.pool).await;
    let types: Vec<&str> = first.iter().map(|(_, t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        ["TaskPilotAssigned", "TaskPilotUnassigned"],
        "{first:?}"
    );
    let trail = app.event_types(task).await;

    // As after a crash between the effects and the checkpoint: the whole feed again.
    sqlx::query(
        "UPDATE projector_checkpoints SET transaction_id = '0', position = 0, events_applied = 0
          WHERE name = 'assignment_process'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    within(Duration::from_secs(10), async || {
        sqlx::query_scalar::<_, i64>(
            "SELECT events_applied FROM projector_checkpoints WHERE name = 'assignment_process'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
            > 0
    })
    .await;
    app.wait_for_projections().await;
    assert_eq!(process_effects(&app.pool).await, first);
    assert_eq!(app.event_types(task).await, trail);
    let decided: i64 = sqlx::query_scalar("SELECT count(*) FROM process_decisions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(decided >= 2, "the refusals were recorded: {decided}");
}

#[tokio::test]
async fn an_id_used_again_after_64_others_meets_its_deadlines_again() {
    let app = TestApp::spawn_with(|s| {
        s.projections.assignment_timeout = Duration::from_secs(1);
    })
    .await;
    let task = pending_task(&app).await;
    let (pilot, assignment) = requested(&app, task).await;
    let reservation = Uuid::new_v4();
    let reserve = |until: chrono::DateTime<chrono::Utc>| {
        json!({"type": "ReservePilot", "reservation_id": reservation,
               "until": until.to_rfc3339()})
    };
    within(Duration::from_secs(5), async || {
        assignment_status(&app.pool, assignment).await == "STALE"
    })
    .await;
    // The pilot is on shift; a reservation made now, for a second, lapses and is expired.
    app.ok(
        "pilots",
        pilot,
        reserve(chrono::Utc::now() + chrono::Duration::seconds(1)),
    )
    .await;
    within(Duration::from_secs(5), async || {
        crate::process::count(&app.pool, "PilotReservationExpired").await == 1
    })
    .await;
    // 64 other ids later, the pilot forgets the first two and may use them again.
    for _ in 0..64 {
        let other = Uuid::new_v4();
        app.ok(
            "pilots",
            pilot,
            json!({"type": "RequestAssignment", "assignment_id": other, "task_id": task}),
        )
        .await;
        end(&app, pilot, other, "CancelAssignment").await;
    }
    app.ok(
        "pilots",
        pilot,
        json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
    )
    .await;
    within(Duration::from_secs(5), async || {
        crate::process::count(&app.pool, "PilotAssignmentStale").await == 2
    })
    .await;
    app.ok(
        "pilots",
        pilot,
        reserve(chrono::Utc::now() + chrono::Duration::seconds(1)),
    )
    .await;
    within(Duration::from_secs(5), async || {
        crate::process::count(&app.pool, "PilotReservationExpired").await == 2
    })
    .await;
}
