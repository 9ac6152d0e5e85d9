use serde::Deserialize;
use uuid::Uuid;

use super::{FoTaskKind, SubtaskSpec};
use crate::{CommandNames, Note};

/// Commands on a field-operations task, deserialized from `{"<CommandName>": {...fields}}` (the
/// HTTP layer moves the body's `"type"` there). Unknown fields are refused, so that a misspelt
/// optional field is an error rather than dropped.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum FoTaskCommand {
    CreateFoTask {
        hub_id: Uuid,
        kind: FoTaskKind,
        #[serde(default)]
        robot_id: Option<Uuid>,
        #[serde(default)]
        trip_id: Option<Uuid>,
        #[serde(default)]
        subtasks: Vec<SubtaskSpec>,
    },
    AddSubtask {
        subtask: SubtaskSpec,
    },
    AssignFieldOperator {
        assignment_id: Uuid,
        fo_id: Uuid,
    },
    UnassignFieldOperator {
        assignment_id: Uuid,
        #[serde(default)]
        reason: Option<Note>,
    },
    StartFoTask {},
    StartSubtask {
        subtask_id: Uuid,
    },
    CompleteSubtask {
        subtask_id: Uuid,
    },
    SkipSubtask {
        subtask_id: Uuid,
        reason: Note,
    },
    CompleteFoTask {},
    CancelFoTask {
        reason: Note,
    },
}

impl CommandNames for FoTaskCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::CreateFoTask { .. })
    }
}
