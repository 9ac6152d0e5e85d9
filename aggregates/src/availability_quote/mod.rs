//! The AvailabilityQuote aggregate (seed table `AvailabilityQuoteModel`): what a hub could do in
//! a window, as the read models showed it when it was asked. A quote is a record: recorded once,
//! never changed, so that a dispatch decision taken on it can be audited later.
//!
//! The service counts the robots, pilots and field operators (from the read models, in one
//! snapshot) and sends them in `RecordAvailabilityQuote`; the aggregate checks the window and
//! derives the capacity they give.

mod command;
mod state;

#[cfg(test)]
mod tests;

pub use command::{
    AvailabilityQuoteCommand, AvailabilityQuoteError, AvailabilityQuoteEvent, Capacity, Freshness,
    QuotedOperator, QuotedPilot, QuotedRobot,
};
pub use state::{AvailabilityQuote, QuoteState};
