use serde::{Deserialize, Serialize};

use super::{CityCommand, CityError, CityEvent};

/// A city's stream folded into its current state; `None` until registered.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct City(pub Option<CityState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CityState {
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// IANA time zone.
    pub timezone: String,
}

crate::aggregate!(
    City: CityCommand => CityEvent, CityError, (),
    |city, command, _| city.decide(command)
);

impl City {
    pub fn state(&self) -> Option<&CityState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this city. Pure: no I/O and no clock.
    pub fn decide(&self, command: CityCommand) -> Result<Vec<CityEvent>, CityError> {
        use CityCommand::*;
        Ok(match (&self.0, command) {
            (
                None,
                RegisterCity {
                    name,
                    country_code,
                    timezone,
                },
            ) => vec![CityEvent::CityRegistered {
                name: name.into(),
                country_code: country_code.as_str().to_string(),
                timezone: timezone.as_str().to_string(),
            }],
            (None, RenameCity { .. }) => return Err(CityError::NotFound),
            (Some(_), RegisterCity { .. }) => return Err(CityError::AlreadyExists),
            // Renaming to the name it has changes nothing, and records nothing.
            (Some(city), RenameCity { name }) if city.name == name.as_str() => vec![],
            (Some(city), RenameCity { name }) => vec![CityEvent::CityRenamed {
                name: name.into(),
                from_name: city.name.clone(),
            }],
        })
    }

    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: CityEvent) {
        match (self.0.as_mut(), event) {
            (
                _,
                CityEvent::CityRegistered {
                    name,
                    country_code,
                    timezone,
                },
            ) => {
                self.0 = Some(CityState {
                    name,
                    country_code,
                    timezone,
                })
            }
            (Some(city), CityEvent::CityRenamed { name, .. }) => city.name = name,
            (None, _) => {}
        }
    }
}
