//! The quote's rules, one by one.

use chrono::{DateTime, Duration, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::robot::RobotStatus;

type QuoteTest = TestFramework<AvailabilityQuote>;

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::minutes(minutes)
}

fn freshness() -> Freshness {
    Freshness {
        token: "745.1".into(),
        read_models: [("robots".to_string(), "745.1".to_string())].into(),
    }
}

fn robots(n: u128) -> Vec<QuotedRobot> {
    (0..n)
        .map(|i| QuotedRobot {
            robot_id: Uuid::from_u128(100 + i),
            status: if i % 2 == 0 {
                RobotStatus::Deployed
            } else {
                RobotStatus::Parked
            },
        })
        .collect()
}

fn pilots(n: u128) -> Vec<QuotedPilot> {
    (0..n)
        .map(|i| QuotedPilot {
            pilot_id: Uuid::from_u128(200 + i),
            shift_id: Uuid::from_u128(300 + i),
        })
        .collect()
}

/// A quote asked at minute 0 for the window `from`..`until` (minutes), expiring at `expires`.
fn record(from: i64, until: i64, expires: i64) -> AvailabilityQuoteCommand {
    recording(robots(1), pilots(1), from, until, expires)
}

fn recording(
    robots: Vec<QuotedRobot>,
    pilots: Vec<QuotedPilot>,
    from: i64,
    until: i64,
    expires: i64,
) -> AvailabilityQuoteCommand {
    AvailabilityQuoteCommand::RecordAvailabilityQuote {
        hub_id: Uuid::from_u128(1),
        from: at(from),
        until: at(until),
        quoted_at: at(0),
        expires_at: at(expires),
        robots,
        pilots,
        field_operators: vec![QuotedOperator {
            operator_id: Uuid::from_u128(400),
        }],
        as_of: freshness(),
    }
}

/// A quote asked at minute 0 for minutes 10 to 70, expiring at minute 5.
fn quote(robots: Vec<QuotedRobot>, pilots: Vec<QuotedPilot>) -> AvailabilityQuoteCommand {
    recording(robots, pilots, 10, 70, 5)
}

fn quoted(
    robots: Vec<QuotedRobot>,
    pilots: Vec<QuotedPilot>,
    trips: u32,
) -> AvailabilityQuoteEvent {
    AvailabilityQuoteEvent::AvailabilityQuoted {
        hub_id: Uuid::from_u128(1),
        from: at(10),
        until: at(70),
        quoted_at: at(0),
        expires_at: at(5),
        capacity: Capacity {
            trips,
            robots: robots.len() as u32,
            pilots: pilots.len() as u32,
            field_operators: 1,
        },
        robots,
        pilots,
        field_operators: vec![QuotedOperator {
            operator_id: Uuid::from_u128(400),
        }],
        as_of: freshness(),
    }
}

#[test]
fn a_quote_records_its_inputs_and_answer_and_its_trips_are_the_lesser_of_robots_and_pilots() {
    QuoteTest::with(())
        .given_no_previous_events()
        .when(quote(robots(3), pilots(2)))
        .then_expect_events(vec![quoted(robots(3), pilots(2), 2)]);
    QuoteTest::with(())
        .given_no_previous_events()
        .when(quote(robots(1), pilots(4)))
        .then_expect_events(vec![quoted(robots(1), pilots(4), 1)]);
}

#[test]
fn a_hub_with_no_pilot_or_no_robot_can_run_no_trip() {
    QuoteTest::with(())
        .given_no_previous_events()
        .when(quote(robots(5), vec![]))
        .then_expect_events(vec![quoted(robots(5), vec![], 0)]);
    QuoteTest::with(())
        .given_no_previous_events()
        .when(quote(vec![], pilots(5)))
        .then_expect_events(vec![quoted(vec![], pilots(5), 0)]);
}

#[test]
fn a_quote_is_recorded_once() {
    QuoteTest::with(())
        .given(vec![quoted(robots(1), pilots(1), 1)])
        .when(quote(robots(2), pilots(2)))
        .then_expect_error(AvailabilityQuoteError::AlreadyExists);
}

#[test]
fn the_window_must_be_open_and_not_over() {
    let with = |from: i64, until: i64| record(from, until, 0);
    QuoteTest::with(())
        .given_no_previous_events()
        .when(with(10, 10))
        .then_expect_error(AvailabilityQuoteError::EmptyWindow);
    QuoteTest::with(())
        .given_no_previous_events()
        .when(with(20, 10))
        .then_expect_error(AvailabilityQuoteError::EmptyWindow);
    // A window that ended before the quote was asked.
    QuoteTest::with(())
        .given_no_previous_events()
        .when(with(-20, -1))
        .then_expect_error(AvailabilityQuoteError::WindowOver);
    // A week at most.
    QuoteTest::with(())
        .given_no_previous_events()
        .when(with(10, 10 + 7 * 24 * 60 + 1))
        .then_expect_error(AvailabilityQuoteError::WindowTooLong);
    assert!(AvailabilityQuote::default()
        .decide(with(10, 10 + 7 * 24 * 60))
        .is_ok());
    // A window that began before, and ends after: the rest of it is quoted.
    let events = AvailabilityQuote::default().decide(with(-20, 30)).unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn a_quote_expires_between_its_asking_and_the_end_of_its_window() {
    let expiring = |minute: i64| record(10, 70, minute);
    for minute in [-1, 71] {
        assert_eq!(
            AvailabilityQuote::default().decide(expiring(minute)),
            Err(AvailabilityQuoteError::BadExpiry),
            "expiring at minute {minute}"
        );
    }
    for minute in [0, 70] {
        assert!(AvailabilityQuote::default()
            .decide(expiring(minute))
            .is_ok());
    }
}

#[test]
fn a_recorded_quote_is_its_state() {
    let mut quote = AvailabilityQuote::default();
    cqrs_es::Aggregate::apply(&mut quote, quoted(robots(2), pilots(3), 2));
    let state = quote.state().unwrap();
    assert_eq!(state.capacity.trips, 2);
    assert_eq!(state.robots, robots(2));
    assert_eq!(state.as_of.token, "745.1");
}
