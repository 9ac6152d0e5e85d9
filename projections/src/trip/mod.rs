//! The trip read models: `trips`, `trip_locations`, `routes`, `fo_assistance_requests` (current
//! state), `trip_history` (status timeline) and `fo_assistance_request_history`.

mod history;
mod state;

pub use history::{TripAssistanceHistoryProjector, TripHistoryProjector, TripHistoryRow};
pub use state::{AssistanceRequestView, RouteView, StopView, TripView, TripsProjector};
