//! The Hub aggregate (seed tables `Hub`, `HubPartner`): a base robots work from, in a city,
//! with the partners it serves (merchants, properties, logistics); closed and reopened. A
//! closed hub takes no new task, field task or deployment.

mod command;
mod state;

#[cfg(test)]
mod tests;

pub use command::{HubCommand, HubError, HubEvent};
pub use state::{Hub, HubPartner, HubState, HubStatus, PartnerKind};
