//! The trip read models: `trips`, `trip_locations`, `routes`, `fo_assistance_requests` (current
//! state), `trip_history` (status timeline) and `fo_assistance_request_history`.

mod history;
mod rows;
mod state;
mod view;

pub use history::{TripAssistanceHistoryProjector, TripHistoryProjector, TripHistoryRow};
pub use state::TripsProjector;
pub use view::{AssistanceRequestView, RouteView, StopView, TripView};
