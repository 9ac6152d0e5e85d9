use serde::Deserialize;
use uuid::Uuid;

use super::{AssistanceKind, AssistanceOutcome, TripType};
use crate::task::CancellationReason;
use crate::{CommandNames, Location, Note};

/// Commands on a trip, deserialized from `{"<CommandName>": {...fields}}` (the HTTP layer moves
/// the body's `"type"` there, which keeps the path of a bad field in serde's errors). Unknown
/// fields are refused, so that a misspelt optional field is an error rather than dropped.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum TripCommand {
    PlanTrip {
        task_id: Uuid,
        robot_id: Uuid,
        trip_type: TripType,
        origin: Location,
        destination: Location,
    },
    MarkReadyToDepart {},
    DepartTrip {},
    ArriveAtStop {
        #[serde(default)]
        location: Option<Location>,
    },
    CompleteTrip {},
    CancelTrip {
        reason: CancellationReason,
        #[serde(default)]
        note: Option<Note>,
    },
    RecordRoute {
        route_id: Uuid,
        distance_m: f64,
        duration_s: f64,
        #[serde(default)]
        polyline: Option<String>,
    },
    RequestFoAssistance {
        request_id: Uuid,
        kind: AssistanceKind,
        #[serde(default)]
        note: Option<Note>,
    },
    AcknowledgeFoAssistance {
        request_id: Uuid,
        #[serde(default)]
        fo_id: Option<Uuid>,
    },
    ResolveFoAssistance {
        request_id: Uuid,
        outcome: AssistanceOutcome,
        #[serde(default)]
        note: Option<Note>,
    },
}

impl CommandNames for TripCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::PlanTrip { .. })
    }
}
