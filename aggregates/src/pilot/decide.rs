//! A pilot's decisions: what each command does to the state it finds, or why it is refused.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Assignment, Pilot, PilotAssignmentStatus as Status, PilotCommand, PilotError, PilotEvent,
    PilotState, Reservation, ShiftStatus,
};
use crate::Note;

impl Pilot {
    pub fn state(&self) -> Option<&PilotState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this pilot at time `now`. Pure: no I/O.
    pub fn decide(
        &self,
        command: PilotCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<PilotEvent>, PilotError> {
        match (&self.0, command) {
            (
                None,
                PilotCommand::RegisterPilot {
                    user_id,
                    pilot_location,
                    pilot_center_id,
                },
            ) => Ok(vec![PilotEvent::PilotRegistered {
                user_id,
                pilot_location,
                pilot_center_id,
            }]),
            (None, _) => Err(PilotError::NotFound),
            (Some(_), PilotCommand::RegisterPilot { .. }) => Err(PilotError::AlreadyExists),
            (Some(pilot), _) if pilot.archived_at.is_some() => Err(PilotError::Archived),
            (Some(pilot), command) => pilot.decide(command, now),
        }
    }
}

impl PilotState {
    fn decide(
        &self,
        command: PilotCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<PilotEvent>, PilotError> {
        let event = match command {
            PilotCommand::RegisterPilot { .. } => return Err(PilotError::AlreadyExists),
            PilotCommand::UpdatePilotProfile {
                pilot_location,
                pilot_center_id,
            } => {
                if pilot_location.is_none() && pilot_center_id.is_none() {
                    return Err(PilotError::NothingToUpdate);
                }
                PilotEvent::PilotProfileUpdated {
                    pilot_location,
                    pilot_center_id,
                }
            }
            PilotCommand::ArchivePilot { reason } => {
                if let Some(shift) = self.shift {
                    return Err(PilotError::OnShift {
                        shift_id: shift.shift_id,
                        action: "archiving the pilot",
                    });
                }
                self.require_no_assignment()?;
                let mut events = Vec::new();
                match self.reservation {
                    Some(r) if r.until > now => {
                        return Err(PilotError::AlreadyReserved {
                            reservation_id: r.reservation_id,
                            until: r.until,
                        })
                    }
                    // A lapsed reservation is recorded as expired before the pilot goes.
                    Some(r) => events.push(PilotEvent::PilotReservationExpired {
                        reservation_id: r.reservation_id,
                        task_id: r.task_id,
                        until: r.until,
                    }),
                    None => {}
                }
                events.push(PilotEvent::PilotArchived {
                    archived_at: now,
                    reason: text(reason),
                });
                return Ok(events);
            }
            PilotCommand::StartShift { shift_id } => {
                if let Some(shift) = self.shift {
                    return Err(PilotError::OnShift {
                        shift_id: shift.shift_id,
                        action: "starting another",
                    });
                }
                self.require_fresh(shift_id)?;
                PilotEvent::PilotShiftStarted {
                    shift_id,
                    started_at: now,
                }
            }
            PilotCommand::ChangeShiftState { state } => {
                let shift = self.shift.ok_or(PilotError::NotOnShift)?;
                if state == ShiftStatus::OffShift {
                    return Err(PilotError::UseEndShift);
                }
                if state == shift.state {
                    return Err(PilotError::ShiftAlreadyInState { state });
                }
                PilotEvent::PilotShiftStateChanged {
                    shift_id: shift.shift_id,
                    from_state: shift.state,
                    to_state: state,
                }
            }
            PilotCommand::EndShift {} => {
                let shift = self.shift.ok_or(PilotError::NotOnShift)?;
                self.require_no_assignment()?;
                PilotEvent::PilotShiftEnded {
                    shift_id: shift.shift_id,
                    from_state: shift.state,
                    ended_at: now,
                }
            }
            PilotCommand::RequestAssignment {
                assignment_id,
                task_id,
            } => return self.request_assignment(assignment_id, task_id, now),
            PilotCommand::AcceptAssignment { assignment_id } => {
                let a =
                    self.assignment_in(assignment_id, "AcceptAssignment", &[Status::Requested])?;
                PilotEvent::PilotAssignmentAccepted {
                    assignment_id,
                    task_id: a.task_id,
                    from_status: a.status,
                }
            }
            PilotCommand::RejectAssignment {
                assignment_id,
                reason,
            } => {
                let a =
                    self.assignment_in(assignment_id, "RejectAssignment", &[Status::Requested])?;
                PilotEvent::PilotAssignmentRejected {
                    assignment_id,
                    task_id: a.task_id,
                    from_status: a.status,
                    reason: text(reason),
                }
            }
            PilotCommand::AbandonAssignment {
                assignment_id,
                reason,
            } => {
                let a =
                    self.assignment_in(assignment_id, "AbandonAssignment", &[Status::Accepted])?;
                PilotEvent::PilotAssignmentAbandoned {
                    assignment_id,
                    task_id: a.task_id,
                    from_status: a.status,
                    reason: text(reason),
                }
            }
            PilotCommand::CancelAssignment {
                assignment_id,
                reason,
            } => {
                let a = self.assignment_in(
                    assignment_id,
                    "CancelAssignment",
                    &[Status::Requested, Status::Accepted],
                )?;
                PilotEvent::PilotAssignmentCanceled {
                    assignment_id,
                    task_id: a.task_id,
                    from_status: a.status,
                    reason: text(reason),
                }
            }
            PilotCommand::RevokeAssignment {
                assignment_id,
                reason,
            } => {
                let a = self.assignment_in(
                    assignment_id,
                    "RevokeAssignment",
                    &[Status::Requested, Status::Accepted],
                )?;
                PilotEvent::PilotAssignmentRevoked {
                    assignment_id,
                    task_id: a.task_id,
                    from_status: a.status,
                    reason: text(reason),
                }
            }
            PilotCommand::MarkAssignmentStale { assignment_id } => {
                let a =
                    self.assignment_in(assignment_id, "MarkAssignmentStale", &[Status::Requested])?;
                PilotEvent::PilotAssignmentStale {
                    assignment_id,
                    task_id: a.task_id,
                    from_status: a.status,
                }
            }
            PilotCommand::FinishAssignment { assignment_id } => {
                let a =
                    self.assignment_in(assignment_id, "FinishAssignment", &[Status::Accepted])?;
                PilotEvent::PilotAssignmentFinished {
                    assignment_id,
                    task_id: a.task_id,
                    from_status: a.status,
                }
            }
            PilotCommand::ReservePilot {
                reservation_id,
                task_id,
                until,
            } => return self.reserve(reservation_id, task_id, until, now),
            PilotCommand::ReleaseReservation { reservation_id } => {
                let reservation = self.reservation_named(reservation_id)?;
                // A reservation past its `until` has lapsed already: that is what is recorded,
                // and there is nothing left to release.
                if reservation.until <= now {
                    PilotEvent::PilotReservationExpired {
                        reservation_id,
                        task_id: reservation.task_id,
                        until: reservation.until,
                    }
                } else {
                    PilotEvent::PilotReservationReleased {
                        reservation_id,
                        task_id: reservation.task_id,
                        reason: None,
                    }
                }
            }
            PilotCommand::ExpireReservation { reservation_id } => {
                let reservation = self.reservation_named(reservation_id)?;
                if reservation.until > now {
                    return Err(PilotError::ReservationNotDue {
                        reservation_id,
                        until: reservation.until,
                    });
                }
                PilotEvent::PilotReservationExpired {
                    reservation_id,
                    task_id: reservation.task_id,
                    until: reservation.until,
                }
            }
        };
        Ok(vec![event])
    }

    /// An assignment needs a pilot on shift (state ON_SHIFT) with no active assignment. A
    /// reservation for another task refuses it; one for this task (or for no task in
    /// particular) is used up by it; one that has lapsed is recorded as expired first.
    fn request_assignment(
        &self,
        assignment_id: Uuid,
        task_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<PilotEvent>, PilotError> {
        let shift = self.shift.ok_or(PilotError::NotOnShift)?;
        if shift.state != ShiftStatus::OnShift {
            return Err(PilotError::NotAvailable { state: shift.state });
        }
        self.require_no_assignment()?;
        self.require_fresh(assignment_id)?;
        let mut events = Vec::new();
        match self.reservation {
            Some(r) if r.until <= now => events.push(PilotEvent::PilotReservationExpired {
                reservation_id: r.reservation_id,
                task_id: r.task_id,
                until: r.until,
            }),
            Some(r) => match r.task_id {
                Some(reserved_for) if reserved_for != task_id => {
                    return Err(PilotError::ReservedForAnotherTask {
                        reservation_id: r.reservation_id,
                        task_id: reserved_for,
                        until: r.until,
                    })
                }
                _ => events.push(PilotEvent::PilotReservationReleased {
                    reservation_id: r.reservation_id,
                    task_id: r.task_id,
                    reason: Some(format!("assignment {assignment_id} requested")),
                }),
            },
            None => {}
        }
        events.push(PilotEvent::PilotAssignmentRequested {
            assignment_id,
            task_id,
            shift_id: shift.shift_id,
            requested_at: now,
        });
        Ok(events)
    }

    fn reserve(
        &self,
        reservation_id: Uuid,
        task_id: Option<Uuid>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PilotEvent>, PilotError> {
        if until <= now {
            return Err(PilotError::UntilNotInFuture { until, now });
        }
        self.require_fresh(reservation_id)?;
        let mut events = Vec::new();
        match self.reservation {
            Some(r) if r.until <= now => events.push(PilotEvent::PilotReservationExpired {
                reservation_id: r.reservation_id,
                task_id: r.task_id,
                until: r.until,
            }),
            Some(r) => {
                return Err(PilotError::AlreadyReserved {
                    reservation_id: r.reservation_id,
                    until: r.until,
                })
            }
            None => {}
        }
        events.push(PilotEvent::PilotReserved {
            reservation_id,
            task_id,
            until,
        });
        Ok(events)
    }

    fn require_no_assignment(&self) -> Result<(), PilotError> {
        match self.assignment {
            Some(a) => Err(PilotError::AssignmentActive {
                assignment_id: a.assignment_id,
                status: a.status,
            }),
            None => Ok(()),
        }
    }

    fn require_fresh(&self, id: Uuid) -> Result<(), PilotError> {
        if self.recent_ids.contains(&id) {
            Err(PilotError::IdAlreadyUsed { id })
        } else {
            Ok(())
        }
    }

    fn assignment_in(
        &self,
        assignment_id: Uuid,
        command: &'static str,
        allowed: &[Status],
    ) -> Result<Assignment, PilotError> {
        let a = self
            .assignment
            .filter(|a| a.assignment_id == assignment_id)
            .ok_or(PilotError::AssignmentNotFound { assignment_id })?;
        if allowed.contains(&a.status) {
            Ok(a)
        } else {
            Err(PilotError::InvalidAssignmentTransition {
                command,
                assignment_id,
                status: a.status,
            })
        }
    }

    fn reservation_named(&self, reservation_id: Uuid) -> Result<Reservation, PilotError> {
        self.reservation
            .filter(|r| r.reservation_id == reservation_id)
            .ok_or(PilotError::ReservationNotFound { reservation_id })
    }
}

fn text(note: Option<Note>) -> Option<String> {
    note.map(String::from)
}
