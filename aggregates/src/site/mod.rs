//! The Location aggregate (seed tables `Location`, `LocationModel`): a known place on the map,
//! a hub, a merchant, a customer's door, a parking or charging spot, registered with its
//! coordinates and kind, updated, retired. Named `Site` in Rust (`Location` is the map point
//! that trips and subtasks carry); its aggregate type and commands are the catalogue's.

mod command;
mod state;

#[cfg(test)]
mod tests;

pub use command::{LocationCommand, LocationError as SiteError, LocationEvent};
pub use state::{LocationKind, LocationStatus, Site, SiteState};
