//! The operator's rules, one by one.

use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::{Name, Note};

type OperatorTest = TestFramework<Operator>;

const HUB: Uuid = Uuid::from_u128(7);

fn text(value: &str) -> Name {
    Name::parse(value).unwrap()
}

fn registered() -> Vec<OperatorEvent> {
    vec![OperatorEvent::OperatorRegistered {
        role: OperatorRole::Field,
        user_id: Some(Uuid::from_u128(1)),
        display_name: Some("Ana".into()),
    }]
}

fn with(mut events: Vec<OperatorEvent>, more: OperatorEvent) -> Vec<OperatorEvent> {
    events.push(more);
    events
}

fn deactivated() -> Vec<OperatorEvent> {
    with(
        registered(),
        OperatorEvent::OperatorDeactivated {
            from_status: OperatorStatus::Offline,
            reason: None,
        },
    )
}

#[test]
fn an_operator_is_registered_offline_once_and_commanded_only_once_registered() {
    let register = OperatorCommand::RegisterOperator {
        role: OperatorRole::Field,
        user_id: Some(Uuid::from_u128(1)),
        display_name: Some(text("Ana")),
    };
    OperatorTest::with(())
        .given_no_previous_events()
        .when(register.clone())
        .then_expect_events(registered());
    OperatorTest::with(())
        .given(registered())
        .when(register)
        .then_expect_error(OperatorError::AlreadyExists);
    OperatorTest::with(())
        .given_no_previous_events()
        .when(OperatorCommand::ChangeOperatorStatus {
            status: OperatorStatus::Available,
        })
        .then_expect_error(OperatorError::NotFound);
    let mut operator = Operator::default();
    registered().into_iter().for_each(|e| operator.evolve(e));
    assert_eq!(operator.state().unwrap().status, OperatorStatus::Offline);
}

#[test]
fn a_status_change_records_the_status_it_left_and_the_same_status_records_nothing() {
    OperatorTest::with(())
        .given(registered())
        .when(OperatorCommand::ChangeOperatorStatus {
            status: OperatorStatus::Available,
        })
        .then_expect_events(vec![OperatorEvent::OperatorStatusChanged {
            from_status: OperatorStatus::Offline,
            to_status: OperatorStatus::Available,
        }]);
    OperatorTest::with(())
        .given(registered())
        .when(OperatorCommand::ChangeOperatorStatus {
            status: OperatorStatus::Offline,
        })
        .then_expect_events(vec![]);
}

#[test]
fn an_operator_joins_a_hub_once_and_leaves_only_a_hub_it_is_at() {
    let at_hub = with(
        registered(),
        OperatorEvent::OperatorAssignedToHub { hub_id: HUB },
    );
    OperatorTest::with(())
        .given(registered())
        .when(OperatorCommand::AssignOperatorToHub { hub_id: HUB })
        .then_expect_events(vec![OperatorEvent::OperatorAssignedToHub { hub_id: HUB }]);
    OperatorTest::with(())
        .given(at_hub.clone())
        .when(OperatorCommand::AssignOperatorToHub { hub_id: HUB })
        .then_expect_events(vec![]);
    OperatorTest::with(())
        .given(at_hub)
        .when(OperatorCommand::RemoveOperatorFromHub { hub_id: HUB })
        .then_expect_events(vec![OperatorEvent::OperatorRemovedFromHub { hub_id: HUB }]);
    OperatorTest::with(())
        .given(registered())
        .when(OperatorCommand::RemoveOperatorFromHub { hub_id: HUB })
        .then_expect_error(OperatorError::NotAtHub { hub_id: HUB });
}

#[test]
fn a_device_registered_again_as_it_is_records_nothing_and_only_a_known_one_is_removed() {
    let register = |version: &str| OperatorCommand::RegisterMobileDevice {
        device_id: text("dev-1"),
        platform: DevicePlatform::Android,
        app_version: Some(text(version)),
    };
    let registered_device = |version: &str| OperatorEvent::OperatorMobileDeviceRegistered {
        device_id: "dev-1".into(),
        platform: DevicePlatform::Android,
        app_version: Some(version.into()),
    };
    let with_device = with(registered(), registered_device("1.0"));
    OperatorTest::with(())
        .given(registered())
        .when(register("1.0"))
        .then_expect_events(vec![registered_device("1.0")]);
    OperatorTest::with(())
        .given(with_device.clone())
        .when(register("1.0"))
        .then_expect_events(vec![]);
    // An upgraded app: the device's record changes.
    OperatorTest::with(())
        .given(with_device.clone())
        .when(register("1.1"))
        .then_expect_events(vec![registered_device("1.1")]);
    let mut operator = Operator::default();
    with(with_device.clone(), registered_device("1.1"))
        .into_iter()
        .for_each(|e| operator.evolve(e));
    assert_eq!(operator.state().unwrap().devices.len(), 1);
    OperatorTest::with(())
        .given(with_device)
        .when(OperatorCommand::RemoveMobileDevice {
            device_id: text("dev-1"),
        })
        .then_expect_events(vec![OperatorEvent::OperatorMobileDeviceRemoved {
            device_id: "dev-1".into(),
        }]);
    OperatorTest::with(())
        .given(registered())
        .when(OperatorCommand::RemoveMobileDevice {
            device_id: text("dev-1"),
        })
        .then_expect_error(OperatorError::DeviceNotFound {
            device_id: "dev-1".into(),
        });
}

#[test]
fn a_deactivation_leaves_the_operator_offline_and_takes_no_further_command() {
    let available = with(
        registered(),
        OperatorEvent::OperatorStatusChanged {
            from_status: OperatorStatus::Offline,
            to_status: OperatorStatus::Available,
        },
    );
    OperatorTest::with(())
        .given(available.clone())
        .when(OperatorCommand::DeactivateOperator {
            reason: Some(Note::parse("left the company").unwrap()),
        })
        .then_expect_events(vec![OperatorEvent::OperatorDeactivated {
            from_status: OperatorStatus::Available,
            reason: Some("left the company".into()),
        }]);
    for command in [
        OperatorCommand::DeactivateOperator { reason: None },
        OperatorCommand::ChangeOperatorStatus {
            status: OperatorStatus::Available,
        },
        OperatorCommand::AssignOperatorToHub { hub_id: HUB },
    ] {
        OperatorTest::with(())
            .given(deactivated())
            .when(command)
            .then_expect_error(OperatorError::Deactivated);
    }
    let mut operator = Operator::default();
    deactivated().into_iter().for_each(|e| operator.evolve(e));
    let state = operator.state().unwrap();
    assert!(state.deactivated);
    assert_eq!(state.status, OperatorStatus::Offline);
}

#[test]
fn a_pilots_shift_makes_its_operator_available_in_break_or_offline() {
    use crate::pilot::ShiftStatus::*;
    let status = |shift| OperatorStatus::of_shift(shift);
    assert_eq!(status(Some(OnShift)), OperatorStatus::Available);
    for pause in [OnBreak, OnCooldown, Unresponsive] {
        assert_eq!(status(Some(pause)), OperatorStatus::InBreak, "{pause:?}");
    }
    assert_eq!(status(Some(OffShift)), OperatorStatus::Offline);
    assert_eq!(status(None), OperatorStatus::Offline);
}
