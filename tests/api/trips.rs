//! Trips over HTTP: commands, the read models behind GET, the status timeline, refusals, replay.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp, LOCATION, ROBOT};
use crate::read_side::snapshot;

const TRIPS: &str = "trips";

/// The fixtures' hub location (`LOCATION`, registered by `TestApp::places`).
fn hub() -> Value {
    json!({"lat": 37.7749, "lng": -122.4194, "name": "Hub SF", "location_id": LOCATION})
}

fn customer() -> Value {
    json!({"lat": 37.7793, "lng": -122.4057, "name": "Customer, 5th St"})
}

/// A trip for `ROBOT` (registered by `TestApp::places`).
fn plan_body() -> Value {
    plan_body_for(ROBOT)
}

fn plan_body_for(robot: Uuid) -> Value {
    json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": robot,
           "trip_type": "DELIVERY", "origin": hub(), "destination": customer()})
}

/// Plans a trip for a robot of its own, deployed (a robot departs on one trip at a time);
/// returns its id.
async fn plan(app: &TestApp) -> Uuid {
    let (id, robot) = (Uuid::new_v4(), app.deployed_robot().await);
    app.ok(TRIPS, id, plan_body_for(robot)).await;
    id
}

#[tokio::test]
async fn a_trip_with_two_stops_a_route_and_an_assistance_request_lives_its_whole_life_over_http() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    let (task, robot) = (Uuid::new_v4(), app.deployed_robot().await);
    let (route, request, fo) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let corner = json!({"lat": 37.7760, "lng": -122.4120, "name": "Market & 7th"});

    let planned = app
        .command(
            TRIPS,
            id,
            json!({"type": "PlanTrip", "task_id": task, "robot_id": robot, "trip_type": "DELIVERY",
                   "origin": hub(), "destination": customer()}),
        )
        .await;
    assert_eq!(planned.status(), StatusCode::CREATED);
    assert_eq!(
        planned.headers()["location"].to_str().unwrap(),
        format!("/v1/trips/{id}")
    );
    let planned: Value = planned.json().await.unwrap();
    assert_eq!(planned["events"][0]["event_type"], "TripPlanned");

    let steps = [
        (
            json!({"type": "RecordRoute", "route_id": route, "distance_m": 2400.5,
                   "duration_s": 900.0, "polyline": "_p~iF~ps|U_ulLnnqC"}),
            "TripRouteRecorded",
        ),
        (json!({"type": "MarkReadyToDepart"}), "TripReadyToDepart"),
        (json!({"type": "DepartTrip"}), "TripDeparted"),
        (
            json!({"type": "ArriveAtStop", "location": corner}),
            "TripArrivedAtStop",
        ),
        (
            json!({"type": "RequestFoAssistance", "request_id": request, "kind": "STUCK",
                   "note": "wheel in a grate"}),
            "FoAssistanceRequested",
        ),
        (
            json!({"type": "AcknowledgeFoAssistance", "request_id": request, "fo_id": fo}),
            "FoAssistanceAcknowledged",
        ),
        (
            json!({"type": "ResolveFoAssistance", "request_id": request,
                   "outcome": "ROBOT_RECOVERED", "note": "lifted out"}),
            "FoAssistanceResolved",
        ),
        (json!({"type": "MarkReadyToDepart"}), "TripReadyToDepart"),
        (json!({"type": "DepartTrip"}), "TripDeparted"),
        (
            json!({"type": "ArriveAtStop", "location": customer()}),
            "TripArrivedAtStop",
        ),
        (json!({"type": "CompleteTrip"}), "TripCompleted"),
    ];
    let mut answer = Value::Null;
    for (n, (body, event)) in steps.into_iter().enumerate() {
        answer = app.ok(TRIPS, id, body).await;
        assert_eq!(answer["version"], n as u64 + 2);
        assert_eq!(answer["events"][0]["event_type"], event);
    }

    let response = app
        .get_consistent(&format!("/v1/trips/{id}"), &answer)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"].to_str().unwrap(), "\"12\"");
    let trip: Value = response.json().await.unwrap();
    assert_eq!(trip["id"], id.to_string());
    assert_eq!(trip["task_id"], task.to_string());
    assert_eq!(trip["robot_id"], robot.to_string());
    assert_eq!(trip["trip_type"], "DELIVERY");
    assert_eq!(trip["status"], "COMPLETED");
    assert_eq!(trip["version"], 12);
    assert_eq!(trip["origin"], hub());
    assert_eq!(
        trip["destination"],
        json!({"lat": 37.7793, "lng": -122.4057, "name": "Customer, 5th St", "location_id": null})
    );
    assert_eq!(trip["stops"], 2);
    assert_eq!(trip["current_location"], trip["destination"]);
    let stops = trip["stop_locations"].as_array().unwrap();
    assert_eq!(stops.len(), 2);
    assert_eq!(stops[0]["stop"], 1);
    assert_eq!(stops[0]["location"]["name"], "Market & 7th");
    assert_eq!(stops[0]["location"]["lat"], 37.776);
    assert_eq!(stops[1]["stop"], 2);
    assert_eq!(stops[1]["location"], trip["destination"]);
    assert!(stops[0]["arrived_at"].as_str().unwrap() < stops[1]["arrived_at"].as_str().unwrap());

    let routes = trip["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0]["route_id"], route.to_string());
    assert_eq!(routes[0]["distance_m"], 2400.5);
    assert_eq!(routes[0]["duration_s"], 900.0);
    assert_eq!(routes[0]["polyline"], "_p~iF~ps|U_ulLnnqC");

    let requests = trip["assistance_requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    let help = &requests[0];
    assert_eq!(help["request_id"], request.to_string());
    assert_eq!(help["kind"], "STUCK");
    assert_eq!(help["status"], "RESOLVED");
    assert_eq!(help["note"], "wheel in a grate");
    assert_eq!(help["fo_id"], fo.to_string());
    assert_eq!(help["outcome"], "ROBOT_RECOVERED");
    assert_eq!(help["resolution_note"], "lifted out");
    let (requested, acknowledged, resolved) = (
        help["requested_at"].as_str().unwrap(),
        help["acknowledged_at"].as_str().unwrap(),
        help["resolved_at"].as_str().unwrap(),
    );
    assert!(requested < acknowledged && acknowledged < resolved);
    assert_eq!(help["updated_at"], help["resolved_at"]);
    assert_eq!(trip["cancellation_reason"], Value::Null);
    assert!(trip["created_at"].as_str().unwrap() < trip["updated_at"].as_str().unwrap());

    assert_eq!(app.event_types(id).await.len(), 12);
    app.refused(
        TRIPS,
        id,
        json!({"type": "DepartTrip"}),
        StatusCode::CONFLICT,
        "trip_ended",
    )
    .await;
}

#[tokio::test]
async fn an_open_assistance_request_shows_who_acknowledged_it_before_it_is_resolved() {
    let app = TestApp::spawn().await;
    let id = plan(&app).await;
    let (request, fo) = (Uuid::new_v4(), Uuid::new_v4());
    let answer = app.run(
        TRIPS,
        id,
        &[
            json!({"type": "RequestFoAssistance", "request_id": request, "kind": "LOW_BATTERY"}),
            json!({"type": "AcknowledgeFoAssistance", "request_id": request, "fo_id": fo}),
        ],
    )
    .await;
    let trip = app
        .read_consistent(&format!("/v1/trips/{id}"), &answer)
        .await;
    let help = &trip["assistance_requests"][0];
    assert_eq!(help["status"], "ACKNOWLEDGED");
    assert_eq!(help["kind"], "LOW_BATTERY");
    assert_eq!(help["fo_id"], fo.to_string());
    assert_eq!(help["note"], Value::Null);
    assert_eq!(help["outcome"], Value::Null);
    assert_eq!(help["resolved_at"], Value::Null);
    assert!(help["acknowledged_at"].as_str().is_some());
    // Assistance does not change the trip's status or its stops.
    assert_eq!(trip["status"], "AT_STOP");
    assert_eq!(trip["stops"], 0);
    assert_eq!(trip["current_location"], Value::Null);
    assert_eq!(trip["version"], 3);
}

#[tokio::test]
async fn a_trips_history_lists_each_status_change_with_who_when_and_why() {
    let app = TestApp::spawn().await;
    let id = plan(&app).await;
    let request = Uuid::new_v4();
    app.run(
        TRIPS,
        id,
        &[
            json!({"type": "MarkReadyToDepart"}),
            json!({"type": "DepartTrip"}),
            json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": 10,
                   "duration_s": 5}),
            json!({"type": "ArriveAtStop"}),
            json!({"type": "RequestFoAssistance", "request_id": request,
                   "kind": "BLOCKED_PATH", "note": "scaffolding"}),
        ],
    )
    .await;
    let cancel: Value = app
        .client
        .post(app.url(&format!("/v1/trips/{id}/commands")))
        .header("X-Actor", "dispatcher:ana")
        .header("X-Correlation-Id", "festival-77")
        .json(&json!({"type": "CancelTrip", "reason": "OTHER", "note": "street festival"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancel["version"], 7);
    // After the trip ends, the field operator still closes the request.
    app.ok(
        "trips",
        id,
        json!({"type": "AcknowledgeFoAssistance", "request_id": request}),
    )
    .await;
    let answer = app
        .ok(
            "trips",
            id,
            json!({"type": "ResolveFoAssistance", "request_id": request,
                   "outcome": "TRIP_CANCELLED", "note": "trip cancelled first"}),
        )
        .await;
    assert_eq!(answer["version"], 9);

    let history = app
        .read_consistent(&format!("/v1/trips/{id}/history"), &answer)
        .await;
    assert_eq!(history["id"], id.to_string());
    let items = history["items"].as_array().unwrap();
    let changes: Vec<_> = items
        .iter()
        .map(|i| {
            (
                i["subject"].as_str().unwrap(),
                i["event_type"].as_str().unwrap(),
                i["from_status"].clone(),
                i["to_status"].clone(),
                i["sequence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("TRIP", "TripPlanned", Value::Null, json!("AT_STOP"), 1),
            (
                "TRIP",
                "TripReadyToDepart",
                json!("AT_STOP"),
                json!("READY_TO_DEPART"),
                2
            ),
            (
                "TRIP",
                "TripDeparted",
                json!("READY_TO_DEPART"),
                json!("IN_TRANSIT"),
                3
            ),
            (
                "TRIP",
                "TripArrivedAtStop",
                json!("IN_TRANSIT"),
                json!("AT_STOP"),
                5
            ),
            (
                "ASSISTANCE_REQUEST",
                "FoAssistanceRequested",
                Value::Null,
                json!("REQUESTED"),
                6
            ),
            (
                "TRIP",
                "TripCancelled",
                json!("AT_STOP"),
                json!("CANCELLED"),
                7
            ),
            (
                "ASSISTANCE_REQUEST",
                "FoAssistanceAcknowledged",
                json!("REQUESTED"),
                json!("ACKNOWLEDGED"),
                8
            ),
            (
                "ASSISTANCE_REQUEST",
                "FoAssistanceResolved",
                json!("ACKNOWLEDGED"),
                json!("RESOLVED"),
                9
            ),
        ]
    );
    for item in &items[4..] {
        let expected = if item["subject"] == "TRIP" {
            id
        } else {
            request
        };
        assert_eq!(item["subject_id"], expected.to_string(), "{item}");
    }
    let requested = &items[4];
    assert_eq!(requested["reason"], "BLOCKED_PATH");
    assert_eq!(requested["note"], "scaffolding");
    let resolved = &items[7];
    assert_eq!(resolved["reason"], "TRIP_CANCELLED");
    assert_eq!(resolved["note"], "trip cancelled first");
    for item in &items[..4] {
        assert_eq!(item["actor"], "key:test-admin");
        assert_eq!(item["trip_id"], id.to_string());
        assert_eq!(item["reason"], Value::Null);
    }
    let cancelled = &items[5];
    assert_eq!(cancelled["actor"], "key:test-admin");
    assert_eq!(cancelled["on_behalf_of"], "dispatcher:ana");
    assert_eq!(cancelled["reason"], "OTHER");
    assert_eq!(cancelled["note"], "street festival");
    assert_eq!(cancelled["correlation_id"], "festival-77");
    assert_eq!(cancelled["position"], cancel["events"][0]["position"]);
    assert!(cancelled["changed_at"].as_str().unwrap() > items[0]["changed_at"].as_str().unwrap());

    let trip = app
        .read_consistent(&format!("/v1/trips/{id}"), &answer)
        .await;
    assert_eq!(trip["status"], "CANCELLED");
    assert_eq!(trip["cancellation_reason"], "OTHER");
    assert_eq!(trip["cancellation_note"], "street festival");
    // The arrival reported no location: the trip counts the stop but knows no place.
    assert_eq!(trip["stops"], 1);
    assert_eq!(trip["current_location"], Value::Null);
    assert_eq!(trip["stop_locations"], json!([]));
}

#[tokio::test]
async fn each_refused_trip_command_is_a_409_with_its_code_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let id = plan(&app).await;
    let (route, request) = (Uuid::new_v4(), Uuid::new_v4());
    app.run(
        TRIPS,
        id,
        &[
            json!({"type": "RecordRoute", "route_id": route, "distance_m": 100, "duration_s": 60}),
            json!({"type": "RequestFoAssistance", "request_id": request, "kind": "OTHER"}),
            json!({"type": "ResolveFoAssistance", "request_id": request, "outcome": "UNRESOLVED"}),
        ],
    )
    .await;
    let conflict = StatusCode::CONFLICT;
    let cases = [
        (plan_body(), "already_exists"),
        (json!({"type": "DepartTrip"}), "invalid_transition"),
        (json!({"type": "ArriveAtStop"}), "invalid_transition"),
        (
            json!({"type": "CancelTrip", "reason": "OTHER"}),
            "note_required",
        ),
        (
            json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": -1,
                   "duration_s": 60}),
            "invalid_route",
        ),
        (
            json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": 1,
                   "duration_s": 60, "polyline": "  "}),
            "invalid_route",
        ),
        (
            json!({"type": "RecordRoute", "route_id": route, "distance_m": 200,
                   "duration_s": 90}),
            "route_already_recorded",
        ),
        (
            json!({"type": "RequestFoAssistance", "request_id": request, "kind": "STUCK"}),
            "assistance_already_requested",
        ),
        (
            json!({"type": "AcknowledgeFoAssistance", "request_id": Uuid::new_v4()}),
            "assistance_not_found",
        ),
        (
            json!({"type": "AcknowledgeFoAssistance", "request_id": request}),
            "assistance_not_open",
        ),
        (
            json!({"type": "ResolveFoAssistance", "request_id": request, "outcome": "RESOLVED"}),
            "assistance_not_open",
        ),
    ];
    for (body, code) in cases {
        app.refused(TRIPS, id, body, conflict, code).await;
    }

    let same_place = json!({"type": "PlanTrip", "task_id": Uuid::new_v4(),
                            "robot_id": ROBOT, "trip_type": "RETURN",
                            "origin": hub(), "destination": hub()});
    let unplanned = Uuid::new_v4();
    app.refused(
        TRIPS,
        unplanned,
        same_place,
        conflict,
        "same_origin_and_destination",
    )
    .await;
    assert!(app.event_types(unplanned).await.is_empty());

    let answer = app
        .ok(
            TRIPS,
            id,
            json!({"type": "CancelTrip", "reason": "ROBOT_STUCK"}),
        )
        .await;
    for body in [
        json!({"type": "MarkReadyToDepart"}),
        json!({"type": "CompleteTrip"}),
        json!({"type": "CancelTrip", "reason": "WEATHER"}),
        json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": 1,
               "duration_s": 1}),
        json!({"type": "RequestFoAssistance", "request_id": Uuid::new_v4(), "kind": "STUCK"}),
    ] {
        app.refused(TRIPS, id, body, conflict, "trip_ended").await;
    }
    // What a reader sees is the trip as it was before the refusals.
    let trip = app
        .read_consistent(&format!("/v1/trips/{id}"), &answer)
        .await;
    assert_eq!(trip["version"], 5);
    assert_eq!(trip["status"], "CANCELLED");
    assert_eq!(trip["cancellation_reason"], "ROBOT_STUCK");
    assert_eq!(trip["routes"].as_array().unwrap().len(), 1);
    assert_eq!(trip["routes"][0]["distance_m"], 100.0);
    assert_eq!(trip["assistance_requests"].as_array().unwrap().len(), 1);
    assert_eq!(trip["assistance_requests"][0]["outcome"], "UNRESOLVED");
}

#[tokio::test]
async fn a_trip_command_with_a_bad_body_is_a_400_naming_the_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let id = plan(&app).await;
    let fresh = Uuid::new_v4();
    let with = |changes: Value| {
        let mut body = plan_body();
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        body
    };
    // (stream, body, the `field` the problem names, what its detail says)
    let cases = [
        (
            fresh,
            with(json!({"trip_type": "SPACESHIP"})),
            json!("trip_type"),
            "unknown variant `SPACESHIP`",
        ),
        (
            fresh,
            with(json!({"origin": {"lat": 91, "lng": 0}})),
            json!("origin"),
            "lat must be a number from -90 to 90, got 91",
        ),
        (
            fresh,
            with(json!({"destination": {"lat": 1, "lng": 2, "altitude": 3}})),
            json!("destination.altitude"),
            "unknown field `altitude`",
        ),
        (
            fresh,
            with(json!({"robot": Uuid::new_v4()})),
            json!("robot"),
            "unknown field `robot`",
        ),
        (
            fresh,
            with(json!({"destination": null})),
            json!("destination"),
            "missing field `destination`",
        ),
        (
            fresh,
            with(json!({"task_id": "task-1"})),
            json!("task_id"),
            "UUID parsing failed",
        ),
        (
            id,
            json!({"type": "ArriveAtStop", "location": {"lat": 91, "lng": 0}}),
            json!("location"),
            "lat must be a number from -90 to 90, got 91",
        ),
        (
            id,
            json!({"type": "RequestFoAssistance", "request_id": Uuid::new_v4(), "kind": "ALIENS"}),
            json!("kind"),
            "unknown variant `ALIENS`",
        ),
        (
            id,
            json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": "far",
                   "duration_s": 1}),
            json!("distance_m"),
            "invalid type",
        ),
        (
            id,
            json!({"type": "CancelTrip", "reason": "WEATHER", "note": "hail", "resaon": "x"}),
            json!("resaon"),
            "unknown field `resaon`",
        ),
        (
            id,
            json!({"type": "CancelTrip", "reason": "BORED"}),
            json!("reason"),
            "unknown variant `BORED`",
        ),
        (
            id,
            json!({"type": "CancelTrip", "note": "no reason"}),
            json!("reason"),
            "missing field `reason`",
        ),
    ];
    app.refuses_fields(TRIPS, cases).await;
    assert!(app.event_types(fresh).await.is_empty());
    assert_eq!(app.event_types(id).await, ["TripPlanned"]);
}

#[tokio::test]
async fn a_command_on_a_trip_that_does_not_exist_is_404_and_so_are_its_reads() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    for body in [
        json!({"type": "DepartTrip"}),
        json!({"type": "RequestFoAssistance", "request_id": Uuid::new_v4(), "kind": "STUCK"}),
    ] {
        app.refused(TRIPS, id, body, StatusCode::NOT_FOUND, "not_found")
            .await;
    }
    assert_eq!(app.event_count().await, 0);
    let response = app.get(&format!("/v1/trips/{id}")).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    let response = app.get(&format!("/v1/trips/{id}/history")).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    let response = app.get("/v1/trips/not-a-uuid").await;
    assert_problem(response, StatusCode::BAD_REQUEST, "invalid_id").await;
}

#[tokio::test]
async fn route_and_request_ids_used_on_another_trip_are_kept_on_each() {
    let app = TestApp::spawn().await;
    let (route, request) = (Uuid::new_v4(), Uuid::new_v4());
    let mut answers = Vec::new();
    for distance in [100.0, 200.0] {
        let id = plan(&app).await;
        let answer = app
            .run(
                TRIPS,
                id,
                &[
                    json!({"type": "RecordRoute", "route_id": route, "distance_m": distance,
                       "duration_s": 60}),
                    json!({"type": "RequestFoAssistance", "request_id": request, "kind": "STUCK"}),
                ],
            )
            .await;
        answers.push((id, distance, answer));
    }
    for (id, distance, answer) in answers {
        let trip = app
            .read_consistent(&format!("/v1/trips/{id}"), &answer)
            .await;
        assert_eq!(trip["routes"][0]["route_id"], route.to_string());
        assert_eq!(trip["routes"][0]["distance_m"], distance);
        assert_eq!(
            trip["assistance_requests"][0]["request_id"],
            request.to_string()
        );
    }
}

const TRIP_TABLES: [(&str, &str); 6] = [
    ("trips", "id"),
    ("trip_locations", "trip_id, role, ordinal"),
    ("routes", "trip_id, route_id"),
    ("fo_assistance_requests", "trip_id, request_id"),
    ("trip_history", "global_position"),
    ("fo_assistance_request_history", "global_position"),
];

#[tokio::test]
async fn replaying_the_trip_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        let id = plan(&app).await;
        let request = Uuid::new_v4();
        let mut bodies = vec![
            json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": 1000.25 * n as f64,
                   "duration_s": 61.5, "polyline": "abc"}),
            json!({"type": "MarkReadyToDepart"}),
            json!({"type": "DepartTrip"}),
            json!({"type": "RequestFoAssistance", "request_id": request, "kind": "HARDWARE_FAULT",
                   "note": "sensor"}),
            json!({"type": "ArriveAtStop", "location": {"lat": 37.0 + n as f64, "lng": -122.0,
                   "location_id": LOCATION}}),
            json!({"type": "AcknowledgeFoAssistance", "request_id": request}),
        ];
        if n > 0 {
            bodies.push(json!({"type": "ResolveFoAssistance", "request_id": request,
                               "outcome": "TRIP_CANCELLED"}));
            bodies.push(
                json!({"type": "CancelTrip", "reason": "ROBOT_HARDWARE_FAULT",
                               "note": "lidar"}),
            );
        }
        app.run(TRIPS, id, &bodies).await;
    }
    app.wait_for_projections().await;
    let mut before = Vec::new();
    for (table, order) in TRIP_TABLES {
        let rows = snapshot(&app.pool, table, order).await;
        assert!(!rows.is_empty(), "{table} is empty");
        before.push(rows);
    }
    assert_eq!(before[0].len(), 3);
    assert_eq!(before[1].len(), 3 * 3);
    assert_eq!(before[4].len(), 3 * 4 + 2);
    assert_eq!(
        before[5].len(),
        3 * 2 + 2,
        "requested, acknowledged, two resolved"
    );

    let replayed: Vec<_> = projections::all()
        .into_iter()
        .filter(|p| p.name().starts_with("trip"))
        .collect();
    assert_eq!(replayed.len(), 3);
    for projector in replayed {
        let done = projections::replay(&app.pool, projector.as_ref(), 5, |_| {})
            .await
            .unwrap();
        // Every event is read: the places', the robots' and the trips'.
        assert_eq!(done.events_read, app.event_count().await as u64);
    }
    for ((table, order), rows) in TRIP_TABLES.into_iter().zip(before) {
        assert_eq!(snapshot(&app.pool, table, order).await, rows, "{table}");
    }
}

/// An assistance request made twice in a stream (only a hand-written event can do it: the trip
/// refuses a used request id) stops the trips projector at that event rather than resetting the
/// request it already has.
#[tokio::test]
async fn a_second_request_with_a_used_id_stops_the_projector_at_that_event() {
    let app = TestApp::spawn().await;
    let id = plan(&app).await;
    let request = Uuid::new_v4();
    app.run(
        TRIPS,
        id,
        &[
            json!({"type": "RequestFoAssistance", "request_id": request, "kind": "STUCK"}),
            json!({"type": "AcknowledgeFoAssistance", "request_id": request}),
        ],
    )
    .await;
    app.wait_for_projections().await;
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Trip', $1, 4, 'FoAssistanceRequested', '1.0', $2, '{}')
         RETURNING global_position",
    )
    .bind(id.to_string())
    .bind(
        json!({"FoAssistanceRequested": {"request_id": request, "kind": "STUCK",
                                           "note": null}}),
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let mut trips = Value::Null;
    for _ in 0..100 {
        let status: Value = app.get("/v1/projections").await.json().await.unwrap();
        trips = status["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "trips")
            .unwrap()
            .clone();
        if trips["state"] == "failing" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(trips["state"], "failing", "{trips}");
    assert_eq!(trips["failed_position"], position);
    assert!(trips["last_error"]
        .as_str()
        .is_some_and(|e| e.contains("already made")));
    let request_row: String =
        sqlx::query_scalar("SELECT status FROM fo_assistance_requests WHERE request_id = $1")
            .bind(request)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(request_row, "ACKNOWLEDGED");
}
