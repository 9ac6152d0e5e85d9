use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{LocationCommand, LocationEvent, SiteError};

/// A location's stream folded into its current state; `None` until registered.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Site(pub Option<SiteState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SiteState {
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    pub kind: LocationKind,
    pub address: Option<String>,
    pub hub_id: Option<Uuid>,
    pub status: LocationStatus,
}

seed_enum! {
    /// What a location is.
    pub enum LocationKind {
        Hub,
        Merchant,
        Customer,
        Parking,
        Charging,
        Other,
    }
}

seed_enum! {
    /// ACTIVE, or RETIRED for good.
    pub enum LocationStatus {
        Active,
        Retired,
    }
}

crate::aggregate!(
    Site as "Location": LocationCommand => LocationEvent, SiteError, (),
    |site, command, _| site.decide(command)
);

impl Site {
    pub fn state(&self) -> Option<&SiteState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this location. Pure: no I/O and no clock.
    pub fn decide(&self, command: LocationCommand) -> Result<Vec<LocationEvent>, SiteError> {
        use LocationCommand::*;
        let site = match (&self.0, command) {
            (
                None,
                RegisterLocation {
                    name,
                    lat,
                    lng,
                    kind,
                    address,
                    hub_id,
                },
            ) => {
                return Ok(vec![LocationEvent::LocationRegistered {
                    name: name.into(),
                    lat: lat.degrees(),
                    lng: lng.degrees(),
                    kind,
                    address: address.map(String::from),
                    hub_id,
                }])
            }
            (None, _) => return Err(SiteError::NotFound),
            (Some(_), RegisterLocation { .. }) => return Err(SiteError::AlreadyExists),
            (Some(site), _) if site.status == LocationStatus::Retired => {
                return Err(SiteError::Retired)
            }
            (Some(site), command) => (site, command),
        };
        Ok(match site {
            (
                _,
                UpdateLocation {
                    name: None,
                    address: None,
                },
            ) => return Err(SiteError::NothingToUpdate),
            (state, UpdateLocation { name, address }) => {
                // Only what changes: an update to what the location says already records nothing.
                let name = name.map(String::from).filter(|n| *n != state.name);
                let address =
                    (address.map(String::from)).filter(|a| Some(a) != state.address.as_ref());
                if name.is_none() && address.is_none() {
                    vec![]
                } else {
                    vec![LocationEvent::LocationUpdated { name, address }]
                }
            }
            (_, RetireLocation {}) => vec![LocationEvent::LocationRetired {}],
            (_, RegisterLocation { .. }) => return Err(SiteError::AlreadyExists),
        })
    }

    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: LocationEvent) {
        match (self.0.as_mut(), event) {
            (
                _,
                LocationEvent::LocationRegistered {
                    name,
                    lat,
                    lng,
                    kind,
                    address,
                    hub_id,
                },
            ) => {
                self.0 = Some(SiteState {
                    name,
                    lat,
                    lng,
                    kind,
                    address,
                    hub_id,
                    status: LocationStatus::Active,
                })
            }
            (Some(site), LocationEvent::LocationUpdated { name, address }) => {
                if let Some(name) = name {
                    site.name = name;
                }
                if address.is_some() {
                    site.address = address;
                }
            }
            (Some(site), LocationEvent::LocationRetired {}) => {
                site.status = LocationStatus::Retired
            }
            (None, _) => {}
        }
    }
}
