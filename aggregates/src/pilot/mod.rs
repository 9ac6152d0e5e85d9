//! The Pilot aggregate: a remote operator who drives robots (seed table `pilots`), with its
//! shifts, assignments and reservations.

mod aggregate;
mod command;
mod error;
mod event;
mod types;

#[cfg(test)]
mod tests;

pub use aggregate::{Assignment, Pilot, PilotServices, PilotState, Reservation, Shift};
pub use command::PilotCommand;
pub use error::PilotError;
pub use event::PilotEvent;
pub use types::{PilotAssignmentStatus, PilotLocation, ReservationStatus, ShiftStatus};
