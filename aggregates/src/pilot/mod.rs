//! The Pilot aggregate: a remote operator who drives robots (seed table `pilots`), with its
//! shifts, assignments and reservations.

mod command;
mod decide;
mod error;
mod event;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::PilotCommand;
pub use error::PilotError;
pub use event::PilotEvent;
pub use state::{Assignment, Pilot, PilotServices, PilotState, Reservation, Shift};
pub use types::{PilotAssignmentStatus, PilotLocation, ReservationStatus, ShiftStatus};
