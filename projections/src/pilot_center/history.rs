use aggregates::pilot_center::{PilotCenter, PilotCenterEvent, PilotCenterStatus};
use serde::Serialize;

use crate::frame::{history, Changes, Fact, Inconsistent};

history! {
    /// One change of a pilot center: its registration, a rename or its closing, with who, when
    /// and why.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct PilotCenterHistoryRow;
    /// A row of `pilot_center_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "pilot_center_history" by pilot_center_id {
        /// `null` for the registration.
        pub from_status: Option<PilotCenterStatus>,
        pub to_status: PilotCenterStatus,
        /// The name it had before (a rename).
        pub from_name: Option<String>,
        /// The name it has after.
        pub name: Option<String>,
        /// A closing's reason.
        pub reason: Option<String>,
    }
}

/// Keeps `pilot_center_history`: one row per event.
pub struct PilotCenterHistoryProjector;

impl Changes for PilotCenterHistoryProjector {
    const NAME: &'static str = "pilot_center_history";
    type Aggregate = PilotCenter;
    type Event = PilotCenterEvent;
    type Entry = HistoryEntry;

    fn entry(
        fact: &Fact<'_>,
        event: PilotCenterEvent,
    ) -> Result<Option<HistoryEntry>, Inconsistent> {
        use PilotCenterStatus::{Closed, Open};
        let (from_status, to_status, from_name, name, reason) = match event {
            PilotCenterEvent::PilotCenterRegistered { name, .. } => {
                (None, Open, None, Some(name), None)
            }
            PilotCenterEvent::PilotCenterRenamed { name, from_name } => {
                (Some(Open), Open, Some(from_name), Some(name), None)
            }
            PilotCenterEvent::PilotCenterClosed { reason } => {
                (Some(Open), Closed, None, None, reason)
            }
        };
        Ok(Some(HistoryEntry {
            recorded: fact.recorded(),
            from_status,
            to_status,
            from_name,
            name,
            reason,
        }))
    }
}
