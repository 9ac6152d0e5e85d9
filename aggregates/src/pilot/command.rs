use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{PilotLocation, ShiftStatus};
use crate::{CommandNames, Note};

/// Commands on a pilot, deserialized from `{"<CommandName>": {...fields}}` (see `TaskCommand`).
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum PilotCommand {
    RegisterPilot {
        #[serde(default)]
        user_id: Option<Uuid>,
        #[serde(default)]
        pilot_location: Option<PilotLocation>,
        #[serde(default)]
        pilot_center_id: Option<Uuid>,
    },
    UpdatePilotProfile {
        #[serde(default)]
        pilot_location: Option<PilotLocation>,
        #[serde(default)]
        pilot_center_id: Option<Uuid>,
    },
    /// `reason`: why the pilot goes (left the company, account merged...), for the audit.
    ArchivePilot {
        #[serde(default)]
        reason: Option<Note>,
    },
    StartShift {
        shift_id: Uuid,
    },
    ChangeShiftState {
        state: ShiftStatus,
    },
    EndShift {},
    RequestAssignment {
        assignment_id: Uuid,
        task_id: Uuid,
    },
    AcceptAssignment {
        assignment_id: Uuid,
    },
    RejectAssignment {
        assignment_id: Uuid,
        #[serde(default)]
        reason: Option<Note>,
    },
    AbandonAssignment {
        assignment_id: Uuid,
        #[serde(default)]
        reason: Option<Note>,
    },
    CancelAssignment {
        assignment_id: Uuid,
        #[serde(default)]
        reason: Option<Note>,
    },
    RevokeAssignment {
        assignment_id: Uuid,
        #[serde(default)]
        reason: Option<Note>,
    },
    MarkAssignmentStale {
        assignment_id: Uuid,
    },
    FinishAssignment {
        assignment_id: Uuid,
    },
    ReservePilot {
        reservation_id: Uuid,
        #[serde(default)]
        task_id: Option<Uuid>,
        until: DateTime<Utc>,
    },
    ReleaseReservation {
        reservation_id: Uuid,
    },
    ExpireReservation {
        reservation_id: Uuid,
    },
}

impl CommandNames for PilotCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::RegisterPilot { .. })
    }
}
