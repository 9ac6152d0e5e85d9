//! The pilot center read models: `pilot_centers` (current state) and `pilot_center_history`
//! (its timeline).

mod history;
mod view;

pub use history::{PilotCenterHistoryProjector, PilotCenterHistoryRow};
pub use view::{PilotCenterView, PilotCentersProjector};
