//! The location read models: `locations` (current state) and `location_history` (its
//! timeline).

mod history;
mod view;

pub use history::{LocationHistoryProjector, LocationHistoryRow};
pub use view::{LocationView, LocationsProjector};
