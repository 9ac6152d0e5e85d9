//! Locations over HTTP: commands, reads, lists by hub and kind, the timeline, bad coordinates,
//! replay.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp};
use crate::read_side::snapshot;

const LOCATIONS: &str = "locations";

fn register(name: &str, lat: f64, lng: f64, kind: &str, hub: Option<Uuid>) -> Value {
    json!({"type": "RegisterLocation", "name": name, "lat": lat, "lng": lng, "kind": kind,
           "hub_id": hub})
}

#[tokio::test]
async fn a_location_is_registered_updated_and_retired_and_listed_by_hub_and_kind() {
    let app = TestApp::spawn().await;
    let (dock, door, hub) = (Uuid::new_v4(), Uuid::new_v4(), app.hub().await);
    let created = app
        .command(
            LOCATIONS,
            dock,
            register("Dock 4", 37.77, -122.42, "CHARGING", Some(hub)),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    app.ok(
        LOCATIONS,
        door,
        register("Customer", 37.78, -122.41, "CUSTOMER", None),
    )
    .await;
    let update = json!({"type": "UpdateLocation", "address": "1 Market St"});
    app.ok(LOCATIONS, dock, update.clone()).await;
    let unchanged = app.ok(LOCATIONS, dock, update).await;
    assert_eq!(
        unchanged["events"],
        json!([]),
        "the same address again records nothing"
    );
    let answer = app
        .ok(LOCATIONS, door, json!({"type": "RetireLocation"}))
        .await;

    let shown = app
        .read_consistent(&format!("/v1/locations/{dock}"), &answer)
        .await;
    assert_eq!(
        json!([
            shown["lat"],
            shown["lng"],
            shown["kind"],
            shown["address"],
            shown["hub_id"]
        ]),
        json!([37.77, -122.42, "CHARGING", "1 Market St", hub])
    );
    let at_hub = app
        .read_consistent(
            &format!("/v1/locations?hub_id={hub}&kind=CHARGING"),
            &answer,
        )
        .await;
    assert_eq!(at_hub["items"].as_array().unwrap().len(), 1);
    let retired = app
        .read_consistent("/v1/locations?status=RETIRED", &answer)
        .await;
    assert_eq!(retired["items"][0]["id"], door.to_string());
    let timeline = app
        .read_consistent(&format!("/v1/locations/{door}/history"), &answer)
        .await;
    let steps: Vec<Value> = (timeline["items"].as_array().unwrap().iter())
        .map(|r| json!([r["event_type"], r["from_status"], r["to_status"]]))
        .collect();
    assert_eq!(
        steps,
        [
            json!(["LocationRegistered", null, "ACTIVE"]),
            json!(["LocationRetired", "ACTIVE", "RETIRED"])
        ]
    );
    let again = json!({"type": "UpdateLocation", "name": "Back"});
    app.refused(
        LOCATIONS,
        door,
        again,
        StatusCode::CONFLICT,
        "location_retired",
    )
    .await;
    let nothing = json!({"type": "UpdateLocation"});
    app.refused(
        LOCATIONS,
        dock,
        nothing,
        StatusCode::CONFLICT,
        "nothing_to_update",
    )
    .await;
}

#[tokio::test]
async fn a_location_off_the_globe_or_of_no_kind_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let fresh = Uuid::new_v4();
    app.refuses_fields(
        LOCATIONS,
        [
            (
                fresh,
                register("North", 90.5, 0.0, "OTHER", None),
                json!("lat"),
                "from -90 to 90",
            ),
            (
                fresh,
                register("East", 0.0, 180.5, "OTHER", None),
                json!("lng"),
                "from -180 to 180",
            ),
            (
                fresh,
                register("Odd", 0.0, 0.0, "VOLCANO", None),
                json!("kind"),
                "unknown variant",
            ),
            (
                fresh,
                register(" ", 0.0, 0.0, "OTHER", None),
                json!("name"),
                "must not be empty",
            ),
            (
                fresh,
                json!({"type": "RegisterLocation", "name": "X", "lat": "north", "lng": 0,
                           "kind": "OTHER"}),
                json!("lat"),
                "invalid type",
            ),
        ],
    )
    .await;
    assert!(app.event_types(fresh).await.is_empty());
    let bad = app.get("/v1/locations?kind=VOLCANO").await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[tokio::test]
async fn replaying_the_location_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        let id = Uuid::new_v4();
        app.ok(
            LOCATIONS,
            id,
            register(&format!("Spot {n}"), n as f64, -n as f64, "PARKING", None),
        )
        .await;
        app.ok(
            LOCATIONS,
            id,
            json!({"type": "UpdateLocation", "name": format!("Spot {n}b")}),
        )
        .await;
        if n > 0 {
            app.ok(LOCATIONS, id, json!({"type": "RetireLocation"}))
                .await;
        }
    }
    app.wait_for_projections().await;
    let tables = [("locations", "id"), ("location_history", "global_position")];
    let mut before = Vec::new();
    for (table, order) in tables {
        before.push(snapshot(&app.pool, table, order).await);
    }
    assert_eq!((before[0].len(), before[1].len()), (3, 8));
    let replayed: Vec<_> = projections::all()
        .into_iter()
        .filter(|p| p.name().starts_with("location"))
        .collect();
    assert_eq!(replayed.len(), 2);
    for projector in replayed {
        let done = projections::replay(&app.pool, projector.as_ref(), 3, |_| {})
            .await
            .unwrap();
        assert_eq!(done.events_read, 8);
    }
    for ((table, order), rows) in tables.into_iter().zip(before) {
        assert_eq!(snapshot(&app.pool, table, order).await, rows, "{table}");
    }
}
