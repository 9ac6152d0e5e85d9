//! The JSON contract.

use super::*;

#[test]
fn every_public_command_name_is_listed_and_only_creation_creates_the_stream() {
    let commands = every_public_command();
    let names: Vec<_> = commands.iter().map(|c| c.name()).collect();
    assert_eq!(names, FoTaskCommand::PUBLIC);
    let creating: Vec<_> = commands
        .iter()
        .filter(|c| c.creates_stream())
        .map(|c| c.name())
        .collect();
    assert_eq!(creating, ["CreateFoTask"]);
}

#[test]
fn a_command_body_with_an_unknown_field_is_refused() {
    for body in [
        json!({"StartFoTask": {"sudo": true}}),
        json!({"UnassignFieldOperator": {"assignment_id": assignment(1), "resaon": "typo"}}),
        json!({"CreateFoTask": {"hub_id": hub(), "kind": "OTHER", "robot": robot()}}),
    ] {
        assert!(
            serde_json::from_value::<FoTaskCommand>(body.clone()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn a_create_command_parses_with_optional_fields_left_out() {
    let parsed: FoTaskCommand = serde_json::from_value(json!({
        "CreateFoTask": {"hub_id": hub(), "kind": "ROBOT_RESCUE"}
    }))
    .unwrap();
    assert_eq!(
        parsed,
        FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::RobotRescue,
            robot_id: None,
            trip_id: None,
            subtasks: vec![],
        }
    );
}

#[test]
fn a_create_command_parses_both_kinds_of_subtask() {
    let parsed: FoTaskCommand = serde_json::from_value(json!({
        "CreateFoTask": {
            "hub_id": hub(),
            "kind": "BATTERY_SWAP",
            "robot_id": robot(),
            "subtasks": [
                {"subtask_id": sub(1), "kind": "TRAVEL",
                 "from": {"lat": 37.77, "lng": -122.42, "name": "hub"},
                 "to": {"lat": 37.77, "lng": -122.42, "name": "robot"}},
                {"subtask_id": sub(2), "kind": "ACTION", "action": "SWAP_BATTERY",
                 "location": {"lat": 37.77, "lng": -122.42, "name": "robot"}}
            ]
        }
    }))
    .unwrap();
    assert_eq!(
        parsed,
        FoTaskCommand::CreateFoTask {
            hub_id: hub(),
            kind: FoTaskKind::BatterySwap,
            robot_id: Some(robot()),
            trip_id: None,
            subtasks: vec![travel(1), action(2)],
        }
    );
}

#[test]
fn a_subtask_spec_is_written_in_the_shape_it_is_read() {
    let written = serde_json::to_value(action(2)).unwrap();
    assert_eq!(written["kind"], "ACTION");
    assert_eq!(written["action"], "SWAP_BATTERY");
    assert_eq!(written["subtask_id"], json!(sub(2)));
    assert!(written.get("detail").is_none());
    assert_eq!(
        serde_json::from_value::<SubtaskSpec>(written).unwrap(),
        action(2)
    );
    let written = serde_json::to_value(travel(1)).unwrap();
    assert_eq!(written["kind"], "TRAVEL");
    assert_eq!(
        serde_json::from_value::<SubtaskSpec>(written).unwrap(),
        travel(1)
    );
    assert_eq!(travel(1).detail.kind(), SubtaskKind::Travel);
    assert_eq!(action(2).detail.kind(), SubtaskKind::Action);
}

#[test]
fn a_subtask_spec_with_a_wrong_or_unknown_field_or_kind_is_refused() {
    let here = json!({"lat": 1.0, "lng": 2.0});
    for bad in [
        // A field of the other kind.
        json!({"subtask_id": sub(1), "kind": "TRAVEL", "from": here, "to": here, "action": "INSPECT"}),
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "INSPECT", "location": here, "to": here}),
        // A field of no kind.
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "INSPECT", "location": here, "note": "x"}),
        // An unknown kind, no kind, an unknown action.
        json!({"subtask_id": sub(1), "kind": "FLY", "from": here, "to": here}),
        json!({"subtask_id": sub(1), "from": here, "to": here}),
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "DANCE", "location": here}),
        // A missing field, a missing id, a bad id, a bad location.
        json!({"subtask_id": sub(1), "kind": "TRAVEL", "from": here}),
        json!({"kind": "ACTION", "action": "INSPECT", "location": here}),
        json!({"subtask_id": "seven", "kind": "ACTION", "action": "INSPECT", "location": here}),
        json!({"subtask_id": sub(1), "kind": "ACTION", "action": "INSPECT", "location": {"lat": 91, "lng": 0}}),
    ] {
        assert!(
            serde_json::from_value::<SubtaskSpec>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn enum_values_are_spelt_in_screaming_snake_case() {
    assert_eq!(
        serde_json::to_value(FoTaskStatus::InProgress).unwrap(),
        "IN_PROGRESS"
    );
    assert_eq!(FoTaskStatus::InProgress.to_string(), "IN_PROGRESS");
    assert_eq!(SubtaskStatus::Skipped.to_string(), "SKIPPED");
    assert_eq!(
        serde_json::to_value(FoTaskKind::RobotRescue).unwrap(),
        "ROBOT_RESCUE"
    );
    assert_eq!(
        serde_json::to_value(FoAction::UnloadRobot).unwrap(),
        "UNLOAD_ROBOT"
    );
}
