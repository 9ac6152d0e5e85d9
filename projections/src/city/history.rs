use aggregates::city::{City, CityEvent};
use serde::Serialize;

use crate::frame::{history, Changes, Fact, Inconsistent};

history! {
    /// One change of a city: its registration or a rename, with who and when.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct CityHistoryRow;
    /// A row of `city_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "city_history" by city_id {
        /// The name it took.
        pub name: String,
        /// The name it left (a rename); `null` for the registration.
        pub from_name: Option<String>,
    }
}

/// Keeps `city_history`: one row per event.
pub struct CityHistoryProjector;

impl Changes for CityHistoryProjector {
    const NAME: &'static str = "city_history";
    type Aggregate = City;
    type Event = CityEvent;
    type Entry = HistoryEntry;

    fn entry(fact: &Fact<'_>, event: CityEvent) -> Result<Option<HistoryEntry>, Inconsistent> {
        let (name, from_name) = match event {
            CityEvent::CityRegistered { name, .. } => (name, None),
            CityEvent::CityRenamed { name, from_name } => (name, Some(from_name)),
        };
        Ok(Some(HistoryEntry {
            recorded: fact.recorded(),
            name,
            from_name,
        }))
    }
}
