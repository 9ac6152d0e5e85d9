use aggregates::site::{LocationKind, LocationStatus, Site};
use projections::frame::Fold;
use projections::site::{LocationHistoryRow, LocationView};

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for Site {
    const PATH: &'static str = "locations";
    const DESCRIPTION: &'static str =
        "Known places: hubs, merchants, customers, parking and charging spots.";
    const STATE_PROJECTOR: &'static str = projections::site::LocationsProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::site::LocationHistoryProjector::NAME];
    type View = LocationView;
    type HistoryRow = LocationHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "locations",
        filters: &[
            Filter::uuid("hub_id"),
            Filter::enumeration::<LocationKind>("kind"),
            Filter::enumeration::<LocationStatus>("status"),
        ],
    };

    fn services() {}
}

views!(
    LocationView,
    |v: &LocationView| v.version,
    LocationHistoryRow
);
