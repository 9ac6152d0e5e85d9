//! The projectors of an instance share one read of the feed: a projector with nothing of a
//! batch's event types does no database work for it, and is consistent with it all the same.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::TestApp;

/// Projectors that read no event of a city: they are to pass over cities in memory.
const NOT_OF_CITIES: [&str; 5] = ["tasks", "task_history", "pilots", "trips", "robots"];

/// A projector's row of `GET /v1/projections`.
async fn projector(app: &TestApp, name: &str) -> Value {
    let status: Value = app.get("/v1/projections").await.json().await.unwrap();
    (status["items"].as_array().unwrap().iter())
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no projector {name}: {status}"))
        .clone()
}

/// A counter of `/metrics`, 0 when it has no sample yet.
async fn counter(app: &TestApp, sample: &str) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    (metrics.lines())
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .map_or(0, |value| value.parse().unwrap())
}

fn batches_of(projector: &str) -> String {
    format!("operations_projector_batches_total{{projector=\"{projector}\"}}")
}

async fn register_city(app: &TestApp) -> Value {
    let body = json!({"type": "RegisterCity", "name": "Oakland", "country_code": "US",
                      "timezone": "America/Los_Angeles"});
    app.ok("cities", Uuid::new_v4(), body).await
}

#[tokio::test]
async fn projectors_take_their_events_from_one_read_and_pass_over_the_others_without_a_write() {
    // Checkpoints of passed-over events are written only after an hour here: what the
    // projectors pass over they pass over in memory for the whole test.
    let app =
        TestApp::spawn_with(|s| s.projections.checkpoint_interval = Duration::from_secs(3600))
            .await;
    app.create_task().await;
    app.wait_for_projections().await;
    let before: Vec<Value> =
        futures::future::join_all(NOT_OF_CITIES.map(|n| projector(&app, n))).await;
    let mut batches = Vec::new();
    for name in NOT_OF_CITIES {
        batches.push(counter(&app, &batches_of(name)).await);
    }
    let cities_before = counter(&app, &batches_of("cities")).await;
    let shared = "operations_feed_reads_total{reader=\"instance\"}";
    let alone = "operations_feed_reads_total{reader=\"projector\"}";
    let (shared_before, alone_before) = (counter(&app, shared).await, counter(&app, alone).await);

    let writes = 20;
    let writing = std::time::Instant::now();
    let mut last = Value::Null;
    for _ in 0..writes {
        last = register_city(&app).await;
        // Each read waits for the write: the projectors see one write per read of the feed.
        let city = last["id"].as_str().unwrap().to_string();
        app.read_consistent(&format!("/v1/cities/{city}"), &last)
            .await;
    }
    app.wait_for_projections().await;

    // The city projectors applied each city; the others did nothing, and yet are consistent
    // with the last city's token at once and show no lag.
    // (each city in a batch of its own: each was read back before the next was written)
    let cities = counter(&app, &batches_of("cities")).await;
    assert!(cities >= cities_before + writes, "{cities} batches");
    for (i, name) in NOT_OF_CITIES.iter().enumerate() {
        let now = projector(&app, name).await;
        assert_eq!(
            (&now["checkpoint"], &now["updated_at"], &now["lag_events"]),
            (
                &before[i]["checkpoint"],
                &before[i]["updated_at"],
                &json!(0)
            ),
            "{name} moved for events it does not read"
        );
        assert_eq!(counter(&app, &batches_of(name)).await, batches[i], "{name}");
    }
    let started = std::time::Instant::now();
    let tasks = app.get_consistent("/v1/tasks", &last).await;
    assert_eq!(tasks.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));

    // A few reads of the feed per write, by the instance's reader (the write wakes it, so does
    // the end of each city projector's batch, whose transaction held the horizon back, and it
    // polls every 100 ms here), not one per projector (26 a write); none by a projector on its
    // own.
    let polls = (writing.elapsed().as_millis() / 100) as u64 + 2;
    let shared_reads = counter(&app, shared).await - shared_before;
    assert!(
        (writes..=5 * writes + polls).contains(&shared_reads),
        "{shared_reads} reads for {writes} writes and {polls} polls"
    );
    assert_eq!(counter(&app, alone).await, alone_before);

    // A task: the task projectors apply it, in one batch, their checkpoints past every city.
    let task = app.create_task().await;
    app.wait_for_projections().await;
    let tasks = projector(&app, "tasks").await;
    let last_position: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(tasks["position"], last_position, "{task}");
    assert_eq!(counter(&app, &batches_of("tasks")).await, batches[0] + 1);
}

#[tokio::test]
async fn a_projector_moves_its_checkpoint_past_what_it_passed_over_once_the_interval_is_up() {
    let app =
        TestApp::spawn_with(|s| s.projections.checkpoint_interval = Duration::from_millis(200))
            .await;
    app.create_task().await;
    app.wait_for_projections().await;
    let batches = counter(&app, &batches_of("tasks")).await;
    let city = register_city(&app).await;
    // The answer's token is `transaction.position`.
    let token = city["token"].as_str().unwrap();
    let position: i64 = token.split_once('.').unwrap().1.parse().unwrap();
    let mut moved = Value::Null;
    for _ in 0..100 {
        moved = projector(&app, "tasks").await;
        if moved["position"].as_i64() >= Some(position) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(moved["position"], position, "{moved}");
    // Moved without a batch of events: nothing was applied.
    assert_eq!(counter(&app, &batches_of("tasks")).await, batches);
    assert_eq!(moved["events_applied"], 1);
}
