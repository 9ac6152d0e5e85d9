//! Field-operations tasks over HTTP: commands, the read models behind GET, the status timeline
//! of the task and its subtasks, refusals, replay.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, TestApp, HUB, LOCATION, PLACES_EVENTS, ROBOT};
use crate::read_side::snapshot;

const FO_TASKS: &str = "fo-tasks";

fn robot_spot() -> Value {
    json!({"lat": 37.7760, "lng": -122.4120, "name": "Market & 7th"})
}

/// The fixtures' hub location (`LOCATION`, registered by `TestApp::places`).
fn hub_spot() -> Value {
    json!({"lat": 37.7749, "lng": -122.4194, "name": "Hub SF", "location_id": LOCATION})
}

fn travel(id: Uuid) -> Value {
    json!({"subtask_id": id, "kind": "TRAVEL", "from": hub_spot(), "to": robot_spot()})
}

fn action(id: Uuid, action: &str) -> Value {
    json!({"subtask_id": id, "kind": "ACTION", "action": action, "location": robot_spot()})
}

/// A field task at `HUB` (registered by `TestApp::places`).
fn create_body(subtasks: Vec<Value>) -> Value {
    json!({"type": "CreateFoTask", "hub_id": HUB, "kind": "ROBOT_RESCUE",
           "subtasks": subtasks})
}

fn assign(assignment: Uuid, fo: Uuid) -> Value {
    json!({"type": "AssignFieldOperator", "assignment_id": assignment, "fo_id": fo})
}

/// Creates a task with these subtasks; returns its id.
async fn create(app: &TestApp, subtasks: Vec<Value>) -> Uuid {
    app.places().await;
    let id = Uuid::new_v4();
    app.ok(FO_TASKS, id, create_body(subtasks)).await;
    id
}

#[tokio::test]
async fn a_field_operations_task_lives_its_whole_life_over_http() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    app.places().await;
    let (hub, robot, trip) = (HUB, ROBOT, Uuid::new_v4());
    let (go, swap, look) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (assignment, fo) = (Uuid::new_v4(), app.field_operator().await);

    let created = app
        .command(
            FO_TASKS,
            id,
            json!({"type": "CreateFoTask", "hub_id": hub, "kind": "BATTERY_SWAP",
                   "robot_id": robot, "trip_id": trip,
                   "subtasks": [travel(go), action(swap, "SWAP_BATTERY")]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        created.headers()["location"].to_str().unwrap(),
        format!("/v1/fo-tasks/{id}")
    );
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["events"][0]["event_type"], "FoTaskCreated");

    let steps = [
        (
            json!({"type": "AddSubtask", "subtask": action(look, "INSPECT")}),
            "FoSubtaskAdded",
        ),
        (assign(assignment, fo), "FoAssigned"),
        (json!({"type": "StartFoTask"}), "FoTaskStarted"),
        (
            json!({"type": "StartSubtask", "subtask_id": go}),
            "FoSubtaskStarted",
        ),
        (
            json!({"type": "CompleteSubtask", "subtask_id": go}),
            "FoSubtaskCompleted",
        ),
        (
            json!({"type": "StartSubtask", "subtask_id": swap}),
            "FoSubtaskStarted",
        ),
        (
            json!({"type": "CompleteSubtask", "subtask_id": swap}),
            "FoSubtaskCompleted",
        ),
        (
            json!({"type": "SkipSubtask", "subtask_id": look, "reason": "robot already fine"}),
            "FoSubtaskSkipped",
        ),
        (json!({"type": "CompleteFoTask"}), "FoTaskCompleted"),
    ];
    let mut answer = Value::Null;
    for (n, (body, event)) in steps.into_iter().enumerate() {
        answer = app.ok(FO_TASKS, id, body).await;
        assert_eq!(answer["version"], n as u64 + 2);
        assert_eq!(answer["events"][0]["event_type"], event);
    }

    let response = app
        .get_consistent(&format!("/v1/fo-tasks/{id}"), &answer)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"].to_str().unwrap(), "\"10\"");
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["id"], id.to_string());
    assert_eq!(task["hub_id"], hub.to_string());
    assert_eq!(task["kind"], "BATTERY_SWAP");
    assert_eq!(task["status"], "COMPLETED");
    assert_eq!(task["robot_id"], robot.to_string());
    assert_eq!(task["trip_id"], trip.to_string());
    assert_eq!(task["cancellation_reason"], Value::Null);
    assert_eq!(task["version"], 10);
    assert!(task["created_at"].as_str().unwrap() < task["updated_at"].as_str().unwrap());

    let subtasks = task["subtasks"].as_array().unwrap();
    let summary: Vec<_> = subtasks
        .iter()
        .map(|s| {
            (
                s["position"].as_u64().unwrap(),
                s["subtask_id"].as_str().unwrap().to_string(),
                s["kind"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, go.to_string(), "TRAVEL", "DONE"),
            (1, swap.to_string(), "ACTION", "DONE"),
            (2, look.to_string(), "ACTION", "SKIPPED"),
        ]
    );
    assert_eq!(subtasks[0]["from"], hub_spot());
    assert_eq!(
        subtasks[0]["to"],
        json!({"lat": 37.776, "lng": -122.412, "name": "Market & 7th", "location_id": null})
    );
    assert_eq!(subtasks[0].get("action"), None);
    assert_eq!(subtasks[1]["action"], "SWAP_BATTERY");
    assert_eq!(subtasks[1]["location"], subtasks[0]["to"]);
    assert_eq!(subtasks[1].get("from"), None);
    assert_eq!(subtasks[1]["skip_reason"], Value::Null);
    assert_eq!(subtasks[2]["action"], "INSPECT");
    assert_eq!(subtasks[2]["skip_reason"], "robot already fine");
    assert!(
        subtasks[0]["updated_at"].as_str().unwrap() < subtasks[1]["updated_at"].as_str().unwrap()
    );

    let assignments = task["assignments"].as_array().unwrap();
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0]["assignment_id"], assignment.to_string());
    assert_eq!(assignments[0]["fo_id"], fo.to_string());
    assert_eq!(assignments[0]["active"], true);
    assert!(assignments[0]["assigned_at"].as_str().is_some());
    assert_eq!(assignments[0]["unassigned_at"], Value::Null);

    assert_eq!(app.event_types(id).await.len(), 10);
    app.refused(
        FO_TASKS,
        id,
        json!({"type": "StartFoTask"}),
        StatusCode::CONFLICT,
        "task_ended",
    )
    .await;
}

#[tokio::test]
async fn a_field_operations_tasks_history_lists_task_and_subtask_changes_with_who_and_why() {
    let app = TestApp::spawn().await;
    let go = Uuid::new_v4();
    let id = create(&app, vec![travel(go)]).await;
    let (ana, ben) = (app.field_operator().await, app.field_operator().await);
    let (first, second, third) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.run(
        FO_TASKS,
        id,
        &[
            assign(first, ana),
            // A second operator, and their leaving, change nothing of the task's status.
            assign(second, ben),
            json!({"type": "UnassignFieldOperator", "assignment_id": second}),
            json!({"type": "UnassignFieldOperator", "assignment_id": first,
                   "reason": "called to another hub"}),
            assign(third, ana),
            json!({"type": "StartFoTask"}),
            json!({"type": "StartSubtask", "subtask_id": go}),
            json!({"type": "SkipSubtask", "subtask_id": go, "reason": "road closed"}),
        ],
    )
    .await;
    let answer: Value = app
        .client
        .post(app.url(&format!("/v1/fo-tasks/{id}/commands")))
        .header("X-Actor", "fo-lead:kim")
        .header("X-Correlation-Id", "rescue-12")
        .json(&json!({"type": "CancelFoTask", "reason": "robot recovered by its pilot"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["version"], 10);

    let history = app
        .read_consistent(&format!("/v1/fo-tasks/{id}/history"), &answer)
        .await;
    assert_eq!(history["id"], id.to_string());
    let items = history["items"].as_array().unwrap();
    let changes: Vec<_> = items
        .iter()
        .map(|i| {
            (
                i["sequence"].as_i64().unwrap(),
                i["event_type"].as_str().unwrap(),
                i["subject"].as_str().unwrap(),
                i["subject_id"].as_str().unwrap().to_string(),
                i["from_status"].clone(),
                i["to_status"].clone(),
                i["reason"].clone(),
            )
        })
        .collect();
    let (task, subtask) = (id.to_string(), go.to_string());
    let null = Value::Null;
    assert_eq!(
        changes,
        [
            (
                1,
                "FoTaskCreated",
                "TASK",
                task.clone(),
                null.clone(),
                json!("CREATED"),
                null.clone()
            ),
            (
                2,
                "FoAssigned",
                "TASK",
                task.clone(),
                json!("CREATED"),
                json!("ASSIGNED"),
                null.clone()
            ),
            (
                5,
                "FoUnassigned",
                "TASK",
                task.clone(),
                json!("ASSIGNED"),
                json!("CREATED"),
                json!("called to another hub")
            ),
            (
                6,
                "FoAssigned",
                "TASK",
                task.clone(),
                json!("CREATED"),
                json!("ASSIGNED"),
                null.clone()
            ),
            (
                7,
                "FoTaskStarted",
                "TASK",
                task.clone(),
                json!("ASSIGNED"),
                json!("IN_PROGRESS"),
                null.clone()
            ),
            (
                8,
                "FoSubtaskStarted",
                "SUBTASK",
                subtask.clone(),
                json!("PENDING"),
                json!("IN_PROGRESS"),
                null.clone()
            ),
            (
                9,
                "FoSubtaskSkipped",
                "SUBTASK",
                subtask.clone(),
                json!("IN_PROGRESS"),
                json!("SKIPPED"),
                json!("road closed")
            ),
            (
                10,
                "FoTaskCancelled",
                "TASK",
                task.clone(),
                json!("IN_PROGRESS"),
                json!("CANCELLED"),
                json!("robot recovered by its pilot")
            ),
        ]
    );
    for item in &items[..7] {
        assert_eq!(item["actor"], "key:test-admin");
        assert_eq!(item["fo_task_id"], task);
    }
    let cancelled = &items[7];
    assert_eq!(cancelled["actor"], "key:test-admin");
    assert_eq!(cancelled["on_behalf_of"], "fo-lead:kim");
    assert_eq!(cancelled["correlation_id"], "rescue-12");
    assert_eq!(cancelled["position"], answer["events"][0]["position"]);
    assert!(cancelled["changed_at"].as_str().unwrap() > items[0]["changed_at"].as_str().unwrap());

    let view = app
        .read_consistent(&format!("/v1/fo-tasks/{id}"), &answer)
        .await;
    assert_eq!(view["status"], "CANCELLED");
    assert_eq!(view["cancellation_reason"], "robot recovered by its pilot");
    let assignments: Vec<_> = view["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["assignment_id"].as_str().unwrap().to_string(),
                a["fo_id"].as_str().unwrap().to_string(),
                a["active"].as_bool().unwrap(),
                a["unassign_reason"].clone(),
                a["unassigned_at"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        assignments,
        [
            (
                first.to_string(),
                ana.to_string(),
                false,
                json!("called to another hub"),
                true
            ),
            (
                second.to_string(),
                ben.to_string(),
                false,
                Value::Null,
                true
            ),
            (third.to_string(), ana.to_string(), true, Value::Null, false),
        ]
    );
    assert_eq!(view["subtasks"][0]["status"], "SKIPPED");
    assert_eq!(view["subtasks"][0]["skip_reason"], "road closed");
}

#[tokio::test]
async fn each_refused_field_operations_command_is_a_409_with_its_code_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let conflict = StatusCode::CONFLICT;
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let (assignment, fo) = (Uuid::new_v4(), app.field_operator().await);
    let id = create(&app, vec![travel(first), action(second, "RESET_ROBOT")]).await;

    // Before anyone is assigned.
    for (body, code) in [
        (create_body(vec![]), "already_exists"),
        (json!({"type": "StartFoTask"}), "no_operator_assigned"),
        (
            json!({"type": "StartSubtask", "subtask_id": first}),
            "invalid_transition",
        ),
        (json!({"type": "CompleteFoTask"}), "invalid_transition"),
        (
            json!({"type": "AddSubtask", "subtask": action(first, "INSPECT")}),
            "duplicate_subtask",
        ),
        (
            json!({"type": "UnassignFieldOperator", "assignment_id": assignment}),
            "assignment_not_found",
        ),
    ] {
        app.refused(FO_TASKS, id, body, conflict, code).await;
    }

    // Assigned and under way.
    app.run(
        FO_TASKS,
        id,
        &[assign(assignment, fo), json!({"type": "StartFoTask"})],
    )
    .await;
    for (body, code) in [
        (assign(Uuid::new_v4(), fo), "operator_already_assigned"),
        (
            assign(assignment, Uuid::new_v4()),
            "assignment_already_exists",
        ),
        (json!({"type": "StartFoTask"}), "invalid_transition"),
        (
            json!({"type": "StartSubtask", "subtask_id": second}),
            "subtask_out_of_order",
        ),
        (
            json!({"type": "SkipSubtask", "subtask_id": second, "reason": "later"}),
            "subtask_out_of_order",
        ),
        (
            json!({"type": "StartSubtask", "subtask_id": Uuid::new_v4()}),
            "subtask_not_found",
        ),
        (
            json!({"type": "CompleteSubtask", "subtask_id": first}),
            "invalid_subtask_transition",
        ),
        (json!({"type": "CompleteFoTask"}), "subtasks_open"),
    ] {
        app.refused(FO_TASKS, id, body, conflict, code).await;
    }

    // A finished subtask, an ended assignment.
    app.run(
        FO_TASKS,
        id,
        &[
            json!({"type": "StartSubtask", "subtask_id": first}),
            json!({"type": "CompleteSubtask", "subtask_id": first}),
            json!({"type": "UnassignFieldOperator", "assignment_id": assignment}),
        ],
    )
    .await;
    for (body, code) in [
        (
            json!({"type": "StartSubtask", "subtask_id": first}),
            "invalid_subtask_transition",
        ),
        (
            json!({"type": "UnassignFieldOperator", "assignment_id": assignment}),
            "assignment_not_active",
        ),
    ] {
        app.refused(FO_TASKS, id, body, conflict, code).await;
    }

    // Ended.
    let answer = app
        .ok(
            FO_TASKS,
            id,
            json!({"type": "CancelFoTask", "reason": "robot towed"}),
        )
        .await;
    for body in [
        json!({"type": "CancelFoTask", "reason": "again"}),
        json!({"type": "StartSubtask", "subtask_id": second}),
        json!({"type": "AddSubtask", "subtask": travel(Uuid::new_v4())}),
        assign(Uuid::new_v4(), Uuid::new_v4()),
    ] {
        app.refused(FO_TASKS, id, body, conflict, "task_ended")
            .await;
    }
    let view = app
        .read_consistent(&format!("/v1/fo-tasks/{id}"), &answer)
        .await;
    assert_eq!(view["version"], 7);
    assert_eq!(view["status"], "CANCELLED");
    assert_eq!(view["subtasks"].as_array().unwrap().len(), 2);
    assert_eq!(view["subtasks"][0]["status"], "DONE");
    assert_eq!(view["subtasks"][1]["status"], "PENDING");
    assert_eq!(view["assignments"].as_array().unwrap().len(), 1);

    // Refused creations leave no stream behind.
    let repeated = Uuid::new_v4();
    let too_many: Vec<_> = (0..51).map(|_| travel(Uuid::new_v4())).collect();
    for (body, code) in [
        (
            create_body(vec![travel(repeated), action(repeated, "INSPECT")]),
            "duplicate_subtask",
        ),
        (create_body(too_many), "too_many_subtasks"),
    ] {
        let fresh = Uuid::new_v4();
        app.refused(FO_TASKS, fresh, body, conflict, code).await;
        assert!(app.event_types(fresh).await.is_empty());
    }
}

#[tokio::test]
async fn a_field_operations_command_with_a_bad_body_is_a_400_naming_the_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let id = create(&app, vec![]).await;
    let fresh = Uuid::new_v4();
    let here = json!({"lat": 1.0, "lng": 2.0});
    // (stream, body, the `field` the problem names, what its detail says)
    let cases = [
        (
            fresh,
            json!({"type": "CreateFoTask", "hub_id": Uuid::new_v4(), "kind": "SPACESHIP"}),
            json!("kind"),
            "unknown variant `SPACESHIP`",
        ),
        (
            fresh,
            json!({"type": "CreateFoTask", "kind": "OTHER"}),
            json!("hub_id"),
            "missing field `hub_id`",
        ),
        (
            fresh,
            json!({"type": "CreateFoTask", "hub_id": Uuid::new_v4(), "kind": "OTHER",
                   "robot": Uuid::new_v4()}),
            json!("robot"),
            "unknown field `robot`",
        ),
        (
            fresh,
            json!({"type": "CreateFoTask", "hub_id": Uuid::new_v4(), "kind": "OTHER",
                   "subtasks": [{"subtask_id": Uuid::new_v4(), "kind": "FLY",
                                 "from": here, "to": here}]}),
            json!("subtasks[0]"),
            "unknown variant `FLY`",
        ),
        (
            id,
            json!({"type": "AddSubtask", "subtask": {"subtask_id": Uuid::new_v4(),
                   "kind": "ACTION", "action": "INSPECT", "location": {"lat": 91, "lng": 0}}}),
            json!("subtask"),
            "lat must be a number from -90 to 90, got 91",
        ),
        (
            id,
            json!({"type": "AddSubtask", "subtask": {"subtask_id": Uuid::new_v4(),
                   "kind": "ACTION", "action": "DANCE", "location": here}}),
            json!("subtask"),
            "unknown variant `DANCE`",
        ),
        (
            id,
            json!({"type": "AddSubtask", "subtask": {"subtask_id": Uuid::new_v4(),
                   "kind": "TRAVEL", "from": here}}),
            json!("subtask"),
            "missing field `to`",
        ),
        (
            id,
            json!({"type": "AssignFieldOperator", "assignment_id": Uuid::new_v4(),
                   "fo_id": "kim"}),
            json!("fo_id"),
            "UUID parsing failed",
        ),
        (
            id,
            json!({"type": "UnassignFieldOperator", "assignment_id": Uuid::new_v4(),
                   "resaon": "typo"}),
            json!("resaon"),
            "unknown field `resaon`",
        ),
        (
            id,
            json!({"type": "SkipSubtask", "subtask_id": Uuid::new_v4()}),
            json!("reason"),
            "missing field `reason`",
        ),
        (
            id,
            json!({"type": "CancelFoTask", "reason": "   "}),
            json!("reason"),
            "must not be empty",
        ),
    ];
    app.refuses_fields(FO_TASKS, cases).await;
    assert!(app.event_types(fresh).await.is_empty());
    assert_eq!(app.event_types(id).await, ["FoTaskCreated"]);
}

#[tokio::test]
async fn a_command_on_a_field_operations_task_that_does_not_exist_is_404_and_so_are_its_reads() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    for body in [
        json!({"type": "StartFoTask"}),
        assign(Uuid::new_v4(), Uuid::new_v4()),
    ] {
        app.refused(FO_TASKS, id, body, StatusCode::NOT_FOUND, "not_found")
            .await;
    }
    assert_eq!(app.event_count().await, 0);
    let response = app.get(&format!("/v1/fo-tasks/{id}")).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    let response = app.get(&format!("/v1/fo-tasks/{id}/history")).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn subtask_and_assignment_ids_used_on_another_task_are_kept_on_each() {
    let app = TestApp::spawn().await;
    let (go, assignment) = (Uuid::new_v4(), Uuid::new_v4());
    let mut answers = Vec::new();
    for _ in 0..2 {
        let fo = app.field_operator().await;
        let id = create(&app, vec![travel(go)]).await;
        let answer = app
            .run(
                FO_TASKS,
                id,
                &[
                    assign(assignment, fo),
                    json!({"type": "StartFoTask"}),
                    json!({"type": "StartSubtask", "subtask_id": go}),
                ],
            )
            .await;
        answers.push((id, fo, answer));
    }
    for (id, fo, answer) in answers {
        let view = app
            .read_consistent(&format!("/v1/fo-tasks/{id}"), &answer)
            .await;
        assert_eq!(view["subtasks"][0]["subtask_id"], go.to_string());
        assert_eq!(view["subtasks"][0]["status"], "IN_PROGRESS");
        assert_eq!(
            view["assignments"][0]["assignment_id"],
            assignment.to_string()
        );
        assert_eq!(view["assignments"][0]["fo_id"], fo.to_string());
        let history = app
            .read_consistent(&format!("/v1/fo-tasks/{id}/history"), &answer)
            .await;
        assert_eq!(history["items"].as_array().unwrap().len(), 4);
        assert_eq!(history["items"][3]["subject_id"], go.to_string());
    }
}

const FO_TASK_TABLES: [(&str, &str); 4] = [
    ("fo_tasks", "id"),
    ("fo_subtasks", "fo_task_id, position"),
    ("fo_assignments", "fo_task_id, assignment_id"),
    ("fo_task_history", "global_position, subject, subject_id"),
];

#[tokio::test]
async fn replaying_the_field_operations_projectors_rebuilds_the_same_rows() {
    let app = TestApp::spawn().await;
    app.places().await;
    // A replay reads every event, the fixtures' places' too.
    let mut events = PLACES_EVENTS.len() as u64;
    for n in 0..3 {
        let (go, fix) = (Uuid::new_v4(), Uuid::new_v4());
        let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
        let id = create(&app, vec![travel(go)]).await;
        let mut bodies = vec![
            json!({"type": "AddSubtask", "subtask": action(fix, "MOVE_ROBOT")}),
            assign(first, app.field_operator().await),
            assign(second, app.field_operator().await),
            json!({"type": "UnassignFieldOperator", "assignment_id": first, "reason": "shift over"}),
            json!({"type": "StartFoTask"}),
            json!({"type": "StartSubtask", "subtask_id": go}),
            json!({"type": "CompleteSubtask", "subtask_id": go}),
        ];
        if n > 0 {
            bodies.push(json!({"type": "SkipSubtask", "subtask_id": fix, "reason": "not needed"}));
            bodies.push(json!({"type": "CompleteFoTask"}));
        }
        // The task's events, and its two field operators' registrations.
        events += 1 + bodies.len() as u64 + 2;
        app.run(FO_TASKS, id, &bodies).await;
    }
    app.wait_for_projections().await;
    let mut before = Vec::new();
    for (table, order) in FO_TASK_TABLES {
        before.push(snapshot(&app.pool, table, order).await);
    }
    assert_eq!(before[0].len(), 3);
    assert_eq!(before[1].len(), 3 * 2);
    assert_eq!(before[2].len(), 3 * 2);
    // Created, assigned, started; the travel subtask started and done; then a skip and the end.
    assert_eq!(before[3].len(), 3 * 5 + 2 * 2);

    let replayed: Vec<_> = projections::all()
        .into_iter()
        .filter(|p| ["fo_tasks", "fo_task_history"].contains(&p.name()))
        .collect();
    assert_eq!(replayed.len(), 2);
    for projector in replayed {
        let done = projections::replay(&app.pool, projector.as_ref(), 5, |_| {})
            .await
            .unwrap();
        assert_eq!(done.events_read, events);
    }
    for ((table, order), rows) in FO_TASK_TABLES.into_iter().zip(before) {
        assert_eq!(snapshot(&app.pool, table, order).await, rows, "{table}");
    }
}
