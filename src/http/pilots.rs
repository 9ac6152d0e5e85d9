use aggregates::pilot::{Pilot, PilotLocation, PilotServices};
use projections::frame::Fold;
use projections::pilot::{PilotHistoryRow, PilotView};

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for Pilot {
    const PATH: &'static str = "pilots";
    const DESCRIPTION: &'static str = "Remote pilots: shifts, assignments, reservations.";
    const STATE_PROJECTOR: &'static str = projections::pilot::PilotsProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] = &[
        projections::pilot::PilotHistoryProjector::NAME,
        projections::pilot::PilotStatusHistoryProjector::NAME,
    ];
    type View = PilotView;
    type HistoryRow = PilotHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "pilots",
        filters: &[
            Filter::enumeration::<PilotLocation>("pilot_location"),
            Filter::uuid("pilot_center_id"),
            Filter::is_set("archived", "archived_at"),
            Filter::is_set("on_shift", "active_shift_id"),
            Filter::is_set("assigned", "active_assignment_id"),
        ],
    };

    fn services() -> PilotServices {
        PilotServices {
            now: chrono::Utc::now(),
        }
    }
}

views!(PilotView, |v: &PilotView| v.version as u64, PilotHistoryRow);
