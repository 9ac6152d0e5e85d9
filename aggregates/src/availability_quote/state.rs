use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    AvailabilityQuoteCommand, AvailabilityQuoteError, AvailabilityQuoteEvent, Capacity, Freshness,
    QuotedOperator, QuotedPilot, QuotedRobot,
};

/// A quote's stream folded: `None` until recorded, then what it said, for good.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AvailabilityQuote(pub Option<QuoteState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuoteState {
    pub hub_id: Uuid,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub quoted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub robots: Vec<QuotedRobot>,
    pub pilots: Vec<QuotedPilot>,
    pub field_operators: Vec<QuotedOperator>,
    pub capacity: Capacity,
    pub as_of: Freshness,
}

crate::aggregate!(
    AvailabilityQuote: AvailabilityQuoteCommand => AvailabilityQuoteEvent,
    AvailabilityQuoteError, (),
    |quote, command, _| quote.decide(command)
);

/// A count as the capacity keeps it (a hub has far fewer than 2^32 of anything).
fn count<T>(items: &[T]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

impl AvailabilityQuote {
    /// The longest window a quote is asked for: what a hub has now says little of next week.
    pub const MAX_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(7);

    pub fn state(&self) -> Option<&QuoteState> {
        self.0.as_ref()
    }

    /// Whether a quote may be asked at `now` for the window `from`..`until`: not empty, at
    /// most `MAX_WINDOW` long, not over. (The API tells a caller before anything is counted.)
    pub fn check_window(
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), AvailabilityQuoteError> {
        if until <= from {
            return Err(AvailabilityQuoteError::EmptyWindow);
        }
        if until - from > Self::MAX_WINDOW {
            return Err(AvailabilityQuoteError::WindowTooLong);
        }
        if until <= now {
            return Err(AvailabilityQuoteError::WindowOver);
        }
        Ok(())
    }

    /// Decides what `command` records. Pure: the time of the quote comes with the command.
    pub fn decide(
        &self,
        command: AvailabilityQuoteCommand,
    ) -> Result<Vec<AvailabilityQuoteEvent>, AvailabilityQuoteError> {
        let AvailabilityQuoteCommand::RecordAvailabilityQuote {
            hub_id,
            from,
            until,
            quoted_at,
            expires_at,
            robots,
            pilots,
            field_operators,
            as_of,
        } = command;
        if self.0.is_some() {
            return Err(AvailabilityQuoteError::AlreadyExists);
        }
        Self::check_window(from, until, quoted_at)?;
        if expires_at < quoted_at || expires_at > until {
            return Err(AvailabilityQuoteError::BadExpiry);
        }
        let capacity = Capacity {
            trips: count(&robots).min(count(&pilots)),
            robots: count(&robots),
            pilots: count(&pilots),
            field_operators: count(&field_operators),
        };
        Ok(vec![AvailabilityQuoteEvent::AvailabilityQuoted {
            hub_id,
            from,
            until,
            quoted_at,
            expires_at,
            robots,
            pilots,
            field_operators,
            capacity,
            as_of,
        }])
    }

    /// What `event` changes (`Aggregate::apply`).
    pub(crate) fn evolve(&mut self, event: AvailabilityQuoteEvent) {
        let AvailabilityQuoteEvent::AvailabilityQuoted {
            hub_id,
            from,
            until,
            quoted_at,
            expires_at,
            robots,
            pilots,
            field_operators,
            capacity,
            as_of,
        } = event;
        self.0 = Some(QuoteState {
            hub_id,
            from,
            until,
            quoted_at,
            expires_at,
            robots,
            pilots,
            field_operators,
            capacity,
            as_of,
        });
    }
}
