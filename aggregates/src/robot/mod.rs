//! The Robot aggregate: a delivery robot's life in service (seed tables `Robot`,
//! `RobotDeployment`; its state changes and check-ins are `RobotStateHistory` and
//! `RobotCheckInHistory`): registered at a hub, deployed, on a trip or parked at a stop,
//! grounded for a fault until released, retired.

mod command;
mod decide;
mod error;
mod event;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::RobotCommand;
pub use error::RobotError;
pub use event::RobotEvent;
pub use state::{Deployment, Robot, RobotState};
pub use types::{GroundingReason, RobotStatus, SerialNumber, SerialNumberError};
