//! References are checked (#14 part 4, for the places and robots): a command naming a hub,
//! city or location that does not exist is 422 `unknown_reference`; one naming it in a state
//! the command does not allow (a closed hub, a retired location) is 409 `reference_state`;
//! nothing is stored either way. The check is the append's own, against the write side.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp};

fn robot(hub: Uuid) -> serde_json::Value {
    json!({"type": "RegisterRobot", "serial_number": format!("SN-{}", Uuid::new_v4().simple()),
           "hub_id": hub})
}

fn deploy(hub: Uuid) -> serde_json::Value {
    json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub})
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
    let spot = Uuid::new_v4();
    app.ok(
        "locations",
        spot,
        json!({"type": "RegisterLocation", "name": "Dock", "lat": 0.0, "lng": 0.0,
               "kind": "PARKING", "hub_id": hub}),
    )
    .await;
    // A hub may stand at a known location, not at a retired one.
    app.ok("locations", spot, json!({"type": "RetireLocation"}))
        .await;
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
