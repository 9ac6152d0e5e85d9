use aggregates::pilot::PilotLocation;
use aggregates::pilot_center::{PilotCenter, PilotCenterStatus};
use projections::frame::Fold;
use projections::pilot_center::{PilotCenterHistoryRow, PilotCenterView};

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for PilotCenter {
    const PATH: &'static str = "pilot-centers";
    const DESCRIPTION: &'static str = "The places remote pilots work from.";
    const STATE_PROJECTOR: &'static str = projections::pilot_center::PilotCentersProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::pilot_center::PilotCenterHistoryProjector::NAME];
    type View = PilotCenterView;
    type HistoryRow = PilotCenterHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "pilot_centers",
        filters: &[
            Filter::enumeration::<PilotLocation>("pilot_location"),
            Filter::enumeration::<PilotCenterStatus>("status"),
        ],
    };

    fn services() {}
}

views!(
    PilotCenterView,
    |v: &PilotCenterView| v.version,
    PilotCenterHistoryRow
);
