//! Hubs over HTTP: registration in a city, updates, partners, closing and reopening, lists by
//! city and status, the timeline, bad input, replay.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp};
use crate::read_side::snapshot;

const HUBS: &str = "hubs";

pub fn register(name: &str, city: Uuid) -> Value {
    json!({"type": "RegisterHub", "name": name, "city_id": city,
           "location": {"lat": 37.76, "lng": -122.41}})
}

fn partner(id: Uuid, name: &str, kind: &str) -> Value {
    json!({"type": "AddHubPartner", "partner_id": id, "name": name, "kind": kind})
}

#[tokio::test]
async fn a_hub_serves_partners_closes_and_reopens_and_its_timeline_says_so() {
    let app = TestApp::spawn().await;
    let (city, other_city) = (app.city().await, app.city().await);
    let (mission, soma) = (Uuid::new_v4(), Uuid::new_v4());
    let (deli, tower) = (Uuid::new_v4(), Uuid::new_v4());
    let created = app.command(HUBS, mission, register("Mission", city)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    app.ok(HUBS, soma, register("SoMa", other_city)).await;
    app.ok(HUBS, mission, partner(deli, "Corner Deli", "MERCHANT"))
        .await;
    app.ok(HUBS, mission, partner(tower, "Tower", "PROPERTY"))
        .await;
    let again = app
        .ok(HUBS, mission, partner(deli, "Corner Deli", "MERCHANT"))
        .await;
    assert_eq!(
        again["events"],
        json!([]),
        "the same partner again records nothing"
    );
    app.refused(
        HUBS,
        mission,
        partner(deli, "Corner Deli", "LOGISTICS"),
        StatusCode::CONFLICT,
        "partner_exists",
    )
    .await;
    app.ok(
        HUBS,
        mission,
        json!({"type": "RemoveHubPartner", "partner_id": tower}),
    )
    .await;
    let update = json!({"type": "UpdateHub", "location": {"lat": 37.77, "lng": -122.42,
                                                           "name": "Valencia St"}});
    app.ok(HUBS, mission, update).await;
    let close = json!({"type": "CloseHub", "reason": "flooded"});
    app.ok(HUBS, mission, close.clone()).await;
    app.refused(HUBS, mission, close, StatusCode::CONFLICT, "hub_closed")
        .await;

    let closed = app
        .ok(HUBS, soma, json!({"type": "CloseHub", "reason": "lease"}))
        .await;
    let shown = app
        .read_consistent(&format!("/v1/hubs/{mission}"), &closed)
        .await;
    assert_eq!(
        json!([
            shown["status"],
            shown["close_reason"],
            shown["lat"],
            shown["location_name"],
            shown["partner_count"],
            shown["city_id"]
        ]),
        json!(["CLOSED", "flooded", 37.77, "Valencia St", 1, city])
    );
    let partners = app
        .read_consistent(&format!("/v1/hubs/{mission}/partners"), &closed)
        .await;
    assert_eq!(
        partners["items"],
        json!([{"hub_id": mission, "partner_id": deli, "name": "Corner Deli",
                "kind": "MERCHANT", "added_at": partners["items"][0]["added_at"],
                "removed_at": null}]),
        "the removed partner is left out"
    );
    let nowhere = app
        .get(&format!("/v1/hubs/{}/partners", Uuid::new_v4()))
        .await;
    assert_problem(nowhere, StatusCode::NOT_FOUND, "not_found").await;

    let reopened = app.ok(HUBS, mission, json!({"type": "ReopenHub"})).await;
    let in_city = app
        .read_consistent(&format!("/v1/hubs?city_id={city}&status=OPEN"), &reopened)
        .await;
    assert_eq!(in_city["items"].as_array().unwrap().len(), 1);
    assert_eq!(in_city["items"][0]["id"], mission.to_string());
    let closed_ones = app
        .read_consistent("/v1/hubs?status=CLOSED", &reopened)
        .await;
    assert_eq!(closed_ones["items"][0]["id"], soma.to_string());
    app.refused(
        HUBS,
        mission,
        json!({"type": "ReopenHub"}),
        StatusCode::CONFLICT,
        "hub_open",
    )
    .await;

    let timeline = app
        .read_consistent(&format!("/v1/hubs/{mission}/history"), &reopened)
        .await;
    let steps: Vec<Value> = (timeline["items"].as_array().unwrap().iter())
        .map(|r| {
            json!([
                r["event_type"],
                r["from_status"],
                r["to_status"],
                r["partner_name"],
                r["reason"]
            ])
        })
        .collect();
    assert_eq!(
        steps,
        [
            json!(["HubRegistered", null, "OPEN", null, null]),
            json!(["HubPartnerAdded", null, null, "Corner Deli", null]),
            json!(["HubPartnerAdded", null, null, "Tower", null]),
            json!(["HubPartnerRemoved", null, null, null, null]),
            json!(["HubUpdated", null, null, null, null]),
            json!(["HubClosed", "OPEN", "CLOSED", null, "flooded"]),
            json!(["HubReopened", "CLOSED", "OPEN", null, null]),
        ]
    );
}

#[tokio::test]
async fn bad_hub_input_is_refused_naming_the_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let fresh = Uuid::new_v4();
    let city = app.city().await;
    app.refuses_fields(
        HUBS,
        [
            (
                fresh,
                json!({"type": "RegisterHub", "name": "X", "city_id": city,
                       "location": {"lat": -91.0, "lng": 0.0}}),
                json!("location"),
                "from -90 to 90",
            ),
            (
                fresh,
                json!({"type": "RegisterHub", "name": "X", "city_id": city,
                       "location": {"lat": 0.0, "lng": 0.0}, "timezone": "Moon/Base"}),
                json!("timezone"),
                "IANA time zone",
            ),
            (
                fresh,
                json!({"type": "RegisterHub", "name": "", "city_id": city,
                       "location": {"lat": 0.0, "lng": 0.0}}),
                json!("name"),
                "must not be empty",
            ),
            (
                fresh,
                json!({"type": "RegisterHub", "name": "X", "city_id": "not-a-uuid",
                       "location": {"lat": 0.0, "lng": 0.0}}),
                json!("city_id"),
                "UUID",
            ),
        ],
    )
    .await;
    assert!(app.event_types(fresh).await.is_empty());
    let hub = Uuid::new_v4();
    app.ok(HUBS, hub, register("Mission", city)).await;
    app.refuses_fields(
        HUBS,
        [
            (
                hub,
                partner(Uuid::new_v4(), "Shop", "FRANCHISE"),
                json!("kind"),
                "unknown variant",
            ),
            (
                hub,
                json!({"type": "CloseHub"}),
                json!("reason"),
                "missing field",
            ),
        ],
    )
    .await;
    assert_eq!(app.event_types(hub).await, ["HubRegistered"]);
    app.refused(
        HUBS,
        hub,
        json!({"type": "UpdateHub"}),
        StatusCode::CONFLICT,
        "nothing_to_update",
    )
    .await;
    let unknown = json!({"type": "RemoveHubPartner", "partner_id": Uuid::new_v4()});
    app.refused(HUBS, hub, unknown, StatusCode::CONFLICT, "unknown_partner")
        .await;
    let bad = app.get("/v1/hubs?status=SHUT").await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[tokio::test]
async fn replaying_the_hub_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    let city = app.city().await;
    for n in 0..3 {
        let id = Uuid::new_v4();
        app.ok(HUBS, id, register(&format!("Hub {n}"), city)).await;
        let p = Uuid::new_v4();
        app.ok(HUBS, id, partner(p, "Shop", "MERCHANT")).await;
        if n > 0 {
            app.ok(
                HUBS,
                id,
                json!({"type": "RemoveHubPartner", "partner_id": p}),
            )
            .await;
            app.ok(HUBS, id, json!({"type": "CloseHub", "reason": "test"}))
                .await;
        }
    }
    app.wait_for_projections().await;
    let tables = [
        ("hubs", "id"),
        ("hub_partners", "partner_id"),
        ("hub_history", "global_position"),
    ];
    let mut before = Vec::new();
    for (table, order) in tables {
        before.push(snapshot(&app.pool, table, order).await);
    }
    assert_eq!(
        (before[0].len(), before[1].len(), before[2].len()),
        (3, 3, 10)
    );
    let replayed: Vec<_> = projections::all()
        .into_iter()
        .filter(|p| p.name().starts_with("hub"))
        .collect();
    assert_eq!(replayed.len(), 2);
    for projector in replayed {
        let done = projections::replay(&app.pool, projector.as_ref(), 3, |_| {})
            .await
            .unwrap();
        // The hubs' ten events and their city's registration: the feed is read whole.
        assert_eq!(done.events_read, 10 + 1);
    }
    for ((table, order), rows) in tables.into_iter().zip(before) {
        assert_eq!(snapshot(&app.pool, table, order).await, rows, "{table}");
    }
}
