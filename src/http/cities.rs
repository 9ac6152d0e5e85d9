use aggregates::city::City;
use aggregates::CountryCode;
use projections::city::{CityHistoryRow, CityView};
use projections::frame::Fold;

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for City {
    const PATH: &'static str = "cities";
    const DESCRIPTION: &'static str = "Cities the fleet works in, with country and time zone.";
    const STATE_PROJECTOR: &'static str = projections::city::CitiesProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::city::CityHistoryProjector::NAME];
    type View = CityView;
    type HistoryRow = CityHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "cities",
        filters: &[Filter::enumeration::<CountryCode>("country_code")],
    };

    fn services() {}
}

views!(CityView, |v: &CityView| v.version, CityHistoryRow);
