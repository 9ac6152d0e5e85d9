//! The operator read models: `operators`, `operator_hubs` and `operator_mobile_devices`
//! (current state; `field_operators` is the view of those with role FIELD), and
//! `operator_status_history` (its timeline).

mod history;
mod state;
mod view;

pub use history::{OperatorHistoryProjector, OperatorHistoryRow};
pub use state::OperatorsProjector;
pub use view::{OperatorDevice, OperatorHub, OperatorRow, OperatorView};
