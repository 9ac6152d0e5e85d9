//! Robots over HTTP: commands, the read models behind GET, the merged timeline, refusals, the
//! unique serial number under races, replay.

use aggregates::robot::Robot;
use futures::future::join_all;
use operations::store::EventStore;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp};
use crate::read_side::snapshot;

const ROBOTS: &str = "robots";

fn register(serial: &str, hub: Uuid) -> Value {
    json!({"type": "RegisterRobot", "serial_number": serial, "hub_id": hub, "model": "Gen 3"})
}

/// Registers a robot at `hub`; returns its id.
async fn registered(app: &TestApp, hub: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    let serial = format!("SN-{}", Uuid::new_v4().simple());
    app.ok(ROBOTS, id, register(&serial, hub)).await;
    id
}

#[tokio::test]
async fn a_robot_lives_its_whole_life_over_http_and_its_timeline_says_each_step() {
    let app = TestApp::spawn().await;
    let (id, hub, other_hub) = (Uuid::new_v4(), app.hub().await, app.hub().await);
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let created = app.command(ROBOTS, id, register("SN-LIFE-1", hub)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let answer = app
        .run(
            ROBOTS,
            id,
            &[
                json!({"type": "DeployRobot", "deployment_id": first, "hub_id": hub}),
                json!({"type": "CheckInRobot", "hub_id": other_hub}),
                json!({"type": "GroundRobot", "reason": "OTHER", "note": "bird nest in the lidar"}),
            ],
        )
        .await;
    let robot = app
        .read_consistent(&format!("/v1/robots/{id}"), &answer)
        .await;
    assert_eq!(robot["status"], "GROUNDED");
    assert_eq!(robot["grounding_reason"], "OTHER");
    assert_eq!(
        robot["deployment_id"],
        Value::Null,
        "grounding ends the deployment"
    );
    assert_eq!(robot["checked_in_hub_id"], other_hub.to_string());
    assert_eq!(
        (robot["serial_number"].clone(), robot["version"].clone()),
        (json!("SN-LIFE-1"), json!(4))
    );

    let answer = app
        .run(
            ROBOTS,
            id,
            &[
                json!({"type": "ReleaseRobot", "note": "nest removed"}),
                json!({"type": "DeployRobot", "deployment_id": second, "hub_id": hub}),
                json!({"type": "EndDeployment", "deployment_id": second, "reason": "end of day"}),
                json!({"type": "CheckOutRobot", "hub_id": other_hub}),
                json!({"type": "RetireRobot", "reason": "end of life"}),
            ],
        )
        .await;
    let robot = app
        .read_consistent(&format!("/v1/robots/{id}"), &answer)
        .await;
    assert_eq!(
        (robot["status"].clone(), robot["version"].clone()),
        (json!("RETIRED"), json!(9))
    );
    assert_eq!(robot["checked_in_hub_id"], Value::Null);

    let timeline = app
        .read_consistent(&format!("/v1/robots/{id}/history"), &answer)
        .await;
    let rows: Vec<(String, String, String)> = (timeline["items"].as_array().unwrap().iter())
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (text("kind"), text("event_type"), text("to_status"))
        })
        .collect();
    let expected = [
        ("state", "RobotRegistered", "OFF_DUTY"),
        ("deployment", "RobotDeployed", "DEPLOYED"),
        ("check_in", "RobotCheckedIn", "CHECKED_IN"),
        ("state", "RobotGrounded", "GROUNDED"),
        ("state", "RobotReleased", "OFF_DUTY"),
        ("deployment", "RobotDeployed", "DEPLOYED"),
        ("deployment", "RobotDeploymentEnded", "OFF_DUTY"),
        ("check_in", "RobotCheckedOut", "CHECKED_OUT"),
        ("state", "RobotRetired", "RETIRED"),
    ];
    let expected: Vec<(String, String, String)> = (expected.iter())
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(rows, expected);
    let grounded = &timeline["items"][3];
    assert_eq!(grounded["reason"], "OTHER");
    assert_eq!(grounded["note"], "bird nest in the lidar");
    assert_eq!(
        grounded["subject_id"],
        first.to_string(),
        "the deployment it ended"
    );
    assert_eq!(grounded["actor"], "key:test-admin");
    assert_eq!(grounded["on_behalf_of"], "test:runner");
    assert_eq!(timeline["items"][2]["subject_id"], other_hub.to_string());

    let deployments: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT deployment_id::text, ended_by, end_reason FROM robot_deployments
          WHERE robot_id = $1 ORDER BY started_at",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        deployments,
        [
            (
                first.to_string(),
                Some("RobotGrounded".into()),
                Some("OTHER".into())
            ),
            (
                second.to_string(),
                Some("RobotDeploymentEnded".into()),
                Some("end of day".into())
            ),
        ]
    );
}

#[tokio::test]
async fn robots_are_listed_by_hub_and_by_state() {
    let app = TestApp::spawn().await;
    let (hub, other_hub) = (app.hub().await, app.hub().await);
    let parked_here = registered(&app, hub).await;
    let deployed_here = registered(&app, hub).await;
    let elsewhere = registered(&app, other_hub).await;
    let answer = app
        .run(
            ROBOTS,
            deployed_here,
            &[json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub})],
        )
        .await;
    let ids = |page: &Value| -> Vec<String> {
        (page["items"].as_array().unwrap().iter())
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let here = app
        .read_consistent(&format!("/v1/robots?hub_id={hub}"), &answer)
        .await;
    assert_eq!(
        ids(&here),
        [parked_here.to_string(), deployed_here.to_string()]
    );
    let deployed = app
        .read_consistent("/v1/robots?status=DEPLOYED", &answer)
        .await;
    assert_eq!(ids(&deployed), [deployed_here.to_string()]);
    let off_duty = app
        .read_consistent(
            &format!("/v1/robots?status=OFF_DUTY&hub_id={other_hub}"),
            &answer,
        )
        .await;
    assert_eq!(ids(&off_duty), [elsewhere.to_string()]);
    let bad = app.get("/v1/robots?status=NAPPING").await;
    let problem = assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert_eq!(problem["field"], "status");
}

#[tokio::test]
async fn a_robots_bad_input_is_refused_naming_the_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (fresh, hub) = (Uuid::new_v4(), app.hub().await);
    let id = registered(&app, hub).await;
    app.refuses_fields(
        ROBOTS,
        [
            (fresh, json!({"type": "RegisterRobot", "serial_number": "  ", "hub_id": hub}),
             json!("serial_number"), "a serial number is 1 to 64 ASCII letters"),
            // Nothing that would make a second robot of one number: no space, no invisible
            // character, nothing outside ASCII.
            (fresh, json!({"type": "RegisterRobot", "serial_number": "SN-1 ", "hub_id": hub}),
             json!("serial_number"), "a serial number is"),
            (fresh, json!({"type": "RegisterRobot", "serial_number": "SN-\u{200b}1", "hub_id": hub}),
             json!("serial_number"), "a serial number is"),
            (fresh, json!({"type": "RegisterRobot", "serial_number": "-SN1", "hub_id": hub}),
             json!("serial_number"), "beginning with a letter or a digit"),
            (fresh, json!({"type": "RegisterRobot", "serial_number": "S".repeat(65), "hub_id": hub}),
             json!("serial_number"), "a serial number is"),
            (fresh, json!({"type": "RegisterRobot", "serial_number": "S", "hub_id": "nope"}),
             json!("hub_id"), "UUID"),
            (fresh, json!({"type": "RegisterRobot", "hub_id": hub}),
             json!("serial_number"), "missing field `serial_number`"),
            (fresh, json!({"type": "RegisterRobot", "serial_number": "S", "hub_id": hub, "colour": "red"}),
             json!("colour"), "unknown field `colour`"),
            (id, json!({"type": "GroundRobot", "reason": "TIRED"}),
             json!("reason"), "unknown variant `TIRED`"),
            (id, json!({"type": "RetireRobot", "reason": ""}),
             json!("reason"), "must not be empty"),
        ],
    )
    .await;
    // The trip's own commands are not the API's.
    let internal = json!({"type": "RecordRobotWentOnTrip", "trip_id": Uuid::new_v4()});
    app.refused(
        ROBOTS,
        id,
        internal,
        StatusCode::BAD_REQUEST,
        "unknown_command",
    )
    .await;
    assert!(app.event_types(fresh).await.is_empty());
    assert_eq!(app.event_types(id).await, ["RobotRegistered"]);
}

#[tokio::test]
async fn a_robots_rules_refuse_with_409_naming_its_state_and_a_missing_robot_is_404() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let id = registered(&app, hub).await;
    let deploy = json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub});
    app.ok(ROBOTS, id, deploy.clone()).await;
    let problem = app
        .refused(
            ROBOTS,
            id,
            deploy,
            StatusCode::CONFLICT,
            "invalid_transition",
        )
        .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("DEPLOYED"),
        "{problem}"
    );
    let ground = json!({"type": "GroundRobot", "reason": "OTHER"});
    app.refused(ROBOTS, id, ground, StatusCode::CONFLICT, "note_required")
        .await;
    let missing = Uuid::new_v4();
    let release = json!({"type": "ReleaseRobot"});
    app.refused(ROBOTS, missing, release, StatusCode::NOT_FOUND, "not_found")
        .await;
    assert_problem(
        app.get(&format!("/v1/robots/{missing}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn robots_racing_for_one_serial_number_on_two_instances_register_once() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    // One number, spelt in three cases: one robot's, whichever spelling wins.
    let (serials, hub) = (["SN-RACE-7", "sn-race-7", "Sn-Race-7"], app.hub().await);
    let robots: Vec<Uuid> = (0..16).map(|_| Uuid::new_v4()).collect();
    let answers = join_all(robots.iter().enumerate().map(|(n, robot)| {
        app.client
            .post(format!("{}/v1/robots/{robot}/commands", instances[n % 2]))
            .header("X-Actor", "test:runner")
            .json(&register(serials[n % 3], hub))
            .send()
    }))
    .await;
    let mut winners = Vec::new();
    for (robot, answer) in robots.iter().zip(answers) {
        let answer = answer.unwrap();
        if answer.status() == StatusCode::CREATED {
            winners.push(robot.to_string());
        } else {
            let problem = assert_problem(answer, StatusCode::CONFLICT, "value_taken").await;
            assert_eq!(problem["field"], "serial_number");
        }
    }
    assert_eq!(winners.len(), 1, "one robot gets the serial number");
    let registered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'RobotRegistered'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(registered, 1);
}

const ROBOT_TABLES: [(&str, &str); 4] = [
    ("robots", "id"),
    ("robot_deployments", "robot_id, deployment_id"),
    ("robot_state_history", "global_position"),
    ("robot_check_in_history", "global_position"),
];

#[tokio::test]
async fn replaying_the_robot_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    for n in 0..3 {
        let id = registered(&app, hub).await;
        let deployment = Uuid::new_v4();
        let mut bodies = vec![
            json!({"type": "CheckInRobot", "hub_id": hub}),
            json!({"type": "DeployRobot", "deployment_id": deployment, "hub_id": hub}),
        ];
        if n > 0 {
            bodies.push(json!({"type": "GroundRobot", "reason": "LOW_BATTERY"}));
            bodies.push(json!({"type": "ReleaseRobot"}));
            bodies.push(json!({"type": "RetireRobot", "reason": "sold"}));
        }
        app.run(ROBOTS, id, &bodies).await;
    }
    app.wait_for_projections().await;
    let mut before = Vec::new();
    for (table, order) in ROBOT_TABLES {
        let rows = snapshot(&app.pool, table, order).await;
        assert!(!rows.is_empty(), "{table} is empty");
        before.push(rows);
    }
    assert_eq!(before[0].len(), 3);
    assert_eq!(
        before[2].len(),
        3 * 2 + 2 * 3,
        "registered, deployed; grounded, released, retired"
    );
    assert_eq!(
        before[3].len(),
        3 + 2,
        "three check-ins, two retirements' check-outs"
    );
    let replayed: Vec<_> = projections::all()
        .into_iter()
        .filter(|p| p.name().starts_with("robot"))
        .collect();
    assert_eq!(replayed.len(), 2);
    for projector in replayed {
        let done = projections::replay(&app.pool, projector.as_ref(), 4, |_| {})
            .await
            .unwrap();
        // The robots' events and their hub's and city's registrations: the feed is read whole.
        assert_eq!(done.events_read, 3 * 3 + 2 * 3 + 2);
    }
    for ((table, order), rows) in ROBOT_TABLES.into_iter().zip(before) {
        assert_eq!(snapshot(&app.pool, table, order).await, rows, "{table}");
    }
}

#[tokio::test]
async fn a_robot_after_many_trips_loads_from_its_snapshot_as_from_every_event() {
    let app = TestApp::spawn().await;
    let robot = app.deployed_robot().await;
    let stop = json!({"lat": 37.7793, "lng": -122.4057, "name": "Customer, 5th St"});
    // Each trip moves the robot (on its trip, parked at the stop): events appended beside the
    // trip's, not by a command of the robot's own.
    let trip = |id: Uuid| {
        let stop = stop.clone();
        let app = &app;
        async move {
            let plan = json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": robot,
                              "trip_type": "DELIVERY",
                              "origin": {"lat": 37.7749, "lng": -122.4194, "name": "Hub SF"},
                              "destination": stop});
            app.ok("trips", id, plan).await;
            for body in [
                json!({"type": "MarkReadyToDepart"}),
                json!({"type": "DepartTrip"}),
                json!({"type": "ArriveAtStop", "location": stop}),
                json!({"type": "CompleteTrip"}),
            ] {
                app.ok("trips", id, body).await;
            }
        }
    };
    for _ in 0..30 {
        trip(Uuid::new_v4()).await;
    }
    let store = EventStore::new(app.pool.clone(), Default::default());
    let from_zero = store
        .load_all_events::<Robot>(&robot.to_string())
        .await
        .unwrap();
    assert!(from_zero.version > 60, "{} events", from_zero.version);
    let snapshot: i64 = sqlx::query_scalar(
        "SELECT last_sequence FROM snapshots WHERE aggregate_type = 'Robot' AND aggregate_id = $1",
    )
    .bind(robot.to_string())
    .fetch_one(&app.pool)
    .await
    .expect("the robot has a snapshot");
    assert!(snapshot >= 50, "snapshot at {snapshot}");

    let from_snapshot = store.load::<Robot>(&robot.to_string()).await.unwrap();
    assert_eq!(from_snapshot.snapshot_version as i64, snapshot);
    assert_eq!(from_snapshot.version, from_zero.version);
    assert_eq!(from_snapshot.aggregate, from_zero.aggregate);
    assert_eq!(from_snapshot.head_hash, from_zero.head_hash);

    // It still takes trips on top of its snapshot, and its stream verifies whole.
    trip(Uuid::new_v4()).await;
    let answer: Value = app
        .get(&format!("/v1/robots/{robot}/verify"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "intact", "{answer}");
    let loaded = store.load::<Robot>(&robot.to_string()).await.unwrap();
    assert!(loaded.version > from_zero.version, "the last trip moved it");
    assert_eq!(answer["events"], loaded.version);
    let all = store
        .load_all_events::<Robot>(&robot.to_string())
        .await
        .unwrap();
    assert_eq!(loaded.aggregate, all.aggregate);
    assert_eq!(
        loaded.aggregate.state().unwrap().status,
        aggregates::robot::RobotStatus::Parked,
        "parked after its trip"
    );
}
