use aggregates::Label;
use std::collections::{HashMap, HashSet};

use aggregates::pilot::{PilotAssignmentStatus, PilotEvent, PilotLocation, ShiftStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::task::{enum_text, parse_enum};
use crate::{ProjectionError, Projector, StoredEvent};

/// A pilot as the API shows it: exactly the seed's `pilots` columns.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PilotView {
    pub id: Uuid,
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

const COLUMNS: &str = "id, user_id, locked_until, archived_at, version, pilot_location,
                        pilot_center_id, active_assignment_id, active_shift_id,
                        active_reservation_id, updated_at, created_at";

impl PilotView {
    pub async fn load(pool: &PgPool, id: Uuid) -> Result<Option<PilotView>, sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM pilots WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?;
        row.as_ref().map(Self::from_row).transpose()
    }

    /// Pilots of the read model by id, in no particular order.
    pub async fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<PilotView>, sqlx::Error> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM pilots WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(conn)
            .await?;
        rows.iter().map(Self::from_row).collect()
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            locked_until: row.try_get("locked_until")?,
            archived_at: row.try_get("archived_at")?,
            version: row.try_get("version")?,
            pilot_location: row
                .try_get::<Option<String>, _>("pilot_location")?
                .map(|v| parse_enum(&v, "pilot_location"))
                .transpose()?,
            pilot_center_id: row.try_get("pilot_center_id")?,
            active_assignment_id: row.try_get("active_assignment_id")?,
            active_shift_id: row.try_get("active_shift_id")?,
            active_reservation_id: row.try_get("active_reservation_id")?,
            updated_at: row.try_get("updated_at")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// Keeps `pilots`, `pilot_shifts` and `pilot_assignments`. A batch is applied in memory: the
/// rows it touches are read in one statement per table, every event is folded into them in
/// order, and the changed rows are written back in one multi-row upsert per table. A pilot
/// refuses only its last 64 shift/assignment ids again; an older one coming back restarts its
/// row rather than stopping the projector.
///
/// Per stream, the feed is in sequence order: an event at or below its row's version, or a
/// second creation, stops the projector (`Inconsistent`, with the event's position) rather than
/// being applied twice.
pub struct PilotsProjector;

#[async_trait]
impl Projector for PilotsProjector {
    fn name(&self) -> &'static str {
        "pilots"
    }

    fn event_types(&self) -> &'static [&'static str] {
        PilotEvent::TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &["pilots", "pilot_shifts", "pilot_assignments"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut decoded = Vec::with_capacity(events.len());
        let (mut pilot_ids, mut shift_keys, mut assignment_keys) = (vec![], vec![], vec![]);
        for event in events {
            let pilot_id = event.stream_uuid()?;
            let payload: PilotEvent = event.decode()?;
            pilot_ids.push(pilot_id);
            match &payload {
                PilotEvent::PilotShiftStarted { shift_id, .. }
                | PilotEvent::PilotShiftStateChanged { shift_id, .. }
                | PilotEvent::PilotShiftEnded { shift_id, .. } => {
                    shift_keys.push((pilot_id, *shift_id))
                }
                other => {
                    if let Some((assignment_id, ..)) = other.assignment_change() {
                        assignment_keys.push((pilot_id, assignment_id));
                    }
                }
            }
            decoded.push((event, pilot_id, payload));
        }
        let mut batch = Batch {
            pilots: PilotView::load_many(tx, &pilot_ids)
                .await?
                .into_iter()
                .map(|pilot| (pilot.id, pilot))
                .collect(),
            shifts: ShiftRow::load_many(tx, &shift_keys).await?,
            assignments: AssignmentRow::load_many(tx, &assignment_keys).await?,
            changed_pilots: HashSet::new(),
            changed_shifts: HashSet::new(),
            changed_assignments: HashSet::new(),
        };
        for (event, pilot_id, payload) in decoded {
            batch.apply(event, pilot_id, payload)?;
        }
        batch.write(tx).await?;
        Ok(())
    }
}

/// The rows a batch touches, as they are after each event.
struct Batch {
    pilots: HashMap<Uuid, PilotView>,
    shifts: HashMap<(Uuid, Uuid), ShiftRow>,
    assignments: HashMap<(Uuid, Uuid), AssignmentRow>,
    changed_pilots: HashSet<Uuid>,
    changed_shifts: HashSet<(Uuid, Uuid)>,
    changed_assignments: HashSet<(Uuid, Uuid)>,
}

impl Batch {
    fn apply(
        &mut self,
        event: &StoredEvent,
        pilot_id: Uuid,
        payload: PilotEvent,
    ) -> Result<(), ProjectionError> {
        let at = event.recorded_at;
        let inconsistent = |reason: &str| ProjectionError::Inconsistent {
            position: event.at.position,
            reason: reason.to_string(),
        };
        if let PilotEvent::PilotRegistered {
            user_id,
            pilot_location,
            pilot_center_id,
        } = payload
        {
            if self.pilots.contains_key(&pilot_id) {
                return Err(inconsistent("the pilot is already registered"));
            }
            self.pilots.insert(
                pilot_id,
                PilotView {
                    id: pilot_id,
                    user_id,
                    locked_until: None,
                    archived_at: None,
                    version: event.sequence,
                    pilot_location,
                    pilot_center_id,
                    active_assignment_id: None,
                    active_shift_id: None,
                    active_reservation_id: None,
                    updated_at: at,
                    created_at: at,
                },
            );
            self.changed_pilots.insert(pilot_id);
            return Ok(());
        }
        // Every later event moves the pilot's version; the match below sets what else it changes.
        let pilot = self
            .pilots
            .get_mut(&pilot_id)
            .ok_or_else(|| inconsistent("the pilot was never registered"))?;
        if pilot.version >= event.sequence {
            return Err(inconsistent("the row is already at or past this event"));
        }
        pilot.version = event.sequence;
        pilot.updated_at = at;
        self.changed_pilots.insert(pilot_id);
        match payload {
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
                self.shifts.insert(
                    (pilot_id, shift_id),
                    ShiftRow {
                        pilot_id,
                        shift_id,
                        state: ShiftStatus::OnShift,
                        started_at,
                        ended_at: None,
                        updated_at: at,
                    },
                );
                self.changed_shifts.insert((pilot_id, shift_id));
            }
            PilotEvent::PilotShiftStateChanged {
                shift_id, to_state, ..
            } => {
                if let Some(shift) = self.shifts.get_mut(&(pilot_id, shift_id)) {
                    shift.state = to_state;
                    shift.updated_at = at;
                    self.changed_shifts.insert((pilot_id, shift_id));
                }
            }
            PilotEvent::PilotShiftEnded {
                shift_id, ended_at, ..
            } => {
                pilot.active_shift_id = None;
                if let Some(shift) = self.shifts.get_mut(&(pilot_id, shift_id)) {
                    shift.state = ShiftStatus::OffShift;
                    shift.ended_at = Some(ended_at);
                    shift.updated_at = at;
                    self.changed_shifts.insert((pilot_id, shift_id));
                }
            }
            PilotEvent::PilotAssignmentRequested {
                assignment_id,
                task_id,
                shift_id,
                requested_at,
            } => {
                pilot.active_assignment_id = Some(assignment_id);
                self.assignments.insert(
                    (pilot_id, assignment_id),
                    AssignmentRow {
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
                    },
                );
                self.changed_assignments.insert((pilot_id, assignment_id));
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
                if let Some(row) = self.assignments.get_mut(&(pilot_id, assignment_id)) {
                    row.status = status;
                    row.updated_at = at;
                    if status.is_active() {
                        row.accepted_at = Some(at);
                    } else {
                        row.ended_at = Some(at);
                        row.end_reason = reason.map(str::to_string);
                    }
                    self.changed_assignments.insert((pilot_id, assignment_id));
                }
            }
        }
        Ok(())
    }

    async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let pilots: Vec<_> = self
            .changed_pilots
            .iter()
            .filter_map(|id| self.pilots.get(id))
            .collect();
        upsert_pilots(tx, &pilots).await?;
        let shifts: Vec<_> = self
            .changed_shifts
            .iter()
            .filter_map(|key| self.shifts.get(key))
            .collect();
        ShiftRow::upsert(tx, &shifts).await?;
        let assignments: Vec<_> = self
            .changed_assignments
            .iter()
            .filter_map(|key| self.assignments.get(key))
            .collect();
        AssignmentRow::upsert(tx, &assignments).await
    }
}

async fn upsert_pilots(tx: &mut PgConnection, pilots: &[&PilotView]) -> Result<(), sqlx::Error> {
    if pilots.is_empty() {
        return Ok(());
    }
    let column =
        |f: fn(&PilotView) -> Option<Uuid>| pilots.iter().map(|p| f(p)).collect::<Vec<_>>();
    let time = |f: fn(&PilotView) -> Option<DateTime<Utc>>| {
        pilots.iter().map(|p| f(p)).collect::<Vec<_>>()
    };
    sqlx::query(
        "INSERT INTO pilots (id, user_id, locked_until, archived_at, version, pilot_location,
                             pilot_center_id, active_assignment_id, active_shift_id,
                             active_reservation_id, updated_at, created_at)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[],
                              $5::bigint[], $6::text[], $7::uuid[], $8::uuid[], $9::uuid[],
                              $10::uuid[], $11::timestamptz[], $12::timestamptz[])
         ON CONFLICT (id) DO UPDATE SET
             user_id = EXCLUDED.user_id, locked_until = EXCLUDED.locked_until,
             archived_at = EXCLUDED.archived_at, version = EXCLUDED.version,
             pilot_location = EXCLUDED.pilot_location,
             pilot_center_id = EXCLUDED.pilot_center_id,
             active_assignment_id = EXCLUDED.active_assignment_id,
             active_shift_id = EXCLUDED.active_shift_id,
             active_reservation_id = EXCLUDED.active_reservation_id,
             updated_at = EXCLUDED.updated_at, created_at = EXCLUDED.created_at",
    )
    .bind(pilots.iter().map(|p| p.id).collect::<Vec<_>>())
    .bind(column(|p| p.user_id))
    .bind(time(|p| p.locked_until))
    .bind(time(|p| p.archived_at))
    .bind(pilots.iter().map(|p| p.version).collect::<Vec<_>>())
    .bind(
        pilots
            .iter()
            .map(|p| p.pilot_location.as_ref().map(enum_text))
            .collect::<Vec<_>>(),
    )
    .bind(column(|p| p.pilot_center_id))
    .bind(column(|p| p.active_assignment_id))
    .bind(column(|p| p.active_shift_id))
    .bind(column(|p| p.active_reservation_id))
    .bind(pilots.iter().map(|p| p.updated_at).collect::<Vec<_>>())
    .bind(pilots.iter().map(|p| p.created_at).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

/// A row of `pilot_shifts`.
struct ShiftRow {
    pilot_id: Uuid,
    shift_id: Uuid,
    state: ShiftStatus,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl ShiftRow {
    async fn load_many(
        tx: &mut PgConnection,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), Self>, sqlx::Error> {
        let (pilots, shifts): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
        let rows = sqlx::query(
            "SELECT s.pilot_id, s.shift_id, s.state, s.started_at, s.ended_at, s.updated_at
               FROM pilot_shifts s
               JOIN UNNEST($1::uuid[], $2::uuid[]) AS k(pilot_id, shift_id)
                 ON s.pilot_id = k.pilot_id AND s.shift_id = k.shift_id",
        )
        .bind(pilots)
        .bind(shifts)
        .fetch_all(tx)
        .await?;
        rows.iter()
            .map(|row| {
                let shift = Self {
                    pilot_id: row.try_get("pilot_id")?,
                    shift_id: row.try_get("shift_id")?,
                    state: parse_enum(&row.try_get::<String, _>("state")?, "state")?,
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                    updated_at: row.try_get("updated_at")?,
                };
                Ok(((shift.pilot_id, shift.shift_id), shift))
            })
            .collect()
    }

    async fn upsert(tx: &mut PgConnection, rows: &[&Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO pilot_shifts (pilot_id, shift_id, state, started_at, ended_at,
                                       updated_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[],
                                  $5::timestamptz[], $6::timestamptz[])
             ON CONFLICT (pilot_id, shift_id) DO UPDATE SET
                 state = EXCLUDED.state, started_at = EXCLUDED.started_at,
                 ended_at = EXCLUDED.ended_at, updated_at = EXCLUDED.updated_at",
        )
        .bind(rows.iter().map(|r| r.pilot_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.shift_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.state.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.started_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.ended_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// A row of `pilot_assignments`.
struct AssignmentRow {
    pilot_id: Uuid,
    assignment_id: Uuid,
    task_id: Uuid,
    shift_id: Uuid,
    status: PilotAssignmentStatus,
    requested_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    end_reason: Option<String>,
    updated_at: DateTime<Utc>,
}

impl AssignmentRow {
    async fn load_many(
        tx: &mut PgConnection,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), Self>, sqlx::Error> {
        let (pilots, assignments): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
        let rows = sqlx::query(
            "SELECT a.pilot_id, a.assignment_id, a.task_id, a.shift_id, a.status,
                    a.requested_at, a.accepted_at, a.ended_at, a.end_reason, a.updated_at
               FROM pilot_assignments a
               JOIN UNNEST($1::uuid[], $2::uuid[]) AS k(pilot_id, assignment_id)
                 ON a.pilot_id = k.pilot_id AND a.assignment_id = k.assignment_id",
        )
        .bind(pilots)
        .bind(assignments)
        .fetch_all(tx)
        .await?;
        rows.iter()
            .map(|row| {
                let assignment = Self {
                    pilot_id: row.try_get("pilot_id")?,
                    assignment_id: row.try_get("assignment_id")?,
                    task_id: row.try_get("task_id")?,
                    shift_id: row.try_get("shift_id")?,
                    status: parse_enum(&row.try_get::<String, _>("status")?, "status")?,
                    requested_at: row.try_get("requested_at")?,
                    accepted_at: row.try_get("accepted_at")?,
                    ended_at: row.try_get("ended_at")?,
                    end_reason: row.try_get("end_reason")?,
                    updated_at: row.try_get("updated_at")?,
                };
                Ok(((assignment.pilot_id, assignment.assignment_id), assignment))
            })
            .collect()
    }

    async fn upsert(tx: &mut PgConnection, rows: &[&Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO pilot_assignments (pilot_id, assignment_id, task_id, shift_id, status,
                                            requested_at, accepted_at, ended_at, end_reason,
                                            updated_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[],
                                  $6::timestamptz[], $7::timestamptz[], $8::timestamptz[],
                                  $9::text[], $10::timestamptz[])
             ON CONFLICT (pilot_id, assignment_id) DO UPDATE SET
                 task_id = EXCLUDED.task_id, shift_id = EXCLUDED.shift_id,
                 status = EXCLUDED.status, requested_at = EXCLUDED.requested_at,
                 accepted_at = EXCLUDED.accepted_at, ended_at = EXCLUDED.ended_at,
                 end_reason = EXCLUDED.end_reason, updated_at = EXCLUDED.updated_at",
        )
        .bind(rows.iter().map(|r| r.pilot_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.assignment_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.task_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.shift_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.requested_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.accepted_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.ended_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.end_reason.clone())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }
}
