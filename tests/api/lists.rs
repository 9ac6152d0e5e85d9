//! `GET /v1/{collection}`: filtered, stable, keyset-paginated lists.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp, HUB, ROBOT};

async fn list(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/v1/{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn tasks_page_in_creation_order_and_filter_by_status_and_hub() {
    let app = TestApp::spawn().await;
    let (hub, other) = (app.hub().await, app.hub().await);
    let mut created = Vec::new();
    for n in 0..5 {
        let id = Uuid::new_v4();
        let hub_id = if n % 2 == 0 { hub } else { other };
        app.ok(
            "tasks",
            id,
            json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": hub_id}),
        )
        .await;
        created.push(id.to_string());
    }
    app.ok(
        "tasks",
        created[0].parse().unwrap(),
        json!({"type": "MarkTaskPending"}),
    )
    .await;
    app.wait_for_projections().await;

    let first = list(&app, "tasks?limit=2").await;
    assert_eq!(ids(&first), created[..2]);
    let second = list(
        &app,
        &format!("tasks?limit=2&after={}", first["next"].as_str().unwrap()),
    )
    .await;
    assert_eq!(ids(&second), created[2..4]);
    let last = list(
        &app,
        &format!("tasks?limit=2&after={}", second["next"].as_str().unwrap()),
    )
    .await;
    assert_eq!(ids(&last), created[4..]);
    assert_eq!(last["next"], Value::Null);

    let at_hub = list(&app, &format!("tasks?hub_id={hub}")).await;
    assert_eq!(
        ids(&at_hub),
        [created[0].clone(), created[2].clone(), created[4].clone()]
    );
    let pending = list(&app, "tasks?status=PENDING").await;
    assert_eq!(ids(&pending), [created[0].clone()]);
    assert_eq!(pending["items"][0]["status"], "PENDING");
    let recent = list(
        &app,
        "tasks?updated_since=2000-01-01T00:00:00Z&task_type=DELIVERY_TRIP",
    )
    .await;
    assert_eq!(ids(&recent).len(), 5);
}

#[tokio::test]
async fn pilots_trips_and_fo_tasks_list_with_their_filters() {
    let app = TestApp::spawn().await;
    app.places().await;
    let (on_shift, idle) = (Uuid::new_v4(), Uuid::new_v4());
    for pilot in [on_shift, idle] {
        app.pilot(
            pilot,
            json!({"type": "RegisterPilot", "pilot_location": "US"}),
        )
        .await;
    }
    app.ok(
        "pilots",
        on_shift,
        json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
    )
    .await;
    let trip = Uuid::new_v4();
    app.ok(
        "trips",
        trip,
        json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": ROBOT,
               "trip_type": "DELIVERY", "origin": {"lat": 1, "lng": 1},
               "destination": {"lat": 2, "lng": 2}}),
    )
    .await;
    let fo_task = Uuid::new_v4();
    app.ok(
        "fo-tasks",
        fo_task,
        json!({"type": "CreateFoTask", "hub_id": HUB, "kind": "INSPECTION"}),
    )
    .await;
    app.wait_for_projections().await;

    assert_eq!(
        ids(&list(&app, "pilots?on_shift=true").await),
        [on_shift.to_string()]
    );
    assert_eq!(
        ids(&list(&app, "pilots?on_shift=false").await),
        [idle.to_string()]
    );
    assert_eq!(
        ids(&list(&app, "pilots?pilot_location=US&archived=false").await).len(),
        2
    );
    assert_eq!(
        ids(&list(&app, "trips?status=AT_STOP&trip_type=DELIVERY").await),
        [trip.to_string()]
    );
    assert_eq!(ids(&list(&app, "trips?status=IN_TRANSIT").await).len(), 0);
    assert_eq!(
        ids(&list(&app, "fo-tasks?kind=INSPECTION&status=CREATED").await),
        [fo_task.to_string()]
    );
}

#[tokio::test]
async fn bad_list_queries_are_400() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("tasks?status=FLYING", "status"),
        ("tasks?hub_id=hub-1", "hub_id"),
        ("tasks?limit=0", "limit"),
        ("tasks?limit=501", "limit"),
        ("tasks?after=page-2", "after"),
        ("tasks?updated_since=yesterday", "updated_since"),
        ("tasks?colour=blue", "colour"),
        ("pilots?archived=maybe", "archived"),
        ("trips?trip_type=ROCKET", "trip_type"),
        // PostgreSQL has no year 0, and reads a negative year only as BC.
        ("tasks?updated_until=0000-06-01T00:00:00Z", "updated_until"),
        (
            "tasks?after=-91295600000000000_a93750a0-6670-2b16-5fe0-f5f08d0ddd06",
            "after",
        ),
    ] {
        let problem = assert_problem(
            app.get(&format!("/v1/{query}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        assert_eq!(problem["field"], field, "{query}");
    }
    // Offsets PostgreSQL would refuse (beyond 15:59) are normalized to UTC first.
    for query in [
        "tasks?updated_since=0039-06-20T01%3A35%3A14.959%2B18%3A54",
        "tasks?updated_until=5879-12-01T00%3A34%3A03-20%3A13",
        "pilots?after=-912956_a93750a0-6670-2b16-5fe0-f5f08d0ddd06",
    ] {
        let response = app.get(&format!("/v1/{query}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
    }
}

#[tokio::test]
async fn metrics_count_commands_events_requests_and_projector_progress() {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    app.ok("tasks", task, json!({"type": "MarkTaskPending"}))
        .await;
    let refused = app
        .command("tasks", task, json!({"type": "CompleteTask"}))
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    app.wait_for_projections().await;

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    let last: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let checkpoint =
        format!(r#"operations_projector_checkpoint_position{{projector="tasks"}} {last}"#);
    for line in [
        r#"operations_commands_total{aggregate="Task",command="CreateTask",outcome="ok"} 1"#,
        r#"operations_commands_total{aggregate="Task",command="MarkTaskPending",outcome="ok"} 1"#,
        r#"operations_commands_total{aggregate="Task",command="CompleteTask",outcome="refused"} 1"#,
        r#"operations_events_appended_total{aggregate="Task"} 2"#,
        r#"operations_command_duration_seconds_count{aggregate="Task"} 3"#,
        r#"operations_http_requests_total{method="POST",route="/v1/tasks/{id}/commands",status="409"} 1"#,
        r#"operations_projector_lag_events{projector="tasks"} 0"#,
        &checkpoint,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
}

/// A list's items are the entities exactly as `GET /v1/{collection}/{id}` shows them (a trip
/// with its places, routes and requests; a field-operator task with its subtasks), and a list
/// naming a command's token includes that command's effect.
#[tokio::test]
async fn list_items_are_the_entities_as_get_shows_them_and_include_your_writes() {
    let app = TestApp::spawn().await;
    app.places().await;
    let place = |lat: f64| json!({"lat": lat, "lng": -122.41, "name": "somewhere"});
    let (trip, fo_task) = (Uuid::new_v4(), Uuid::new_v4());
    app.ok(
        "trips",
        trip,
        json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": ROBOT,
               "trip_type": "DELIVERY", "origin": place(37.77), "destination": place(37.78)}),
    )
    .await;
    let routed = app
        .ok(
            "trips",
            trip,
            json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": 10,
                   "duration_s": 60}),
        )
        .await;
    let created = app
        .ok(
            "fo-tasks",
            fo_task,
            json!({"type": "CreateFoTask", "hub_id": HUB, "kind": "ROBOT_RESCUE",
                   "subtasks": [{"subtask_id": Uuid::new_v4(), "kind": "TRAVEL",
                                 "from": place(37.77), "to": place(37.79)}]}),
        )
        .await;
    for (collection, id, answer) in [("trips", trip, &routed), ("fo-tasks", fo_task, &created)] {
        let token = answer["token"].as_str().unwrap();
        let page = list(&app, &format!("{collection}?consistent_with={token}")).await;
        let shown: Value = app
            .get(&format!("/v1/{collection}/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"], json!([shown]), "{collection}");
    }
    assert_eq!(
        list(&app, "trips")
            .await
            .pointer("/items/0/routes/0/distance_m"),
        Some(&json!(10.0))
    );
}
