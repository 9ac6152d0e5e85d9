//! The pilot read models: `pilots`, `pilot_shifts`, `pilot_assignments` (current state) and the
//! shift, assignment and reservation histories.

mod history;
mod state;

pub use history::{PilotHistoryProjector, PilotHistoryRow};
pub use state::{PilotView, PilotsProjector};
