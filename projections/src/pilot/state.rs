use aggregates::pilot::{Pilot, PilotAssignmentStatus, PilotEvent, PilotLocation, ShiftStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::frame::{table, versioned, Batch, Fact, Fold, Inconsistent, Rows, Table};

table! {
    /// A pilot as the API shows it: exactly the seed's `pilots` columns.
    #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
    pub struct PilotView in "pilots" by (pub id: Uuid) {
        pub user_id: Option<Uuid>,
        pub locked_until: Option<DateTime<Utc>>,
        pub archived_at: Option<DateTime<Utc>>,
        pub version: i64,
        pub pilot_location: Option<PilotLocation>,
        pub pilot_center_id: Option<Uuid>,
        pub active_assignment_id: Option<Uuid>,
        pub active_shift_id: Option<Uuid>,
        pub active_reservation_id: Option<Uuid>,
        pub updated_at: DateTime<Utc>,
        pub created_at: DateTime<Utc>,
    }
}

impl crate::views::Load for PilotView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}

versioned!(PilotView);

table! {
    /// A row of `pilot_shifts`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct ShiftRow in "pilot_shifts" by (pub pilot_id: Uuid, pub shift_id: Uuid) {
        pub state: ShiftStatus,
        pub started_at: DateTime<Utc>,
        pub ended_at: Option<DateTime<Utc>>,
        pub updated_at: DateTime<Utc>,
    }
}

table! {
    /// A row of `pilot_assignments`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct AssignmentRow in "pilot_assignments" by (
        pub pilot_id: Uuid,
        pub assignment_id: Uuid,
    ) {
        pub task_id: Uuid,
        pub shift_id: Uuid,
        pub status: PilotAssignmentStatus,
        pub requested_at: DateTime<Utc>,
        pub accepted_at: Option<DateTime<Utc>>,
        pub ended_at: Option<DateTime<Utc>>,
        pub end_reason: Option<String>,
        pub updated_at: DateTime<Utc>,
    }
}

/// Keeps `pilots`, `pilot_shifts` and `pilot_assignments`. A pilot refuses only its last 64
/// shift/assignment ids again; an older one coming back restarts its row rather than stopping
/// the projector.
pub struct PilotsProjector;

impl Fold for PilotsProjector {
    const NAME: &'static str = "pilots";
    const AGGREGATE_TYPE: &'static str = Pilot::TYPE;
    const EVENT_TYPES: &'static [&'static str] = PilotEvent::TYPES;
    const TABLES: &'static [&'static str] = &["pilots", "pilot_shifts", "pilot_assignments"];
    type Batch = Pilots;
}

/// What a batch of pilot events changes.
#[derive(Default)]
pub struct Pilots {
    pub pilots: Rows<PilotView>,
    pub(crate) shifts: Rows<ShiftRow>,
    pub(crate) assignments: Rows<AssignmentRow>,
}

#[async_trait]
impl Batch for Pilots {
    type Event = PilotEvent;

    fn want(&mut self, fact: &Fact<'_>, event: &PilotEvent) {
        self.pilots.want(fact.stream);
        match event {
            PilotEvent::PilotShiftStarted { shift_id, .. }
            | PilotEvent::PilotShiftStateChanged { shift_id, .. }
            | PilotEvent::PilotShiftEnded { shift_id, .. } => {
                self.shifts.want((fact.stream, *shift_id))
            }
            other => {
                if let Some((assignment_id, ..)) = other.assignment_change() {
                    self.assignments.want((fact.stream, assignment_id));
                }
            }
        }
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.pilots.load(conn).await?;
        self.shifts.load(conn).await?;
        self.assignments.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: PilotEvent) -> Result<(), Inconsistent> {
        let (pilot_id, at) = (fact.stream, fact.at);
        if let PilotEvent::PilotRegistered {
            user_id,
            pilot_location,
            pilot_center_id,
        } = event
        {
            let pilot = PilotView {
                id: pilot_id,
                user_id,
                locked_until: None,
                archived_at: None,
                version: fact.sequence,
                pilot_location,
                pilot_center_id,
                active_assignment_id: None,
                active_shift_id: None,
                active_reservation_id: None,
                updated_at: at,
                created_at: at,
            };
            self.pilots
                .create(pilot, "the pilot is already registered")?;
            return Ok(());
        }
        let missing = "the pilot was never registered";
        let pilot = self.pilots.advance(&pilot_id, fact.sequence, at, missing)?;
        match event {
            PilotEvent::PilotRegistered { .. } => {}
            PilotEvent::PilotProfileUpdated {
                pilot_location,
                pilot_center_id,
            } => {
                pilot.pilot_location = pilot_location.or(pilot.pilot_location);
                pilot.pilot_center_id = pilot_center_id.or(pilot.pilot_center_id);
            }
            PilotEvent::PilotArchived { archived_at, .. } => pilot.archived_at = Some(archived_at),
            PilotEvent::PilotShiftStarted {
                shift_id,
                started_at,
            } => {
                pilot.active_shift_id = Some(shift_id);
                self.shifts.put(ShiftRow {
                    pilot_id,
                    shift_id,
                    state: ShiftStatus::OnShift,
                    started_at,
                    ended_at: None,
                    updated_at: at,
                });
            }
            PilotEvent::PilotShiftStateChanged {
                shift_id, to_state, ..
            } => {
                if let Some(shift) = self.shifts.find(&(pilot_id, shift_id)) {
                    shift.state = to_state;
                    shift.updated_at = at;
                }
            }
            PilotEvent::PilotShiftEnded {
                shift_id, ended_at, ..
            } => {
                pilot.active_shift_id = None;
                if let Some(shift) = self.shifts.find(&(pilot_id, shift_id)) {
                    shift.state = ShiftStatus::OffShift;
                    shift.ended_at = Some(ended_at);
                    shift.updated_at = at;
                }
            }
            PilotEvent::PilotAssignmentRequested {
                assignment_id,
                task_id,
                shift_id,
                requested_at,
            } => {
                pilot.active_assignment_id = Some(assignment_id);
                self.assignments.put(AssignmentRow {
                    pilot_id,
                    assignment_id,
                    task_id,
                    shift_id,
                    status: PilotAssignmentStatus::Requested,
                    requested_at,
                    accepted_at: None,
                    ended_at: None,
                    end_reason: None,
                    updated_at: at,
                });
            }
            PilotEvent::PilotReserved {
                reservation_id,
                until,
                ..
            } => {
                pilot.active_reservation_id = Some(reservation_id);
                pilot.locked_until = Some(until);
            }
            PilotEvent::PilotReservationReleased { .. }
            | PilotEvent::PilotReservationExpired { .. } => {
                pilot.active_reservation_id = None;
                pilot.locked_until = None;
            }
            other => {
                let Some((assignment_id, _, _, status, reason)) = other.assignment_change() else {
                    return Ok(());
                };
                if !status.is_active() {
                    pilot.active_assignment_id = None;
                }
                if let Some(row) = self.assignments.find(&(pilot_id, assignment_id)) {
                    row.status = status;
                    row.updated_at = at;
                    if status.is_active() {
                        row.accepted_at = Some(at);
                    } else {
                        row.ended_at = Some(at);
                        row.end_reason = reason.map(str::to_string);
                    }
                }
            }
        }
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.pilots.write(conn).await?;
        self.shifts.write(conn).await?;
        self.assignments.write(conn).await
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::frame::testing::{at, fold};

    #[test]
    fn a_pilot_on_shift_who_accepts_an_assignment_holds_it_until_it_ends() {
        let (pilot, shift, assignment, task) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let events = vec![
            (
                pilot,
                1,
                PilotEvent::PilotRegistered {
                    user_id: None,
                    pilot_location: Some(PilotLocation::Us),
                    pilot_center_id: None,
                },
            ),
            (
                pilot,
                2,
                PilotEvent::PilotShiftStarted {
                    shift_id: shift,
                    started_at: at(2),
                },
            ),
            (
                pilot,
                3,
                PilotEvent::PilotAssignmentRequested {
                    assignment_id: assignment,
                    task_id: task,
                    shift_id: shift,
                    requested_at: at(3),
                },
            ),
            (
                pilot,
                4,
                PilotEvent::PilotAssignmentAccepted {
                    assignment_id: assignment,
                    task_id: task,
                    from_status: PilotAssignmentStatus::Requested,
                },
            ),
        ];
        let mut batch = Pilots::default();
        fold(&mut batch, Pilot::TYPE, events).unwrap();
        let row = batch.pilots.peek(&pilot).unwrap();
        assert_eq!(row.version, 4);
        assert_eq!(row.active_shift_id, Some(shift));
        assert_eq!(row.active_assignment_id, Some(assignment));
        assert_eq!(row.pilot_location, Some(PilotLocation::Us));
        let held = batch.assignments.peek(&(pilot, assignment)).unwrap();
        assert_eq!(held.status, PilotAssignmentStatus::Accepted);
        assert_eq!(held.accepted_at, Some(at(4)));
        let ended = vec![(
            pilot,
            5,
            PilotEvent::PilotShiftEnded {
                shift_id: shift,
                from_state: ShiftStatus::OnShift,
                ended_at: at(5),
            },
        )];
        fold(&mut batch, Pilot::TYPE, ended).unwrap();
        assert_eq!(batch.pilots.peek(&pilot).unwrap().active_shift_id, None);
        let shift_row = batch.shifts.peek(&(pilot, shift)).unwrap();
        assert_eq!(
            (shift_row.state, shift_row.ended_at),
            (ShiftStatus::OffShift, Some(at(5)))
        );
    }
}
