use aggregates::hub::{Hub, HubEvent, HubStatus, PartnerKind};
use serde::Serialize;
use uuid::Uuid;

use crate::frame::{history, Changes, Fact, Inconsistent};

history! {
    /// One change of a hub: its registration, an update, a partner added or removed, its
    /// closing (with the reason) or reopening, with who, when and the status it left and took.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct HubHistoryRow;
    /// A row of `hub_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryEntry in "hub_history" by hub_id {
        /// The status it left: `null` for the registration and for changes that move no
        /// status (updates, partners).
        pub from_status: Option<HubStatus>,
        /// The status it took: OPEN when registered or reopened, CLOSED when closed; `null`
        /// for changes that move no status.
        pub to_status: Option<HubStatus>,
        /// The name it took (registration, update); `null` when unchanged.
        pub name: Option<String>,
        /// The partner added or removed.
        pub partner_id: Option<Uuid>,
        pub partner_name: Option<String>,
        pub partner_kind: Option<PartnerKind>,
        /// Why it was closed.
        pub reason: Option<String>,
    }
}

/// Keeps `hub_history`: one row per event.
pub struct HubHistoryProjector;

impl Changes for HubHistoryProjector {
    const NAME: &'static str = "hub_history";
    type Aggregate = Hub;
    type Event = HubEvent;
    type Entry = HistoryEntry;

    fn entry(fact: &Fact<'_>, event: HubEvent) -> Result<Option<HistoryEntry>, Inconsistent> {
        use HubStatus::{Closed, Open};
        let mut entry = HistoryEntry {
            recorded: fact.recorded(),
            from_status: None,
            to_status: None,
            name: None,
            partner_id: None,
            partner_name: None,
            partner_kind: None,
            reason: None,
        };
        // Only closing and reopening move the status, and each only from the other: the
        // status an event leaves follows from the event alone.
        let (from, to) = match event {
            HubEvent::HubRegistered { name, .. } => {
                entry.name = Some(name);
                (None, Some(Open))
            }
            HubEvent::HubClosed { reason } => {
                entry.reason = Some(reason);
                (Some(Open), Some(Closed))
            }
            HubEvent::HubReopened {} => (Some(Closed), Some(Open)),
            HubEvent::HubUpdated { name, .. } => {
                entry.name = name;
                (None, None)
            }
            HubEvent::HubPartnerAdded {
                partner_id,
                name,
                kind,
            } => {
                entry.partner_id = Some(partner_id);
                entry.partner_name = Some(name);
                entry.partner_kind = Some(kind);
                (None, None)
            }
            HubEvent::HubPartnerRemoved { partner_id } => {
                entry.partner_id = Some(partner_id);
                (None, None)
            }
        };
        entry.from_status = from;
        entry.to_status = to;
        Ok(Some(entry))
    }
}
