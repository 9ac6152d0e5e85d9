//! The seed's places, robots and operators have what every collection has (#14 part 6): preconditions
//! (If-Match), idempotency, time travel (`version`), reads of one's own write, per-stream
//! events, the hash chain, the feed's and the export's `aggregate_type` filter, the timeline
//! CLI, metrics and roles. One table, one row per collection.

use operations::auth::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::feed::run_cli;
use crate::helpers::{assert_problem, client_with, TestApp};

/// A collection: its path, its aggregate type, a creation and a second command (each with
/// the event it records).
struct Collection {
    path: &'static str,
    aggregate_type: &'static str,
    create: (Value, &'static str),
    then: (Value, &'static str),
    /// A field the second command changes, and its value before.
    changes: (&'static str, Value),
}

fn collections(city: Uuid, hub: Uuid) -> [Collection; 6] {
    [
        Collection {
            path: "cities",
            aggregate_type: "City",
            create: (
                json!({"type": "RegisterCity", "name": "Oakland", "country_code": "US",
                       "timezone": "America/Los_Angeles"}),
                "CityRegistered",
            ),
            then: (
                json!({"type": "RenameCity", "name": "Oakland, CA"}),
                "CityRenamed",
            ),
            changes: ("name", json!("Oakland")),
        },
        Collection {
            path: "hubs",
            aggregate_type: "Hub",
            create: (
                json!({"type": "RegisterHub", "name": "Uptown", "city_id": city,
                       "location": {"lat": 37.81, "lng": -122.27}}),
                "HubRegistered",
            ),
            then: (
                json!({"type": "CloseHub", "reason": "lease ended"}),
                "HubClosed",
            ),
            changes: ("status", json!("OPEN")),
        },
        Collection {
            path: "pilot-centers",
            aggregate_type: "PilotCenter",
            create: (
                json!({"type": "RegisterPilotCenter", "name": "Austin", "pilot_location": "US"}),
                "PilotCenterRegistered",
            ),
            then: (
                json!({"type": "RenamePilotCenter", "name": "Austin south"}),
                "PilotCenterRenamed",
            ),
            changes: ("name", json!("Austin")),
        },
        Collection {
            path: "locations",
            aggregate_type: "Location",
            create: (
                json!({"type": "RegisterLocation", "name": "Dock 2", "lat": 37.8, "lng": -122.3,
                       "kind": "CHARGING", "hub_id": hub}),
                "LocationRegistered",
            ),
            then: (
                json!({"type": "UpdateLocation", "address": "2 Broadway"}),
                "LocationUpdated",
            ),
            changes: ("address", Value::Null),
        },
        Collection {
            path: "robots",
            aggregate_type: "Robot",
            create: (
                json!({"type": "RegisterRobot", "serial_number": "SN-TABLE-1", "hub_id": hub}),
                "RobotRegistered",
            ),
            then: (
                json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub}),
                "RobotDeployed",
            ),
            changes: ("status", json!("OFF_DUTY")),
        },
        Collection {
            path: "operators",
            aggregate_type: "Operator",
            create: (
                json!({"type": "RegisterOperator", "role": "FIELD", "display_name": "Ana"}),
                "OperatorRegistered",
            ),
            then: (
                json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"}),
                "OperatorStatusChanged",
            ),
            changes: ("status", json!("OFFLINE")),
        },
    ]
}

#[tokio::test]
async fn every_place_and_robot_collection_has_what_every_collection_has() {
    let app = TestApp::spawn().await;
    let (city, hub) = (app.city().await, app.hub().await);
    let analyst = client_with(&app.db.key("analyst", Role::Analyst, None).await);
    let dispatch = client_with(
        &app.db
            .key("dispatch", Role::Service, Some(&["tasks"]))
            .await,
    );
    for collection in collections(city, hub) {
        let (path, kind) = (collection.path, collection.aggregate_type);
        let id = Uuid::new_v4();
        let created = app.ok(path, id, collection.create.0.clone()).await;
        assert_eq!(
            created["events"][0]["event_type"], collection.create.1,
            "{path}"
        );

        // Roles: an analyst reads but sends no command; a service sends commands only to the
        // collections its key names.
        let command_url = app.url(&format!("/v1/{path}/{id}/commands"));
        for client in [&analyst, &dispatch] {
            let refused = client
                .post(&command_url)
                .json(&collection.then.0)
                .send()
                .await
                .unwrap();
            assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let read = analyst
            .get(app.url(&format!(
                "/v1/{path}/{id}?consistent_with={}",
                created["token"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::OK, "{path}");

        // If-Match: a stale version is 412 and stores nothing.
        let stale = app
            .send(
                app.post_command(path, id)
                    .header("If-Match", "\"7\"")
                    .json(&collection.then.0),
            )
            .await;
        assert_problem(stale, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
        // Idempotency: the same key and body get the first answer and append nothing more.
        let keyed = || {
            app.post_command(path, id)
                .header("Idempotency-Key", format!("{path}-then"))
                .header("If-Match", "\"1\"")
                .json(&collection.then.0)
        };
        let first = app.send(keyed()).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let first: Value = first.json().await.unwrap();
        let again = app.send(keyed()).await;
        assert_eq!(again.headers()["Idempotent-Replayed"], "true", "{path}");
        assert_eq!(again.json::<Value>().await.unwrap(), first, "{path}");
        assert_eq!(
            app.event_types(id).await,
            [collection.create.1, collection.then.1],
            "{path}"
        );

        // One's own write, and the state at version 1 folded from the events.
        let now = app
            .read_consistent(&format!("/v1/{path}/{id}"), &first)
            .await;
        assert_eq!(now["version"], 2, "{path}");
        let then = app
            .read_consistent(&format!("/v1/{path}/{id}?version=1"), &first)
            .await;
        assert_eq!(then["version"], 1, "{path}: {then}");
        let (field, before) = &collection.changes;
        assert_eq!(&then["state"][field], before, "{path}: {then}");
        assert_ne!(&now[field], before, "{path}: {now}");
        // The stream's events, its hash chain, the feed filtered to its type.
        let events: Value = app
            .get(&format!("/v1/{path}/{id}/events"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(events["items"].as_array().unwrap().len(), 2, "{path}");
        let verified: Value = app
            .get(&format!("/v1/{path}/{id}/verify"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (verified["status"].clone(), verified["events"].clone()),
            (json!("intact"), json!(2)),
            "{path}"
        );
        let expected: usize = match path {
            // The city and hub registered first are of these types too.
            "cities" => 2 + 1 + 1,
            "hubs" => 2 + 1,
            _ => 2,
        };
        let fed = app.feed_types(kind, expected).await;
        assert_eq!(fed.len(), expected, "{path}: {fed:?}");
        assert_eq!(
            &fed[expected - 2..],
            [collection.create.1, collection.then.1],
            "{path}"
        );

        // The export filtered to its type, and the timeline CLI.
        let export = run_cli(&app, &["export", "--aggregate-type", kind]).await;
        assert!(export.status.success(), "{path}: {export:?}");
        let exported = String::from_utf8(export.stdout).unwrap();
        assert_eq!(exported.lines().count(), expected, "{path}: {exported}");
        app.wait_for_projections().await;
        let timeline = run_cli(&app, &["timeline", path, &id.to_string()]).await;
        assert!(timeline.status.success(), "{path}: {timeline:?}");
        let printed = String::from_utf8(timeline.stdout).unwrap();
        for event in [collection.create.1, collection.then.1] {
            assert!(printed.contains(event), "{path}: {printed}");
        }
        assert!(printed.contains("key:test-admin"), "{path}: {printed}");
    }

    // Metrics count each collection's commands.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for collection in collections(city, hub) {
        let (kind, create) = (
            collection.aggregate_type,
            collection.create.0["type"].clone(),
        );
        let create = create.as_str().unwrap();
        let line = format!(
            r#"operations_commands_total{{aggregate="{kind}",command="{create}",outcome="ok"}}"#
        );
        assert!(
            metrics.lines().any(|l| l.starts_with(&line)),
            "missing `{line}` in:\n{metrics}"
        );
    }
}
