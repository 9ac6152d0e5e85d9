//! Pilot centers over HTTP: commands, reads, lists by location, the timeline, refusals, replay.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp};
use crate::read_side::snapshot;

const CENTERS: &str = "pilot-centers";

fn register(name: &str, location: &str) -> Value {
    json!({"type": "RegisterPilotCenter", "name": name, "pilot_location": location})
}

#[tokio::test]
async fn a_pilot_center_is_registered_renamed_and_closed_and_its_timeline_says_so() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    let created = app
        .command(CENTERS, id, register("Davao ops", "OA_DAVAO"))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let rename = json!({"type": "RenamePilotCenter", "name": "Davao north"});
    app.ok(CENTERS, id, rename.clone()).await;
    // The same name again changes nothing and records nothing.
    let unchanged = app.ok(CENTERS, id, rename).await;
    assert_eq!(unchanged["events"], json!([]));
    let close = json!({"type": "ClosePilotCenter", "reason": "moved to Cebu"});
    let answer = app.ok(CENTERS, id, close).await;

    let center = app
        .read_consistent(&format!("/v1/pilot-centers/{id}"), &answer)
        .await;
    assert_eq!(center["name"], "Davao north");
    assert_eq!(
        (center["status"].clone(), center["close_reason"].clone()),
        (json!("CLOSED"), json!("moved to Cebu"))
    );
    assert_eq!(center["version"], 3);
    let timeline = app
        .read_consistent(&format!("/v1/pilot-centers/{id}/history"), &answer)
        .await;
    let rows: Vec<Value> = (timeline["items"].as_array().unwrap().iter())
        .map(|r| {
            json!([
                r["event_type"],
                r["from_status"],
                r["to_status"],
                r["from_name"],
                r["name"],
                r["reason"]
            ])
        })
        .collect();
    assert_eq!(
        rows,
        [
            json!([
                "PilotCenterRegistered",
                null,
                "OPEN",
                null,
                "Davao ops",
                null
            ]),
            json!([
                "PilotCenterRenamed",
                "OPEN",
                "OPEN",
                "Davao ops",
                "Davao north",
                null
            ]),
            json!([
                "PilotCenterClosed",
                "OPEN",
                "CLOSED",
                null,
                null,
                "moved to Cebu"
            ]),
        ]
    );
    assert_eq!(timeline["items"][2]["on_behalf_of"], "test:runner");
    // Closed for good.
    let again = json!({"type": "RenamePilotCenter", "name": "Back"});
    let problem = app
        .refused(
            CENTERS,
            id,
            again,
            StatusCode::CONFLICT,
            "pilot_center_closed",
        )
        .await;
    assert!(problem["detail"].as_str().unwrap().contains("CLOSED"));
}

#[tokio::test]
async fn pilot_centers_are_listed_by_location_and_status_and_bad_input_stores_nothing() {
    let app = TestApp::spawn().await;
    let (davao, india, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.ok(CENTERS, davao, register("Davao", "OA_DAVAO")).await;
    let answer = app.ok(CENTERS, india, register("Pune", "TDCX_INDIA")).await;
    let listed = app
        .read_consistent(
            "/v1/pilot-centers?pilot_location=TDCX_INDIA&status=OPEN",
            &answer,
        )
        .await;
    let ids: Vec<&str> = (listed["items"].as_array().unwrap().iter())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [india.to_string()]);
    let bad = app.get("/v1/pilot-centers?pilot_location=MARS").await;
    let problem = assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert_eq!(problem["field"], "pilot_location");
    app.refuses_fields(
        CENTERS,
        [
            (
                fresh,
                register("  ", "US"),
                json!("name"),
                "must not be empty",
            ),
            (
                fresh,
                register("Austin", "MARS"),
                json!("pilot_location"),
                "unknown variant `MARS`",
            ),
            (
                fresh,
                json!({"type": "RegisterPilotCenter", "name": "Austin"}),
                json!("pilot_location"),
                "missing field `pilot_location`",
            ),
            (
                davao,
                json!({"type": "RenamePilotCenter", "name": "x".repeat(201)}),
                json!("name"),
                "at most 200 characters",
            ),
        ],
    )
    .await;
    assert!(app.event_types(fresh).await.is_empty());
    let missing = json!({"type": "ClosePilotCenter"});
    app.refused(
        CENTERS,
        Uuid::new_v4(),
        missing,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn replaying_the_pilot_center_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        let id = Uuid::new_v4();
        app.ok(CENTERS, id, register(&format!("Center {n}"), "US"))
            .await;
        app.ok(
            CENTERS,
            id,
            json!({"type": "RenamePilotCenter", "name": format!("Renamed {n}")}),
        )
        .await;
        if n > 0 {
            app.ok(CENTERS, id, json!({"type": "ClosePilotCenter"}))
                .await;
        }
    }
    app.wait_for_projections().await;
    let tables = [
        ("pilot_centers", "id"),
        ("pilot_center_history", "global_position"),
    ];
    let mut before = Vec::new();
    for (table, order) in tables {
        before.push(snapshot(&app.pool, table, order).await);
    }
    assert_eq!((before[0].len(), before[1].len()), (3, 3 * 2 + 2));
    let replayed: Vec<_> = projections::all()
        .into_iter()
        .filter(|p| p.name().starts_with("pilot_center"))
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
