//! Routes.

use super::*;

#[test]
fn a_route_is_recorded_with_its_figures_and_polyline() {
    TripTest::with(())
        .given(in_transit())
        .when(record_route(2400.5, 900.0, Some("_p~iF~ps|U")))
        .then_expect_events(vec![TripEvent::TripRouteRecorded {
            route_id: route_id(),
            distance_m: 2400.5,
            duration_s: 900.0,
            polyline: Some("_p~iF~ps|U".into()),
        }]);
}

#[test]
fn a_route_of_zero_length_without_a_polyline_is_accepted() {
    TripTest::with(())
        .given(planned())
        .when(record_route(0.0, 0.0, None))
        .then_expect_events(vec![TripEvent::TripRouteRecorded {
            route_id: route_id(),
            distance_m: 0.0,
            duration_s: 0.0,
            polyline: None,
        }]);
}

#[test]
fn a_route_with_a_negative_or_infinite_figure_is_refused() {
    for (distance_m, duration_s) in [
        (-1.0, 60.0),
        (f64::NAN, 60.0),
        (f64::INFINITY, 60.0),
        (100.0, -0.5),
        (100.0, f64::NAN),
        (100.0, f64::NEG_INFINITY),
    ] {
        let mut trip = Trip::default();
        for event in planned() {
            cqrs_es::Aggregate::apply(&mut trip, event);
        }
        let error = trip
            .decide(record_route(distance_m, duration_s, None))
            .unwrap_err();
        assert!(
            matches!(error, TripError::InvalidRoute { .. }),
            "{distance_m} {duration_s}: {error:?}"
        );
    }
}

#[test]
fn a_route_with_a_negative_distance_says_which_figure_is_wrong() {
    TripTest::with(())
        .given(planned())
        .when(record_route(-1.0, 60.0, None))
        .then_expect_error(TripError::InvalidRoute {
            reason: "distance_m must be a finite number of 0 or more, got -1".into(),
        });
}

#[test]
fn a_route_with_a_blank_polyline_is_refused() {
    TripTest::with(())
        .given(planned())
        .when(record_route(100.0, 60.0, Some("  ")))
        .then_expect_error(TripError::InvalidRoute {
            reason: "polyline must not be blank".into(),
        });
}

#[test]
fn a_route_with_an_oversized_polyline_is_refused() {
    let at_limit = "a".repeat(Route::MAX_POLYLINE_CHARS);
    TripTest::with(())
        .given(planned())
        .when(record_route(100.0, 60.0, Some(&at_limit)))
        .then_expect_events(vec![TripEvent::TripRouteRecorded {
            route_id: route_id(),
            distance_m: 100.0,
            duration_s: 60.0,
            polyline: Some(at_limit.clone()),
        }]);
    let over = "é".repeat(Route::MAX_POLYLINE_CHARS + 1);
    TripTest::with(())
        .given(planned())
        .when(record_route(100.0, 60.0, Some(&over)))
        .then_expect_error(TripError::InvalidRoute {
            reason: "polyline must be at most 100000 characters, got 100001".into(),
        });
}

#[test]
fn a_route_is_recorded_once() {
    TripTest::with(())
        .given(with(
            planned(),
            [TripEvent::TripRouteRecorded {
                route_id: route_id(),
                distance_m: 100.0,
                duration_s: 60.0,
                polyline: None,
            }],
        ))
        .when(record_route(200.0, 90.0, None))
        .then_expect_error(TripError::RouteAlreadyRecorded {
            route_id: route_id(),
        });
}
