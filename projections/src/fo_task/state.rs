use aggregates::Label;
use std::collections::{HashMap, HashSet};

use aggregates::fo_task::{
    FoTask, FoTaskEvent, FoTaskStatus, SubtaskDetail, SubtaskSpec, SubtaskStatus,
};
use aggregates::Location;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::task::{enum_text, enum_value};
use crate::{ProjectionError, Projector, StoredEvent};

/// Keeps `fo_tasks`, `fo_subtasks` and `fo_assignments`. A batch is applied in memory: the
/// rows it touches are read in one statement per table, every event is folded into them in
/// order, and the changes are written back in one multi-row statement per table and kind of
/// change.
///
/// Per stream, the feed is in sequence order: an event at or below its row's version, or a
/// second creation, stops the projector (`Inconsistent`, with the event's position) rather than
/// being applied twice.
pub struct FoTasksProjector;

#[async_trait]
impl Projector for FoTasksProjector {
    fn name(&self) -> &'static str {
        "fo_tasks"
    }

    fn event_types(&self) -> &'static [&'static str] {
        FoTaskEvent::TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &["fo_tasks", "fo_subtasks", "fo_assignments"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let mut decoded = Vec::with_capacity(events.len());
        let (mut task_ids, mut subtask_keys, mut assignment_keys) = (vec![], vec![], vec![]);
        for event in events.iter().filter(|e| e.aggregate_type == FoTask::TYPE) {
            let task_id = event.stream_uuid()?;
            let payload: FoTaskEvent = event.decode()?;
            task_ids.push(task_id);
            if let Some((subtask_id, ..)) = payload.subtask_status_change() {
                subtask_keys.push((task_id, subtask_id));
            }
            if let FoTaskEvent::FoUnassigned { assignment_id, .. } = &payload {
                assignment_keys.push((task_id, *assignment_id));
            }
            decoded.push((event, task_id, payload));
        }
        let mut batch = Batch {
            tasks: TaskRow::load_many(tx, &task_ids).await?,
            stored_subtasks: stored_skip_reasons(tx, &subtask_keys).await?,
            stored_assignments: stored_assignments(tx, &assignment_keys).await?,
            changed_tasks: HashSet::new(),
            new_subtasks: Vec::new(),
            subtask_changes: HashMap::new(),
            new_assignments: Vec::new(),
            unassigned: HashMap::new(),
        };
        for (event, task_id, payload) in decoded {
            batch.apply(event, task_id, payload)?;
        }
        batch.write(tx).await?;
        Ok(())
    }
}

/// A stored subtask's new status, skip reason and time.
type SubtaskChange = (SubtaskStatus, Option<String>, DateTime<Utc>);

/// What a batch changes, as it is after each event.
struct Batch {
    tasks: HashMap<Uuid, TaskRow>,
    /// Stored subtasks the batch changes, with their skip reasons.
    stored_subtasks: HashMap<(Uuid, Uuid), Option<String>>,
    /// Stored assignments the batch ends.
    stored_assignments: HashSet<(Uuid, Uuid)>,
    changed_tasks: HashSet<Uuid>,
    new_subtasks: Vec<NewSubtask>,
    /// Status, skip reason and time of stored subtasks the batch changed.
    subtask_changes: HashMap<(Uuid, Uuid), SubtaskChange>,
    new_assignments: Vec<NewAssignment>,
    /// When and why stored assignments ended.
    unassigned: HashMap<(Uuid, Uuid), (DateTime<Utc>, Option<String>)>,
}

impl Batch {
    fn apply(
        &mut self,
        event: &StoredEvent,
        task_id: Uuid,
        payload: FoTaskEvent,
    ) -> Result<(), ProjectionError> {
        let at = event.recorded_at;
        let inconsistent = |reason: &str| ProjectionError::Inconsistent {
            position: event.at.position,
            reason: reason.to_string(),
        };
        if let FoTaskEvent::FoTaskCreated {
            hub_id,
            kind,
            robot_id,
            trip_id,
            subtasks,
        } = payload
        {
            if self.tasks.contains_key(&task_id) {
                return Err(inconsistent("the field-operations task already exists"));
            }
            self.tasks.insert(
                task_id,
                TaskRow {
                    id: task_id,
                    hub_id,
                    kind: enum_text(&kind),
                    status: FoTaskStatus::Created,
                    robot_id,
                    trip_id,
                    cancellation_reason: None,
                    version: event.sequence,
                    created_at: at,
                    updated_at: at,
                },
            );
            self.changed_tasks.insert(task_id);
            for (position, spec) in subtasks.into_iter().enumerate() {
                self.new_subtasks
                    .push(NewSubtask::new(task_id, position as u32, spec, at));
            }
            return Ok(());
        }
        // Every later event moves the task's version, and its status if it changes it.
        let task = self
            .tasks
            .get_mut(&task_id)
            .ok_or_else(|| inconsistent("the field-operations task was never created"))?;
        if task.version >= event.sequence {
            return Err(inconsistent("the row is already at or past this event"));
        }
        task.version = event.sequence;
        task.updated_at = at;
        if let Some((_, to)) = payload.task_status_change() {
            task.status = to;
        }
        self.changed_tasks.insert(task_id);
        if let Some((subtask_id, _, status)) = payload.subtask_status_change() {
            let skip_reason = match &payload {
                FoTaskEvent::FoSubtaskSkipped { reason, .. } => Some(reason.clone()),
                _ => None,
            };
            let key = (task_id, subtask_id);
            if let Some(new) =
                (self.new_subtasks.iter_mut()).find(|s| (s.fo_task_id, s.spec.subtask_id) == key)
            {
                new.status = status;
                new.skip_reason = skip_reason.or(new.skip_reason.take());
                new.updated_at = at;
            } else if let Some(stored) = self.stored_subtasks.get(&key) {
                let previous = match self.subtask_changes.get(&key) {
                    Some((_, reason, _)) => reason.clone(),
                    None => stored.clone(),
                };
                self.subtask_changes
                    .insert(key, (status, skip_reason.or(previous), at));
            } else {
                return Err(inconsistent("the subtask was never added"));
            }
        }
        match payload {
            FoTaskEvent::FoSubtaskAdded { subtask, position } => {
                self.new_subtasks
                    .push(NewSubtask::new(task_id, position, subtask, at));
            }
            FoTaskEvent::FoAssigned {
                assignment_id,
                fo_id,
                ..
            } => self.new_assignments.push(NewAssignment {
                assignment_id,
                fo_task_id: task_id,
                sequence: event.sequence,
                fo_id,
                assigned_at: at,
                unassigned: None,
            }),
            FoTaskEvent::FoUnassigned {
                assignment_id,
                reason,
                ..
            } => {
                let key = (task_id, assignment_id);
                if let Some(new) = (self.new_assignments.iter_mut())
                    .find(|a| (a.fo_task_id, a.assignment_id) == key)
                {
                    new.unassigned = Some((at, reason));
                } else if self.stored_assignments.contains(&key) {
                    self.unassigned.insert(key, (at, reason));
                } else {
                    return Err(inconsistent("the assignment was never made"));
                }
            }
            FoTaskEvent::FoTaskCancelled { reason, .. } => task.cancellation_reason = Some(reason),
            FoTaskEvent::FoTaskCreated { .. }
            | FoTaskEvent::FoTaskStarted { .. }
            | FoTaskEvent::FoSubtaskStarted { .. }
            | FoTaskEvent::FoSubtaskCompleted { .. }
            | FoTaskEvent::FoSubtaskSkipped { .. }
            | FoTaskEvent::FoTaskCompleted { .. } => {}
        }
        Ok(())
    }

    async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let tasks: Vec<_> = (self.changed_tasks.iter())
            .filter_map(|id| self.tasks.get(id))
            .collect();
        TaskRow::upsert(tx, &tasks).await?;
        NewSubtask::insert(tx, &self.new_subtasks).await?;
        if !self.subtask_changes.is_empty() {
            let changes: Vec<_> = self.subtask_changes.into_iter().collect();
            sqlx::query(
                "UPDATE fo_subtasks s
                    SET status = c.status, skip_reason = c.skip_reason, updated_at = c.updated_at
                   FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
                        AS c(fo_task_id, subtask_id, status, skip_reason, updated_at)
                  WHERE s.fo_task_id = c.fo_task_id AND s.subtask_id = c.subtask_id",
            )
            .bind(changes.iter().map(|((t, _), _)| *t).collect::<Vec<_>>())
            .bind(changes.iter().map(|((_, s), _)| *s).collect::<Vec<_>>())
            .bind(
                changes
                    .iter()
                    .map(|(_, (st, ..))| st.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                changes
                    .iter()
                    .map(|(_, (_, r, _))| r.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(changes.iter().map(|(_, (.., at))| *at).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        NewAssignment::insert(tx, &self.new_assignments).await?;
        if !self.unassigned.is_empty() {
            let ended: Vec<_> = self.unassigned.into_iter().collect();
            sqlx::query(
                "UPDATE fo_assignments a
                    SET active = false, unassigned_at = e.at, unassign_reason = e.reason
                   FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[])
                        AS e(fo_task_id, assignment_id, at, reason)
                  WHERE a.fo_task_id = e.fo_task_id AND a.assignment_id = e.assignment_id",
            )
            .bind(ended.iter().map(|((t, _), _)| *t).collect::<Vec<_>>())
            .bind(ended.iter().map(|((_, a), _)| *a).collect::<Vec<_>>())
            .bind(ended.iter().map(|(_, (at, _))| *at).collect::<Vec<_>>())
            .bind(
                ended
                    .iter()
                    .map(|(_, (_, r))| r.as_deref())
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// Stored subtasks among `keys`, with their skip reasons.
async fn stored_skip_reasons(
    tx: &mut PgConnection,
    keys: &[(Uuid, Uuid)],
) -> Result<HashMap<(Uuid, Uuid), Option<String>>, sqlx::Error> {
    let (tasks, subtasks): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    let rows = sqlx::query(
        "SELECT s.fo_task_id, s.subtask_id, s.skip_reason
           FROM fo_subtasks s
           JOIN UNNEST($1::uuid[], $2::uuid[]) AS k(fo_task_id, subtask_id)
             ON s.fo_task_id = k.fo_task_id AND s.subtask_id = k.subtask_id",
    )
    .bind(tasks)
    .bind(subtasks)
    .fetch_all(tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                (row.try_get("fo_task_id")?, row.try_get("subtask_id")?),
                row.try_get("skip_reason")?,
            ))
        })
        .collect()
}

/// Stored assignments among `keys`.
async fn stored_assignments(
    tx: &mut PgConnection,
    keys: &[(Uuid, Uuid)],
) -> Result<HashSet<(Uuid, Uuid)>, sqlx::Error> {
    let (tasks, assignments): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    let rows = sqlx::query(
        "SELECT a.fo_task_id, a.assignment_id
           FROM fo_assignments a
           JOIN UNNEST($1::uuid[], $2::uuid[]) AS k(fo_task_id, assignment_id)
             ON a.fo_task_id = k.fo_task_id AND a.assignment_id = k.assignment_id",
    )
    .bind(tasks)
    .bind(assignments)
    .fetch_all(tx)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("fo_task_id")?, row.try_get("assignment_id")?)))
        .collect()
}

/// A row of `fo_tasks`.
struct TaskRow {
    id: Uuid,
    hub_id: Uuid,
    kind: String,
    status: FoTaskStatus,
    robot_id: Option<Uuid>,
    trip_id: Option<Uuid>,
    cancellation_reason: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TaskRow {
    async fn load_many(
        tx: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Self>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, hub_id, kind, status, robot_id, trip_id, cancellation_reason, version,
                    created_at, updated_at
               FROM fo_tasks WHERE id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(tx)
        .await?;
        rows.iter()
            .map(|row| {
                let task = Self {
                    id: row.try_get("id")?,
                    hub_id: row.try_get("hub_id")?,
                    kind: row.try_get("kind")?,
                    status: enum_value(row, "status")?,
                    robot_id: row.try_get("robot_id")?,
                    trip_id: row.try_get("trip_id")?,
                    cancellation_reason: row.try_get("cancellation_reason")?,
                    version: row.try_get("version")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                };
                Ok((task.id, task))
            })
            .collect()
    }

    async fn upsert(tx: &mut PgConnection, rows: &[&Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO fo_tasks (id, hub_id, kind, status, robot_id, trip_id,
                                   cancellation_reason, version, created_at, updated_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[],
                                  $6::uuid[], $7::text[], $8::bigint[], $9::timestamptz[],
                                  $10::timestamptz[])
             ON CONFLICT (id) DO UPDATE SET
                 hub_id = EXCLUDED.hub_id, kind = EXCLUDED.kind, status = EXCLUDED.status,
                 robot_id = EXCLUDED.robot_id, trip_id = EXCLUDED.trip_id,
                 cancellation_reason = EXCLUDED.cancellation_reason,
                 version = EXCLUDED.version, created_at = EXCLUDED.created_at,
                 updated_at = EXCLUDED.updated_at",
        )
        .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.hub_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.robot_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.trip_id).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.cancellation_reason.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// A subtask the batch adds, with what later events of the batch did to it.
struct NewSubtask {
    fo_task_id: Uuid,
    position: u32,
    spec: SubtaskSpec,
    status: SubtaskStatus,
    skip_reason: Option<String>,
    updated_at: DateTime<Utc>,
}

impl NewSubtask {
    fn new(fo_task_id: Uuid, position: u32, spec: SubtaskSpec, at: DateTime<Utc>) -> Self {
        Self {
            fo_task_id,
            position,
            spec,
            status: SubtaskStatus::Pending,
            skip_reason: None,
            updated_at: at,
        }
    }

    async fn insert(tx: &mut PgConnection, rows: &[Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        // The travel's ends, the action's place: each `None` where the detail has none.
        let place = |r: &Self, which: u8| -> Option<Location> {
            match (&r.spec.detail, which) {
                (SubtaskDetail::Travel { from, .. }, 0) => Some(from.clone()),
                (SubtaskDetail::Travel { to, .. }, 1) => Some(to.clone()),
                (SubtaskDetail::Action { location, .. }, 2) => Some(location.clone()),
                _ => None,
            }
        };
        let places: [Vec<Option<Location>>; 3] =
            [0, 1, 2].map(|which| rows.iter().map(|r| place(r, which)).collect());
        let lat = |p: &[Option<Location>]| p.iter().map(|l| l.as_ref().map(|l| l.lat)).collect();
        let lng = |p: &[Option<Location>]| p.iter().map(|l| l.as_ref().map(|l| l.lng)).collect();
        let name = |p: &[Option<Location>]| {
            p.iter()
                .map(|l| l.as_ref().and_then(|l| l.name.clone()))
                .collect()
        };
        let id = |p: &[Option<Location>]| {
            p.iter()
                .map(|l| l.as_ref().and_then(|l| l.location_id))
                .collect()
        };
        let mut query = sqlx::query(
            "INSERT INTO fo_subtasks (subtask_id, fo_task_id, position, kind, status, skip_reason,
                                      updated_at, action,
                                      from_lat, from_lng, from_name, from_location_id,
                                      to_lat, to_lng, to_name, to_location_id,
                                      location_lat, location_lng, location_name, location_id)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[],
                                  $6::text[], $7::timestamptz[], $8::text[],
                                  $9::float8[], $10::float8[], $11::text[], $12::uuid[],
                                  $13::float8[], $14::float8[], $15::text[], $16::uuid[],
                                  $17::float8[], $18::float8[], $19::text[], $20::uuid[])",
        )
        .bind(rows.iter().map(|r| r.spec.subtask_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.fo_task_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.position as i32).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| enum_text(&r.spec.detail.kind()))
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.skip_reason.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| match &r.spec.detail {
                    SubtaskDetail::Action { action, .. } => Some(enum_text(action)),
                    SubtaskDetail::Travel { .. } => None,
                })
                .collect::<Vec<_>>(),
        );
        for place in &places {
            let (lats, lngs, names, ids): (Vec<_>, Vec<_>, Vec<_>, Vec<_>) =
                (lat(place), lng(place), name(place), id(place));
            query = query.bind(lats).bind(lngs).bind(names).bind(ids);
        }
        query.execute(tx).await?;
        Ok(())
    }
}

/// An assignment the batch makes, and its end if the batch ends it too.
struct NewAssignment {
    assignment_id: Uuid,
    fo_task_id: Uuid,
    sequence: i64,
    fo_id: Uuid,
    assigned_at: DateTime<Utc>,
    unassigned: Option<(DateTime<Utc>, Option<String>)>,
}

impl NewAssignment {
    async fn insert(tx: &mut PgConnection, rows: &[Self]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO fo_assignments (assignment_id, fo_task_id, sequence, fo_id, active,
                                         assigned_at, unassigned_at, unassign_reason)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::bool[],
                                  $6::timestamptz[], $7::timestamptz[], $8::text[])",
        )
        .bind(rows.iter().map(|r| r.assignment_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.fo_task_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.sequence).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.fo_id).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.unassigned.is_none())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.assigned_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.unassigned.as_ref().map(|u| u.0))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.unassigned.as_ref().and_then(|u| u.1.as_deref()))
                .collect::<Vec<_>>(),
        )
        .execute(tx)
        .await?;
        Ok(())
    }
}
