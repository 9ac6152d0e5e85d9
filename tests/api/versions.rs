//! An event stored in an older version is read in its current shape everywhere: by the
//! aggregate deciding the next command, by the projectors, in the feed and in the export.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::feed::run_cli;
use crate::helpers::TestApp;

fn in_minutes(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Stores an event of a pilot's as a deployment writing `event_type` in version 1.0 did.
async fn store_as_1_0(app: &TestApp, pilot: Uuid, sequence: i64, event_type: &str, fields: Value) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Pilot', $1, $2, $3, '1.0', $4, $5)",
    )
    .bind(pilot.to_string())
    .bind(sequence)
    .bind(event_type)
    .bind(json!({ event_type: fields }))
    .bind(json!({"actor": "legacy-deployment"}))
    .execute(&app.pool)
    .await
    .unwrap();
}

async fn history(app: &TestApp, pilot: Uuid) -> Value {
    app.get(&format!("/v1/pilots/{pilot}/history"))
        .await
        .json()
        .await
        .unwrap()
}

/// The row of the pilot's timeline that `event_type` wrote.
async fn history_row(app: &TestApp, pilot: Uuid, event_type: &str) -> Value {
    let history = history(app, pilot).await;
    history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["event_type"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {history}"))
        .clone()
}

/// A pilot on shift, reserved for a task, whose reservation was then released by a deployment
/// that still wrote `PilotReservationReleased` 1.0 (no `task_id`): the row is inserted as
/// that deployment stored it. Returns (pilot, reservation).
async fn pilot_released_by_version_1_0(app: &TestApp) -> (Uuid, Uuid) {
    let (pilot, reservation, task) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.pilot(pilot, json!({"type": "RegisterPilot"})).await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
    )
    .await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "ReservePilot", "reservation_id": reservation, "task_id": task,
               "until": in_minutes(60)}),
    )
    .await;
    store_as_1_0(
        app,
        pilot,
        4,
        "PilotReservationReleased",
        json!({"reservation_id": reservation, "reason": "released by 1.0"}),
    )
    .await;
    app.wait_for_projections().await;
    (pilot, reservation)
}

fn released_events(page: &Value) -> Vec<&Value> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "PilotReservationReleased")
        .collect()
}

#[tokio::test]
async fn the_aggregate_and_the_projectors_read_a_version_1_0_event_in_its_new_shape() {
    let app = TestApp::spawn().await;
    let (pilot, reservation) = pilot_released_by_version_1_0(&app).await;

    // The aggregate folded the release: the pilot is free to be reserved again (a reservation
    // still held would refuse this with 409).
    app.ok(
        "pilots",
        pilot,
        json!({"type": "ReservePilot", "reservation_id": Uuid::new_v4(),
               "until": in_minutes(30)}),
    )
    .await;
    let then: Value = app
        .get(&format!("/v1/pilots/{pilot}?version=4"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(then["state"]["reservation"], Value::Null, "{then}");

    // The projectors applied it: the timeline shows the release, with the 1.0 event's reason
    // and actor and no task (1.0 did not record one).
    app.wait_for_projections().await;
    let release = history_row(&app, pilot, "PilotReservationReleased").await;
    let before = history(&app, pilot).await;
    assert_eq!(release["subject_id"], reservation.to_string());
    assert_eq!(release["to_status"], "RELEASED");
    assert_eq!(release["task_id"], Value::Null);
    assert_eq!(release["reason"], "released by 1.0");
    assert_eq!(release["actor"], "legacy-deployment");

    // A rebuild reads it the same way.
    let replay = run_cli(&app, &["replay", "--projection", "pilot_history"]).await;
    assert!(replay.status.success(), "{replay:?}");
    assert_eq!(history(&app, pilot).await, before);
}

#[tokio::test]
async fn the_feed_and_the_export_show_a_version_1_0_event_in_its_new_shape() {
    let app = TestApp::spawn().await;
    let (pilot, _) = pilot_released_by_version_1_0(&app).await;

    for path in [
        "/v1/events?event_type=PilotReservationReleased".to_string(),
        format!("/v1/pilots/{pilot}/events"),
    ] {
        let page: Value = app.get(&path).await.json().await.unwrap();
        let released = released_events(&page);
        assert_eq!(released.len(), 1, "{page}");
        let event = released[0];
        assert_eq!(event["event_version"], "1.1", "{path}: {event}");
        assert_eq!(event["upcast_from"], "1.0", "{path}: {event}");
        let payload = event["payload"].as_object().unwrap();
        assert_eq!(
            payload.get("task_id"),
            Some(&Value::Null),
            "{path}: {event}"
        );
        assert_eq!(payload["reason"], "released by 1.0");
    }

    let ndjson = run_cli(
        &app,
        &["export", "--event-type", "PilotReservationReleased"],
    )
    .await;
    assert!(ndjson.status.success(), "{ndjson:?}");
    let event: Value = serde_json::from_slice(&ndjson.stdout).unwrap();
    assert_eq!(event["event_version"], "1.1");
    assert_eq!(event["upcast_from"], "1.0");
    assert_eq!(event["payload"]["task_id"], Value::Null);

    let csv = run_cli(
        &app,
        &[
            "export",
            "--format",
            "csv",
            "--event-type",
            "PilotReservationReleased",
        ],
    )
    .await;
    assert!(csv.status.success(), "{csv:?}");
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let column = |name: &str| &row[headers.iter().position(|h| h == name).unwrap()];
    assert_eq!(column("event_version"), "1.1");
    assert_eq!(column("upcast_from"), "1.0");
    let payload: Value = serde_json::from_str(column("payload")).unwrap();
    assert_eq!(payload["task_id"], Value::Null);
}

#[tokio::test]
async fn a_release_written_now_is_version_1_1_and_names_its_task() {
    let app = TestApp::spawn().await;
    let (pilot, reservation, task) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.pilot(pilot, json!({"type": "RegisterPilot"})).await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
    )
    .await;
    app.ok(
        "pilots",
        pilot,
        json!({"type": "ReservePilot", "reservation_id": reservation, "task_id": task,
               "until": in_minutes(60)}),
    )
    .await;
    let answer = app
        .ok(
            "pilots",
            pilot,
            json!({"type": "ReleaseReservation", "reservation_id": reservation}),
        )
        .await;
    let page: Value = app
        .get(&format!("/v1/pilots/{pilot}/events"))
        .await
        .json()
        .await
        .unwrap();
    let event = released_events(&page)[0];
    assert_eq!(event["event_version"], "1.1");
    assert_eq!(event["upcast_from"], Value::Null);
    assert_eq!(event["payload"]["task_id"], task.to_string());

    let history: Value = app
        .get_consistent(&format!("/v1/pilots/{pilot}/history"), &answer)
        .await
        .json()
        .await
        .unwrap();
    let release = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["event_type"] == "PilotReservationReleased")
        .unwrap_or_else(|| panic!("no release in {history}"));
    assert_eq!(release["task_id"], task.to_string());
}

/// `PilotArchived` 1.0 had no reason: an archive stored by that version still archives the
/// pilot everywhere, and reads with `reason: null`.
#[tokio::test]
async fn a_pilot_archived_by_version_1_0_is_archived_without_a_reason_everywhere() {
    let app = TestApp::spawn().await;
    let pilot = app.new_pilot().await;
    store_as_1_0(
        &app,
        pilot,
        2,
        "PilotArchived",
        json!({"archived_at": "2026-11-01T09:00:00Z"}),
    )
    .await;
    app.wait_for_projections().await;

    // The aggregate knows it is archived: it refuses every command.
    let refused = app
        .command(
            "pilots",
            pilot,
            json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
        )
        .await;
    crate::helpers::assert_problem(refused, reqwest::StatusCode::CONFLICT, "pilot_archived").await;
    let state: Value = app
        .get(&format!("/v1/pilots/{pilot}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["archived_at"], "2026-11-01T09:00:00Z");

    let archived = history_row(&app, pilot, "PilotArchived").await;
    assert_eq!(archived["kind"], "pilot");
    assert_eq!(archived["to_status"], "ARCHIVED");
    assert_eq!(archived["reason"], Value::Null);
    assert_eq!(archived["actor"], "legacy-deployment");

    let page: Value = app
        .get(&format!("/v1/pilots/{pilot}/events"))
        .await
        .json()
        .await
        .unwrap();
    let event = &page["items"][1];
    assert_eq!(event["event_version"], "1.1", "{event}");
    assert_eq!(event["upcast_from"], "1.0", "{event}");
    assert_eq!(event["payload"]["reason"], Value::Null, "{event}");
    assert!(event["payload"].as_object().unwrap().contains_key("reason"));
}
