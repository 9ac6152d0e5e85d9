//! A pilot's state: what its events have made of it (`apply` only assigns).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    PilotAssignmentStatus as Status, PilotCommand, PilotError, PilotEvent, PilotLocation,
    ShiftStatus,
};

/// How many recent shift, assignment and reservation ids a pilot remembers, to refuse a retry
/// that reuses one (a retried request after its assignment ended, say).
const RECENT_IDS: usize = 64;

/// What a pilot's decisions need from outside: the current time.
#[derive(Debug, Clone, Copy)]
pub struct PilotServices {
    pub now: DateTime<Utc>,
}

/// A pilot's stream folded into its current state; `None` until `PilotRegistered`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pilot(pub Option<PilotState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PilotState {
    pub user_id: Option<Uuid>,
    pub pilot_location: Option<PilotLocation>,
    pub pilot_center_id: Option<Uuid>,
    pub archived_at: Option<DateTime<Utc>>,
    pub shift: Option<Shift>,
    /// The active (REQUESTED or ACCEPTED) assignment.
    pub assignment: Option<Assignment>,
    /// The active reservation (it may have lapsed and not yet been expired).
    pub reservation: Option<Reservation>,
    #[schema(value_type = Vec<Uuid>)]
    pub recent_ids: VecDeque<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Shift {
    pub shift_id: Uuid,
    pub state: ShiftStatus,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    pub assignment_id: Uuid,
    pub task_id: Uuid,
    pub shift_id: Uuid,
    pub status: Status,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reservation {
    pub reservation_id: Uuid,
    pub task_id: Option<Uuid>,
    pub until: DateTime<Utc>,
}

impl PilotState {
    fn remember(&mut self, id: Uuid) {
        if self.recent_ids.len() == RECENT_IDS {
            self.recent_ids.pop_front();
        }
        self.recent_ids.push_back(id);
    }
}

crate::aggregate!(
    Pilot: PilotCommand => PilotEvent, PilotError, PilotServices,
    |pilot, command, services| pilot.decide(command, services.now)
);

impl Pilot {
    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: PilotEvent) {
        if let PilotEvent::PilotRegistered {
            user_id,
            pilot_location,
            pilot_center_id,
        } = event
        {
            self.0 = Some(PilotState {
                user_id,
                pilot_location,
                pilot_center_id,
                archived_at: None,
                shift: None,
                assignment: None,
                reservation: None,
                recent_ids: VecDeque::new(),
            });
            return;
        }
        let Some(pilot) = self.0.as_mut() else {
            return;
        };
        match event {
            PilotEvent::PilotRegistered { .. } => {}
            PilotEvent::PilotProfileUpdated {
                pilot_location,
                pilot_center_id,
            } => {
                if pilot_location.is_some() {
                    pilot.pilot_location = pilot_location;
                }
                if pilot_center_id.is_some() {
                    pilot.pilot_center_id = pilot_center_id;
                }
            }
            PilotEvent::PilotArchived { archived_at, .. } => pilot.archived_at = Some(archived_at),
            PilotEvent::PilotShiftStarted {
                shift_id,
                started_at,
            } => {
                pilot.remember(shift_id);
                pilot.shift = Some(Shift {
                    shift_id,
                    state: ShiftStatus::OnShift,
                    started_at,
                });
            }
            PilotEvent::PilotShiftStateChanged { to_state, .. } => {
                if let Some(shift) = pilot.shift.as_mut() {
                    shift.state = to_state;
                }
            }
            PilotEvent::PilotShiftEnded { .. } => pilot.shift = None,
            PilotEvent::PilotAssignmentRequested {
                assignment_id,
                task_id,
                shift_id,
                requested_at,
            } => {
                pilot.remember(assignment_id);
                pilot.assignment = Some(Assignment {
                    assignment_id,
                    task_id,
                    shift_id,
                    status: Status::Requested,
                    requested_at,
                });
            }
            PilotEvent::PilotAssignmentAccepted { .. } => {
                if let Some(a) = pilot.assignment.as_mut() {
                    a.status = Status::Accepted;
                }
            }
            PilotEvent::PilotAssignmentRejected { .. }
            | PilotEvent::PilotAssignmentAbandoned { .. }
            | PilotEvent::PilotAssignmentCanceled { .. }
            | PilotEvent::PilotAssignmentRevoked { .. }
            | PilotEvent::PilotAssignmentStale { .. }
            | PilotEvent::PilotAssignmentFinished { .. } => pilot.assignment = None,
            PilotEvent::PilotReserved {
                reservation_id,
                task_id,
                until,
            } => {
                pilot.remember(reservation_id);
                pilot.reservation = Some(Reservation {
                    reservation_id,
                    task_id,
                    until,
                });
            }
            PilotEvent::PilotReservationReleased { .. }
            | PilotEvent::PilotReservationExpired { .. } => pilot.reservation = None,
        }
    }
}
