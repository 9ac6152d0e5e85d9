use aggregates::robot::{Robot, RobotStatus};
use projections::frame::Fold;
use projections::robot::{RobotHistoryRow, RobotView};

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for Robot {
    const PATH: &'static str = "robots";
    const DESCRIPTION: &'static str =
        "Delivery robots: deployments, trips, groundings, check-ins at hubs.";
    const STATE_PROJECTOR: &'static str = projections::robot::RobotsProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::robot::RobotHistoryProjector::NAME];
    type View = RobotView;
    type HistoryRow = RobotHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "robots",
        filters: &[
            Filter::uuid("hub_id"),
            Filter::enumeration::<RobotStatus>("status"),
        ],
    };

    fn services() {}
}

views!(RobotView, |v: &RobotView| v.version, RobotHistoryRow);
