//! References are checked (#14 part 4): a command naming a hub, city, robot, pilot center or
//! location that does not exist is 422 `unknown_reference`; one naming it in a state the
//! command does not allow (a closed hub, a retired robot or location) is 409 `reference_state`;
//! nothing is stored either way. The check is the append's own, against the write side.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp, HUB, LOCATION, ROBOT};

fn robot(hub: Uuid) -> serde_json::Value {
    json!({"type": "RegisterRobot", "serial_number": format!("SN-{}", Uuid::new_v4().simple()),
           "hub_id": hub})
}

fn deploy(hub: Uuid) -> serde_json::Value {
    json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub})
}

/// Registers a location at `hub` and retires it; returns its id.
async fn retired_location(app: &TestApp, hub: Uuid) -> Uuid {
    let spot = Uuid::new_v4();
    app.ok(
        "locations",
        spot,
        json!({"type": "RegisterLocation", "name": "Old dock", "lat": 0.0, "lng": 0.0,
               "kind": "PARKING", "hub_id": hub}),
    )
    .await;
    app.ok("locations", spot, json!({"type": "RetireLocation"}))
        .await;
    spot
}

#[tokio::test]
async fn a_command_naming_a_hub_city_or_location_that_does_not_exist_is_422_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let nowhere = Uuid::new_v4();
    let cases = [
        ("robots", robot(nowhere), "hub_id"),
        (
            "hubs",
            json!({"type": "RegisterHub", "name": "X", "city_id": nowhere,
                   "location": {"lat": 0.0, "lng": 0.0}}),
            "city_id",
        ),
        (
            "locations",
            json!({"type": "RegisterLocation", "name": "Dock", "lat": 0.0, "lng": 0.0,
                   "kind": "PARKING", "hub_id": nowhere}),
            "hub_id",
        ),
    ];
    for (collection, body, field) in cases {
        let id = Uuid::new_v4();
        let refused = app.command(collection, id, body).await;
        let problem = assert_problem(
            refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
        )
        .await;
        assert_eq!(
            (problem["field"].as_str(), problem["value"].as_str()),
            (Some(field), Some(nowhere.to_string().as_str())),
            "{collection}: {problem}"
        );
        assert!(app.event_types(id).await.is_empty(), "{collection}");
    }
    // A hub that does exist, and a city: the same commands succeed.
    let hub = app.hub().await;
    app.ok("robots", Uuid::new_v4(), robot(hub)).await;
    let city = app.city().await;
    // A hub may stand at a known location, not at a retired one.
    let spot = retired_location(&app, hub).await;
    let at_retired = json!({"type": "RegisterHub", "name": "Y", "city_id": city,
                            "location": {"lat": 0.0, "lng": 0.0, "location_id": spot}});
    let refused = app.command("hubs", Uuid::new_v4(), at_retired).await;
    let problem = assert_problem(refused, StatusCode::CONFLICT, "reference_state").await;
    assert_eq!(
        (problem["field"].as_str(), problem["state"].as_str()),
        (Some("location.location_id"), Some("RETIRED"))
    );
}

#[tokio::test]
async fn a_closed_hub_takes_no_deployment_until_it_reopens() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let bot = Uuid::new_v4();
    app.ok("robots", bot, robot(hub)).await;
    app.ok(
        "hubs",
        hub,
        json!({"type": "CloseHub", "reason": "flooded"}),
    )
    .await;
    let refused = app.command("robots", bot, deploy(hub)).await;
    let problem = assert_problem(refused, StatusCode::CONFLICT, "reference_state").await;
    assert_eq!(
        (problem["field"].as_str(), problem["state"].as_str()),
        (Some("hub_id"), Some("CLOSED"))
    );
    assert!(problem["detail"].as_str().unwrap().contains("must be OPEN"));
    assert_eq!(app.event_types(bot).await, ["RobotRegistered"]);
    // Registering and checking in at a closed hub are not new work: allowed.
    app.ok(
        "robots",
        bot,
        json!({"type": "CheckInRobot", "hub_id": hub}),
    )
    .await;
    app.ok("hubs", hub, json!({"type": "ReopenHub"})).await;
    app.ok("robots", bot, deploy(hub)).await;
}

#[tokio::test]
async fn deployments_racing_a_hub_closing_on_two_instances_either_commit_first_or_are_refused() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    let hub = app.hub().await;
    let mut robots = Vec::new();
    for _ in 0..12 {
        let id = Uuid::new_v4();
        app.ok("robots", id, robot(hub)).await;
        robots.push(id);
    }
    let close = app
        .client
        .post(format!("{}/v1/hubs/{hub}/commands", instances[1]))
        .json(&json!({"type": "CloseHub", "reason": "storm"}))
        .send();
    let deployments = join_all(robots.iter().enumerate().map(|(n, id)| {
        app.client
            .post(format!("{}/v1/robots/{id}/commands", instances[n % 2]))
            .json(&deploy(hub))
            .send()
    }));
    let (closed, answers) = tokio::join!(close, deployments);
    assert_eq!(closed.unwrap().status(), StatusCode::OK);
    let mut deployed = 0;
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::OK => deployed += 1,
            _ => {
                let problem = assert_problem(answer, StatusCode::CONFLICT, "reference_state").await;
                assert_eq!(problem["state"], "CLOSED");
            }
        }
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'RobotDeployed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        stored, deployed,
        "every deployment answered 200 is stored, no other"
    );
    // Once the close has answered, no deployment at the hub is taken.
    let late = app.command("robots", robots[0], deploy(hub)).await;
    assert_ne!(late.status(), StatusCode::OK);
}

#[tokio::test]
async fn with_reference_checks_off_an_import_names_what_it_likes() {
    let app = TestApp::spawn_with(|s| s.no_reference_checks = true).await;
    let nowhere = Uuid::new_v4();
    let bot = Uuid::new_v4();
    app.ok("robots", bot, robot(nowhere)).await;
    app.ok("robots", bot, deploy(nowhere)).await;
    assert_eq!(
        app.event_types(bot).await,
        ["RobotRegistered", "RobotDeployed"]
    );
}

#[tokio::test]
async fn the_registry_migration_records_the_entities_registered_before_it() {
    let db = crate::helpers::TestDatabase::create().await;
    let pool = sqlx::PgPool::connect_with(db.options.clone())
        .await
        .unwrap();
    // The database as it was before the registry: every migration but its own and later ones.
    let mut before = sqlx::migrate!("./migrations");
    let earlier: Vec<_> = (before.migrations.iter())
        .filter(|m| m.version < 20261201000022)
        .cloned()
        .collect();
    before.migrations = earlier.into();
    before.run(&pool).await.unwrap();
    let (robot, hub, city, spot) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let history = [
        ("Robot", robot, "RobotRegistered"),
        ("Robot", robot, "RobotDeployed"),
        ("Robot", robot, "RobotCheckedIn"),
        ("Hub", hub, "HubRegistered"),
        ("Hub", hub, "HubClosed"),
        ("City", city, "CityRegistered"),
        ("Location", spot, "LocationRegistered"),
        ("Location", spot, "LocationRetired"),
    ];
    let mut sequences = std::collections::HashMap::new();
    for (kind, id, event_type) in history {
        let sequence = sequences.entry(id).and_modify(|n| *n += 1).or_insert(1_i64);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES ($1, $2, $3, $4, '1.0', '{}', '{\"actor\": \"test\"}')",
        )
        .bind(kind)
        .bind(id.to_string())
        .bind(*sequence)
        .bind(event_type)
        .execute(&pool)
        .await
        .unwrap();
    }
    operations::startup::migrate(&pool).await.unwrap();
    let mut registry: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, state FROM entity_registry ORDER BY aggregate_type",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    registry.sort();
    let row = |kind: &str, id: Uuid, state: &str| (kind.into(), id.to_string(), state.into());
    assert_eq!(
        registry,
        [
            row("City", city, "REGISTERED"),
            row("Hub", hub, "CLOSED"),
            row("Location", spot, "RETIRED"),
            row("Robot", robot, "DEPLOYED"),
        ]
    );
    pool.close().await;
}

/// Every reference a task, trip, field task or pilot names is checked: each command below is
/// refused, naming the field, the value and (for a wrong state) the state, and stores nothing;
/// with references that exist and are in service, the same commands run.
#[tokio::test]
async fn tasks_trips_field_tasks_and_pilots_name_only_what_exists_and_is_in_service() {
    let app = TestApp::spawn().await;
    app.places().await;
    let nowhere = Uuid::new_v4();
    let closed_hub = app.hub().await;
    app.ok(
        "hubs",
        closed_hub,
        json!({"type": "CloseHub", "reason": "lease ended"}),
    )
    .await;
    let retired_robot = Uuid::new_v4();
    app.ok("robots", retired_robot, robot(HUB)).await;
    app.ok(
        "robots",
        retired_robot,
        json!({"type": "RetireRobot", "reason": "scrapped"}),
    )
    .await;
    let retired_spot = retired_location(&app, HUB).await;
    let (open_center, closed_center) = (Uuid::new_v4(), Uuid::new_v4());
    for center in [open_center, closed_center] {
        let body = json!({"type": "RegisterPilotCenter", "name": "Austin", "pilot_location": "US"});
        app.ok("pilot-centers", center, body).await;
    }
    app.ok(
        "pilot-centers",
        closed_center,
        json!({"type": "ClosePilotCenter"}),
    )
    .await;
    // Streams that exist, for the commands that are not creations.
    let task = app.create_task().await;
    let trip = Uuid::new_v4();
    let spot = |id: Uuid| json!({"lat": 2.0, "lng": 2.0, "location_id": id});
    let plan = |robot: Uuid, origin: serde_json::Value, destination: serde_json::Value| {
        json!({"type": "PlanTrip", "task_id": task, "robot_id": robot, "trip_type": "DELIVERY",
               "origin": origin, "destination": destination})
    };
    let home = json!({"lat": 37.7749, "lng": -122.4194, "location_id": LOCATION});
    let door = json!({"lat": 37.78, "lng": -122.41});
    app.ok("trips", trip, plan(ROBOT, home.clone(), door.clone()))
        .await;
    for body in [
        json!({"type": "MarkReadyToDepart"}),
        json!({"type": "DepartTrip"}),
    ] {
        app.ok("trips", trip, body).await;
    }
    let fo_task = Uuid::new_v4();
    let fo = |hub: Uuid, robot: Option<Uuid>, subtasks: serde_json::Value| {
        json!({"type": "CreateFoTask", "hub_id": hub, "kind": "ROBOT_RESCUE", "robot_id": robot,
               "subtasks": subtasks})
    };
    app.ok("fo-tasks", fo_task, fo(HUB, None, json!([]))).await;
    let pilot = app.new_pilot().await;
    let travel = |from: serde_json::Value| json!([{"subtask_id": Uuid::new_v4(), "kind": "TRAVEL", "from": from, "to": door.clone()}]);
    let act = |at: Uuid| {
        json!({"subtask_id": Uuid::new_v4(), "kind": "ACTION", "action": "INSPECT",
               "location": spot(at)})
    };
    let task_at = |hub: Uuid, robot: Option<Uuid>| json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": hub, "robot_id": robot});
    let new = Uuid::new_v4;
    let unknown = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (
            "tasks",
            new(),
            task_at(nowhere, None),
            unknown,
            "hub_id",
            nowhere,
            None,
        ),
        (
            "tasks",
            new(),
            task_at(HUB, Some(nowhere)),
            unknown,
            "robot_id",
            nowhere,
            None,
        ),
        (
            "tasks",
            task,
            json!({"type": "AssignRobot", "robot_id": nowhere}),
            unknown,
            "robot_id",
            nowhere,
            None,
        ),
        (
            "trips",
            new(),
            plan(nowhere, home.clone(), door.clone()),
            unknown,
            "robot_id",
            nowhere,
            None,
        ),
        (
            "trips",
            new(),
            plan(ROBOT, spot(nowhere), door.clone()),
            unknown,
            "origin.location_id",
            nowhere,
            None,
        ),
        (
            "trips",
            new(),
            plan(ROBOT, home.clone(), spot(nowhere)),
            unknown,
            "destination.location_id",
            nowhere,
            None,
        ),
        (
            "trips",
            trip,
            json!({"type": "ArriveAtStop", "location": spot(nowhere)}),
            unknown,
            "location.location_id",
            nowhere,
            None,
        ),
        (
            "fo-tasks",
            new(),
            fo(nowhere, None, json!([])),
            unknown,
            "hub_id",
            nowhere,
            None,
        ),
        (
            "fo-tasks",
            new(),
            fo(HUB, Some(nowhere), json!([])),
            unknown,
            "robot_id",
            nowhere,
            None,
        ),
        (
            "fo-tasks",
            new(),
            fo(HUB, None, travel(spot(nowhere))),
            unknown,
            "subtasks.from.location_id",
            nowhere,
            None,
        ),
        (
            "fo-tasks",
            fo_task,
            json!({"type": "AddSubtask", "subtask": act(nowhere)}),
            unknown,
            "subtask.location.location_id",
            nowhere,
            None,
        ),
        (
            "pilots",
            app.pilot_operator().await,
            json!({"type": "RegisterPilot", "pilot_center_id": nowhere}),
            unknown,
            "pilot_center_id",
            nowhere,
            None,
        ),
        (
            "pilots",
            pilot,
            json!({"type": "UpdatePilotProfile", "pilot_center_id": nowhere}),
            unknown,
            "pilot_center_id",
            nowhere,
            None,
        ),
        (
            "tasks",
            new(),
            task_at(closed_hub, None),
            StatusCode::CONFLICT,
            "hub_id",
            closed_hub,
            Some("CLOSED"),
        ),
        (
            "tasks",
            new(),
            task_at(HUB, Some(retired_robot)),
            StatusCode::CONFLICT,
            "robot_id",
            retired_robot,
            Some("RETIRED"),
        ),
        (
            "tasks",
            task,
            json!({"type": "AssignRobot", "robot_id": retired_robot}),
            StatusCode::CONFLICT,
            "robot_id",
            retired_robot,
            Some("RETIRED"),
        ),
        (
            "trips",
            new(),
            plan(retired_robot, home.clone(), door.clone()),
            StatusCode::CONFLICT,
            "robot_id",
            retired_robot,
            Some("RETIRED"),
        ),
        (
            "trips",
            new(),
            plan(ROBOT, spot(retired_spot), door.clone()),
            StatusCode::CONFLICT,
            "origin.location_id",
            retired_spot,
            Some("RETIRED"),
        ),
        (
            "trips",
            trip,
            json!({"type": "ArriveAtStop", "location": spot(retired_spot)}),
            StatusCode::CONFLICT,
            "location.location_id",
            retired_spot,
            Some("RETIRED"),
        ),
        (
            "fo-tasks",
            new(),
            fo(closed_hub, None, json!([])),
            StatusCode::CONFLICT,
            "hub_id",
            closed_hub,
            Some("CLOSED"),
        ),
        (
            "pilots",
            app.pilot_operator().await,
            json!({"type": "RegisterPilot", "pilot_center_id": closed_center}),
            StatusCode::CONFLICT,
            "pilot_center_id",
            closed_center,
            Some("CLOSED"),
        ),
        (
            "pilots",
            pilot,
            json!({"type": "UpdatePilotProfile", "pilot_center_id": closed_center}),
            StatusCode::CONFLICT,
            "pilot_center_id",
            closed_center,
            Some("CLOSED"),
        ),
    ];
    for (collection, id, body, status, field, value, state) in cases {
        let code = if state.is_some() {
            "reference_state"
        } else {
            "unknown_reference"
        };
        let problem = app
            .refused(collection, id, body.clone(), status, code)
            .await;
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert_eq!(problem["value"], value.to_string(), "{body}: {problem}");
        assert_eq!(problem["state"].as_str(), state, "{body}: {problem}");
    }
    // What exists and is in service is taken; a field task may be about a retired robot (it
    // may still need collecting).
    let another = app.deployed_robot().await;
    let working = [
        ("tasks", new(), task_at(HUB, Some(ROBOT))),
        (
            "tasks",
            task,
            json!({"type": "AssignRobot", "robot_id": another}),
        ),
        (
            "trips",
            trip,
            json!({"type": "ArriveAtStop", "location": spot(LOCATION)}),
        ),
        (
            "fo-tasks",
            new(),
            fo(HUB, Some(retired_robot), travel(spot(LOCATION))),
        ),
        (
            "fo-tasks",
            fo_task,
            json!({"type": "AddSubtask", "subtask": act(LOCATION)}),
        ),
        (
            "pilots",
            app.pilot_operator().await,
            json!({"type": "RegisterPilot", "pilot_center_id": open_center}),
        ),
        (
            "pilots",
            pilot,
            json!({"type": "UpdatePilotProfile", "pilot_center_id": open_center}),
        ),
    ];
    for (collection, id, body) in working {
        app.ok(collection, id, body).await;
    }
}

/// Tasks created at a hub while it reopens, on two instances: each is created (the hub was
/// open by the time it committed) or refused as at a closed hub, never answered with a
/// conflict on its brand-new stream; what was answered created is what was stored.
#[tokio::test]
async fn tasks_created_while_their_hub_reopens_are_created_or_refused_never_conflicted() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    let hub = app.hub().await;
    let mut created = 0;
    for _ in 0..3 {
        app.ok("hubs", hub, json!({"type": "CloseHub", "reason": "night"}))
            .await;
        let tasks: Vec<Uuid> = (0..48).map(|_| Uuid::new_v4()).collect();
        let body = json!({"type": "CreateTask", "task_type": "NONE", "hub_id": hub});
        let creations = join_all(tasks.iter().enumerate().map(|(n, task)| {
            app.client
                .post(format!("{}/v1/tasks/{task}/commands", instances[n % 2]))
                .json(&body)
                .send()
        }));
        let reopen = async {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            app.ok("hubs", hub, json!({"type": "ReopenHub"})).await
        };
        let (answers, _) = tokio::join!(creations, reopen);
        for answer in answers {
            let answer = answer.unwrap();
            if answer.status() == StatusCode::CREATED {
                created += 1;
                continue;
            }
            let problem = assert_problem(answer, StatusCode::CONFLICT, "reference_state").await;
            assert_eq!(problem["state"], "CLOSED", "{problem}");
        }
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'TaskCreated'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, created);
}
