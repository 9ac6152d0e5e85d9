use serde::{Deserialize, Serialize};

use super::{PilotCenterCommand, PilotCenterError, PilotCenterEvent};
use crate::pilot::PilotLocation;

/// A pilot center's stream folded into its current state; `None` until registered.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PilotCenter(pub Option<PilotCenterState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PilotCenterState {
    pub name: String,
    pub pilot_location: PilotLocation,
    pub status: PilotCenterStatus,
    pub close_reason: Option<String>,
}

seed_enum! {
    /// OPEN, or CLOSED for good.
    pub enum PilotCenterStatus {
        Open,
        Closed,
    }
}

crate::aggregate!(
    PilotCenter: PilotCenterCommand => PilotCenterEvent, PilotCenterError, (),
    |center, command, _| center.decide(command)
);

impl PilotCenter {
    pub fn state(&self) -> Option<&PilotCenterState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this pilot center. Pure: no I/O and no clock.
    pub fn decide(
        &self,
        command: PilotCenterCommand,
    ) -> Result<Vec<PilotCenterEvent>, PilotCenterError> {
        use PilotCenterCommand::*;
        let center = match (&self.0, command) {
            (
                None,
                RegisterPilotCenter {
                    name,
                    pilot_location,
                },
            ) => {
                return Ok(vec![PilotCenterEvent::PilotCenterRegistered {
                    name: name.into(),
                    pilot_location,
                }])
            }
            (None, _) => return Err(PilotCenterError::NotFound),
            (Some(_), RegisterPilotCenter { .. }) => return Err(PilotCenterError::AlreadyExists),
            (Some(center), _) if center.status == PilotCenterStatus::Closed => {
                return Err(PilotCenterError::Closed)
            }
            (Some(center), command) => (center, command),
        };
        Ok(match center {
            // Renaming to the name it has changes nothing, and records nothing.
            (state, RenamePilotCenter { name }) if state.name == name.as_str() => vec![],
            (state, RenamePilotCenter { name }) => vec![PilotCenterEvent::PilotCenterRenamed {
                name: name.into(),
                from_name: state.name.clone(),
            }],
            (_, ClosePilotCenter { reason }) => vec![PilotCenterEvent::PilotCenterClosed {
                reason: reason.map(String::from),
            }],
            (_, RegisterPilotCenter { .. }) => return Err(PilotCenterError::AlreadyExists),
        })
    }

    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: PilotCenterEvent) {
        match (self.0.as_mut(), event) {
            (
                _,
                PilotCenterEvent::PilotCenterRegistered {
                    name,
                    pilot_location,
                },
            ) => {
                self.0 = Some(PilotCenterState {
                    name,
                    pilot_location,
                    status: PilotCenterStatus::Open,
                    close_reason: None,
                })
            }
            (Some(center), PilotCenterEvent::PilotCenterRenamed { name, .. }) => center.name = name,
            (Some(center), PilotCenterEvent::PilotCenterClosed { reason }) => {
                center.status = PilotCenterStatus::Closed;
                center.close_reason = reason;
            }
            (None, _) => {}
        }
    }
}
