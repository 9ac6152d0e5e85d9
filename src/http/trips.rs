use aggregates::trip::{Trip, TripStatus, TripType};
use projections::frame::Fold;
use projections::trip::{TripHistoryRow, TripView};

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for Trip {
    const PATH: &'static str = "trips";
    const DESCRIPTION: &'static str = "Robot trips and field-operator assistance.";
    const STATE_PROJECTOR: &'static str = projections::trip::TripsProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] = &[
        projections::trip::TripHistoryProjector::NAME,
        projections::trip::TripAssistanceHistoryProjector::NAME,
    ];
    type View = TripView;
    type HistoryRow = TripHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "trips",
        filters: &[
            Filter::enumeration::<TripStatus>("status"),
            Filter::enumeration::<TripType>("trip_type"),
            Filter::uuid("task_id"),
            Filter::uuid("robot_id"),
        ],
    };

    fn services() {}
}

views!(TripView, |v: &TripView| v.version, TripHistoryRow);
