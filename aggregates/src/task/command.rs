use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{CancellationReason, TaskType};
use crate::{CommandNames, ExternalRef, Note};

/// Commands on a task, deserialized from `{"<CommandName>": {...fields}}` (the HTTP layer moves
/// the body's `"type"` there, which keeps the path of a bad field in serde's errors). Unknown
/// fields are refused, so that a misspelt optional field is an error rather than dropped.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum TaskCommand {
    CreateTask {
        task_type: TaskType,
        hub_id: Uuid,
        #[serde(default)]
        robot_id: Option<Uuid>,
        #[serde(default)]
        scheduled_at: Option<DateTime<Utc>>,
        #[serde(default)]
        external_ref: Option<ExternalRef>,
    },
    MarkTaskPending {},
    StartTask {},
    PauseTask {
        #[serde(default)]
        reason: Option<Note>,
    },
    ResumeTask {},
    MarkTaskArrived {},
    CompleteTask {},
    CancelTask {
        reason: CancellationReason,
        #[serde(default)]
        note: Option<Note>,
    },
    AttachTrip {
        trip_id: Uuid,
    },
    AssignRobot {
        robot_id: Uuid,
    },
    /// Issued by the assignment process when a pilot accepted this task; not an HTTP command.
    #[serde(skip)]
    RecordPilotAssigned {
        pilot_id: Uuid,
        assignment_id: Uuid,
    },
    /// Issued by the assignment process when the pilot's assignment ended first.
    #[serde(skip)]
    RecordPilotUnassigned {
        pilot_id: Uuid,
        assignment_id: Uuid,
        reason: Option<Note>,
    },
}

impl CommandNames for TaskCommand {
    /// The last two, `RecordPilot*`, are the assignment process's.
    const INTERNAL: usize = 2;

    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::CreateTask { .. })
    }
}
