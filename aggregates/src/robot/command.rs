use serde::Deserialize;
use uuid::Uuid;

use super::{GroundingReason, SerialNumber};
use crate::{CommandNames, Name, Note};

/// Commands on a robot, deserialized from `{"<CommandName>": {...fields}}`, unknown fields
/// refused. The last two are the trip's (recorded with its departure and its stops), never a
/// client's.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum RobotCommand {
    RegisterRobot {
        serial_number: SerialNumber,
        hub_id: Uuid,
        #[serde(default)]
        model: Option<Name>,
    },
    DeployRobot {
        deployment_id: Uuid,
        hub_id: Uuid,
    },
    EndDeployment {
        deployment_id: Uuid,
        #[serde(default)]
        reason: Option<Note>,
    },
    GroundRobot {
        reason: GroundingReason,
        #[serde(default)]
        note: Option<Note>,
    },
    ReleaseRobot {
        #[serde(default)]
        note: Option<Note>,
    },
    CheckInRobot {
        hub_id: Uuid,
    },
    CheckOutRobot {
        hub_id: Uuid,
    },
    RetireRobot {
        reason: Note,
    },
    /// The robot's trip departs (with `TripDeparted`).
    #[serde(skip)]
    RecordRobotWentOnTrip {
        trip_id: Uuid,
    },
    /// The robot's trip stops (`trip_ended` false: the robot stays the trip's) or completes or
    /// is cancelled (`trip_ended` true: the robot is free for another).
    #[serde(skip)]
    RecordRobotParked {
        trip_id: Uuid,
        trip_ended: bool,
    },
}

impl CommandNames for RobotCommand {
    const INTERNAL: usize = 2;

    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::RegisterRobot { .. })
    }
}
