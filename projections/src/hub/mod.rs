//! The hub read models: `hubs` (current state), `hub_partners` (the partners each serves,
//! the seed's `HubPartner`) and `hub_history` (its timeline, open and closed included).

mod history;
mod view;

pub use history::{HubHistoryProjector, HubHistoryRow};
pub use view::{HubPartnerView, HubView, HubsProjector};
