//! The availability quote read models: `availability_quotes` (each quote, as recorded) and
//! `availability_quote_history` (its timeline: who asked, when).

mod count;
mod history;
mod view;

pub use count::{availability, Availability, READ_MODELS};
pub use history::{AvailabilityQuoteHistoryProjector, AvailabilityQuoteHistoryRow};
pub use view::{AvailabilityQuoteView, AvailabilityQuotesProjector};
