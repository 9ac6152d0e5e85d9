//! The assignment process and the deadlines, through the API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::crash::{effect_ahead_of_checkpoint, free_port, Service};
use crate::helpers::{
    create_task_body, operator_body, register_places, wait_for_projections,
    wait_for_projections_within, TestApp, TestDatabase,
};

/// A pending task; returns its id.
pub(crate) async fn pending_task(app: &TestApp) -> Uuid {
    let task = app.create_task().await;
    app.ok("tasks", task, json!({"type": "MarkTaskPending"}))
        .await;
    task
}

/// A pilot on shift with a REQUESTED assignment to `task`; returns (pilot, assignment).
pub(crate) async fn requested(app: &TestApp, task: Uuid) -> (Uuid, Uuid) {
    let (pilot, assignment) = (Uuid::new_v4(), Uuid::new_v4());
    app.pilot(pilot, json!({"type": "RegisterPilot"})).await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
    )
    .await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
    )
    .await;
    (pilot, assignment)
}

pub(crate) async fn accept(app: &TestApp, pilot: Uuid, assignment: Uuid) -> Value {
    app.ok(
        "pilots",
        pilot,
        json!({"type": "AcceptAssignment", "assignment_id": assignment}),
    )
    .await
}

/// The assignment's status in the read model ("" before it is projected).
pub(crate) async fn assignment_status(pool: &PgPool, assignment: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM pilot_assignments WHERE assignment_id = $1")
        .bind(assignment)
        .fetch_optional(pool)
        .await
        .unwrap()
        .unwrap_or_default()
}

pub(crate) async fn count(pool: &PgPool, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(pool)
        .await
        .unwrap()
}

pub(crate) async fn task_state(app: &TestApp, task: Uuid) -> Value {
    app.get(&format!("/v1/tasks/{task}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn two_pilots_accepting_one_task_at_once_leave_it_with_one() {
    let app = TestApp::spawn().await;
    let task = pending_task(&app).await;
    let (first, first_assignment) = requested(&app, task).await;
    let (second, second_assignment) = requested(&app, task).await;
    join_all([
        accept(&app, first, first_assignment),
        accept(&app, second, second_assignment),
    ])
    .await;
    app.wait_for_projections().await;

    let state = task_state(&app, task).await;
    let winner = state["pilot_id"].as_str().unwrap().to_string();
    let (loser_assignment, winner_assignment) = if winner == first.to_string() {
        (second_assignment, first_assignment)
    } else {
        assert_eq!(winner, second.to_string());
        (first_assignment, second_assignment)
    };
    assert_eq!(state["assignment_id"], winner_assignment.to_string());
    assert_eq!(
        assignment_status(&app.pool, winner_assignment).await,
        "ACCEPTED"
    );
    assert_eq!(
        assignment_status(&app.pool, loser_assignment).await,
        "REVOKED"
    );
    assert_eq!(count(&app.pool, "TaskPilotAssigned").await, 1);
    assert_eq!(count(&app.pool, "PilotAssignmentRevoked").await, 1);

    let (metadata, reason): (Value, Option<String>) = sqlx::query_as(
        "SELECT e.metadata::jsonb, h.reason FROM events e
           JOIN pilot_assignment_status_history h ON h.global_position = e.global_position
          WHERE e.event_type = 'PilotAssignmentRevoked'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(metadata["actor"], "process:assignment");
    assert!(metadata["causation_id"]
        .as_str()
        .unwrap()
        .starts_with("event:"));
    assert!(reason.unwrap().contains("already has pilot"));
}

#[tokio::test]
async fn completing_the_task_finishes_the_pilots_assignment_and_frees_the_pilot() {
    let app = TestApp::spawn().await;
    let task = pending_task(&app).await;
    let (pilot, assignment) = requested(&app, task).await;
    accept(&app, pilot, assignment).await;
    app.wait_for_projections().await;
    assert_eq!(task_state(&app, task).await["pilot_id"], pilot.to_string());
    for command in ["StartTask", "MarkTaskArrived", "CompleteTask"] {
        app.ok("tasks", task, json!({"type": command})).await;
    }
    app.wait_for_projections().await;
    assert_eq!(assignment_status(&app.pool, assignment).await, "FINISHED");
    // The completed task keeps the pilot who drove it.
    let state = task_state(&app, task).await;
    assert_eq!(state["status"], "COMPLETED");
    assert_eq!(state["pilot_id"], pilot.to_string());
    assert_eq!(count(&app.pool, "TaskPilotUnassigned").await, 0);
    let pilot_state: Value = app
        .get(&format!("/v1/pilots/{pilot}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pilot_state["active_assignment_id"], Value::Null);
    // Free again: the pilot takes the next task.
    let next = pending_task(&app).await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "RequestAssignment", "assignment_id": Uuid::new_v4(), "task_id": next}),
    )
    .await;
}

#[tokio::test]
async fn cancelling_the_task_cancels_the_assignment_and_unlinks_the_pilot() {
    let app = TestApp::spawn().await;
    let task = pending_task(&app).await;
    let (pilot, assignment) = requested(&app, task).await;
    accept(&app, pilot, assignment).await;
    app.wait_for_projections().await;
    app.ok(
        "tasks",
        task,
        json!({"type": "CancelTask", "reason": "WEATHER"}),
    )
    .await;
    app.wait_for_projections().await;
    assert_eq!(assignment_status(&app.pool, assignment).await, "CANCELED");
    let state = task_state(&app, task).await;
    assert_eq!(state["status"], "CANCELLED");
    assert_eq!(state["pilot_id"], Value::Null);
}

#[tokio::test]
async fn a_pilot_abandoning_its_assignment_frees_the_task() {
    let app = TestApp::spawn().await;
    let task = pending_task(&app).await;
    let (pilot, assignment) = requested(&app, task).await;
    accept(&app, pilot, assignment).await;
    app.wait_for_projections().await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "AbandonAssignment", "assignment_id": assignment, "reason": "video lost"}),
    )
    .await;
    app.wait_for_projections().await;
    assert_eq!(task_state(&app, task).await["pilot_id"], Value::Null);
    assert_eq!(count(&app.pool, "TaskPilotUnassigned").await, 1);
    // Another pilot can now take the task.
    let (other, other_assignment) = requested(&app, task).await;
    accept(&app, other, other_assignment).await;
    app.wait_for_projections().await;
    assert_eq!(task_state(&app, task).await["pilot_id"], other.to_string());
}

/// Polls `check` every 50 ms for up to `limit`; returns how long it took to become true.
pub(crate) async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {limit:?}");
}

#[tokio::test]
async fn an_assignment_nobody_accepts_goes_stale_on_time() {
    let app = TestApp::spawn_with(|s| {
        s.projections.assignment_timeout = Duration::from_secs(1);
    })
    .await;
    let task = pending_task(&app).await;
    let (_, assignment) = requested(&app, task).await;
    // Not before its timeout; and soon after it (`within` fails the test past 5 s; how soon
    // depends on the deadline interval and the machine's load, so no tighter bound here).
    let took = within(Duration::from_secs(5), async || {
        assignment_status(&app.pool, assignment).await == "STALE"
    })
    .await;
    assert!(took >= Duration::from_millis(900), "stale after {took:?}");
    assert_eq!(count(&app.pool, "PilotAssignmentStale").await, 1);
}

#[tokio::test]
async fn a_reservation_expires_on_time() {
    let app = TestApp::spawn().await;
    let pilot = app.new_pilot().await;
    let until = chrono::Utc::now() + chrono::Duration::seconds(1);
    app.ok(
        "pilots",
        pilot,
        json!({"type": "ReservePilot", "reservation_id": Uuid::new_v4(),
               "until": until.to_rfc3339()}),
    )
    .await;
    within(Duration::from_secs(5), async || {
        count(&app.pool, "PilotReservationExpired").await == 1
    })
    .await;
    let expired_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "SELECT recorded_at FROM events WHERE event_type = 'PilotReservationExpired'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        expired_at >= until,
        "expired at {expired_at}, before {until}"
    );
    app.wait_for_projections().await;
    let state: Value = app
        .get(&format!("/v1/pilots/{pilot}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["locked_until"], Value::Null);
}

#[tokio::test]
async fn two_instances_take_each_step_once() {
    let app = TestApp::spawn_with(|s| {
        s.projections.assignment_timeout = Duration::from_secs(1);
    })
    .await;
    let mut second = TestApp::settings(&app.db);
    second.projections.assignment_timeout = Duration::from_secs(1);
    let _second = TestApp::spawn_instance_with(second).await;
    let mut accepted = Vec::new();
    for _ in 0..5 {
        let task = pending_task(&app).await;
        let (pilot, assignment) = requested(&app, task).await;
        accept(&app, pilot, assignment).await;
        accepted.push(task);
    }
    let stale_task = pending_task(&app).await;
    let (_, stale) = requested(&app, stale_task).await;
    within(Duration::from_secs(5), async || {
        assignment_status(&app.pool, stale).await == "STALE"
    })
    .await;
    app.wait_for_projections().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(count(&app.pool, "TaskPilotAssigned").await, 5);
    assert_eq!(count(&app.pool, "PilotAssignmentStale").await, 1);
    for task in accepted {
        assert!(task_state(&app, task).await["pilot_id"].is_string());
    }
}

/// One flow of the crash test: a task that two pilots accept, one after the other (the second
/// is revoked), then the first finishes early (the task is freed). A redelivery that decided
/// the second acceptance again would find the task free and link the second pilot. Stops at
/// the first request that fails (the service was killed).
async fn contested_task(client: &reqwest::Client, base: &str) -> bool {
    let task = Uuid::new_v4();
    let mut steps = vec![
        ("tasks", task, create_task_body()),
        ("tasks", task, json!({"type": "MarkTaskPending"})),
    ];
    let mut first = None;
    for _ in 0..2 {
        let (pilot, assignment) = (Uuid::new_v4(), Uuid::new_v4());
        first.get_or_insert((pilot, assignment));
        steps.extend([
            ("operators", pilot, operator_body("PILOT")),
            ("pilots", pilot, json!({"type": "RegisterPilot"})),
            (
                "pilots",
                pilot,
                json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
            ),
            (
                "pilots",
                pilot,
                json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
            ),
            (
                "pilots",
                pilot,
                json!({"type": "AcceptAssignment", "assignment_id": assignment}),
            ),
        ]);
    }
    let (pilot, assignment) = first.expect("two pilots");
    steps.push((
        "pilots",
        pilot,
        json!({"type": "FinishAssignment", "assignment_id": assignment}),
    ));
    for (collection, id, body) in steps {
        let sent = client
            .post(format!("{base}/v1/{collection}/{id}/commands"))
            .json(&body)
            .send()
            .await;
        if !matches!(sent, Ok(ref r) if r.status().is_success()) {
            return false;
        }
    }
    true
}

/// True when the assignment process has freed a task (after its first pilot finished) for an
/// event past its checkpoint, while the second pilot's acceptance, refused by that task, is
/// past it too: a redelivery that decided again would now link the second pilot.
async fn task_freed_ahead_of_checkpoint(pool: &PgPool) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (
            SELECT FROM projector_checkpoints c, events finished, events freed, events second
             WHERE c.name = 'assignment_process'
               AND finished.event_type = 'PilotAssignmentFinished'
               AND (finished.transaction_id, finished.global_position)
                   > (c.transaction_id, c.position)
               AND freed.metadata->>'causation_id' = 'event:' || finished.global_position
               AND second.event_type = 'PilotAssignmentAccepted'
               AND second.payload->'PilotAssignmentAccepted'->>'task_id' = freed.aggregate_id
               AND second.aggregate_id <> finished.aggregate_id
               AND (second.transaction_id, second.global_position)
                   > (c.transaction_id, c.position))",
    )
    .fetch_one(pool)
    .await
    .unwrap_or(false)
}

#[tokio::test]
async fn a_process_killed_mid_flight_does_nothing_twice_and_misses_nothing() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let pool = PgPool::connect_with(db.options.clone()).await.unwrap();
    let mut mid_batch = 0;
    for round in 0..3 {
        let mut service = Service::start(&db, port).await;
        let (base, client) = (service.base.clone(), service.client.clone());
        if round == 0 {
            register_places(&client, &base).await;
        }
        // Clients keep sending until the service dies under them: the kill lands while
        // requests are in flight and the process is reacting to the ones before.
        let finished = AtomicUsize::new(0);
        let work = (0..8).map(|_| {
            let (client, base, finished) = (client.clone(), base.clone(), &finished);
            async move {
                while contested_task(&client, &base).await {
                    finished.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let killer = async {
            while finished.load(Ordering::Relaxed) < 10 + 10 * round {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // Best of all between a process effect and its checkpoint: the batch then comes
            // again after the restart, and only the recorded decisions keep it from acting twice.
            // Better still when the batch freed a task that a second pilot's acceptance, in
            // the same batch, was refused: a redelivery deciding again would link that pilot.
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(3) {
                let seen = if started.elapsed() < Duration::from_secs(2) {
                    task_freed_ahead_of_checkpoint(&pool).await
                } else {
                    effect_ahead_of_checkpoint(&pool, "assignment_process", "process:assignment")
                        .await
                };
                if seen {
                    mid_batch += 1;
                    break;
                }
            }
            service.kill();
        };
        tokio::join!(join_all(work), killer);
    }
    assert!(
        mid_batch > 0,
        "no kill landed between an effect and its checkpoint"
    );
    let _service = Service::start(&db, port).await;
    // The backlog is the process's: hundreds of decisions, each its own commands, issued one
    // after another (about 20 s here alone, in a debug build; more beside the other tests).
    wait_for_projections_within(&pool, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_for_projections(&pool).await;

    // One effect per causing event and step: nothing decided twice across the kills.
    let twice: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT metadata->>'causation_id', event_type, count(*) FROM events
          WHERE metadata->>'actor' = 'process:assignment'
          GROUP BY 1, 2 HAVING count(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(twice, [], "effects decided twice");
    // And none missed: each task that pilots accepted holds the first of them until it
    // finishes, and the second is revoked.
    let per_task: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "WITH counted AS (
            SELECT CASE WHEN aggregate_type = 'Task' THEN aggregate_id
                        ELSE payload->event_type->>'task_id' END AS task, event_type
              FROM events)
         SELECT task,
                count(*) FILTER (WHERE event_type = 'PilotAssignmentAccepted'),
                count(*) FILTER (WHERE event_type = 'PilotAssignmentFinished'),
                count(*) FILTER (WHERE event_type = 'TaskPilotAssigned'),
                count(*) FILTER (WHERE event_type = 'TaskPilotUnassigned'),
                count(*) FILTER (WHERE event_type = 'PilotAssignmentRevoked')
           FROM counted GROUP BY task
         HAVING count(*) FILTER (WHERE event_type = 'PilotAssignmentAccepted') > 0",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(per_task.len() >= 30, "{per_task:?}");
    for (task, accepted, finished, assigned, unassigned, revoked) in &per_task {
        assert_eq!(
            (*assigned, *unassigned, *revoked),
            (1, *finished, accepted - 1),
            "task {task}: accepted {accepted} times, finished {finished}"
        );
    }
}

/// A pilot on shift with a REQUESTED assignment `assignment` to `task`.
async fn requested_as(app: &TestApp, task: Uuid, assignment: Uuid) -> Uuid {
    let pilot = app.new_pilot().await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
    )
    .await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
    )
    .await;
    pilot
}

#[tokio::test]
async fn two_pilots_accepting_one_task_under_the_same_assignment_id_still_leave_one() {
    let app = TestApp::spawn().await;
    let task = pending_task(&app).await;
    let shared = Uuid::new_v4();
    let first = requested_as(&app, task, shared).await;
    let second = requested_as(&app, task, shared).await;
    accept(&app, first, shared).await;
    app.wait_for_projections().await;
    accept(&app, second, shared).await;
    app.wait_for_projections().await;

    assert_eq!(task_state(&app, task).await["pilot_id"], first.to_string());
    let statuses: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT pilot_id, status FROM pilot_assignments WHERE assignment_id = $1 ORDER BY status",
    )
    .bind(shared)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        statuses,
        [
            (first, "ACCEPTED".to_string()),
            (second, "REVOKED".to_string())
        ]
    );
    // The second pilot's revoked assignment does not unlink the first from the task.
    assert_eq!(task_state(&app, task).await["pilot_id"], first.to_string());
    let projectors = projections::checkpoint::statuses(&app.pool).await.unwrap();
    assert!(projectors.iter().all(|p| p.failures == 0), "{projectors:?}");
}

#[tokio::test]
async fn a_just_registered_pilot_has_its_registration_in_its_history() {
    let app = TestApp::spawn().await;
    let pilot = Uuid::new_v4();
    let answer = app.pilot(pilot, json!({"type": "RegisterPilot"})).await;
    let response = app
        .get_consistent(&format!("/v1/pilots/{pilot}/history"), &answer)
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let history: Value = response.json().await.unwrap();
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(items[0]["kind"], "pilot");
    assert_eq!(items[0]["subject_id"], pilot.to_string());
    assert_eq!(items[0]["event_type"], "PilotRegistered");
    assert_eq!(items[0]["from_status"], Value::Null);
    assert_eq!(items[0]["to_status"], "ACTIVE");
    assert_eq!(items[0]["actor"], "key:test-admin");
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_before_it_reaches_a_read_model() {
    let app = TestApp::spawn().await;
    let task = pending_task(&app).await;
    let before = app.event_count().await;
    let response = app
        .command(
            "tasks",
            task,
            json!({"type": "PauseTask", "reason": "a\u{0}b"}),
        )
        .await;
    crate::helpers::assert_problem(response, reqwest::StatusCode::BAD_REQUEST, "invalid_field")
        .await;
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn client_idempotency_keys_live_apart_from_the_processes_keys() {
    let app = TestApp::spawn().await;
    app.places().await;
    let response = app
        .post_command("tasks", Uuid::new_v4())
        .header("Idempotency-Key", "deadline:expire:x")
        .json(&create_task_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let keys: Vec<String> = sqlx::query_scalar("SELECT idempotency_key FROM idempotency_keys")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(keys, ["client:key:test-admin:deadline:expire:x"]);
}
