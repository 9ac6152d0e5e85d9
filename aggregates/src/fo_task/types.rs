use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Location;

seed_enum! {
    /// A field-operations task's status (ours: the seed does not give one).
    pub enum FoTaskStatus {
        Created,
        Assigned,
        InProgress,
        Completed,
        Cancelled,
    }
}

impl FoTaskStatus {
    /// COMPLETED and CANCELLED end a task: it accepts no further command.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

seed_enum! {
    /// A subtask's status.
    pub enum SubtaskStatus {
        Pending,
        InProgress,
        Done,
        Skipped,
    }
}

impl SubtaskStatus {
    /// DONE and SKIPPED subtasks are behind the operator; the first other one is the current.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Skipped)
    }
}

seed_enum! {
    /// What a field-operations task is for.
    pub enum FoTaskKind {
        RobotRescue,
        BatterySwap,
        Maintenance,
        Deployment,
        Retrieval,
        Inspection,
        Other,
    }
}

seed_enum! {
    /// What an action subtask asks the operator to do.
    pub enum FoAction {
        SwapBattery,
        ResetRobot,
        MoveRobot,
        Inspect,
        LoadRobot,
        UnloadRobot,
        Other,
    }
}

seed_enum! {
    /// The two kinds of subtask, as the `kind` field spells them.
    pub enum SubtaskKind {
        Travel,
        Action,
    }
}

/// A subtask as a client describes it and as events carry it:
/// `{"subtask_id", "kind": "TRAVEL", "from", "to"}` or
/// `{"subtask_id", "kind": "ACTION", "action", "location"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubtaskSpec {
    pub subtask_id: Uuid,
    // `deny_unknown_fields` cannot sit on a struct with a flattened field; the detail refuses
    // every field that is neither its own nor `subtask_id`, which the struct took first.
    #[serde(flatten)]
    pub detail: SubtaskDetail,
}

/// What a subtask is, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum SubtaskDetail {
    /// Go from one place to another.
    Travel { from: Location, to: Location },
    /// Do something at a place.
    Action {
        action: FoAction,
        location: Location,
    },
}

impl SubtaskDetail {
    pub fn kind(&self) -> SubtaskKind {
        match self {
            Self::Travel { .. } => SubtaskKind::Travel,
            Self::Action { .. } => SubtaskKind::Action,
        }
    }
}
