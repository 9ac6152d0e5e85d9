use aggregates::pilot::Pilot;
use chrono::{Duration, SecondsFormat, Utc};
use futures::future::join_all;
use operations::store::EventStore;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use sqlx::postgres::PgPoolOptions;

use crate::helpers::{assert_problem, TestApp, TestDatabase};

fn in_minutes(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A registered pilot on shift; returns (pilot id, shift id).
async fn pilot_on_shift(app: &TestApp) -> (Uuid, Uuid) {
    let (pilot, shift) = (Uuid::new_v4(), Uuid::new_v4());
    app.pilot(
        pilot,
        json!({"type": "RegisterPilot", "pilot_location": "TDCX_INDIA"}),
    )
    .await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "StartShift", "shift_id": shift}),
    )
    .await;
    // The shift process moves the operator's status with an event of its own: let it, so that
    // a test counting events counts only its own.
    app.wait_for_projections().await;
    (pilot, shift)
}

#[tokio::test]
async fn a_pilots_day_is_recorded_in_its_state_and_merged_history() {
    let app = TestApp::spawn().await;
    let (pilot, shift) = pilot_on_shift(&app).await;
    // A real task: the assignment process revokes an accepted assignment to a missing one.
    let task = app.create_task().await;
    let (assignment, reservation) = (Uuid::new_v4(), Uuid::new_v4());
    let until = in_minutes(30);
    for body in [
        json!({"type": "ChangeShiftState", "state": "ON_BREAK"}),
        json!({"type": "ChangeShiftState", "state": "ON_SHIFT"}),
        json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
        json!({"type": "AcceptAssignment", "assignment_id": assignment}),
        json!({"type": "ReservePilot", "reservation_id": reservation, "until": until}),
    ] {
        app.ok("pilots", pilot, body).await;
    }
    let answer = app
        .ok(
            "pilots",
            pilot,
            json!({"type": "UpdatePilotProfile", "pilot_location": "US"}),
        )
        .await;
    let state: Value = app
        .get_consistent(&format!("/v1/pilots/{pilot}"), &answer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["active_shift_id"], shift.to_string());
    assert_eq!(state["active_assignment_id"], assignment.to_string());
    assert_eq!(state["active_reservation_id"], reservation.to_string());
    assert_eq!(
        state["locked_until"].as_str().unwrap()[..19],
        until[..19],
        "{state}"
    );
    assert_eq!(state["pilot_location"], "US");
    assert_eq!(state["version"], 8);
    let columns: Vec<_> = state.as_object().unwrap().keys().cloned().collect();
    let mut seed = vec![
        "id",
        "user_id",
        "locked_until",
        "archived_at",
        "version",
        "pilot_location",
        "pilot_center_id",
        "active_assignment_id",
        "active_shift_id",
        "active_reservation_id",
        "updated_at",
        "created_at",
    ];
    seed.sort();
    let mut columns = columns;
    columns.sort();
    assert_eq!(columns, seed);

    for body in [
        json!({"type": "FinishAssignment", "assignment_id": assignment}),
        json!({"type": "ReleaseReservation", "reservation_id": reservation}),
        json!({"type": "EndShift"}),
    ] {
        app.ok("pilots", pilot, body).await;
    }
    let answer = app
        .ok(
            "pilots",
            pilot,
            json!({"type": "ArchivePilot", "reason": "left the company"}),
        )
        .await;
    let state: Value = app
        .get_consistent(&format!("/v1/pilots/{pilot}"), &answer)
        .await
        .json()
        .await
        .unwrap();
    assert!(state["archived_at"].is_string());
    assert_eq!(state["active_shift_id"], Value::Null);
    assert_eq!(state["active_assignment_id"], Value::Null);
    assert_eq!(state["locked_until"], Value::Null);

    let history: Value = app
        .get_consistent(&format!("/v1/pilots/{pilot}/history"), &answer)
        .await
        .json()
        .await
        .unwrap();
    let rows: Vec<_> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} -> {}",
                r["kind"].as_str().unwrap(),
                r["from_status"].as_str().unwrap_or("-"),
                r["to_status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "pilot - -> ACTIVE",
            "shift - -> ON_SHIFT",
            "shift ON_SHIFT -> ON_BREAK",
            "shift ON_BREAK -> ON_SHIFT",
            "assignment - -> REQUESTED",
            "assignment REQUESTED -> ACCEPTED",
            "reservation - -> ACTIVE",
            "assignment ACCEPTED -> FINISHED",
            "reservation ACTIVE -> RELEASED",
            "shift ON_SHIFT -> OFF_SHIFT",
            "pilot ACTIVE -> ARCHIVED",
        ]
    );
    let archived = history["items"].as_array().unwrap().last().unwrap();
    assert_eq!(archived["subject_id"], pilot.to_string());
    assert_eq!(archived["event_type"], "PilotArchived");
    assert_eq!(archived["reason"], "left the company");
    assert!(history["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["actor"] == "key:test-admin"));
}

#[tokio::test]
async fn the_pilot_rules_refuse_with_409_and_store_nothing() {
    let app = TestApp::spawn().await;
    let idle = app.new_pilot().await;
    let (busy, _) = pilot_on_shift(&app).await;
    // The shift process has moved the busy pilot's operator.
    app.wait_for_projections().await;
    let before = app.event_count().await;
    let cases = [
        (
            idle,
            json!({"type": "RequestAssignment", "assignment_id": Uuid::new_v4(), "task_id": Uuid::new_v4()}),
            "pilot_not_on_shift",
        ),
        (busy, json!({"type": "ArchivePilot"}), "pilot_on_shift"),
        (
            busy,
            json!({"type": "ReservePilot", "reservation_id": Uuid::new_v4(), "until": in_minutes(-1)}),
            "until_not_in_future",
        ),
        (
            busy,
            json!({"type": "ChangeShiftState", "state": "OFF_SHIFT"}),
            "use_end_shift",
        ),
        (
            busy,
            json!({"type": "AcceptAssignment", "assignment_id": Uuid::new_v4()}),
            "assignment_not_found",
        ),
        (idle, json!({"type": "RegisterPilot"}), "already_exists"),
    ];
    for (pilot, body, code) in cases {
        assert_problem(
            app.command("pilots", pilot, body).await,
            StatusCode::CONFLICT,
            code,
        )
        .await;
    }
    assert_eq!(app.event_count().await, before);

    app.ok("pilots", idle, json!({"type": "ArchivePilot"}))
        .await;
    let refused = app
        .command(
            "pilots",
            idle,
            json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
        )
        .await;
    assert_problem(refused, StatusCode::CONFLICT, "pilot_archived").await;
    assert_eq!(app.event_count().await, before + 1);
}

#[tokio::test]
async fn bad_pilot_commands_are_400_and_store_nothing() {
    let app = TestApp::spawn().await;
    let (pilot, _) = pilot_on_shift(&app).await;
    let before = app.event_count().await;
    for (body, field) in [
        (
            json!({"type": "ChangeShiftState", "state": "NAPPING"}),
            "state",
        ),
        (
            json!({"type": "ReservePilot", "reservation_id": Uuid::new_v4(), "until": "soon"}),
            "until",
        ),
        (
            json!({"type": "RegisterPilot", "pilot_location": "MARS"}),
            "pilot_location",
        ),
        (
            json!({"type": "StartShift", "shift_id": "shift-7"}),
            "shift_id",
        ),
        (json!({"type": "ArchivePilot", "reason": "  "}), "reason"),
        (json!({"type": "ArchivePilot", "reason": 7}), "reason"),
    ] {
        let problem = assert_problem(
            app.command("pilots", pilot, body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(problem["field"], field, "{body}");
    }
    assert_eq!(app.event_count().await, before);
    let missing = app
        .command("pilots", Uuid::new_v4(), json!({"type": "EndShift"}))
        .await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn twenty_four_parallel_requests_for_one_pilot_assign_it_once() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        let (pilot, _) = pilot_on_shift(&app).await;
        let answers = join_all((0..24).map(|_| {
            app.command(
                "pilots",
                pilot,
                json!({"type": "RequestAssignment", "assignment_id": Uuid::new_v4(),
                       "task_id": Uuid::new_v4()}),
            )
        }))
        .await;
        let mut won = 0;
        for answer in answers {
            match answer.status() {
                StatusCode::OK => won += 1,
                StatusCode::CONFLICT => {
                    let problem: Value = answer.json().await.unwrap();
                    let code = problem["code"].as_str().unwrap();
                    assert!(
                        ["concurrent_modification", "assignment_active"].contains(&code),
                        "{problem}"
                    );
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(won, 1);
        let requested: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events
              WHERE aggregate_id = $1 AND event_type = 'PilotAssignmentRequested'",
        )
        .bind(pilot.to_string())
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(requested, 1);
    }
}

#[tokio::test]
async fn a_pilot_loaded_from_its_snapshot_equals_one_folded_from_every_event() {
    let app = TestApp::spawn().await;
    let pilot = app.new_pilot().await;
    // 130 shifts with a break each: 521 events, every shift id remembered by the state.
    for _ in 0..130 {
        let shift = Uuid::new_v4();
        for body in [
            json!({"type": "StartShift", "shift_id": shift}),
            json!({"type": "ChangeShiftState", "state": "ON_BREAK"}),
            json!({"type": "ChangeShiftState", "state": "ON_SHIFT"}),
            json!({"type": "EndShift"}),
        ] {
            app.ok("pilots", pilot, body).await;
        }
    }
    let snapshot: i64 = sqlx::query_scalar(
        "SELECT last_sequence FROM snapshots WHERE aggregate_type = 'Pilot' AND aggregate_id = $1",
    )
    .bind(pilot.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(snapshot >= 500, "snapshot at {snapshot}");

    let store = EventStore::new(app.pool.clone(), Default::default());
    let from_snapshot = store.load::<Pilot>(&pilot.to_string()).await.unwrap();
    let from_zero = store
        .load_all_events::<Pilot>(&pilot.to_string())
        .await
        .unwrap();
    assert_eq!(from_snapshot.snapshot_version as i64, snapshot);
    assert_eq!(from_snapshot.version, 521);
    assert_eq!(from_zero.version, 521);
    assert_eq!(from_snapshot.aggregate, from_zero.aggregate);
    // Appends after the snapshot chained to the right head: the whole stream verifies.
    assert_eq!(from_snapshot.head_hash, from_zero.head_hash);
    let answer: Value = app
        .get(&format!("/v1/pilots/{pilot}/verify"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "intact", "{answer}");
    assert_eq!(answer["events"], 521);
    assert_eq!(
        from_zero.aggregate.state().unwrap().recent_ids.len(),
        64,
        "the state remembers the last 64 ids, each once"
    );

    // And the pilot still takes commands on top of its snapshot.
    let shift = Uuid::new_v4();
    let answer = app
        .ok(
            "pilots",
            pilot,
            json!({"type": "StartShift", "shift_id": shift}),
        )
        .await;
    assert_eq!(answer["version"], 522);
}

#[tokio::test]
async fn a_replay_rebuilds_every_pilot_table_identically() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        let (pilot, _) = pilot_on_shift(&app).await;
        let task = app.create_task().await;
        let (assignment, reservation) = (Uuid::new_v4(), Uuid::new_v4());
        for body in [
            json!({"type": "ChangeShiftState", "state": "ON_COOLDOWN"}),
            json!({"type": "ChangeShiftState", "state": "ON_SHIFT"}),
            json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
            json!({"type": "AcceptAssignment", "assignment_id": assignment}),
            json!({"type": "AbandonAssignment", "assignment_id": assignment, "reason": "lost video"}),
            json!({"type": "ReservePilot", "reservation_id": reservation, "until": in_minutes(5)}),
            json!({"type": "ReleaseReservation", "reservation_id": reservation}),
        ] {
            app.ok("pilots", pilot, body).await;
        }
    }
    app.wait_for_projections().await;
    let tables = [
        ("pilots", "id"),
        ("pilot_shifts", "shift_id"),
        ("pilot_assignments", "assignment_id"),
        ("pilot_shift_state_history", "global_position"),
        ("pilot_assignment_status_history", "global_position"),
        ("pilot_reservation_history", "global_position"),
        ("pilot_status_history", "global_position"),
    ];
    let mut before = Vec::new();
    for (table, order) in tables {
        let rows = crate::read_side::snapshot(&app.pool, table, order).await;
        assert!(!rows.is_empty(), "{table} is empty");
        before.push(rows);
    }
    for projector in projections::all() {
        if projector.name().starts_with("pilot") {
            projections::replay(&app.pool, projector.as_ref(), 4, |_| {})
                .await
                .unwrap();
        }
    }
    for ((table, order), rows) in tables.into_iter().zip(before) {
        assert_eq!(
            crate::read_side::snapshot(&app.pool, table, order).await,
            rows,
            "{table}"
        );
    }
}

#[tokio::test]
async fn a_user_account_belongs_to_one_pilot_even_after_it_is_archived() {
    let app = TestApp::spawn().await;
    let (first, second, user) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let register = json!({"type": "RegisterPilot", "user_id": user});
    app.operator(second, "PILOT").await;
    app.pilot(first, register.clone()).await;
    let before = app.event_count().await;
    let problem = assert_problem(
        app.command("pilots", second, register.clone()).await,
        StatusCode::CONFLICT,
        "value_taken",
    )
    .await;
    assert_eq!(problem["field"], "user_id");
    assert_eq!(problem["value"], user.to_string());
    assert_eq!(problem["held_by"], first.to_string());
    assert_eq!(
        app.event_count().await,
        before,
        "the refused pilot stored nothing"
    );
    let missing = app.get(&format!("/v1/pilots/{second}")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // An archived pilot keeps its user, as in the seed's table.
    app.ok("pilots", first, json!({"type": "ArchivePilot"}))
        .await;
    let again = app.command("pilots", second, register).await;
    assert_problem(again, StatusCode::CONFLICT, "value_taken").await;

    // Another user, or none, registers; pilots without a user are not limited.
    let another = json!({"type": "RegisterPilot", "user_id": Uuid::new_v4()});
    app.ok("pilots", second, another).await;
    for _ in 0..2 {
        app.new_pilot().await;
    }
}

#[tokio::test]
async fn a_registration_sent_twice_at_once_with_its_key_is_answered_once_not_refused_as_taken() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let (pilot, user) = (Uuid::new_v4(), Uuid::new_v4());
        app.operator(pilot, "PILOT").await;
        let send = || {
            app.post_command("pilots", pilot)
                .header("Idempotency-Key", format!("register-{pilot}"))
                .json(&json!({"type": "RegisterPilot", "user_id": user}))
                .send()
        };
        let (first, second) = tokio::join!(send(), send());
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first.status(), StatusCode::CREATED);
        assert_eq!(second.status(), StatusCode::CREATED);
        let replayed = [&first, &second]
            .iter()
            .filter(|r| {
                r.headers()
                    .get("idempotent-replayed")
                    .is_some_and(|v| v == "true")
            })
            .count();
        assert_eq!(replayed, 1, "one request stored, the other got its answer");
        assert_eq!(
            app.event_types(pilot).await,
            ["OperatorRegistered", "PilotRegistered"]
        );
        // And later, as a plain retry.
        let retry = send().await.unwrap();
        assert_eq!(retry.status(), StatusCode::CREATED);
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
    }
}

#[tokio::test]
async fn pilots_racing_for_one_user_account_on_two_instances_register_once() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    for _ in 0..3 {
        let user = Uuid::new_v4();
        let pilots: Vec<Uuid> = (0..16).map(|_| Uuid::new_v4()).collect();
        for pilot in &pilots {
            app.operator(*pilot, "PILOT").await;
        }
        let answers = join_all(pilots.iter().enumerate().map(|(n, pilot)| {
            app.client
                .post(format!(
                    "{}/v1/pilots/{pilot}/commands",
                    instances[n % instances.len()]
                ))
                .header("X-Actor", "test:runner")
                .json(&json!({"type": "RegisterPilot", "user_id": user}))
                .send()
        }))
        .await;
        let mut winners = Vec::new();
        let mut holders = Vec::new();
        for (pilot, answer) in pilots.iter().zip(answers) {
            let answer = answer.unwrap();
            if answer.status() == StatusCode::CREATED {
                winners.push(pilot.to_string());
            } else {
                let problem = assert_problem(answer, StatusCode::CONFLICT, "value_taken").await;
                assert_eq!(problem["field"], "user_id");
                holders.push(problem["held_by"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(winners.len(), 1, "one pilot gets the user");
        assert!(holders.iter().all(|h| *h == winners[0]), "{holders:?}");
        let registered: Vec<String> = sqlx::query_scalar(
            "SELECT aggregate_id FROM events
              WHERE event_type = 'PilotRegistered'
                AND payload -> 'PilotRegistered' ->> 'user_id' = $1",
        )
        .bind(user.to_string())
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(registered, winners);
    }
}

/// The migration that brought `unique_claims` claims the users of pilots stored before it.
#[tokio::test]
async fn the_claims_migration_gives_each_user_to_the_first_pilot_registered_with_it() {
    let db = TestDatabase::create().await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.options.clone())
        .await
        .unwrap();
    let mut files: Vec<_> = std::fs::read_dir("migrations")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    // The migrations up to that one, in order: the database as it was when it came.
    let claims = (files.iter())
        .position(|path| path.to_string_lossy().ends_with("_unique_claims.sql"))
        .expect("the claims migration");
    for (n, path) in files[..=claims].iter().enumerate() {
        if n == claims {
            // What an older deployment stored: two pilots with one user, one with none.
            let (user, first, second, third) = (Uuid::new_v4(), "p-1", "p-2", "p-3");
            for (pilot, user) in [(first, Some(user)), (second, Some(user)), (third, None)] {
                sqlx::query(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                         event_version, payload, metadata)
                     VALUES ('Pilot', $1, 1, 'PilotRegistered', '1.0', $2, '{}')",
                )
                .bind(pilot)
                .bind(
                    json!({"PilotRegistered": {"user_id": user, "pilot_location": null,
                                                 "pilot_center_id": null}}),
                )
                .execute(&pool)
                .await
                .unwrap();
            }
        }
        let sql = std::fs::read_to_string(path).unwrap();
        sqlx::raw_sql(&sql).execute(&pool).await.unwrap();
    }
    let claimed: Vec<(String, String)> =
        sqlx::query_as("SELECT field, aggregate_id FROM unique_claims ORDER BY aggregate_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(claimed, [("user_id".to_string(), "p-1".to_string())]);
}
