//! A robot and its trips stay in step (#14 part 2): a trip's departure and its robot's
//! `RobotWentOnTrip` are one transaction, as are a stop or an ending and `RobotParked`; a robot
//! grounded or on another trip does not depart; two trips of one robot racing, one wins.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp};

fn place(lat: f64) -> Value {
    json!({"lat": lat, "lng": -122.41})
}

/// A robot registered and deployed at a hub; returns its id.
async fn deployed_robot(app: &TestApp) -> Uuid {
    let (robot, hub) = (Uuid::new_v4(), app.hub().await);
    let serial = format!("SN-{}", robot.simple());
    app.ok(
        "robots",
        robot,
        json!({"type": "RegisterRobot", "serial_number": serial, "hub_id": hub}),
    )
    .await;
    app.ok(
        "robots",
        robot,
        json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub}),
    )
    .await;
    robot
}

/// A trip of `robot`, planned and ready to depart; returns its id.
async fn ready_trip(app: &TestApp, robot: Uuid) -> Uuid {
    let trip = Uuid::new_v4();
    app.ok(
        "trips",
        trip,
        json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": robot,
               "trip_type": "DELIVERY", "origin": place(37.76), "destination": place(37.78)}),
    )
    .await;
    app.ok("trips", trip, json!({"type": "MarkReadyToDepart"}))
        .await;
    trip
}

async fn robot_events(app: &TestApp, robot: Uuid) -> Vec<String> {
    app.event_types(robot).await
}

#[tokio::test]
async fn a_departure_puts_the_robot_on_the_trip_and_a_stop_and_the_end_park_it() {
    let app = TestApp::spawn().await;
    let robot = deployed_robot(&app).await;
    let trip = ready_trip(&app, robot).await;
    let departed = app.ok("trips", trip, json!({"type": "DepartTrip"})).await;
    // The answer's token covers the robot's event: a read with it sees the robot on the trip.
    let shown = app
        .read_consistent(&format!("/v1/robots/{robot}"), &departed)
        .await;
    assert_eq!(
        json!([shown["status"], shown["trip_id"]]),
        json!(["ON_TRIP", trip])
    );
    let (transaction, robot_transaction): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT transaction_id::text::bigint FROM events
                  WHERE aggregate_id = $1 AND event_type = 'TripDeparted'),
                (SELECT transaction_id::text::bigint FROM events
                  WHERE aggregate_id = $2 AND event_type = 'RobotWentOnTrip')",
    )
    .bind(trip.to_string())
    .bind(robot.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        transaction, robot_transaction,
        "recorded in one transaction"
    );

    let stopped = app.ok("trips", trip, json!({"type": "ArriveAtStop"})).await;
    let shown = app
        .read_consistent(&format!("/v1/robots/{robot}"), &stopped)
        .await;
    assert_eq!(shown["status"], "PARKED", "it waits at the stop");
    app.ok("trips", trip, json!({"type": "MarkReadyToDepart"}))
        .await;
    let again = app.ok("trips", trip, json!({"type": "DepartTrip"})).await;
    let shown = app
        .read_consistent(&format!("/v1/robots/{robot}"), &again)
        .await;
    assert_eq!(
        shown["status"], "ON_TRIP",
        "it sets out again from the stop"
    );
    let completed = app.ok("trips", trip, json!({"type": "CompleteTrip"})).await;
    let shown = app
        .read_consistent(&format!("/v1/robots/{robot}"), &completed)
        .await;
    assert_eq!(shown["status"], "PARKED");
    assert_eq!(
        robot_events(&app, robot).await,
        [
            "RobotRegistered",
            "RobotDeployed",
            "RobotWentOnTrip",
            "RobotParked",
            "RobotWentOnTrip",
            "RobotParked"
        ]
    );
    // Each robot event says which trip command caused it.
    let command: String = sqlx::query_scalar(
        "SELECT metadata->>'command' FROM events WHERE aggregate_id = $1 ORDER BY sequence DESC
          LIMIT 1",
    )
    .bind(robot.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(command, "CompleteTrip");
    let timeline = app
        .read_consistent(&format!("/v1/robots/{robot}/history"), &completed)
        .await;
    let trips: Vec<&Value> = (timeline["items"].as_array().unwrap().iter())
        .filter(|row| row["kind"] == "trip")
        .collect();
    assert_eq!(trips.len(), 4, "{timeline}");

    // A parked robot takes its next trip; a trip cancelled before it departs parks nothing.
    let next = ready_trip(&app, robot).await;
    app.ok("trips", next, json!({"type": "DepartTrip"})).await;
    let unused = ready_trip(&app, robot).await;
    app.ok(
        "trips",
        unused,
        json!({"type": "CancelTrip", "reason": "CUSTOMER_REQUESTED"}),
    )
    .await;
    assert_eq!(
        robot_events(&app, robot).await.last().map(String::as_str),
        Some("RobotWentOnTrip"),
        "the robot stays on the trip that departed"
    );
}

#[tokio::test]
async fn a_grounded_robot_or_one_on_another_trip_does_not_depart_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let robot = deployed_robot(&app).await;
    let (first, second) = (ready_trip(&app, robot).await, ready_trip(&app, robot).await);
    app.ok("trips", first, json!({"type": "DepartTrip"})).await;
    let refused = app
        .command("trips", second, json!({"type": "DepartTrip"}))
        .await;
    let problem = assert_problem(refused, StatusCode::CONFLICT, "robot_unavailable").await;
    assert_eq!(
        json!([problem["robot_id"], problem["robot_status"]]),
        json!([robot, "ON_TRIP"])
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(&first.to_string()));
    assert_eq!(
        app.event_types(second).await,
        ["TripPlanned", "TripReadyToDepart"]
    );

    app.ok(
        "robots",
        robot,
        json!({"type": "GroundRobot", "reason": "HARDWARE_FAULT"}),
    )
    .await;
    let refused = app
        .command("trips", second, json!({"type": "DepartTrip"}))
        .await;
    let problem = assert_problem(refused, StatusCode::CONFLICT, "robot_unavailable").await;
    assert_eq!(problem["robot_status"], "GROUNDED");
    assert_eq!(app.event_types(second).await.len(), 2);
    // The trip it was on ends; the grounded robot has nothing to park and stays grounded.
    app.ok("trips", first, json!({"type": "CompleteTrip"}))
        .await;
    assert_eq!(
        robot_events(&app, robot).await.last().map(String::as_str),
        Some("RobotGrounded")
    );
}

#[tokio::test]
async fn trips_of_one_robot_racing_to_depart_on_two_instances_one_wins() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    let robot = deployed_robot(&app).await;
    let mut trips = Vec::new();
    for _ in 0..24 {
        trips.push(ready_trip(&app, robot).await);
    }
    let answers = join_all(trips.iter().enumerate().map(|(n, trip)| {
        app.client
            .post(format!("{}/v1/trips/{trip}/commands", instances[n % 2]))
            .json(&json!({"type": "DepartTrip"}))
            .send()
    }))
    .await;
    let mut winners = Vec::new();
    for (trip, answer) in trips.iter().zip(answers) {
        let answer = answer.unwrap();
        let status = answer.status();
        let problem: Value = answer.json().await.unwrap();
        match status {
            StatusCode::OK => winners.push(*trip),
            StatusCode::CONFLICT => assert!(
                ["robot_unavailable", "concurrent_modification"]
                    .contains(&problem["code"].as_str().unwrap()),
                "{problem}"
            ),
            other => panic!("{other}: {problem}"),
        }
    }
    assert_eq!(winners.len(), 1, "one trip departs");
    let (departed, went): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE event_type = 'TripDeparted'),
                count(*) FILTER (WHERE event_type = 'RobotWentOnTrip')
           FROM events",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (departed, went),
        (1, 1),
        "both streams moved once, together"
    );
    let on: String = sqlx::query_scalar(
        "SELECT payload->'RobotWentOnTrip'->>'trip_id' FROM events
          WHERE event_type = 'RobotWentOnTrip'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(on, winners[0].to_string());
}

#[tokio::test]
async fn a_departure_retried_with_its_key_answers_the_same_token_covering_the_robot() {
    let app = TestApp::spawn().await;
    let robot = deployed_robot(&app).await;
    let trip = ready_trip(&app, robot).await;
    let depart = || {
        app.post_command("trips", trip)
            .header("Idempotency-Key", "depart-once")
            .json(&json!({"type": "DepartTrip"}))
            .send()
    };
    let first: Value = depart().await.unwrap().json().await.unwrap();
    let again = depart().await.unwrap();
    assert_eq!(
        again.headers()["idempotent-replayed"],
        "true",
        "the retry is answered from memory"
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["token"], first["token"], "{first} vs {again}");
    let robot_position: i64 = sqlx::query_scalar(
        "SELECT global_position FROM events WHERE aggregate_id = $1
          AND event_type = 'RobotWentOnTrip'",
    )
    .bind(robot.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let token = again["token"].as_str().unwrap();
    assert!(
        token.ends_with(&format!(".{robot_position}")),
        "{token} covers the robot's event at {robot_position}"
    );
    assert_eq!(
        app.event_types(robot)
            .await
            .iter()
            .filter(|t| *t == "RobotWentOnTrip")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_robot_waiting_at_a_stop_is_its_trips_until_that_trip_ends() {
    let app = TestApp::spawn().await;
    let robot = deployed_robot(&app).await;
    let (first, second) = (ready_trip(&app, robot).await, ready_trip(&app, robot).await);
    app.ok("trips", first, json!({"type": "DepartTrip"})).await;
    app.ok("trips", first, json!({"type": "ArriveAtStop"}))
        .await;
    let refused = app
        .command("trips", second, json!({"type": "DepartTrip"}))
        .await;
    let problem = assert_problem(refused, StatusCode::CONFLICT, "robot_unavailable").await;
    assert_eq!(problem["robot_status"], "PARKED");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(&first.to_string()));
    // Nor can its deployment end under the trip.
    let deployment: String = sqlx::query_scalar(
        "SELECT payload->'RobotDeployed'->>'deployment_id' FROM events
          WHERE aggregate_id = $1 AND event_type = 'RobotDeployed'",
    )
    .bind(robot.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let end = json!({"type": "EndDeployment", "deployment_id": deployment});
    app.refused(
        "robots",
        robot,
        end,
        StatusCode::CONFLICT,
        "robot_on_another_trip",
    )
    .await;
    // The first trip is cancelled at its stop: the robot is free, and the second departs.
    app.ok(
        "trips",
        first,
        json!({"type": "CancelTrip", "reason": "CUSTOMER_REQUESTED"}),
    )
    .await;
    let departed = app.ok("trips", second, json!({"type": "DepartTrip"})).await;
    let shown = app
        .read_consistent(&format!("/v1/robots/{robot}"), &departed)
        .await;
    assert_eq!(
        json!([shown["status"], shown["trip_id"]]),
        json!(["ON_TRIP", second])
    );
}

/// A trip's stop and end are not refused because other commands keep writing to its robot
/// meanwhile: the robot's `RobotParked` is decided again on the robot as it is then.
#[tokio::test]
async fn a_trip_stops_and_ends_while_others_write_to_its_robot() {
    let app = TestApp::spawn().await;
    let robot = app.deployed_robot().await;
    let trip = ready_trip(&app, robot).await;
    app.ok("trips", trip, json!({"type": "DepartTrip"})).await;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let busy = join_all((0..8).map(|_| async {
        let hub = crate::helpers::HUB;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            for body in [
                json!({"type": "CheckInRobot", "hub_id": hub}),
                json!({"type": "CheckOutRobot", "hub_id": hub}),
            ] {
                // Refused or conflicted among themselves, as may be: only the trip matters.
                let _ = app.command("robots", robot, body).await;
            }
        }
    }));
    let trip_commands = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut answers = Vec::new();
        for body in [
            json!({"type": "ArriveAtStop", "location": place(37.77)}),
            json!({"type": "CompleteTrip"}),
        ] {
            let answer = app.command("trips", trip, body).await;
            answers.push((answer.status(), answer.text().await.unwrap()));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        answers
    };
    let (_, answers) = tokio::join!(busy, trip_commands);
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let robot_now = robot_events(&app, robot).await;
    let parked = robot_now.iter().filter(|t| *t == "RobotParked").count();
    assert_eq!(parked, 2, "{robot_now:?}");
}
