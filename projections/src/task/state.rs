use std::collections::HashMap;

use aggregates::task::TaskEvent;
use async_trait::async_trait;
use sqlx::PgConnection;
use uuid::Uuid;

use super::view::enum_text;
use super::TaskView;
use crate::{ProjectionError, Projector, StoredEvent};

/// Keeps `tasks`: a batch is folded in memory over the rows it touches, which are then written
/// back with one multi-row upsert.
pub struct TasksProjector;

#[async_trait]
impl Projector for TasksProjector {
    fn name(&self) -> &'static str {
        "tasks"
    }

    fn event_types(&self) -> &'static [&'static str] {
        TaskEvent::TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &["tasks"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut ids = Vec::new();
        for event in events {
            let id = task_id(event)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut views: HashMap<Uuid, TaskView> = TaskView::load_many(tx, &ids)
            .await?
            .into_iter()
            .map(|view| (view.id, view))
            .collect();
        for event in events {
            let id = task_id(event)?;
            let current = views.get(&id);
            if current.is_some_and(|v| v.version as i64 >= event.sequence) {
                return Err(inconsistent(
                    event,
                    "the row is already at or past this event",
                ));
            }
            let next = TaskView::fold(
                current,
                id,
                event.decode::<TaskEvent>()?,
                event.sequence,
                event.recorded_at,
            )
            .ok_or_else(|| inconsistent(event, "the task was never created"))?;
            views.insert(id, next);
        }
        upsert(tx, views.into_values().collect()).await?;
        Ok(())
    }
}

fn task_id(event: &StoredEvent) -> Result<Uuid, ProjectionError> {
    Uuid::parse_str(&event.aggregate_id)
        .map_err(|_| inconsistent(event, "the stream id is not a UUID"))
}

fn inconsistent(event: &StoredEvent, reason: &str) -> ProjectionError {
    ProjectionError::Inconsistent {
        position: event.at.position,
        reason: reason.to_string(),
    }
}

async fn upsert(tx: &mut PgConnection, views: Vec<TaskView>) -> Result<(), sqlx::Error> {
    let n = views.len();
    let mut id = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut task_type = Vec::with_capacity(n);
    let mut hub_id = Vec::with_capacity(n);
    let mut robot_id = Vec::with_capacity(n);
    let mut trip_id = Vec::with_capacity(n);
    let mut pilot_id = Vec::with_capacity(n);
    let mut assignment_id = Vec::with_capacity(n);
    let mut scheduled_at = Vec::with_capacity(n);
    let mut external_ref = Vec::with_capacity(n);
    let mut pause_reason = Vec::with_capacity(n);
    let mut cancellation_reason = Vec::with_capacity(n);
    let mut cancellation_note = Vec::with_capacity(n);
    let mut version = Vec::with_capacity(n);
    let mut created_at = Vec::with_capacity(n);
    let mut updated_at = Vec::with_capacity(n);
    for v in views {
        id.push(v.id);
        status.push(enum_text(&v.status));
        task_type.push(enum_text(&v.task_type));
        hub_id.push(v.hub_id);
        robot_id.push(v.robot_id);
        trip_id.push(v.trip_id);
        pilot_id.push(v.pilot_id);
        assignment_id.push(v.assignment_id);
        scheduled_at.push(v.scheduled_at);
        external_ref.push(v.external_ref);
        pause_reason.push(v.pause_reason);
        cancellation_reason.push(v.cancellation_reason.as_ref().map(enum_text));
        cancellation_note.push(v.cancellation_note);
        version.push(v.version as i64);
        created_at.push(v.created_at);
        updated_at.push(v.updated_at);
    }
    sqlx::query(
        "INSERT INTO tasks (id, status, task_type, hub_id, robot_id, trip_id, pilot_id,
                            assignment_id, scheduled_at, external_ref, pause_reason,
                            cancellation_reason, cancellation_note, version, created_at, updated_at)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[],
                              $6::uuid[], $7::uuid[], $8::uuid[], $9::timestamptz[], $10::text[],
                              $11::text[], $12::text[], $13::text[], $14::bigint[],
                              $15::timestamptz[], $16::timestamptz[])
         ON CONFLICT (id) DO UPDATE SET
             status = EXCLUDED.status, task_type = EXCLUDED.task_type,
             hub_id = EXCLUDED.hub_id, robot_id = EXCLUDED.robot_id,
             trip_id = EXCLUDED.trip_id, pilot_id = EXCLUDED.pilot_id,
             assignment_id = EXCLUDED.assignment_id, scheduled_at = EXCLUDED.scheduled_at,
             external_ref = EXCLUDED.external_ref, pause_reason = EXCLUDED.pause_reason,
             cancellation_reason = EXCLUDED.cancellation_reason,
             cancellation_note = EXCLUDED.cancellation_note, version = EXCLUDED.version,
             created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at",
    )
    .bind(id)
    .bind(status)
    .bind(task_type)
    .bind(hub_id)
    .bind(robot_id)
    .bind(trip_id)
    .bind(pilot_id)
    .bind(assignment_id)
    .bind(scheduled_at)
    .bind(external_ref)
    .bind(pause_reason)
    .bind(cancellation_reason)
    .bind(cancellation_note)
    .bind(version)
    .bind(created_at)
    .bind(updated_at)
    .execute(tx)
    .await?;
    Ok(())
}
