use aggregates::availability_quote::{
    AvailabilityQuote, AvailabilityQuoteEvent, Capacity, Freshness, QuoteState, QuotedOperator,
    QuotedPilot, QuotedRobot,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::frame::{table, StateProjector, StateView, Table};

table! {
    /// A quote as the API shows it: what the hub could do in the window, as the read models
    /// showed it when it was asked (the columns of `availability_quotes`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct AvailabilityQuoteView in "availability_quotes" by (
        /// The quote's id.
        #[serde(rename = "quote_id")]
        pub id: Uuid,
    ) {
        pub hub_id: Uuid,
        /// The window's start.
        #[serde(rename = "from")]
        pub window_from: DateTime<Utc>,
        /// The window's end.
        #[serde(rename = "until")]
        pub window_until: DateTime<Utc>,
        /// When the read models were read.
        pub quoted_at: DateTime<Utc>,
        /// Until when the answer may be relied on (`quoted_at` and the service's TTL, no later
        /// than `until`).
        pub expires_at: DateTime<Utc>,
        /// The robots in service at the hub: DEPLOYED or PARKED there.
        pub robots: Vec<QuotedRobot>,
        /// The hub's pilots on shift and free: no active assignment, no reservation in the
        /// window.
        pub pilots: Vec<QuotedPilot>,
        /// The hub's field operators who are AVAILABLE.
        pub field_operators: Vec<QuotedOperator>,
        pub capacity: Capacity,
        /// How fresh the read models it was computed from were.
        pub as_of: Freshness,
        /// The stream version: always 1, a quote is recorded once.
        pub version: u64,
        /// When it was quoted.
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

impl StateView for AvailabilityQuoteView {
    type Aggregate = AvailabilityQuote;
    const NAME: &'static str = "availability_quotes";
    const EVENT_TYPES: &'static [&'static str] = AvailabilityQuoteEvent::TYPES;
    const TABLES: &'static [&'static str] = &["availability_quotes"];

    fn version(&self) -> u64 {
        self.version
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn aggregate(&self) -> AvailabilityQuote {
        AvailabilityQuote(Some(QuoteState {
            hub_id: self.hub_id,
            from: self.window_from,
            until: self.window_until,
            quoted_at: self.quoted_at,
            expires_at: self.expires_at,
            robots: self.robots.clone(),
            pilots: self.pilots.clone(),
            field_operators: self.field_operators.clone(),
            capacity: self.capacity,
            as_of: self.as_of.clone(),
        }))
    }

    fn show(
        id: Uuid,
        quote: &AvailabilityQuote,
        version: u64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Option<Self> {
        let state = quote.state()?;
        Some(Self {
            id,
            hub_id: state.hub_id,
            window_from: state.from,
            window_until: state.until,
            quoted_at: state.quoted_at,
            expires_at: state.expires_at,
            robots: state.robots.clone(),
            pilots: state.pilots.clone(),
            field_operators: state.field_operators.clone(),
            capacity: state.capacity,
            as_of: state.as_of.clone(),
            version,
            created_at,
            updated_at,
        })
    }
}

/// Keeps `availability_quotes`.
pub type AvailabilityQuotesProjector = StateProjector<AvailabilityQuoteView>;

impl crate::views::Load for AvailabilityQuoteView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}
