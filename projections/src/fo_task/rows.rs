//! The field-operations read models' tables, each declared once.

use aggregates::fo_task::{
    FoAction, FoTaskKind, FoTaskStatus, SubtaskDetail, SubtaskKind, SubtaskSpec, SubtaskStatus,
};
use aggregates::Location;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::frame::{table, versioned};

table! {
    /// A row of `fo_tasks`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct FoTaskRow in "fo_tasks" by (pub id: Uuid) {
        pub hub_id: Uuid,
        pub kind: FoTaskKind,
        pub status: FoTaskStatus,
        pub robot_id: Option<Uuid>,
        pub trip_id: Option<Uuid>,
        pub cancellation_reason: Option<String>,
        pub version: i64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

versioned!(FoTaskRow);

table! {
    /// A row of `fo_subtasks`: a travel's two ends, or an action and its place, flattened.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct SubtaskRow in "fo_subtasks" by (
        pub fo_task_id: Uuid,
        pub subtask_id: Uuid,
    ) {
        pub position: i32,
        pub kind: SubtaskKind,
        pub status: SubtaskStatus,
        pub from_lat: Option<f64>,
        pub from_lng: Option<f64>,
        pub from_name: Option<String>,
        pub from_location_id: Option<Uuid>,
        pub to_lat: Option<f64>,
        pub to_lng: Option<f64>,
        pub to_name: Option<String>,
        pub to_location_id: Option<Uuid>,
        pub action: Option<FoAction>,
        pub location_lat: Option<f64>,
        pub location_lng: Option<f64>,
        pub location_name: Option<String>,
        pub location_id: Option<Uuid>,
        pub skip_reason: Option<String>,
        pub updated_at: DateTime<Utc>,
    }
}

/// A place's four columns.
type Place = (Option<f64>, Option<f64>, Option<String>, Option<Uuid>);

fn columns(location: Option<Location>) -> Place {
    match location {
        Some(l) => (Some(l.lat), Some(l.lng), l.name, l.location_id),
        None => (None, None, None, None),
    }
}

fn place((lat, lng, name, location_id): Place, what: &str) -> Result<Location, sqlx::Error> {
    let missing = || sqlx::Error::Decode(format!("a subtask has no {what}").into());
    Ok(Location {
        lat: lat.ok_or_else(missing)?,
        lng: lng.ok_or_else(missing)?,
        name,
        location_id,
    })
}

impl SubtaskRow {
    /// A subtask as added, PENDING.
    pub fn new(fo_task_id: Uuid, position: u32, spec: SubtaskSpec, at: DateTime<Utc>) -> Self {
        let kind = spec.detail.kind();
        let (from, to, action, location) = match spec.detail {
            SubtaskDetail::Travel { from, to } => (Some(from), Some(to), None, None),
            SubtaskDetail::Action { action, location } => {
                (None, None, Some(action), Some(location))
            }
        };
        let (from_lat, from_lng, from_name, from_location_id) = columns(from);
        let (to_lat, to_lng, to_name, to_location_id) = columns(to);
        let (location_lat, location_lng, location_name, location_id) = columns(location);
        Self {
            fo_task_id,
            subtask_id: spec.subtask_id,
            position: position as i32,
            kind,
            status: SubtaskStatus::Pending,
            from_lat,
            from_lng,
            from_name,
            from_location_id,
            to_lat,
            to_lng,
            to_name,
            to_location_id,
            action,
            location_lat,
            location_lng,
            location_name,
            location_id,
            skip_reason: None,
            updated_at: at,
        }
    }

    /// The subtask's detail, as a client gave it.
    pub fn detail(&self) -> Result<SubtaskDetail, sqlx::Error> {
        Ok(match (self.kind, self.action) {
            (SubtaskKind::Action, Some(action)) => SubtaskDetail::Action {
                action,
                location: place(
                    (
                        self.location_lat,
                        self.location_lng,
                        self.location_name.clone(),
                        self.location_id,
                    ),
                    "location",
                )?,
            },
            (SubtaskKind::Action, None) => {
                return Err(sqlx::Error::Decode(
                    "an action subtask has no action".into(),
                ))
            }
            (SubtaskKind::Travel, _) => SubtaskDetail::Travel {
                from: place(
                    (
                        self.from_lat,
                        self.from_lng,
                        self.from_name.clone(),
                        self.from_location_id,
                    ),
                    "origin",
                )?,
                to: place(
                    (
                        self.to_lat,
                        self.to_lng,
                        self.to_name.clone(),
                        self.to_location_id,
                    ),
                    "destination",
                )?,
            },
        })
    }
}

table! {
    /// A row of `fo_assignments`: every operator ever put on a task, active until unassigned.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct AssignmentRow in "fo_assignments" by (
        pub fo_task_id: Uuid,
        pub assignment_id: Uuid,
    ) {
        pub sequence: i64,
        pub fo_id: Uuid,
        pub active: bool,
        pub assigned_at: DateTime<Utc>,
        pub unassigned_at: Option<DateTime<Utc>>,
        pub unassign_reason: Option<String>,
    }
}
