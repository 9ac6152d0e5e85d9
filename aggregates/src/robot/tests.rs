//! The robot's rules, one by one, given its history and a command.

use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::{CommandNames, Name, Note};

type RobotTest = TestFramework<Robot>;

const HUB: Uuid = Uuid::from_u128(0x1);
const OTHER_HUB: Uuid = Uuid::from_u128(0x2);
const DEPLOYMENT: Uuid = Uuid::from_u128(0x3);
const TRIP: Uuid = Uuid::from_u128(0x4);
const OTHER_TRIP: Uuid = Uuid::from_u128(0x5);

fn note(text: &str) -> Option<Note> {
    Some(Note::parse(text).unwrap())
}

fn register() -> RobotCommand {
    RobotCommand::RegisterRobot {
        serial_number: SerialNumber::parse("SN-0001").unwrap(),
        hub_id: HUB,
        model: Some(Name::parse("Gen 3").unwrap()),
    }
}

fn deploy() -> RobotCommand {
    RobotCommand::DeployRobot {
        deployment_id: DEPLOYMENT,
        hub_id: HUB,
    }
}

fn end_deployment(deployment_id: Uuid) -> RobotCommand {
    RobotCommand::EndDeployment {
        deployment_id,
        reason: None,
    }
}

fn ground(reason: GroundingReason, note: Option<Note>) -> RobotCommand {
    RobotCommand::GroundRobot { reason, note }
}

fn retire() -> RobotCommand {
    RobotCommand::RetireRobot {
        reason: Note::parse("end of life").unwrap(),
    }
}

/// A history: the robot registered, then each command of `commands` applied in turn.
fn after(commands: &[RobotCommand]) -> Vec<RobotEvent> {
    let mut robot = Robot::default();
    let mut events = Vec::new();
    for command in std::iter::once(register()).chain(commands.iter().cloned()) {
        for event in robot.decide(command).expect("the history is valid") {
            robot.evolve(event.clone());
            events.push(event);
        }
    }
    events
}

fn deployed() -> Vec<RobotEvent> {
    after(&[deploy()])
}

fn on_trip() -> Vec<RobotEvent> {
    after(&[
        deploy(),
        RobotCommand::RecordRobotWentOnTrip { trip_id: TRIP },
    ])
}

fn parked() -> Vec<RobotEvent> {
    let went = RobotCommand::RecordRobotWentOnTrip { trip_id: TRIP };
    after(&[
        deploy(),
        went,
        RobotCommand::RecordRobotParked {
            trip_id: TRIP,
            trip_ended: true,
        },
    ])
}

fn grounded() -> Vec<RobotEvent> {
    after(&[ground(GroundingReason::LowBattery, None)])
}

fn state_of(events: Vec<RobotEvent>) -> RobotState {
    let mut robot = Robot::default();
    events.into_iter().for_each(|e| robot.evolve(e));
    robot.0.expect("a registered robot")
}

#[test]
fn a_robot_is_registered_off_duty_at_its_hub() {
    RobotTest::with(())
        .given_no_previous_events()
        .when(register())
        .then_expect_events(vec![RobotEvent::RobotRegistered {
            serial_number: "SN-0001".into(),
            hub_id: HUB,
            model: Some("Gen 3".into()),
        }]);
    let robot = state_of(after(&[]));
    assert_eq!((robot.status, robot.hub_id), (RobotStatus::OffDuty, HUB));
}

#[test]
fn a_robot_is_registered_once_and_commanded_only_once_registered() {
    RobotTest::with(())
        .given(after(&[]))
        .when(register())
        .then_expect_error(RobotError::AlreadyExists);
    RobotTest::with(())
        .given_no_previous_events()
        .when(deploy())
        .then_expect_error(RobotError::NotFound);
}

#[test]
fn an_off_duty_robot_is_deployed_at_a_hub() {
    RobotTest::with(())
        .given(after(&[]))
        .when(deploy())
        .then_expect_events(vec![RobotEvent::RobotDeployed {
            deployment_id: DEPLOYMENT,
            hub_id: HUB,
            from_status: RobotStatus::OffDuty,
        }]);
}

#[test]
fn only_an_off_duty_robot_is_deployed() {
    for (history, status) in [
        (deployed(), RobotStatus::Deployed),
        (on_trip(), RobotStatus::OnTrip),
        (grounded(), RobotStatus::Grounded),
    ] {
        RobotTest::with(())
            .given(history)
            .when(deploy())
            .then_expect_error(RobotError::InvalidTransition {
                command: "DeployRobot",
                status,
            });
    }
}

#[test]
fn a_deployment_ends_deployed_or_parked_and_only_the_open_one() {
    for (history, from_status) in [
        (deployed(), RobotStatus::Deployed),
        (parked(), RobotStatus::Parked),
    ] {
        RobotTest::with(())
            .given(history)
            .when(end_deployment(DEPLOYMENT))
            .then_expect_events(vec![RobotEvent::RobotDeploymentEnded {
                deployment_id: DEPLOYMENT,
                from_status,
                reason: None,
            }]);
    }
    RobotTest::with(())
        .given(deployed())
        .when(end_deployment(OTHER_TRIP))
        .then_expect_error(RobotError::DeploymentNotFound {
            deployment_id: OTHER_TRIP,
        });
    RobotTest::with(())
        .given(on_trip())
        .when(end_deployment(DEPLOYMENT))
        .then_expect_error(RobotError::InvalidTransition {
            command: "EndDeployment",
            status: RobotStatus::OnTrip,
        });
}

#[test]
fn a_deployed_or_parked_robot_goes_on_a_trip() {
    for (history, from_status) in [
        (deployed(), RobotStatus::Deployed),
        (parked(), RobotStatus::Parked),
    ] {
        RobotTest::with(())
            .given(history)
            .when(RobotCommand::RecordRobotWentOnTrip {
                trip_id: OTHER_TRIP,
            })
            .then_expect_events(vec![RobotEvent::RobotWentOnTrip {
                trip_id: OTHER_TRIP,
                from_status,
            }]);
    }
}

#[test]
fn a_robot_on_a_trip_goes_on_no_other_and_its_own_departure_again_records_nothing() {
    RobotTest::with(())
        .given(on_trip())
        .when(RobotCommand::RecordRobotWentOnTrip {
            trip_id: OTHER_TRIP,
        })
        .then_expect_error(RobotError::OnAnotherTrip { trip_id: TRIP });
    RobotTest::with(())
        .given(on_trip())
        .when(RobotCommand::RecordRobotWentOnTrip { trip_id: TRIP })
        .then_expect_events(vec![]);
}

#[test]
fn a_grounded_off_duty_or_retired_robot_cannot_set_out() {
    let set_out = RobotCommand::RecordRobotWentOnTrip { trip_id: TRIP };
    for (history, status) in [
        (grounded(), RobotStatus::Grounded),
        (after(&[]), RobotStatus::OffDuty),
    ] {
        RobotTest::with(())
            .given(history)
            .when(set_out.clone())
            .then_expect_error(RobotError::InvalidTransition {
                command: "RecordRobotWentOnTrip",
                status,
            });
    }
    RobotTest::with(())
        .given(after(&[retire()]))
        .when(set_out)
        .then_expect_error(RobotError::Retired);
}

#[test]
fn a_robot_parks_for_its_own_trip_and_otherwise_records_nothing() {
    RobotTest::with(())
        .given(on_trip())
        .when(RobotCommand::RecordRobotParked {
            trip_id: TRIP,
            trip_ended: true,
        })
        .then_expect_events(vec![RobotEvent::RobotParked {
            trip_id: TRIP,
            from_status: RobotStatus::OnTrip,
            trip_ended: true,
        }]);
    // A trip cancelled before it departed (its robot on another trip by then, or retired), or
    // a robot grounded on the way: nothing to park, and the trip's ending is not held up.
    RobotTest::with(())
        .given(on_trip())
        .when(RobotCommand::RecordRobotParked {
            trip_id: OTHER_TRIP,
            trip_ended: true,
        })
        .then_expect_events(vec![]);
    for history in [deployed(), parked(), grounded(), after(&[retire()])] {
        RobotTest::with(())
            .given(history)
            .when(RobotCommand::RecordRobotParked {
                trip_id: TRIP,
                trip_ended: true,
            })
            .then_expect_events(vec![]);
    }
}

#[test]
fn grounding_takes_a_robot_out_of_service_from_any_state_and_ends_its_deployment() {
    let reason = GroundingReason::HardwareFault;
    for (history, from_status, deployment_id) in [
        (after(&[]), RobotStatus::OffDuty, None),
        (deployed(), RobotStatus::Deployed, Some(DEPLOYMENT)),
        (on_trip(), RobotStatus::OnTrip, Some(DEPLOYMENT)),
        (parked(), RobotStatus::Parked, Some(DEPLOYMENT)),
    ] {
        RobotTest::with(())
            .given(history)
            .when(ground(reason, None))
            .then_expect_events(vec![RobotEvent::RobotGrounded {
                from_status,
                reason,
                note: None,
                deployment_id,
            }]);
    }
    let robot = state_of([on_trip(), after(&[ground(reason, None)])[1..].to_vec()].concat());
    assert_eq!(robot.status, RobotStatus::Grounded);
    assert_eq!((robot.deployment, robot.trip_id), (None, None));
}

#[test]
fn grounding_for_another_reason_says_why_and_a_grounded_robot_is_not_grounded_again() {
    RobotTest::with(())
        .given(deployed())
        .when(ground(GroundingReason::Other, None))
        .then_expect_error(RobotError::NoteRequired);
    RobotTest::with(())
        .given(deployed())
        .when(ground(GroundingReason::Other, note("bird nest")))
        .then_expect_events(vec![RobotEvent::RobotGrounded {
            from_status: RobotStatus::Deployed,
            reason: GroundingReason::Other,
            note: Some("bird nest".into()),
            deployment_id: Some(DEPLOYMENT),
        }]);
    RobotTest::with(())
        .given(grounded())
        .when(ground(GroundingReason::Damaged, None))
        .then_expect_error(RobotError::InvalidTransition {
            command: "GroundRobot",
            status: RobotStatus::Grounded,
        });
}

#[test]
fn only_a_grounded_robot_is_released_off_duty() {
    RobotTest::with(())
        .given(grounded())
        .when(RobotCommand::ReleaseRobot {
            note: note("battery swapped"),
        })
        .then_expect_events(vec![RobotEvent::RobotReleased {
            from_status: RobotStatus::Grounded,
            note: Some("battery swapped".into()),
        }]);
    RobotTest::with(())
        .given(deployed())
        .when(RobotCommand::ReleaseRobot { note: None })
        .then_expect_error(RobotError::InvalidTransition {
            command: "ReleaseRobot",
            status: RobotStatus::Deployed,
        });
}

#[test]
fn a_robot_is_checked_in_at_one_hub_at_a_time() {
    let check_in = |hub_id| RobotCommand::CheckInRobot { hub_id };
    RobotTest::with(())
        .given(deployed())
        .when(check_in(HUB))
        .then_expect_events(vec![RobotEvent::RobotCheckedIn { hub_id: HUB }]);
    for hub in [HUB, OTHER_HUB] {
        RobotTest::with(())
            .given(after(&[check_in(HUB)]))
            .when(check_in(hub))
            .then_expect_error(RobotError::AlreadyCheckedIn { hub_id: HUB });
    }
}

#[test]
fn a_robot_is_checked_out_only_of_the_hub_it_is_checked_in_at() {
    let checked_in = after(&[RobotCommand::CheckInRobot { hub_id: HUB }]);
    RobotTest::with(())
        .given(checked_in.clone())
        .when(RobotCommand::CheckOutRobot { hub_id: HUB })
        .then_expect_events(vec![RobotEvent::RobotCheckedOut { hub_id: HUB }]);
    RobotTest::with(())
        .given(checked_in)
        .when(RobotCommand::CheckOutRobot { hub_id: OTHER_HUB })
        .then_expect_error(RobotError::NotCheckedIn { hub_id: OTHER_HUB });
    RobotTest::with(())
        .given(after(&[]))
        .when(RobotCommand::CheckOutRobot { hub_id: HUB })
        .then_expect_error(RobotError::NotCheckedIn { hub_id: HUB });
}

#[test]
fn only_an_off_duty_robot_is_retired_checked_out_of_its_hub() {
    RobotTest::with(())
        .given(after(&[RobotCommand::CheckInRobot { hub_id: HUB }]))
        .when(retire())
        .then_expect_events(vec![RobotEvent::RobotRetired {
            from_status: RobotStatus::OffDuty,
            reason: "end of life".into(),
            checked_out_of: Some(HUB),
        }]);
    for (history, status) in [
        (deployed(), RobotStatus::Deployed),
        (grounded(), RobotStatus::Grounded),
    ] {
        RobotTest::with(())
            .given(history)
            .when(retire())
            .then_expect_error(RobotError::InvalidTransition {
                command: "RetireRobot",
                status,
            });
    }
}

#[test]
fn a_retired_robot_refuses_every_command_a_client_sends() {
    let retired = after(&[retire()]);
    let commands = [
        deploy(),
        end_deployment(DEPLOYMENT),
        ground(GroundingReason::SafetyHold, None),
        RobotCommand::ReleaseRobot { note: None },
        RobotCommand::CheckInRobot { hub_id: HUB },
        RobotCommand::CheckOutRobot { hub_id: HUB },
        retire(),
    ];
    for command in commands {
        let name = command.name();
        let refused = Robot(Some(state_of(retired.clone()))).decide(command);
        assert_eq!(refused, Err(RobotError::Retired), "{name}");
    }
}

#[test]
fn each_event_moves_the_state_its_new_status_names() {
    let history = after(&[
        deploy(),
        RobotCommand::RecordRobotWentOnTrip { trip_id: TRIP },
        RobotCommand::RecordRobotParked {
            trip_id: TRIP,
            trip_ended: true,
        },
        end_deployment(DEPLOYMENT),
        ground(GroundingReason::Maintenance, None),
        RobotCommand::ReleaseRobot { note: None },
        retire(),
    ]);
    let mut robot = Robot::default();
    for event in history {
        let expected = event.new_status();
        robot.evolve(event);
        assert_eq!(Some(robot.0.as_ref().unwrap().status), expected);
    }
}

#[test]
fn clients_send_the_public_commands_and_never_the_trips_own() {
    assert_eq!(
        RobotCommand::PUBLIC,
        [
            "RegisterRobot",
            "DeployRobot",
            "EndDeployment",
            "GroundRobot",
            "ReleaseRobot",
            "CheckInRobot",
            "CheckOutRobot",
            "RetireRobot"
        ]
    );
    let internal = serde_json::json!({"RecordRobotWentOnTrip": {"trip_id": TRIP}});
    assert!(serde_json::from_value::<RobotCommand>(internal).is_err());
    let blank = serde_json::json!({"RegisterRobot": {"serial_number": "  ", "hub_id": HUB}});
    let refused = serde_json::from_value::<RobotCommand>(blank).unwrap_err();
    assert!(
        refused.to_string().contains("a serial number is"),
        "{refused}"
    );
}

#[test]
fn a_serial_number_is_ascii_letters_digits_and_separators_unique_regardless_of_case() {
    for good in ["SN-0001", "a", "R2.D2_v3", &"9".repeat(64)] {
        assert!(SerialNumber::parse(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        " SN-1",
        "SN-1 ",
        "SN 1",
        "SN-\u{200b}1",
        "SN-１",
        "-SN1",
        ".1",
        &"9".repeat(65),
    ] {
        assert_eq!(SerialNumber::parse(bad), Err(SerialNumberError), "{bad:?}");
    }
    assert_eq!(
        SerialNumber::unique_form("sn-1a"),
        SerialNumber::unique_form("SN-1A")
    );
}

#[test]
fn a_robot_waiting_at_a_stop_stays_its_trips_until_the_trip_ends() {
    let at_stop = after(&[
        deploy(),
        RobotCommand::RecordRobotWentOnTrip { trip_id: TRIP },
        RobotCommand::RecordRobotParked {
            trip_id: TRIP,
            trip_ended: false,
        },
    ]);
    assert_eq!(state_of(at_stop.clone()).trip_id, Some(TRIP));
    // Another trip cannot take it, nor can its deployment end under the trip.
    RobotTest::with(())
        .given(at_stop.clone())
        .when(RobotCommand::RecordRobotWentOnTrip {
            trip_id: OTHER_TRIP,
        })
        .then_expect_error(RobotError::OnAnotherTrip { trip_id: TRIP });
    RobotTest::with(())
        .given(at_stop.clone())
        .when(end_deployment(DEPLOYMENT))
        .then_expect_error(RobotError::OnAnotherTrip { trip_id: TRIP });
    // Its own trip sets out again; the trip ending at the stop frees it.
    RobotTest::with(())
        .given(at_stop.clone())
        .when(RobotCommand::RecordRobotWentOnTrip { trip_id: TRIP })
        .then_expect_events(vec![RobotEvent::RobotWentOnTrip {
            trip_id: TRIP,
            from_status: RobotStatus::Parked,
        }]);
    let freed = RobotEvent::RobotParked {
        trip_id: TRIP,
        from_status: RobotStatus::Parked,
        trip_ended: true,
    };
    RobotTest::with(())
        .given(at_stop.clone())
        .when(RobotCommand::RecordRobotParked {
            trip_id: TRIP,
            trip_ended: true,
        })
        .then_expect_events(vec![freed.clone()]);
    let mut ended = at_stop;
    ended.push(freed);
    assert_eq!(state_of(ended.clone()).trip_id, None);
    RobotTest::with(())
        .given(ended)
        .when(RobotCommand::RecordRobotWentOnTrip {
            trip_id: OTHER_TRIP,
        })
        .then_expect_events(vec![RobotEvent::RobotWentOnTrip {
            trip_id: OTHER_TRIP,
            from_status: RobotStatus::Parked,
        }]);
}
