//! The hub's rules, one by one.

use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::{Location, Name, Note};

type HubTest = TestFramework<Hub>;

fn dock() -> Location {
    Location::new(37.77, -122.42, None, None).unwrap()
}

fn registered() -> Vec<HubEvent> {
    vec![HubEvent::HubRegistered {
        name: "Mission".into(),
        city_id: Uuid::from_u128(7),
        location: dock(),
        timezone: None,
    }]
}

fn with(mut events: Vec<HubEvent>, more: HubEvent) -> Vec<HubEvent> {
    events.push(more);
    events
}

fn partner(id: u128, name: &str, kind: PartnerKind) -> HubCommand {
    HubCommand::AddHubPartner {
        partner_id: Uuid::from_u128(id),
        name: Name::parse(name).unwrap(),
        kind,
    }
}

fn close() -> HubCommand {
    HubCommand::CloseHub {
        reason: Note::parse("lease ended").unwrap(),
    }
}

fn closed() -> Vec<HubEvent> {
    with(
        registered(),
        HubEvent::HubClosed {
            reason: "lease ended".into(),
        },
    )
}

#[test]
fn a_hub_is_registered_open_once_and_nothing_else_comes_first() {
    let register = HubCommand::RegisterHub {
        name: Name::parse("Mission").unwrap(),
        city_id: Uuid::from_u128(7),
        location: dock(),
        timezone: None,
    };
    HubTest::with(())
        .given_no_previous_events()
        .when(register.clone())
        .then_expect_events(registered());
    HubTest::with(())
        .given(registered())
        .when(register)
        .then_expect_error(HubError::AlreadyExists);
    HubTest::with(())
        .given_no_previous_events()
        .when(close())
        .then_expect_error(HubError::NotFound);
}

#[test]
fn an_update_records_only_what_changes_and_must_name_something() {
    let moved = Location::new(37.78, -122.41, None, None).unwrap();
    HubTest::with(())
        .given(registered())
        .when(HubCommand::UpdateHub {
            name: Some(Name::parse("Mission").unwrap()),
            location: Some(moved.clone()),
        })
        .then_expect_events(vec![HubEvent::HubUpdated {
            name: None,
            location: Some(moved),
        }]);
    HubTest::with(())
        .given(registered())
        .when(HubCommand::UpdateHub {
            name: Some(Name::parse("Mission").unwrap()),
            location: None,
        })
        .then_expect_events(vec![]);
    HubTest::with(())
        .given(registered())
        .when(HubCommand::UpdateHub {
            name: None,
            location: None,
        })
        .then_expect_error(HubError::NothingToUpdate);
}

#[test]
fn a_partner_is_added_once_and_removed_only_if_it_is_the_hubs() {
    let added = HubEvent::HubPartnerAdded {
        partner_id: Uuid::from_u128(1),
        name: "Corner Deli".into(),
        kind: PartnerKind::Merchant,
    };
    HubTest::with(())
        .given(registered())
        .when(partner(1, "Corner Deli", PartnerKind::Merchant))
        .then_expect_events(vec![added.clone()]);
    // The same partner again changes nothing; the same id as something else is refused.
    HubTest::with(())
        .given(with(registered(), added.clone()))
        .when(partner(1, "Corner Deli", PartnerKind::Merchant))
        .then_expect_events(vec![]);
    HubTest::with(())
        .given(with(registered(), added.clone()))
        .when(partner(1, "Corner Deli", PartnerKind::Property))
        .then_expect_error(HubError::PartnerExists(Uuid::from_u128(1)));
    HubTest::with(())
        .given(with(registered(), added))
        .when(HubCommand::RemoveHubPartner {
            partner_id: Uuid::from_u128(1),
        })
        .then_expect_events(vec![HubEvent::HubPartnerRemoved {
            partner_id: Uuid::from_u128(1),
        }]);
    HubTest::with(())
        .given(registered())
        .when(HubCommand::RemoveHubPartner {
            partner_id: Uuid::from_u128(2),
        })
        .then_expect_error(HubError::UnknownPartner(Uuid::from_u128(2)));
}

#[test]
fn a_hub_closes_with_a_reason_and_reopens_and_neither_twice() {
    HubTest::with(())
        .given(registered())
        .when(close())
        .then_expect_events(vec![HubEvent::HubClosed {
            reason: "lease ended".into(),
        }]);
    HubTest::with(())
        .given(closed())
        .when(close())
        .then_expect_error(HubError::AlreadyClosed);
    HubTest::with(())
        .given(closed())
        .when(HubCommand::ReopenHub {})
        .then_expect_events(vec![HubEvent::HubReopened {}]);
    HubTest::with(())
        .given(registered())
        .when(HubCommand::ReopenHub {})
        .then_expect_error(HubError::NotClosed);
}

#[test]
fn a_closed_hub_keeps_its_partners_and_can_be_updated() {
    let mut hub = Hub::default();
    for event in with(
        with(
            registered(),
            HubEvent::HubPartnerAdded {
                partner_id: Uuid::from_u128(1),
                name: "Tower".into(),
                kind: PartnerKind::Property,
            },
        ),
        HubEvent::HubClosed {
            reason: "flood".into(),
        },
    ) {
        hub.evolve(event);
    }
    let state = hub.state().unwrap();
    assert_eq!(state.status, HubStatus::Closed);
    assert_eq!(state.close_reason.as_deref(), Some("flood"));
    assert_eq!(state.partners.len(), 1);
    HubTest::with(())
        .given(closed())
        .when(HubCommand::UpdateHub {
            name: Some(Name::parse("Mission (old)").unwrap()),
            location: None,
        })
        .then_expect_events(vec![HubEvent::HubUpdated {
            name: Some("Mission (old)".into()),
            location: None,
        }]);
}
