//! The Trip aggregate: a robot's movement for a task, from stop to stop (seed table `Trip`),
//! with its recorded routes and its requests for field-operator assistance.

mod aggregate;
mod command;
mod error;
mod event;
mod types;

#[cfg(test)]
mod tests;

pub use aggregate::{AssistanceRequest, Route, Trip, TripState};
pub use command::TripCommand;
pub use error::TripError;
pub use event::TripEvent;
pub use types::{AssistanceKind, AssistanceOutcome, AssistanceStatus, TripStatus, TripType};
