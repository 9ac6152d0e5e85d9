use aggregates::availability_quote::{AvailabilityQuote, AvailabilityQuoteEvent};
use serde::Serialize;
use uuid::Uuid;

use crate::frame::{history, Changes, Fact, Inconsistent};

history! {
    /// A quote's one change: its recording, with who asked, when, and the trips it gave.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct AvailabilityQuoteHistoryRow;
    /// A row of `availability_quote_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "availability_quote_history" by quote_id {
        /// The hub quoted.
        pub hub_id: Uuid,
        /// The trips it could run at once (`capacity.trips`).
        pub trips: u32,
    }
}

/// Keeps `availability_quote_history`: one row per quote.
pub struct AvailabilityQuoteHistoryProjector;

impl Changes for AvailabilityQuoteHistoryProjector {
    const NAME: &'static str = "availability_quote_history";
    type Aggregate = AvailabilityQuote;
    type Event = AvailabilityQuoteEvent;
    type Entry = HistoryEntry;

    fn entry(
        fact: &Fact<'_>,
        event: AvailabilityQuoteEvent,
    ) -> Result<Option<HistoryEntry>, Inconsistent> {
        let AvailabilityQuoteEvent::AvailabilityQuoted {
            hub_id, capacity, ..
        } = event;
        Ok(Some(HistoryEntry {
            recorded: fact.recorded(),
            hub_id,
            trips: capacity.trips,
        }))
    }
}
