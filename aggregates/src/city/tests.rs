//! The city's rules, one by one.

use cqrs_es::test::TestFramework;

use super::*;
use crate::{CountryCode, Name, TimeZone};

type CityTest = TestFramework<City>;

fn registered() -> Vec<CityEvent> {
    vec![CityEvent::CityRegistered {
        name: "San Francisco".into(),
        country_code: "US".into(),
        timezone: "America/Los_Angeles".into(),
    }]
}

fn rename(name: &str) -> CityCommand {
    CityCommand::RenameCity {
        name: Name::parse(name).unwrap(),
    }
}

#[test]
fn a_city_is_registered_once_with_its_country_and_zone() {
    let register = CityCommand::RegisterCity {
        name: Name::parse("San Francisco").unwrap(),
        country_code: CountryCode::parse("US").unwrap(),
        timezone: TimeZone::parse("America/Los_Angeles").unwrap(),
    };
    CityTest::with(())
        .given_no_previous_events()
        .when(register.clone())
        .then_expect_events(registered());
    CityTest::with(())
        .given(registered())
        .when(register)
        .then_expect_error(CityError::AlreadyExists);
}

#[test]
fn a_city_that_does_not_exist_cannot_be_renamed() {
    CityTest::with(())
        .given_no_previous_events()
        .when(rename("Oakland"))
        .then_expect_error(CityError::NotFound);
}

#[test]
fn a_rename_records_the_name_left_and_renaming_to_the_same_name_records_nothing() {
    CityTest::with(())
        .given(registered())
        .when(rename("SF"))
        .then_expect_events(vec![CityEvent::CityRenamed {
            name: "SF".into(),
            from_name: "San Francisco".into(),
        }]);
    CityTest::with(())
        .given(registered())
        .when(rename("San Francisco"))
        .then_expect_events(vec![]);
}
