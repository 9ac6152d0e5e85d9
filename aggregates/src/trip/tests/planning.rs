//! Planning.

use super::*;

#[test]
fn planning_a_trip_puts_it_at_its_first_stop_with_its_fields() {
    TripTest::with(())
        .given_no_previous_events()
        .when(plan(hub(), customer()))
        .then_expect_events(planned());
}

#[test]
fn planning_an_existing_trip_is_refused() {
    TripTest::with(())
        .given(planned())
        .when(plan(hub(), customer()))
        .then_expect_error(TripError::AlreadyExists);
}

#[test]
fn a_trip_whose_origin_is_its_destination_is_refused() {
    let same_spot_other_name = place(37.77, -122.42, "Front door of the hub");
    TripTest::with(())
        .given_no_previous_events()
        .when(plan(hub(), same_spot_other_name))
        .then_expect_error(TripError::SameOriginAndDestination);
}

#[test]
fn a_trip_from_a_known_location_to_the_same_one_is_refused_whatever_its_coordinates() {
    let dock = uuid::Uuid::from_u128(77);
    let mut from = place(37.77, -122.42, "Dock");
    let mut to = place(37.78, -122.41, "Dock, other door");
    (from.location_id, to.location_id) = (Some(dock), Some(dock));
    TripTest::with(())
        .given_no_previous_events()
        .when(plan(from, to))
        .then_expect_error(TripError::SameOriginAndDestination);
}

#[test]
fn a_trip_that_does_not_exist_refuses_every_other_command() {
    for command in every_public_command().into_iter().skip(1) {
        TripTest::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(TripError::NotFound);
    }
}
