use aggregates::robot::{Deployment, GroundingReason, Robot, RobotEvent, RobotState, RobotStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::frame::{table, Table};

table! {
    /// A robot as the API shows it: the columns of the `robots` read model.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct RobotView in "robots" by (pub id: Uuid) {
        pub serial_number: String,
        /// The hub it was registered at.
        pub hub_id: Uuid,
        pub model: Option<String>,
        pub status: RobotStatus,
        /// Its open deployment (DEPLOYED, ON_TRIP, PARKED) and where.
        pub deployment_id: Option<Uuid>,
        pub deployment_hub_id: Option<Uuid>,
        /// The trip it is on (ON_TRIP) or last parked for (PARKED).
        pub trip_id: Option<Uuid>,
        /// The hub it is checked in at.
        pub checked_in_hub_id: Option<Uuid>,
        pub grounding_reason: Option<GroundingReason>,
        /// The stream version: the number of events the robot has.
        pub version: u64,
        /// When the first event was recorded.
        pub created_at: DateTime<Utc>,
        /// When the last event was recorded.
        pub updated_at: DateTime<Utc>,
    }
}

table! {
    /// A deployment of a robot (seed `RobotDeployment`): the columns of `robot_deployments`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct DeploymentView in "robot_deployments" by (
        pub robot_id: Uuid,
        pub deployment_id: Uuid,
    ) {
        pub hub_id: Uuid,
        pub started_at: DateTime<Utc>,
        pub ended_at: Option<DateTime<Utc>>,
        /// The event that ended it: `RobotDeploymentEnded` or `RobotGrounded`.
        pub ended_by: Option<String>,
        pub end_reason: Option<String>,
    }
}

impl RobotView {
    /// The view after `event`, the `sequence`-th of the stream, recorded at `recorded_at`,
    /// folded with the aggregate's own `evolve` (`Aggregate::apply`). `None` when the event does
    /// not apply to this (absent) view.
    pub fn fold(
        view: Option<&RobotView>,
        id: Uuid,
        event: RobotEvent,
        sequence: i64,
        recorded_at: DateTime<Utc>,
    ) -> Option<RobotView> {
        use cqrs_es::Aggregate;
        let mut robot = Robot(view.map(RobotView::state));
        robot.apply(event);
        let state = robot.state()?;
        Some(Self {
            id,
            serial_number: state.serial_number.clone(),
            hub_id: state.hub_id,
            model: state.model.clone(),
            status: state.status,
            deployment_id: state.deployment.map(|d| d.deployment_id),
            deployment_hub_id: state.deployment.map(|d| d.hub_id),
            trip_id: state.trip_id,
            checked_in_hub_id: state.checked_in_at,
            grounding_reason: state.grounding,
            version: sequence as u64,
            created_at: view.map_or(recorded_at, |v| v.created_at),
            updated_at: recorded_at,
        })
    }

    fn state(&self) -> RobotState {
        RobotState {
            serial_number: self.serial_number.clone(),
            hub_id: self.hub_id,
            model: self.model.clone(),
            status: self.status,
            deployment: (self.deployment_id.zip(self.deployment_hub_id)).map(
                |(deployment_id, hub_id)| Deployment {
                    deployment_id,
                    hub_id,
                },
            ),
            trip_id: self.trip_id,
            checked_in_at: self.checked_in_hub_id,
            grounding: self.grounding_reason,
        }
    }
}

impl crate::views::Load for RobotView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}
