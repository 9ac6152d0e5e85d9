//! The pilot read models: `pilots`, `pilot_shifts`, `pilot_assignments` (current state) and the
//! pilot's status, shift, assignment and reservation histories.

mod history;
mod state;

pub use history::{PilotHistoryProjector, PilotHistoryRow, PilotStatusHistoryProjector};
pub use state::{PilotView, PilotsProjector};
