//! The City aggregate (seed table `City`): a city the fleet works in, registered with its
//! country and time zone, renamed.

mod command;
mod state;

#[cfg(test)]
mod tests;

pub use command::{CityCommand, CityError, CityEvent};
pub use state::{City, CityState};
