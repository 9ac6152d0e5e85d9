//! The trip read models: `trips`, `trip_locations`, `routes`, `fo_assistance_requests` (current
//! state) and `trip_history` (status timeline).

mod history;
mod state;

pub use history::{TripHistoryProjector, TripHistoryRow};
pub use state::{AssistanceRequestView, RouteView, StopView, TripView, TripsProjector};
