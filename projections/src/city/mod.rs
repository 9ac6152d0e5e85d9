//! The city read models: `cities` (current state) and `city_history` (its timeline).

mod history;
mod view;

pub use history::{CityHistoryProjector, CityHistoryRow};
pub use view::{CitiesProjector, CityView};
