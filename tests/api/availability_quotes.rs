//! Availability quotes (#15 part 5): what a hub can do in a window, counted from the read models
//! in one snapshot and recorded as an `AvailabilityQuoted` event, shown later as it was.

use chrono::{Duration, Utc};
use futures::future::join_all;
use operations::auth::Role;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::feed::run_cli;
use crate::helpers::{assert_problem, client_with, TestApp};
use crate::read_side::snapshot;

const QUOTES: &str = "/v1/availability-quotes";

/// An RFC 3339 time `minutes` from now, to the microsecond (as the service keeps times).
fn minutes(minutes: i64) -> String {
    rfc3339(Utc::now() + Duration::minutes(minutes))
}

fn rfc3339(time: chrono::DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A window from `from` to `until` minutes from now, at `hub`.
fn window(hub: Uuid, from: i64, until: i64) -> Value {
    json!({"hub_id": hub, "from": minutes(from), "until": minutes(until)})
}

/// Asks for a quote with the admin key, once the read models include `token` (if given).
async fn ask(app: &TestApp, body: &Value, token: Option<&str>) -> Response {
    let path = match token {
        Some(token) => format!("{QUOTES}?consistent_with={token}"),
        None => QUOTES.to_string(),
    };
    let request = app.request(Method::POST, &path);
    app.send(request.header("X-Actor", "dispatcher:ana").json(body))
        .await
}

/// A quote that must be recorded: its answer.
async fn quoted(app: &TestApp, body: &Value, token: &str) -> Value {
    let response = ask(app, body, Some(token)).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

fn token(answer: &Value) -> String {
    answer["token"].as_str().expect("a token").to_string()
}

/// A robot registered at `hub`, deployed there if `deploy`; returns it and the last token.
async fn robot(app: &TestApp, hub: Uuid, deploy: bool) -> (Uuid, String) {
    let id = Uuid::new_v4();
    let serial = format!("SN-{}", id.simple());
    let mut answer = app
        .ok(
            "robots",
            id,
            json!({"type": "RegisterRobot", "serial_number": serial, "hub_id": hub}),
        )
        .await;
    if deploy {
        answer = app
            .ok(
                "robots",
                id,
                json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub}),
            )
            .await;
    }
    (id, token(&answer))
}

/// An operator with `role` assigned to `hub` (if given), then sent `then` (each an operator
/// command); returns it and the last token.
async fn operator(app: &TestApp, role: &str, hub: Option<Uuid>, then: &[Value]) -> (Uuid, String) {
    let id = Uuid::new_v4();
    let mut answer = app.operator(id, role).await;
    if let Some(hub) = hub {
        let assign = json!({"type": "AssignOperatorToHub", "hub_id": hub});
        answer = app.ok("operators", id, assign).await;
    }
    for body in then {
        answer = app.ok("operators", id, body.clone()).await;
    }
    (id, token(&answer))
}

/// A pilot (its operator assigned to `hub`, if given) sent `commands` (each a pilot command);
/// returns it, the shift it starts (in `commands`, `SHIFT` is replaced by it) and the last token.
async fn pilot(app: &TestApp, hub: Option<Uuid>, commands: &[Value]) -> (Uuid, Uuid, String) {
    let (id, _) = operator(app, "PILOT", hub, &[]).await;
    let shift = Uuid::new_v4();
    let mut answer = app.ok("pilots", id, json!({"type": "RegisterPilot"})).await;
    for body in commands {
        let body = body.to_string().replace("SHIFT", &shift.to_string());
        answer = app
            .ok("pilots", id, serde_json::from_str(&body).unwrap())
            .await;
    }
    (id, shift, token(&answer))
}

fn start() -> Value {
    json!({"type": "StartShift", "shift_id": "SHIFT"})
}

fn ids(items: &Value, field: &str) -> Vec<String> {
    let mut ids: Vec<String> = (items.as_array().expect("a list").iter())
        .map(|item| item[field].as_str().expect("an id").to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[Uuid]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_quote_counts_what_the_hub_has_free_in_the_window_and_shows_it_later_as_it_was() {
    let app = TestApp::spawn().await;
    let (hub, elsewhere) = (app.hub().await, app.hub().await);
    // Robots: three in service at the hub; one off duty there, one grounded there, one
    // deployed at another hub.
    let mut in_service = Vec::new();
    for _ in 0..3 {
        in_service.push(robot(&app, hub, true).await.0);
    }
    robot(&app, hub, false).await;
    let (grounded, _) = robot(&app, hub, true).await;
    let ground = json!({"type": "GroundRobot", "reason": "LOW_BATTERY"});
    app.ok("robots", grounded, ground).await;
    robot(&app, elsewhere, true).await;
    // Pilots: on shift and free (one of them reserved only until before the window), and
    // those who are not: on break, with an assignment, reserved into the window, off shift,
    // of another hub, archived.
    let (free, _, _) = pilot(&app, Some(hub), &[start()]).await;
    let reserved_before = json!({"type": "ReservePilot", "reservation_id": Uuid::new_v4(),
                                 "until": minutes(5)});
    let (free_later, _, _) = pilot(&app, Some(hub), &[start(), reserved_before]).await;
    let on_break = json!({"type": "ChangeShiftState", "state": "ON_BREAK"});
    pilot(&app, Some(hub), &[start(), on_break]).await;
    let assigned = json!({"type": "RequestAssignment", "assignment_id": Uuid::new_v4(),
                          "task_id": Uuid::new_v4()});
    pilot(&app, Some(hub), &[start(), assigned]).await;
    let reserved_into = json!({"type": "ReservePilot", "reservation_id": Uuid::new_v4(),
                               "task_id": Uuid::new_v4(), "until": minutes(30)});
    pilot(&app, Some(hub), &[start(), reserved_into]).await;
    pilot(&app, Some(hub), &[]).await;
    pilot(&app, Some(hub), &[start(), json!({"type": "EndShift"})]).await;
    pilot(&app, Some(elsewhere), &[start()]).await;
    pilot(&app, None, &[start()]).await;
    // Field operators: AVAILABLE at the hub; OFFLINE there; AVAILABLE elsewhere; a pilot
    // operator AVAILABLE at the hub is no field operator; one that left the hub.
    let available = json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"});
    let (field, _) = operator(&app, "FIELD", Some(hub), std::slice::from_ref(&available)).await;
    operator(&app, "FIELD", Some(hub), &[]).await;
    operator(
        &app,
        "FIELD",
        Some(elsewhere),
        std::slice::from_ref(&available),
    )
    .await;
    operator(
        &app,
        "DISPATCH",
        Some(hub),
        std::slice::from_ref(&available),
    )
    .await;
    let left = json!({"type": "RemoveOperatorFromHub", "hub_id": hub});
    let (_, last) = operator(&app, "FIELD", Some(hub), &[available, left]).await;

    let body = window(hub, 10, 70);
    let response = ask(&app, &body, Some(&last)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let header_token = response.headers()["x-consistency-token"].to_owned();
    let answer: Value = response.json().await.unwrap();
    let id = answer["quote_id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("{QUOTES}/{id}"));
    assert_eq!(header_token, answer["token"].as_str().unwrap());
    assert_eq!(answer["hub_id"], hub.to_string());
    assert_eq!(ids(&answer["robots"], "robot_id"), sorted(&in_service));
    assert!(answer["robots"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "DEPLOYED"));
    assert_eq!(
        ids(&answer["pilots"], "pilot_id"),
        sorted(&[free, free_later]),
        "{answer}"
    );
    assert_eq!(
        ids(&answer["field_operators"], "operator_id"),
        sorted(&[field])
    );
    assert_eq!(
        answer["capacity"],
        json!({"trips": 2, "robots": 3, "pilots": 2, "field_operators": 1})
    );
    // It says how fresh the read models were: each had read at least up to the token named.
    let read_models = answer["as_of"]["read_models"].as_object().unwrap();
    let names: Vec<&String> = read_models.keys().collect();
    assert_eq!(names, ["operators", "pilots", "robots"]);
    let position = |token: &str| -> (u64, i64) {
        let (xid, position) = token.split_once('.').unwrap();
        (xid.parse().unwrap(), position.parse().unwrap())
    };
    let least = answer["as_of"]["token"].as_str().unwrap();
    assert!(position(least) >= position(&last), "{least} < {last}");
    assert!(read_models
        .values()
        .all(|t| position(t.as_str().unwrap()) >= position(least)));
    // It expires a minute (the TTL) after the read models were read, which was before it was
    // recorded.
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let read_at = parse(&answer["quoted_at"]);
    assert!(read_at <= parse(&answer["created_at"]), "{answer}");
    let expires = parse(&answer["expires_at"]);
    assert_eq!(expires - read_at, Duration::seconds(60));

    // The quote reads back as it was answered, with its one event and its timeline.
    let shown = app.read_consistent(&location, &answer).await;
    let mut expected = answer.clone();
    expected.as_object_mut().unwrap().remove("token");
    assert_eq!(shown, expected);
    let events: Value = app
        .get(&format!("{location}/events"))
        .await
        .json()
        .await
        .unwrap();
    let event = &events["items"][0];
    assert_eq!(event["event_type"], "AvailabilityQuoted");
    assert_eq!(event["payload"]["capacity"]["trips"], 2);
    assert_eq!(event["payload"]["from"], body["from"]);
    assert_eq!(event["metadata"]["on_behalf_of"], "dispatcher:ana");
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    let history = app
        .read_consistent(&format!("{location}/history"), &answer)
        .await;
    let rows = history["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{history}");
    assert_eq!(rows[0]["event_type"], "AvailabilityQuoted");
    assert_eq!(rows[0]["trips"], 2);
    let listed = app
        .read_consistent(&format!("{QUOTES}?hub_id={hub}"), &answer)
        .await;
    assert_eq!(ids(&listed["items"], "quote_id"), [id]);
    let other = app
        .read_consistent(&format!("{QUOTES}?hub_id={elsewhere}"), &answer)
        .await;
    assert_eq!(other["items"], json!([]));

    // What changes afterwards changes the next quote, not this one.
    let ended = app.ok("pilots", free, json!({"type": "EndShift"})).await;
    let next = quoted(&app, &body, &token(&ended)).await;
    assert_eq!(ids(&next["pilots"], "pilot_id"), sorted(&[free_later]));
    assert_eq!(next["capacity"]["trips"], 1);
    assert_ne!(next["quote_id"], answer["quote_id"]);
    let again = app.read_consistent(&location, &next).await;
    assert_eq!(again, expected);
}

#[tokio::test]
async fn a_robot_parked_at_a_stop_is_counted_and_one_on_a_trip_is_not() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let place = |lat: f64| json!({"lat": lat, "lng": -122.41});
    let mut robots = Vec::new();
    let mut last = String::new();
    for stop in [true, false] {
        let (robot, _) = robot(&app, hub, true).await;
        let trip = Uuid::new_v4();
        let plan = json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": robot,
                          "trip_type": "DELIVERY", "origin": place(37.76),
                          "destination": place(37.78)});
        let mut commands = vec![
            plan,
            json!({"type": "MarkReadyToDepart"}),
            json!({"type": "DepartTrip"}),
        ];
        if stop {
            commands.push(json!({"type": "ArriveAtStop"}));
        }
        last = token(&app.run("trips", trip, &commands).await);
        robots.push(robot);
    }
    let answer = quoted(&app, &window(hub, 0, 60), &last).await;
    assert_eq!(
        answer["robots"],
        json!([{"robot_id": robots[0], "status": "PARKED"}])
    );
    assert_eq!(answer["capacity"]["trips"], 0);
}

#[tokio::test]
async fn bad_input_is_refused_with_400_naming_the_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let before = app.event_count().await;
    let send = |body: String| {
        let request = app.request(Method::POST, QUOTES);
        app.send(
            request
                .header("content-type", "application/json")
                .body(body),
        )
    };
    let good = window(hub, 0, 60);
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body.to_string()
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(field);
        body.to_string()
    };
    assert_problem(
        send("{\"hub_id\":".into()).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert_problem(
        send("[1]".into()).await,
        StatusCode::BAD_REQUEST,
        "body_not_object",
    )
    .await;
    let cases = [
        (without("hub_id"), "hub_id", "missing field"),
        (without("until"), "until", "missing field"),
        (with("hub_id", json!("hub-1")), "hub_id", "UUID"),
        (with("hub_id", json!(7)), "hub_id", "invalid type"),
        (with("from", json!("tomorrow")), "from", "RFC 3339"),
        (
            with("until", json!("2026-13-01T00:00:00Z")),
            "until",
            "RFC 3339",
        ),
        (with("capacity", json!(3)), "capacity", "unknown field"),
        (with("until", json!(minutes(-120))), "until", "after `from`"),
        (
            with("until", json!(minutes(7 * 24 * 60 + 1))),
            "until",
            "at most 7 days",
        ),
        (
            with("until", json!("2026-12-31T23:59:60Z")),
            "until",
            "leap second",
        ),
    ];
    for (body, field, says) in cases {
        let problem = assert_problem(
            send(body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(problem["field"], field, "{body}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{body}: {problem}");
    }
    // A window that is over: both ends in the past.
    let over = json!({"hub_id": hub, "from": minutes(-120), "until": minutes(-60)}).to_string();
    let problem = assert_problem(send(over).await, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(problem["field"], "until");
    assert!(
        problem["detail"].as_str().unwrap().contains("future"),
        "{problem}"
    );
    // A bad query parameter, a bad token, a body past the limit.
    let request = app.request(Method::POST, &format!("{QUOTES}?consistent_wiht=1.1"));
    let response = app.send(request.json(&good)).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "invalid_query").await;
    let request = app.request(Method::POST, &format!("{QUOTES}?consistent_with=soon"));
    let response = app.send(request.json(&good)).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "invalid_token").await;
    let huge = format!(
        "{{\"hub_id\": \"{hub}\", \"pad\": \"{}\"}}",
        "x".repeat(2 << 20)
    );
    assert_eq!(send(huge).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.event_count().await,
        before,
        "a refused quote stored events"
    );
}

#[tokio::test]
async fn a_quote_of_a_hub_that_does_not_exist_or_is_closed_is_refused() {
    let app = TestApp::spawn().await;
    let before = app.event_count().await;
    let nowhere = Uuid::new_v4();
    let response = ask(&app, &window(nowhere, 0, 60), None).await;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_reference",
    )
    .await;
    assert_eq!(problem["field"], "hub_id");
    assert_eq!(problem["value"], nowhere.to_string());
    assert_eq!(app.event_count().await, before);

    let hub = app.hub().await;
    app.ok(
        "hubs",
        hub,
        json!({"type": "CloseHub", "reason": "flooded"}),
    )
    .await;
    let before = app.event_count().await;
    let response = ask(&app, &window(hub, 0, 60), None).await;
    let problem = assert_problem(response, StatusCode::CONFLICT, "reference_state").await;
    assert_eq!(problem["field"], "hub_id");
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_quote_expires_with_its_window_if_that_ends_first() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let until = rfc3339(Utc::now() + Duration::seconds(20));
    let body = json!({"hub_id": hub, "from": minutes(-10), "until": until});
    let response = ask(&app, &body, None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let answer: Value = response.json().await.unwrap();
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(parse(&answer["expires_at"]), parse(&body["until"]));
    assert_eq!(
        answer["capacity"],
        json!({"trips": 0, "robots": 0, "pilots": 0,
                                          "field_operators": 0})
    );
}

#[tokio::test]
async fn a_quote_retried_with_its_key_is_the_first_one_even_when_the_retries_race() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let body = window(hub, 0, 60);
    let before = app.event_count().await;
    let send = |key: &'static str, body: Value| {
        let request = app
            .request(Method::POST, QUOTES)
            .header("Idempotency-Key", key);
        app.send(request.json(&body))
    };
    let answers = join_all((0..4).map(|_| send("quote-1", body.clone()))).await;
    let mut quotes = Vec::new();
    let mut replayed = 0;
    for response in answers {
        assert_eq!(response.status(), StatusCode::CREATED);
        if response.headers().get("idempotent-replayed").is_some() {
            replayed += 1;
        }
        let answer: Value = response.json().await.unwrap();
        quotes.push(answer);
    }
    assert_eq!(app.event_count().await, before + 1, "one quote recorded");
    assert_eq!(replayed, 3);
    assert!(quotes.iter().all(|q| q == &quotes[0]), "{quotes:#?}");
    // The same key with another body is another request.
    let other = window(hub, 0, 90);
    let response = send("quote-1", other).await;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.event_count().await, before + 1);

    // A retry once the window is over still gets its quote, not a refusal of the window.
    let until = rfc3339(Utc::now() + Duration::milliseconds(1500));
    let closing = json!({"hub_id": hub, "from": minutes(-10), "until": until});
    let first = send("quote-2", closing.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    let retried = send("quote-2", closing).await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    assert_eq!(retried.json::<Value>().await.unwrap(), first);
    assert_eq!(app.event_count().await, before + 2);
}

#[tokio::test]
async fn quoting_is_a_command_on_the_quotes_and_reading_one_is_a_read() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let body = window(hub, 0, 60);
    let key = |name: &'static str, role: Role, collections: Option<&'static [&'static str]>| {
        app.db.key(name, role, collections)
    };
    let quoter = client_with(&key("dispatch", Role::Service, Some(&["availability-quotes"])).await);
    let tasks_only = client_with(&key("tasks", Role::Service, Some(&["tasks"])).await);
    let analyst = client_with(&key("analyst", Role::Analyst, None).await);
    let auditor = client_with(&key("auditor", Role::Auditor, None).await);
    let post = |client: &reqwest::Client| client.post(app.url(QUOTES)).json(&body).send();
    let response = post(&quoter).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let answer: Value = response.json().await.unwrap();
    for client in [&tasks_only, &analyst, &auditor] {
        let response = post(client).await.unwrap();
        assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let response = post(&reqwest::Client::new()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The actor is the key that asked.
    let path = format!("{QUOTES}/{}", answer["quote_id"].as_str().unwrap());
    let token = answer["token"].as_str().unwrap();
    for client in [&analyst, &auditor, &tasks_only] {
        let response = client
            .get(app.url(&format!("{path}?consistent_with={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let history = app
        .read_consistent(&format!("{path}/history"), &answer)
        .await;
    assert_eq!(history["items"][0]["actor"], "key:dispatch");
    // A quote takes no command: clients cannot write an answer of their own.
    let forged = app
        .send(
            app.request(Method::POST, &format!("{path}/commands"))
                .json(&json!({"type": "RecordAvailabilityQuote"})),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let response = app.get(&format!("{QUOTES}/{}", Uuid::new_v4())).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_quote_has_what_every_collection_has_and_replays_to_the_same_rows() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let (_, _, last) = pilot(&app, Some(hub), &[start()]).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(quoted(&app, &window(hub, 0, 60), &last).await);
    }
    let answer = &answers[0];
    let id = answer["quote_id"].as_str().unwrap().to_string();
    let path = format!("{QUOTES}/{id}");

    // Time travel: its state at version 1, and at a moment, folded from its event.
    let then = app
        .read_consistent(&format!("{path}?version=1"), answer)
        .await;
    assert_eq!(then["version"], 1, "{then}");
    assert_eq!(then["state"]["capacity"]["pilots"], 1, "{then}");
    let as_of = rfc3339(Utc::now());
    let at = app
        .read_consistent(&format!("{path}?as_of={as_of}"), answer)
        .await;
    assert_eq!(at["state"], then["state"]);
    let before = app.get(&format!("{path}?as_of=2020-01-01T00:00:00Z")).await;
    assert_eq!(before.status(), StatusCode::NOT_FOUND);
    // Its hash chain, the feed and the export filtered to its type, the timeline CLI.
    let verified: Value = app
        .get(&format!("{path}/verify"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["status"], "intact", "{verified}");
    let fed = app.feed_types("AvailabilityQuote", 3).await;
    assert_eq!(fed, ["AvailabilityQuoted"; 3]);
    let export = run_cli(&app, &["export", "--aggregate-type", "AvailabilityQuote"]).await;
    assert!(export.status.success(), "{export:?}");
    let exported = String::from_utf8(export.stdout).unwrap();
    assert_eq!(exported.lines().count(), 3, "{exported}");
    assert!(exported.contains(&id), "{exported}");
    app.wait_for_projections().await;
    let timeline = run_cli(&app, &["timeline", "availability-quotes", &id]).await;
    assert!(timeline.status.success(), "{timeline:?}");
    let printed = String::from_utf8(timeline.stdout).unwrap();
    assert!(printed.contains("AvailabilityQuoted"), "{printed}");
    assert!(printed.contains("key:test-admin"), "{printed}");
    // Metrics count the quotes.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let line = r#"operations_commands_total{aggregate="AvailabilityQuote",command="RecordAvailabilityQuote",outcome="ok"} 3"#;
    assert!(
        metrics.lines().any(|l| l == line),
        "missing `{line}` in:\n{metrics}"
    );

    // A replay rebuilds the same rows.
    let tables = [
        ("availability_quotes", "id"),
        ("availability_quote_history", "global_position"),
    ];
    let mut rows = Vec::new();
    for (table, order) in tables {
        let before = snapshot(&app.pool, table, order).await;
        assert_eq!(before.len(), 3, "{table}");
        rows.push(before);
    }
    for name in ["availability_quotes", "availability_quote_history"] {
        let projector = projections::all()
            .into_iter()
            .find(|p| p.name() == name)
            .unwrap();
        projections::replay(&app.pool, projector.as_ref(), 2, |_| {})
            .await
            .unwrap();
    }
    for (i, (table, order)) in tables.into_iter().enumerate() {
        assert_eq!(snapshot(&app.pool, table, order).await, rows[i], "{table}");
    }
}
