//! Pilots and field operators are operators: the role checks of their commands, the process
//! that moves an operator's status with its pilot's shift, and the upgrade that gives pilots
//! stored before this their operator.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aggregates::pilot::{Pilot, PilotCommand, PilotServices, ShiftStatus};
use futures::future::join_all;
use operations::commands::{self, CommandEnvelope};
use operations::store::{EventMetadata, EventStore};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::crash::{effect_ahead_of_checkpoint, free_port, Service};
use crate::helpers::{
    assert_problem, operator_body, wait_for_projections, wait_for_projections_within, TestApp,
    TestDatabase, HUB,
};

fn start_shift() -> Value {
    json!({"type": "StartShift", "shift_id": Uuid::new_v4()})
}

fn shift_state(state: &str) -> Value {
    json!({"type": "ChangeShiftState", "state": state})
}

async fn deactivate(app: &TestApp, operator: Uuid) {
    let body = json!({"type": "DeactivateOperator", "reason": "left the company"});
    app.ok("operators", operator, body).await;
}

#[tokio::test]
async fn a_pilot_is_registered_and_starts_shifts_only_as_an_active_operator_with_role_pilot() {
    let app = TestApp::spawn().await;
    let (nobody, field, gone, pilot) = (
        Uuid::new_v4(),
        app.field_operator().await,
        app.pilot_operator().await,
        app.pilot_operator().await,
    );
    deactivate(&app, gone).await;
    let register = json!({"type": "RegisterPilot"});
    let unknown = app
        .refused(
            "pilots",
            nobody,
            register.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
        )
        .await;
    assert_eq!(unknown["field"], "id");
    assert_eq!(unknown["value"], nobody.to_string());
    for (id, state) in [(field, "FIELD"), (gone, "DEACTIVATED")] {
        let problem = app
            .refused(
                "pilots",
                id,
                register.clone(),
                StatusCode::CONFLICT,
                "reference_state",
            )
            .await;
        assert_eq!(
            (problem["field"].as_str(), problem["state"].as_str()),
            (Some("id"), Some(state)),
            "{problem}"
        );
    }
    app.ok("pilots", pilot, register).await;
    app.ok("pilots", pilot, start_shift()).await;
    app.ok("pilots", pilot, json!({"type": "EndShift"})).await;

    // A deactivated operator's pilot starts no further shift; what else it has stays its own.
    // (The shift process first records the operator OFFLINE: a deactivation sent while it
    // writes would be a 409 to retry, as the API says.)
    app.wait_for_projections().await;
    deactivate(&app, pilot).await;
    app.wait_for_projections().await;
    let problem = app
        .refused(
            "pilots",
            pilot,
            start_shift(),
            StatusCode::CONFLICT,
            "reference_state",
        )
        .await;
    assert_eq!(problem["state"], "DEACTIVATED");
    let profile = json!({"type": "UpdatePilotProfile", "pilot_location": "US"});
    app.ok("pilots", pilot, profile).await;
}

#[tokio::test]
async fn a_field_task_is_assigned_only_an_active_field_operator_of_any_hub() {
    let app = TestApp::spawn().await;
    app.places().await;
    let task = Uuid::new_v4();
    let body = json!({"type": "CreateFoTask", "hub_id": HUB, "kind": "ROBOT_RESCUE"});
    app.ok("fo-tasks", task, body).await;
    let assign = |fo: Uuid| json!({"type": "AssignFieldOperator", "assignment_id": Uuid::new_v4(), "fo_id": fo});
    let (nobody, pilot, gone) = (
        Uuid::new_v4(),
        app.pilot_operator().await,
        app.field_operator().await,
    );
    deactivate(&app, gone).await;
    let unknown = app
        .refused(
            "fo-tasks",
            task,
            assign(nobody),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
        )
        .await;
    assert_eq!(unknown["field"], "fo_id");
    assert_eq!(unknown["value"], nobody.to_string());
    for (id, state) in [(pilot, "PILOT"), (gone, "DEACTIVATED")] {
        let problem = app
            .refused(
                "fo-tasks",
                task,
                assign(id),
                StatusCode::CONFLICT,
                "reference_state",
            )
            .await;
        assert_eq!(problem["field"], "fo_id");
        assert_eq!(problem["state"], state, "{problem}");
    }
    // Rescue crosses hubs: a field operator of another hub, or of none yet, is taken.
    let elsewhere = app.field_operator().await;
    let other_hub = app.hub().await;
    let join = json!({"type": "AssignOperatorToHub", "hub_id": other_hub});
    app.ok("operators", elsewhere, join).await;
    app.ok("fo-tasks", task, assign(elsewhere)).await;
    app.ok("fo-tasks", task, assign(app.field_operator().await))
        .await;
}

#[tokio::test]
async fn shifts_starting_while_their_operators_are_deactivated_on_two_instances_never_follow_it() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    let mut pilots = Vec::new();
    for _ in 0..12 {
        pilots.push(app.new_pilot().await);
    }
    let send = |n: usize, path: String, body: Value| {
        app.client
            .post(format!("{}{path}", instances[n % 2]))
            .json(&body)
            .send()
    };
    // A deactivation that meets the shift process writing the operator's status is a 409 to
    // retry, as the API says: a client retries it.
    let deactivations = join_all(pilots.iter().enumerate().map(|(n, id)| async move {
        let body = json!({"type": "DeactivateOperator"});
        let mut answer = send(n + 1, format!("/v1/operators/{id}/commands"), body.clone()).await;
        for _ in 0..10 {
            match &answer {
                Ok(a) if a.status() == StatusCode::CONFLICT => {
                    answer = send(n + 1, format!("/v1/operators/{id}/commands"), body.clone()).await
                }
                _ => break,
            }
        }
        answer
    }));
    let shifts = join_all(
        pilots
            .iter()
            .enumerate()
            .map(|(n, id)| send(n, format!("/v1/pilots/{id}/commands"), start_shift())),
    );
    let (deactivated, shifts) = tokio::join!(deactivations, shifts);
    for answer in deactivated {
        assert_eq!(answer.unwrap().status(), StatusCode::OK);
    }
    for answer in shifts {
        let answer = answer.unwrap();
        if answer.status() != StatusCode::OK {
            let problem = assert_problem(answer, StatusCode::CONFLICT, "reference_state").await;
            assert_eq!(problem["state"], "DEACTIVATED");
        }
    }
    // No shift started after its operator's deactivation committed.
    let late: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events s JOIN events d ON d.aggregate_id = s.aggregate_id
          WHERE s.event_type = 'PilotShiftStarted' AND d.event_type = 'OperatorDeactivated'
            AND (s.transaction_id, s.global_position) > (d.transaction_id, d.global_position)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(late, 0);
}

/// The operator's timeline (`GET /v1/operators/{id}/history`) once every projector and process
/// has caught up, as (event type, to_status, actor, causation id).
async fn timeline(app: &TestApp, operator: Uuid) -> Vec<(String, Value, String, String)> {
    app.wait_for_projections().await;
    let history: Value = app
        .get(&format!("/v1/operators/{operator}/history"))
        .await
        .json()
        .await
        .unwrap();
    (history["items"].as_array().unwrap().iter())
        .map(|row| {
            (
                row["event_type"].as_str().unwrap().to_string(),
                row["to_status"].clone(),
                row["actor"].as_str().unwrap().to_string(),
                row["causation_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The global positions of the pilot's events of `event_type`, in order.
async fn positions(pool: &PgPool, pilot: Uuid, event_type: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT global_position FROM events
          WHERE aggregate_type = 'Pilot' AND aggregate_id = $1 AND event_type = $2
          ORDER BY sequence",
    )
    .bind(pilot.to_string())
    .bind(event_type)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_pilots_shift_moves_its_operators_status_and_the_timeline_names_the_shift_event() {
    let app = TestApp::spawn().await;
    let pilot = app.new_pilot().await;
    for body in [
        start_shift(),
        shift_state("ON_BREAK"),
        // Cooldown after a break is still a pause: the status stays, nothing is recorded.
        shift_state("ON_COOLDOWN"),
        shift_state("ON_SHIFT"),
        shift_state("UNRESPONSIVE"),
        shift_state("ON_SHIFT"),
        json!({"type": "EndShift"}),
    ] {
        app.ok("pilots", pilot, body).await;
    }
    let started = positions(&app.pool, pilot, "PilotShiftStarted").await;
    let changed = positions(&app.pool, pilot, "PilotShiftStateChanged").await;
    let ended = positions(&app.pool, pilot, "PilotShiftEnded").await;
    let by_process = |status: &str, cause: i64| {
        (
            "OperatorStatusChanged".to_string(),
            json!(status),
            "process:shift".to_string(),
            format!("event:{cause}"),
        )
    };
    let rows = timeline(&app, pilot).await;
    assert_eq!(rows[0].0, "OperatorRegistered");
    assert_eq!(
        rows[1..],
        [
            by_process("AVAILABLE", started[0]),
            by_process("IN_BREAK", changed[0]),
            by_process("AVAILABLE", changed[2]),
            by_process("IN_BREAK", changed[3]),
            by_process("AVAILABLE", changed[4]),
            by_process("OFFLINE", ended[0]),
        ]
    );
    let operator: Value = app
        .get(&format!("/v1/operators/{pilot}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(operator["status"], "OFFLINE");

    // A deactivated operator stays OFFLINE: its pilot's shift (started before) moves nothing.
    let other = app.new_pilot().await;
    app.ok("pilots", other, start_shift()).await;
    // (Once the process has made it AVAILABLE: deactivated first, it would stay OFFLINE too.)
    app.wait_for_projections().await;
    deactivate(&app, other).await;
    app.ok("pilots", other, shift_state("ON_BREAK")).await;
    app.ok("pilots", other, json!({"type": "EndShift"})).await;
    let rows = timeline(&app, other).await;
    let types: Vec<_> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        types,
        [
            "OperatorRegistered",
            "OperatorStatusChanged",
            "OperatorDeactivated"
        ]
    );
}

/// A pilot cycling through shifts until a request fails (the service was killed).
async fn cycling_shifts(client: &reqwest::Client, base: &str) -> bool {
    let pilot = Uuid::new_v4();
    let steps = [
        ("operators", operator_body("PILOT")),
        ("pilots", json!({"type": "RegisterPilot"})),
        ("pilots", start_shift()),
        ("pilots", shift_state("ON_BREAK")),
        ("pilots", shift_state("ON_SHIFT")),
        ("pilots", json!({"type": "EndShift"})),
        ("pilots", start_shift()),
    ];
    for (collection, body) in steps {
        let sent = client
            .post(format!("{base}/v1/{collection}/{pilot}/commands"))
            .json(&body)
            .send()
            .await;
        if !matches!(sent, Ok(ref r) if r.status().is_success()) {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn the_shift_process_killed_mid_batch_moves_each_operator_once_per_shift_event() {
    let db = TestDatabase::create().await;
    let port = free_port();
    let pool = PgPool::connect_with(db.options.clone()).await.unwrap();
    let mut mid_batch = 0;
    for round in 0..3 {
        let mut service = Service::start(&db, port).await;
        let (base, client) = (service.base.clone(), service.client.clone());
        let finished = AtomicUsize::new(0);
        let work = (0..6).map(|_| {
            let (client, base, finished) = (client.clone(), base.clone(), &finished);
            async move {
                while cycling_shifts(&client, &base).await {
                    finished.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let killer = async {
            while finished.load(Ordering::Relaxed) < 5 + 5 * round {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(3) {
                if effect_ahead_of_checkpoint(&pool, "shift_process", "process:shift").await {
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
    wait_for_projections_within(&pool, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_for_projections(&pool).await;

    let twice: Vec<(String, i64)> = sqlx::query_as(
        "SELECT metadata->>'causation_id', count(*) FROM events
          WHERE metadata->>'actor' = 'process:shift' GROUP BY 1 HAVING count(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(twice, [], "a shift event moved its operator twice");
    // None missed: each shift event that changes what the operator should be has its effect,
    // and every operator ends where its pilot's shift puts it.
    let missed: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.aggregate_id, s.global_position FROM events s
          WHERE s.event_type IN ('PilotShiftStarted', 'PilotShiftEnded')
            AND NOT EXISTS (SELECT FROM events e
                             WHERE e.metadata->>'causation_id' = 'event:' || s.global_position)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(missed, [], "shift events without their status change");
    let apart: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(
        "SELECT o.id, o.status, s.state FROM operators o
           JOIN pilots p ON p.id = o.id
           LEFT JOIN pilot_shifts s ON s.shift_id = p.active_shift_id
          WHERE o.status <> CASE WHEN s.state = 'ON_SHIFT' THEN 'AVAILABLE'
                                 WHEN s.state IS NULL THEN 'OFFLINE' ELSE 'IN_BREAK' END",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        apart,
        [],
        "operators whose status is not their pilot's shift's"
    );
    let operators: i64 = sqlx::query_scalar("SELECT count(*) FROM operators")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(operators >= 15, "{operators} operators");
}

/// Records a command as the service before this change did (a pilot needed no operator).
async fn recorded_before<A>(
    store: &EventStore,
    services: &A::Services,
    id: Uuid,
    command: A::Command,
) where
    A: operations::store::Stream,
    A::Command: aggregates::CommandNames + Clone,
{
    let envelope = CommandEnvelope {
        aggregate_id: id,
        command,
        precondition: None,
        idempotency: None,
        metadata: EventMetadata {
            actor: "key:old-service".into(),
            on_behalf_of: None,
            command: "old".into(),
            request_id: Uuid::new_v4().to_string(),
            correlation_id: Uuid::new_v4().to_string(),
            causation_id: Uuid::new_v4().to_string(),
        },
    };
    commands::execute::<A>(store, services, envelope)
        .await
        .unwrap();
}

async fn as_before(store: &EventStore, pilot: Uuid, command: PilotCommand) {
    let services = PilotServices {
        now: chrono::Utc::now(),
    };
    recorded_before::<Pilot>(store, &services, pilot, command).await;
}

#[tokio::test]
async fn pilots_stored_before_pilots_were_operators_get_their_operator_from_the_upgrade_once() {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect_with(db.options.clone()).await.unwrap();
    // The database as the version before this one left it: every migration before the
    // upgrades', and pilots without operators.
    let mut before = sqlx::migrate!("./migrations");
    let earlier: Vec<_> = (before.migrations.iter())
        .filter(|m| m.version < 20261202000025)
        .cloned()
        .collect();
    before.migrations = earlier.into();
    before.run(&pool).await.unwrap();
    let store = EventStore::new(pool.clone(), Default::default()).checking_references(false);
    let (idle, on_shift, on_break, taken) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let (user, shared) = (Uuid::new_v4(), Uuid::new_v4());
    for (pilot, user_id) in [
        (idle, Some(user)),
        (on_shift, None),
        (on_break, None),
        (taken, Some(shared)),
    ] {
        let register = PilotCommand::RegisterPilot {
            user_id,
            pilot_location: None,
            pilot_center_id: None,
        };
        as_before(&store, pilot, register).await;
    }
    for pilot in [on_shift, on_break] {
        let shift_id = Uuid::new_v4();
        as_before(&store, pilot, PilotCommand::StartShift { shift_id }).await;
    }
    let pause = PilotCommand::ChangeShiftState {
        state: ShiftStatus::OnBreak,
    };
    as_before(&store, on_break, pause).await;
    // A run of the upgrade (of this version) stopped after registering one pilot's operator,
    // before setting its status.
    let stopped = aggregates::operator::OperatorCommand::RegisterOperator {
        role: aggregates::operator::OperatorRole::Pilot,
        user_id: None,
        display_name: None,
    };
    let cause = operations::process::Cause {
        actor: operations::upgrade::PILOT_OPERATORS_ACTOR,
        causation_id: "event:2".into(),
        correlation_id: "upgrade:pilot-operators".into(),
    };
    let key = operations::upgrade::decision_key(on_shift, "register");
    operations::process::decide_once::<aggregates::operator::Operator>(
        &store,
        &(),
        key,
        on_shift,
        stopped,
        &cause,
    )
    .await
    .unwrap();
    // An operator that came before the upgrade holds the user of one pilot.
    let dispatcher = Uuid::new_v4();
    let holder = aggregates::operator::OperatorCommand::RegisterOperator {
        role: aggregates::operator::OperatorRole::Dispatch,
        user_id: Some(shared),
        display_name: None,
    };
    recorded_before::<aggregates::operator::Operator>(&store, &(), dispatcher, holder).await;

    // `operations migrate` runs the upgrade; a second run records nothing new.
    let cli = |args: &'static [&'static str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_operations"))
            .args(args)
            .env(
                "DATABASE_URL",
                sqlx::ConnectOptions::to_url_lossy(&db.options).to_string(),
            )
            .output()
    };
    let migrated = cli(&["migrate"]).await.unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let after_first = count().await;
    let again = cli(&["migrate"]).await.unwrap();
    assert!(again.status.success(), "{again:?}");
    assert_eq!(
        count().await,
        after_first,
        "the second run recorded nothing"
    );

    let upgraded: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT aggregate_id, event_type, metadata->>'actor',
                COALESCE(payload->event_type->>'role', payload->event_type->>'to_status')
                  || COALESCE(' ' || (payload->event_type->>'user_id'), '')
           FROM events WHERE aggregate_type = 'Operator' AND aggregate_id <> $1
          ORDER BY global_position",
    )
    .bind(dispatcher.to_string())
    .fetch_all(&pool)
    .await
    .unwrap();
    let row = |id: Uuid, event: &str, what: String| {
        (
            id.to_string(),
            event.to_string(),
            "upgrade:pilot-operators".to_string(),
            Some(what),
        )
    };
    assert_eq!(
        upgraded,
        [
            // The stopped run's; the upgrade finished that pilot (its status), once.
            row(on_shift, "OperatorRegistered", "PILOT".into()),
            row(idle, "OperatorRegistered", format!("PILOT {user}")),
            row(on_shift, "OperatorStatusChanged", "AVAILABLE".into()),
            row(on_break, "OperatorRegistered", "PILOT".into()),
            row(on_break, "OperatorStatusChanged", "IN_BREAK".into()),
            // The dispatcher keeps its user: this pilot's operator has none.
            row(taken, "OperatorRegistered", "PILOT".into()),
        ]
    );
    // Through the store: chained (the audit verifies), claimed, and in the registry.
    let verified = cli(&["verify"]).await.unwrap();
    assert!(verified.status.success(), "{verified:?}");
    let registry: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM entity_registry WHERE aggregate_type = 'Operator' AND state = 'PILOT'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(registry, 4);

    // The service carries on from there: the upgraded pilots start shifts, and the shift
    // process moves their operators from the upgrade on, not before.
    let app = TestApp::spawn_on(db).await;
    let ended = app
        .ok("pilots", on_shift, json!({"type": "EndShift"}))
        .await;
    app.ok("pilots", idle, start_shift()).await;
    let rows = timeline(&app, on_shift).await;
    let statuses: Vec<_> = rows.iter().map(|r| (r.0.as_str(), r.2.as_str())).collect();
    assert_eq!(
        statuses,
        [
            ("OperatorRegistered", "upgrade:pilot-operators"),
            ("OperatorStatusChanged", "upgrade:pilot-operators"),
            ("OperatorStatusChanged", "process:shift"),
        ],
        "{rows:?}"
    );
    assert_eq!(
        (&rows[1].1, &rows[2].1),
        (&json!("AVAILABLE"), &json!("OFFLINE"))
    );
    assert!(ended["token"].is_string());
    let rows = timeline(&app, idle).await;
    assert_eq!(rows.last().unwrap().1, "AVAILABLE");
}

/// What keeps the feed in the order things happened when a deactivation meets a shift's
/// check: the append that changes an operator's registry state locks the row before it writes
/// anything, so a check that comes meanwhile (here the test's, as a shift's append makes it)
/// waits for the deactivation and sees it. Were the events written first, the deactivation
/// would take its transaction id (the feed's order) first and the check pass meanwhile: the
/// feed would show the shift after the deactivation though it committed before it. A trigger
/// of the test's holds the deactivation in the middle of its statement, with its id taken.
#[tokio::test]
async fn a_shifts_check_during_a_deactivations_append_waits_for_it_and_sees_it() {
    let app = TestApp::spawn().await;
    let operator = app.new_pilot().await;
    sqlx::raw_sql(
        "CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.event_type = 'OperatorDeactivated' THEN
             PERFORM txid_current();
             PERFORM pg_sleep(0.6);
           END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER test_hold BEFORE INSERT ON events
            FOR EACH ROW EXECUTE FUNCTION test_hold();",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let deactivation = tokio::spawn(
        app.client
            .post(format!("{}/v1/operators/{operator}/commands", app.address))
            .json(&json!({"type": "DeactivateOperator"}))
            .send(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let mut check = app.pool.begin().await.unwrap();
    let started = std::time::Instant::now();
    let state: String = sqlx::query_scalar(
        "SELECT state FROM entity_registry
          WHERE aggregate_type = 'Operator' AND aggregate_id = $1 FOR SHARE",
    )
    .bind(operator.to_string())
    .fetch_one(&mut *check)
    .await
    .unwrap();
    let waited = started.elapsed();
    assert_eq!(state, "DEACTIVATED", "the check saw the deactivation");
    assert!(
        waited >= std::time::Duration::from_millis(200),
        "it waited for it ({waited:?})"
    );
    check.commit().await.unwrap();
    let answer = deactivation.await.unwrap().unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}
