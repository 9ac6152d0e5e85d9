//! The location's rules, one by one.

use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::{Latitude, Longitude, Name, Note};

type SiteTest = TestFramework<Site>;

fn registered() -> Vec<LocationEvent> {
    vec![LocationEvent::LocationRegistered {
        name: "Dock 4".into(),
        lat: 37.77,
        lng: -122.42,
        kind: LocationKind::Charging,
        address: None,
        hub_id: Some(Uuid::from_u128(1)),
    }]
}

fn update(name: Option<&str>, address: Option<&str>) -> LocationCommand {
    LocationCommand::UpdateLocation {
        name: name.map(|n| Name::parse(n).unwrap()),
        address: address.map(|a| Note::parse(a).unwrap()),
    }
}

#[test]
fn a_location_is_registered_active_with_its_coordinates_once() {
    let register = LocationCommand::RegisterLocation {
        name: Name::parse("Dock 4").unwrap(),
        lat: Latitude::try_from(37.77).unwrap(),
        lng: Longitude::try_from(-122.42).unwrap(),
        kind: LocationKind::Charging,
        address: None,
        hub_id: Some(Uuid::from_u128(1)),
    };
    SiteTest::with(())
        .given_no_previous_events()
        .when(register.clone())
        .then_expect_events(registered());
    SiteTest::with(())
        .given(registered())
        .when(register)
        .then_expect_error(SiteError::AlreadyExists);
    SiteTest::with(())
        .given_no_previous_events()
        .when(LocationCommand::RetireLocation {})
        .then_expect_error(SiteError::NotFound);
}

#[test]
fn coordinates_off_the_globe_are_refused_when_parsed() {
    assert!(Latitude::try_from(90.5).is_err());
    assert!(Latitude::try_from(-90.0).is_ok());
    assert!(Longitude::try_from(-180.01).is_err());
    assert!(Longitude::try_from(f64::NAN).is_err());
}

#[test]
fn an_update_records_only_what_changes_and_must_name_something() {
    SiteTest::with(())
        .given(registered())
        .when(update(Some("Dock 4"), Some("1 Market St")))
        .then_expect_events(vec![LocationEvent::LocationUpdated {
            name: None,
            address: Some("1 Market St".into()),
        }]);
    SiteTest::with(())
        .given(registered())
        .when(update(Some("Dock 4"), None))
        .then_expect_events(vec![]);
    SiteTest::with(())
        .given(registered())
        .when(update(None, None))
        .then_expect_error(SiteError::NothingToUpdate);
}

#[test]
fn a_retired_location_is_retired_for_good() {
    SiteTest::with(())
        .given(registered())
        .when(LocationCommand::RetireLocation {})
        .then_expect_events(vec![LocationEvent::LocationRetired {}]);
    let mut retired = registered();
    retired.push(LocationEvent::LocationRetired {});
    for command in [
        update(Some("New"), None),
        LocationCommand::RetireLocation {},
    ] {
        SiteTest::with(())
            .given(retired.clone())
            .when(command)
            .then_expect_error(SiteError::Retired);
    }
}
