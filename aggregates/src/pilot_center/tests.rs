//! The pilot center's rules, one by one.

use cqrs_es::test::TestFramework;

use super::*;
use crate::pilot::PilotLocation;
use crate::{Name, Note};

type CenterTest = TestFramework<PilotCenter>;

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn registered() -> Vec<PilotCenterEvent> {
    vec![PilotCenterEvent::PilotCenterRegistered {
        name: "Bogota ops".into(),
        pilot_location: PilotLocation::TdcxColombia,
    }]
}

fn closed() -> Vec<PilotCenterEvent> {
    let mut events = registered();
    events.push(PilotCenterEvent::PilotCenterClosed { reason: None });
    events
}

#[test]
fn a_pilot_center_is_registered_open_once_and_commanded_only_once_registered() {
    let register = PilotCenterCommand::RegisterPilotCenter {
        name: name("Bogota ops"),
        pilot_location: PilotLocation::TdcxColombia,
    };
    CenterTest::with(())
        .given_no_previous_events()
        .when(register.clone())
        .then_expect_events(registered());
    CenterTest::with(())
        .given(registered())
        .when(register)
        .then_expect_error(PilotCenterError::AlreadyExists);
    CenterTest::with(())
        .given_no_previous_events()
        .when(PilotCenterCommand::ClosePilotCenter { reason: None })
        .then_expect_error(PilotCenterError::NotFound);
}

#[test]
fn a_rename_records_the_name_it_left_and_the_same_name_records_nothing() {
    CenterTest::with(())
        .given(registered())
        .when(PilotCenterCommand::RenamePilotCenter {
            name: name("Bogota north"),
        })
        .then_expect_events(vec![PilotCenterEvent::PilotCenterRenamed {
            name: "Bogota north".into(),
            from_name: "Bogota ops".into(),
        }]);
    CenterTest::with(())
        .given(registered())
        .when(PilotCenterCommand::RenamePilotCenter {
            name: name("Bogota ops"),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_closed_pilot_center_is_closed_for_good() {
    CenterTest::with(())
        .given(registered())
        .when(PilotCenterCommand::ClosePilotCenter {
            reason: Some(Note::parse("moved to Medellin").unwrap()),
        })
        .then_expect_events(vec![PilotCenterEvent::PilotCenterClosed {
            reason: Some("moved to Medellin".into()),
        }]);
    for command in [
        PilotCenterCommand::ClosePilotCenter { reason: None },
        PilotCenterCommand::RenamePilotCenter {
            name: name("Again"),
        },
    ] {
        CenterTest::with(())
            .given(closed())
            .when(command)
            .then_expect_error(PilotCenterError::Closed);
    }
    let mut center = PilotCenter::default();
    closed().into_iter().for_each(|e| center.evolve(e));
    assert_eq!(center.state().unwrap().status, PilotCenterStatus::Closed);
}
