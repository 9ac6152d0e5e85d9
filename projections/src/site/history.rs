use aggregates::site::{LocationEvent, LocationStatus, Site};
use serde::Serialize;

use crate::frame::{history, Changes, Fact, Inconsistent};

history! {
    /// One change of a location: its registration, an update (what it changed) or its
    /// retirement, with who, when and why.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct LocationHistoryRow;
    /// A row of `location_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "location_history" by location_id {
        /// `null` for the registration.
        pub from_status: Option<LocationStatus>,
        pub to_status: LocationStatus,
        /// The name it took (registration, update); `null` when unchanged.
        pub name: Option<String>,
        /// The address it took; `null` when unchanged.
        pub address: Option<String>,
    }
}

/// Keeps `location_history`: one row per event.
pub struct LocationHistoryProjector;

impl Changes for LocationHistoryProjector {
    const NAME: &'static str = "location_history";
    type Aggregate = Site;
    type Event = LocationEvent;
    type Entry = HistoryEntry;

    fn entry(fact: &Fact<'_>, event: LocationEvent) -> Result<Option<HistoryEntry>, Inconsistent> {
        use LocationStatus::{Active, Retired};
        let (from_status, to_status, name, address) = match event {
            LocationEvent::LocationRegistered { name, address, .. } => {
                (None, Active, Some(name), address)
            }
            LocationEvent::LocationUpdated { name, address } => {
                (Some(Active), Active, name, address)
            }
            LocationEvent::LocationRetired {} => (Some(Active), Retired, None, None),
        };
        Ok(Some(HistoryEntry {
            recorded: fact.recorded(),
            from_status,
            to_status,
            name,
            address,
        }))
    }
}
