//! Operators over HTTP (#15 part 1): commands, the read models behind GET (hubs and devices in
//! the view), the timeline, lists by role, status, hub and active, refusals, `user_id` unique
//! under races across instances, replay.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::read_side::snapshot;

const OPERATORS: &str = "operators";

fn register(role: &str, user: Option<Uuid>) -> Value {
    json!({"type": "RegisterOperator", "role": role, "user_id": user, "display_name": "Ana"})
}

#[tokio::test]
async fn an_operator_lives_its_whole_life_over_http_and_its_timeline_says_each_step() {
    let app = TestApp::spawn().await;
    let (id, hub, other_hub, user) = (
        Uuid::new_v4(),
        app.hub().await,
        app.hub().await,
        Uuid::new_v4(),
    );
    let created = app
        .command(OPERATORS, id, register("FIELD", Some(user)))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let answer = app
        .run(
            OPERATORS,
            id,
            &[
                json!({"type": "AssignOperatorToHub", "hub_id": hub}),
                json!({"type": "AssignOperatorToHub", "hub_id": other_hub}),
                json!({"type": "RegisterMobileDevice", "device_id": "pixel-8-a1",
                       "platform": "ANDROID", "app_version": "4.2.0"}),
                json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"}),
                json!({"type": "RemoveOperatorFromHub", "hub_id": hub}),
            ],
        )
        .await;
    let operator = app
        .read_consistent(&format!("/v1/operators/{id}"), &answer)
        .await;
    assert_eq!(
        (
            operator["role"].clone(),
            operator["status"].clone(),
            operator["active"].clone(),
            operator["user_id"].clone(),
            operator["version"].clone()
        ),
        (
            json!("FIELD"),
            json!("AVAILABLE"),
            json!(true),
            json!(user),
            json!(6)
        )
    );
    assert_eq!(
        operator["hub_ids"],
        json!([other_hub]),
        "the hub it left is gone"
    );
    assert_eq!(operator["devices"][0]["device_id"], "pixel-8-a1");
    assert_eq!(operator["devices"][0]["app_version"], "4.2.0");

    // A command that changes nothing records nothing.
    let same = app
        .ok(
            OPERATORS,
            id,
            json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"}),
        )
        .await;
    assert_eq!(same["events"], json!([]));

    let answer = app
        .run(
            OPERATORS,
            id,
            &[
                json!({"type": "RemoveMobileDevice", "device_id": "pixel-8-a1"}),
                json!({"type": "DeactivateOperator", "reason": "left the company"}),
            ],
        )
        .await;
    let operator = app
        .read_consistent(&format!("/v1/operators/{id}"), &answer)
        .await;
    assert_eq!(
        (
            operator["status"].clone(),
            operator["active"].clone(),
            operator["deactivation_reason"].clone(),
            operator["devices"].clone()
        ),
        (
            json!("OFFLINE"),
            json!(false),
            json!("left the company"),
            json!([])
        )
    );
    let timeline = app
        .read_consistent(&format!("/v1/operators/{id}/history"), &answer)
        .await;
    let rows: Vec<(String, Value, Value, Value)> = (timeline["items"].as_array().unwrap().iter())
        .map(|r| {
            let hub_or_device = if r["hub_id"].is_null() {
                r["device_id"].clone()
            } else {
                r["hub_id"].clone()
            };
            (
                r["event_type"].as_str().unwrap().to_string(),
                r["from_status"].clone(),
                r["to_status"].clone(),
                hub_or_device,
            )
        })
        .collect();
    let n = Value::Null;
    let expected = [
        ("OperatorRegistered", n.clone(), json!("OFFLINE"), n.clone()),
        ("OperatorAssignedToHub", n.clone(), n.clone(), json!(hub)),
        (
            "OperatorAssignedToHub",
            n.clone(),
            n.clone(),
            json!(other_hub),
        ),
        (
            "OperatorMobileDeviceRegistered",
            n.clone(),
            n.clone(),
            json!("pixel-8-a1"),
        ),
        (
            "OperatorStatusChanged",
            json!("OFFLINE"),
            json!("AVAILABLE"),
            n.clone(),
        ),
        ("OperatorRemovedFromHub", n.clone(), n.clone(), json!(hub)),
        (
            "OperatorMobileDeviceRemoved",
            n.clone(),
            n.clone(),
            json!("pixel-8-a1"),
        ),
        (
            "OperatorDeactivated",
            json!("AVAILABLE"),
            json!("OFFLINE"),
            n.clone(),
        ),
    ];
    let expected: Vec<(String, Value, Value, Value)> = (expected.into_iter())
        .map(|(a, b, c, d)| (a.to_string(), b, c, d))
        .collect();
    assert_eq!(rows, expected);
    let last = &timeline["items"][7];
    assert_eq!(last["reason"], "left the company");
    assert_eq!(last["actor"], "key:test-admin");
    assert_eq!(last["on_behalf_of"], "test:runner");

    // Deactivated for good.
    app.refused(
        OPERATORS,
        id,
        json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"}),
        StatusCode::CONFLICT,
        "operator_deactivated",
    )
    .await;
}

#[tokio::test]
async fn bad_commands_are_refused_with_their_reason_and_store_nothing() {
    let app = TestApp::spawn().await;
    let (id, hub) = (Uuid::new_v4(), app.hub().await);
    app.refused(
        OPERATORS,
        id,
        json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.refuses_fields(
        OPERATORS,
        [
            (id, register("JANITOR", None), json!("role"), "JANITOR"),
            (
                id,
                json!({"type": "RegisterOperator", "role": "PILOT", "user_id": "me"}),
                json!("user_id"),
                "UUID",
            ),
            (
                id,
                json!({"type": "RegisterOperator", "role": "PILOT", "display_name": " "}),
                json!("display_name"),
                "empty",
            ),
        ],
    )
    .await;
    app.ok(OPERATORS, id, register("PILOT", None)).await;
    app.refused(
        OPERATORS,
        id,
        register("FIELD", None),
        StatusCode::CONFLICT,
        "already_exists",
    )
    .await;
    app.refuses_fields(
        OPERATORS,
        [
            (
                id,
                json!({"type": "ChangeOperatorStatus", "status": "ASLEEP"}),
                json!("status"),
                "ASLEEP",
            ),
            (
                id,
                json!({"type": "RegisterMobileDevice", "device_id": "d-1", "platform": "PALM"}),
                json!("platform"),
                "PALM",
            ),
        ],
    )
    .await;
    app.refused(
        OPERATORS,
        id,
        json!({"type": "RemoveOperatorFromHub", "hub_id": hub}),
        StatusCode::CONFLICT,
        "not_at_hub",
    )
    .await;
    app.refused(
        OPERATORS,
        id,
        json!({"type": "RemoveMobileDevice", "device_id": "d-1"}),
        StatusCode::CONFLICT,
        "device_not_found",
    )
    .await;
    // The hub is checked against the write side: none is 422, a closed one 409.
    app.refused(
        OPERATORS,
        id,
        json!({"type": "AssignOperatorToHub", "hub_id": Uuid::new_v4()}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_reference",
    )
    .await;
    app.ok(
        "hubs",
        hub,
        json!({"type": "CloseHub", "reason": "flooded"}),
    )
    .await;
    app.refused(
        OPERATORS,
        id,
        json!({"type": "AssignOperatorToHub", "hub_id": hub}),
        StatusCode::CONFLICT,
        "reference_state",
    )
    .await;
}

#[tokio::test]
async fn lists_filter_by_role_status_hub_and_active() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    let (field, pilot, gone) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.run(
        OPERATORS,
        field,
        &[
            register("FIELD", None),
            json!({"type": "AssignOperatorToHub", "hub_id": hub}),
            json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"}),
        ],
    )
    .await;
    app.ok(OPERATORS, pilot, register("PILOT", None)).await;
    let last = app
        .run(
            OPERATORS,
            gone,
            &[
                register("FIELD", None),
                json!({"type": "AssignOperatorToHub", "hub_id": hub}),
                json!({"type": "RemoveOperatorFromHub", "hub_id": hub}),
                json!({"type": "DeactivateOperator"}),
            ],
        )
        .await;
    let token = last["token"].as_str().unwrap();
    let ids = |page: Value| -> Vec<String> {
        let mut ids: Vec<String> = (page["items"].as_array().unwrap().iter())
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<Uuid>| {
        ids.sort();
        ids.iter().map(Uuid::to_string).collect::<Vec<_>>()
    };
    for (query, expected) in [
        ("role=FIELD", vec![field, gone]),
        ("role=PILOT", vec![pilot]),
        ("status=AVAILABLE", vec![field]),
        (&*format!("hub_id={hub}"), vec![field]),
        ("active=false", vec![gone]),
        ("active=true&role=FIELD", vec![field]),
    ] {
        let page = app
            .read_consistent(&format!("/v1/operators?{query}"), &json!({"token": token}))
            .await;
        assert_eq!(ids(page), sorted(expected), "{query}");
    }
    let field_operators: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM field_operators ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(sorted(field_operators), sorted(vec![field, gone]));
    for (query, field) in [
        ("role=JANITOR", "role"),
        ("active=maybe", "active"),
        ("hub_id=42", "hub_id"),
    ] {
        let problem = crate::helpers::assert_problem(
            app.get(&format!("/v1/operators?{query}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        assert_eq!(problem["field"], field, "{query}");
    }
}

#[tokio::test]
async fn operators_racing_for_one_user_on_two_instances_register_once() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    let user = Uuid::new_v4();
    let operators: Vec<Uuid> = (0..12).map(|_| Uuid::new_v4()).collect();
    let answers = join_all(operators.iter().enumerate().map(|(n, operator)| {
        app.client
            .post(format!(
                "{}/v1/operators/{operator}/commands",
                instances[n % 2]
            ))
            .header("X-Actor", "test:runner")
            .json(&register("PILOT", Some(user)))
            .send()
    }))
    .await;
    let mut winners = 0;
    for answer in answers {
        let answer = answer.unwrap();
        if answer.status() == StatusCode::CREATED {
            winners += 1;
        } else {
            let problem =
                crate::helpers::assert_problem(answer, StatusCode::CONFLICT, "value_taken").await;
            assert_eq!(problem["field"], "user_id");
        }
    }
    assert_eq!(winners, 1, "one operator gets the user");
    let registered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OperatorRegistered'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(registered, 1);
}

const OPERATOR_TABLES: [(&str, &str); 4] = [
    ("operators", "id"),
    ("operator_hubs", "operator_id, hub_id"),
    ("operator_mobile_devices", "operator_id, device_id"),
    ("operator_status_history", "global_position"),
];

#[tokio::test]
async fn replaying_the_operator_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    let hub = app.hub().await;
    for n in 0..3 {
        let mut bodies = vec![
            register("FIELD", None),
            json!({"type": "AssignOperatorToHub", "hub_id": hub}),
            json!({"type": "RegisterMobileDevice", "device_id": format!("d-{n}"),
                   "platform": "IOS"}),
        ];
        if n > 0 {
            bodies.push(json!({"type": "RemoveOperatorFromHub", "hub_id": hub}));
            bodies.push(json!({"type": "RemoveMobileDevice", "device_id": format!("d-{n}")}));
            bodies.push(json!({"type": "DeactivateOperator"}));
        }
        app.run(OPERATORS, Uuid::new_v4(), &bodies).await;
    }
    app.wait_for_projections().await;
    let mut before = Vec::new();
    for (table, order) in OPERATOR_TABLES {
        let rows = snapshot(&app.pool, table, order).await;
        assert!(!rows.is_empty(), "{table} is empty");
        before.push(rows);
    }
    assert_eq!(before[3].len(), 3 * 3 + 2 * 3);
    for name in ["operators", "operator_history"] {
        let projector = projections::all()
            .into_iter()
            .find(|p| p.name() == name)
            .unwrap();
        projections::replay(&app.pool, projector.as_ref(), 4, |_| {})
            .await
            .unwrap();
    }
    for (i, (table, order)) in OPERATOR_TABLES.into_iter().enumerate() {
        assert_eq!(
            snapshot(&app.pool, table, order).await,
            before[i],
            "{table}"
        );
    }
}
