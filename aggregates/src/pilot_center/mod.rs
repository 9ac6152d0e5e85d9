//! The PilotCenter aggregate: a place remote pilots work from (seed table `PilotCenter`):
//! registered with its name and its pilots' location, renamed, closed for good.

mod command;
mod state;

#[cfg(test)]
mod tests;

pub use command::{PilotCenterCommand, PilotCenterError, PilotCenterEvent};
pub use state::{PilotCenter, PilotCenterState, PilotCenterStatus};
