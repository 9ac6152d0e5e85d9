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

/// Keeps `pilots`, `pilot_shifts` and `pilot_assignments`, event by event. A pilot refuses only
/// its last 64 shift/assignment ids again; an older one coming back restarts its row rather than
/// stopping the projector.
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
        for event in events {
            apply_one(tx, event).await?;
        }
        Ok(())
    }
}

async fn apply_one(tx: &mut PgConnection, event: &StoredEvent) -> Result<(), ProjectionError> {
    let pilot_id = event.stream_uuid()?;
    let at = event.recorded_at;
    let payload: PilotEvent = event.decode()?;
    if let PilotEvent::PilotRegistered {
        user_id,
        pilot_location,
        pilot_center_id,
    } = &payload
    {
        sqlx::query(
            "INSERT INTO pilots (id, user_id, version, pilot_location, pilot_center_id,
                                 updated_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(pilot_id)
        .bind(user_id)
        .bind(event.sequence)
        .bind(pilot_location.as_ref().map(enum_text))
        .bind(pilot_center_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        return Ok(());
    }
    // Every later event moves the pilot's version; the match below sets what else it changes.
    let moved = sqlx::query("UPDATE pilots SET version = $2, updated_at = $3 WHERE id = $1")
        .bind(pilot_id)
        .bind(event.sequence)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    if moved.rows_affected() != 1 {
        return Err(ProjectionError::Inconsistent {
            position: event.at.position,
            reason: "the pilot was never registered".into(),
        });
    }
    let pilot = |sql: &'static str| sqlx::query(sql).bind(pilot_id);
    match payload {
        PilotEvent::PilotRegistered { .. } => {}
        PilotEvent::PilotProfileUpdated {
            pilot_location,
            pilot_center_id,
        } => {
            pilot(
                "UPDATE pilots SET pilot_location = COALESCE($2, pilot_location),
                        pilot_center_id = COALESCE($3, pilot_center_id) WHERE id = $1",
            )
            .bind(pilot_location.as_ref().map(enum_text))
            .bind(pilot_center_id)
            .execute(&mut *tx)
            .await?;
        }
        PilotEvent::PilotArchived { archived_at, .. } => {
            pilot("UPDATE pilots SET archived_at = $2 WHERE id = $1")
                .bind(archived_at)
                .execute(&mut *tx)
                .await?;
        }
        PilotEvent::PilotShiftStarted {
            shift_id,
            started_at,
        } => {
            pilot("UPDATE pilots SET active_shift_id = $2 WHERE id = $1")
                .bind(shift_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO pilot_shifts (shift_id, pilot_id, state, started_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (pilot_id, shift_id) DO UPDATE
                    SET state = EXCLUDED.state, started_at = EXCLUDED.started_at,
                        ended_at = NULL, updated_at = EXCLUDED.updated_at",
            )
            .bind(shift_id)
            .bind(pilot_id)
            .bind(ShiftStatus::OnShift.as_str())
            .bind(started_at)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        PilotEvent::PilotShiftStateChanged {
            shift_id, to_state, ..
        } => {
            sqlx::query(
                "UPDATE pilot_shifts SET state = $2, updated_at = $3
                  WHERE shift_id = $1 AND pilot_id = $4",
            )
            .bind(shift_id)
            .bind(to_state.as_str())
            .bind(at)
            .bind(pilot_id)
            .execute(&mut *tx)
            .await?;
        }
        PilotEvent::PilotShiftEnded {
            shift_id, ended_at, ..
        } => {
            pilot("UPDATE pilots SET active_shift_id = NULL WHERE id = $1")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE pilot_shifts SET state = $2, ended_at = $3, updated_at = $4
                  WHERE shift_id = $1 AND pilot_id = $5",
            )
            .bind(shift_id)
            .bind(ShiftStatus::OffShift.as_str())
            .bind(ended_at)
            .bind(at)
            .bind(pilot_id)
            .execute(&mut *tx)
            .await?;
        }
        PilotEvent::PilotAssignmentRequested {
            assignment_id,
            task_id,
            shift_id,
            requested_at,
        } => {
            pilot("UPDATE pilots SET active_assignment_id = $2 WHERE id = $1")
                .bind(assignment_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO pilot_assignments (assignment_id, pilot_id, task_id, shift_id, status,
                                                requested_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (pilot_id, assignment_id) DO UPDATE
                    SET task_id = EXCLUDED.task_id, shift_id = EXCLUDED.shift_id,
                        status = EXCLUDED.status, requested_at = EXCLUDED.requested_at,
                        accepted_at = NULL, ended_at = NULL, end_reason = NULL,
                        updated_at = EXCLUDED.updated_at",
            )
            .bind(assignment_id)
            .bind(pilot_id)
            .bind(task_id)
            .bind(shift_id)
            .bind(PilotAssignmentStatus::Requested.as_str())
            .bind(requested_at)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        PilotEvent::PilotReserved {
            reservation_id,
            until,
            ..
        } => {
            pilot("UPDATE pilots SET active_reservation_id = $2, locked_until = $3 WHERE id = $1")
                .bind(reservation_id)
                .bind(until)
                .execute(&mut *tx)
                .await?;
        }
        PilotEvent::PilotReservationReleased { .. }
        | PilotEvent::PilotReservationExpired { .. } => {
            pilot(
                "UPDATE pilots SET active_reservation_id = NULL, locked_until = NULL WHERE id = $1",
            )
            .execute(&mut *tx)
            .await?;
        }
        other => {
            let Some((assignment_id, _, _, status, reason)) = other.assignment_change() else {
                return Ok(());
            };
            if status.is_active() {
                sqlx::query(
                    "UPDATE pilot_assignments SET status = $2, accepted_at = $3, updated_at = $3
                      WHERE assignment_id = $1 AND pilot_id = $4",
                )
                .bind(assignment_id)
                .bind(status.as_str())
                .bind(at)
                .bind(pilot_id)
                .execute(&mut *tx)
                .await?;
            } else {
                pilot("UPDATE pilots SET active_assignment_id = NULL WHERE id = $1")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE pilot_assignments SET status = $2, ended_at = $3, end_reason = $4,
                            updated_at = $3
                      WHERE assignment_id = $1 AND pilot_id = $5",
                )
                .bind(assignment_id)
                .bind(status.as_str())
                .bind(at)
                .bind(reason)
                .bind(pilot_id)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    Ok(())
}
