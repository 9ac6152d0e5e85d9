//! Cities over HTTP: registration with a country and a zone, renames, lists by country, the
//! timeline, bad codes and zones, replay.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp};
use crate::read_side::snapshot;

const CITIES: &str = "cities";

pub fn register(name: &str, country: &str, zone: &str) -> Value {
    json!({"type": "RegisterCity", "name": name, "country_code": country, "timezone": zone})
}

#[tokio::test]
async fn a_city_is_registered_renamed_and_listed_by_country_with_its_timeline() {
    let app = TestApp::spawn().await;
    let (sf, berlin) = (Uuid::new_v4(), Uuid::new_v4());
    let created = app
        .command(
            CITIES,
            sf,
            register("San Francisco", "US", "America/Los_Angeles"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    app.ok(CITIES, berlin, register("Berlin", "DE", "Europe/Berlin"))
        .await;
    let rename = json!({"type": "RenameCity", "name": "SF"});
    let renamed = app.ok(CITIES, sf, rename.clone()).await;
    let same = app.ok(CITIES, sf, rename).await;
    assert_eq!(
        same["events"],
        json!([]),
        "the same name again records nothing"
    );

    let shown = app
        .read_consistent(&format!("/v1/cities/{sf}"), &renamed)
        .await;
    assert_eq!(
        json!([
            shown["name"],
            shown["country_code"],
            shown["timezone"],
            shown["version"]
        ]),
        json!(["SF", "US", "America/Los_Angeles", 2])
    );
    let german = app
        .read_consistent("/v1/cities?country_code=DE", &renamed)
        .await;
    let ids: Vec<&Value> = german["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&json!(berlin.to_string())]);
    let timeline = app
        .read_consistent(&format!("/v1/cities/{sf}/history"), &renamed)
        .await;
    let steps: Vec<Value> = (timeline["items"].as_array().unwrap().iter())
        .map(|r| json!([r["event_type"], r["name"], r["from_name"], r["actor"]]))
        .collect();
    assert_eq!(
        steps,
        [
            json!(["CityRegistered", "San Francisco", null, "key:test-admin"]),
            json!(["CityRenamed", "SF", "San Francisco", "key:test-admin"])
        ]
    );
    app.refused(
        CITIES,
        sf,
        register("Again", "US", "UTC"),
        StatusCode::CONFLICT,
        "already_exists",
    )
    .await;
    let nobody = json!({"type": "RenameCity", "name": "Nowhere"});
    app.refused(
        CITIES,
        Uuid::new_v4(),
        nobody,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_country_or_zone_or_a_blank_name_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let fresh = Uuid::new_v4();
    app.refuses_fields(
        CITIES,
        [
            (
                fresh,
                register("X", "XX", "UTC"),
                json!("country_code"),
                "ISO 3166-1",
            ),
            (
                fresh,
                register("X", "us", "UTC"),
                json!("country_code"),
                "in capitals",
            ),
            (
                fresh,
                register("X", "US", "America/Springfield"),
                json!("timezone"),
                "IANA time zone",
            ),
            (
                fresh,
                register("X", "US", "utc"),
                json!("timezone"),
                "IANA time zone",
            ),
            (
                fresh,
                register("  ", "US", "UTC"),
                json!("name"),
                "must not be empty",
            ),
            (
                fresh,
                json!({"type": "RegisterCity", "name": "X", "country_code": 1, "timezone": "UTC"}),
                json!("country_code"),
                "invalid type",
            ),
        ],
    )
    .await;
    assert!(app.event_types(fresh).await.is_empty());
    let bad = app.get("/v1/cities?country_code=ZZ").await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[tokio::test]
async fn replaying_the_city_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        let id = Uuid::new_v4();
        app.ok(
            CITIES,
            id,
            register(&format!("City {n}"), "JP", "Asia/Tokyo"),
        )
        .await;
        if n > 0 {
            let rename = json!({"type": "RenameCity", "name": format!("Town {n}")});
            app.ok(CITIES, id, rename).await;
        }
    }
    app.wait_for_projections().await;
    let tables = [("cities", "id"), ("city_history", "global_position")];
    let mut before = Vec::new();
    for (table, order) in tables {
        before.push(snapshot(&app.pool, table, order).await);
    }
    assert_eq!((before[0].len(), before[1].len()), (3, 5));
    let replayed: Vec<_> = projections::all()
        .into_iter()
        .filter(|p| p.name().starts_with("cit"))
        .collect();
    assert_eq!(replayed.len(), 2);
    for projector in replayed {
        let done = projections::replay(&app.pool, projector.as_ref(), 2, |_| {})
            .await
            .unwrap();
        assert_eq!(done.events_read, 5);
    }
    for ((table, order), rows) in tables.into_iter().zip(before) {
        assert_eq!(snapshot(&app.pool, table, order).await, rows, "{table}");
    }
}
