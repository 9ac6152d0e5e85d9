use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{HubCommand, HubError, HubEvent};
use crate::Location;

/// A hub's stream folded into its current state; `None` until registered.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hub(pub Option<HubState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HubState {
    pub name: String,
    pub city_id: Uuid,
    pub location: Location,
    pub timezone: Option<String>,
    pub status: HubStatus,
    pub close_reason: Option<String>,
    /// The partners it serves, by id.
    pub partners: BTreeMap<Uuid, HubPartner>,
}

/// A partner a hub serves (seed table `HubPartner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HubPartner {
    pub name: String,
    pub kind: PartnerKind,
}

seed_enum! {
    /// OPEN, or CLOSED until reopened.
    pub enum HubStatus {
        Open,
        Closed,
    }
}

seed_enum! {
    /// What a hub's partner is.
    pub enum PartnerKind {
        Merchant,
        Property,
        Logistics,
        Other,
    }
}

crate::aggregate!(
    Hub: HubCommand => HubEvent, HubError, (),
    |hub, command, _| hub.decide(command)
);

impl Hub {
    pub fn state(&self) -> Option<&HubState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this hub. Pure: no I/O and no clock.
    pub fn decide(&self, command: HubCommand) -> Result<Vec<HubEvent>, HubError> {
        use HubCommand::*;
        let (hub, command) = match (&self.0, command) {
            (
                None,
                RegisterHub {
                    name,
                    city_id,
                    location,
                    timezone,
                },
            ) => {
                return Ok(vec![HubEvent::HubRegistered {
                    name: name.into(),
                    city_id,
                    location,
                    timezone: timezone.map(|zone| zone.as_str().to_string()),
                }])
            }
            (None, _) => return Err(HubError::NotFound),
            (Some(_), RegisterHub { .. }) => return Err(HubError::AlreadyExists),
            (Some(hub), command) => (hub, command),
        };
        Ok(match command {
            UpdateHub {
                name: None,
                location: None,
            } => return Err(HubError::NothingToUpdate),
            UpdateHub { name, location } => {
                // Only what changes: an update to what the hub says already records nothing.
                let name = name.map(String::from).filter(|n| *n != hub.name);
                let location = location.filter(|l| *l != hub.location);
                if name.is_none() && location.is_none() {
                    vec![]
                } else {
                    vec![HubEvent::HubUpdated { name, location }]
                }
            }
            AddHubPartner {
                partner_id,
                name,
                kind,
            } => match hub.partners.get(&partner_id) {
                Some(p) if p.name == name.as_str() && p.kind == kind => vec![],
                Some(_) => return Err(HubError::PartnerExists(partner_id)),
                None => vec![HubEvent::HubPartnerAdded {
                    partner_id,
                    name: name.into(),
                    kind,
                }],
            },
            RemoveHubPartner { partner_id } if hub.partners.contains_key(&partner_id) => {
                vec![HubEvent::HubPartnerRemoved { partner_id }]
            }
            RemoveHubPartner { partner_id } => return Err(HubError::UnknownPartner(partner_id)),
            CloseHub { .. } if hub.status == HubStatus::Closed => {
                return Err(HubError::AlreadyClosed)
            }
            CloseHub { reason } => vec![HubEvent::HubClosed {
                reason: reason.into(),
            }],
            ReopenHub {} if hub.status == HubStatus::Open => return Err(HubError::NotClosed),
            ReopenHub {} => vec![HubEvent::HubReopened {}],
            RegisterHub { .. } => return Err(HubError::AlreadyExists),
        })
    }

    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: HubEvent) {
        match (self.0.as_mut(), event) {
            (
                _,
                HubEvent::HubRegistered {
                    name,
                    city_id,
                    location,
                    timezone,
                },
            ) => {
                self.0 = Some(HubState {
                    name,
                    city_id,
                    location,
                    timezone,
                    status: HubStatus::Open,
                    close_reason: None,
                    partners: BTreeMap::new(),
                })
            }
            (Some(hub), HubEvent::HubUpdated { name, location }) => {
                if let Some(name) = name {
                    hub.name = name;
                }
                if let Some(location) = location {
                    hub.location = location;
                }
            }
            (
                Some(hub),
                HubEvent::HubPartnerAdded {
                    partner_id,
                    name,
                    kind,
                },
            ) => {
                hub.partners.insert(partner_id, HubPartner { name, kind });
            }
            (Some(hub), HubEvent::HubPartnerRemoved { partner_id }) => {
                hub.partners.remove(&partner_id);
            }
            (Some(hub), HubEvent::HubClosed { reason }) => {
                hub.status = HubStatus::Closed;
                hub.close_reason = Some(reason);
            }
            (Some(hub), HubEvent::HubReopened {}) => {
                hub.status = HubStatus::Open;
                hub.close_reason = None;
            }
            (None, _) => {}
        }
    }
}
