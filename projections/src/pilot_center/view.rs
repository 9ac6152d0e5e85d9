use aggregates::pilot::PilotLocation;
use aggregates::pilot_center::{
    PilotCenter, PilotCenterEvent, PilotCenterState, PilotCenterStatus,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::frame::{table, StateProjector, StateView, Table};

table! {
    /// A pilot center as the API shows it: the columns of the `pilot_centers` read model.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct PilotCenterView in "pilot_centers" by (pub id: Uuid) {
        pub name: String,
        pub pilot_location: PilotLocation,
        pub status: PilotCenterStatus,
        pub close_reason: Option<String>,
        /// The stream version: the number of events the pilot center has.
        pub version: u64,
        /// When the first event was recorded.
        pub created_at: DateTime<Utc>,
        /// When the last event was recorded.
        pub updated_at: DateTime<Utc>,
    }
}

impl StateView for PilotCenterView {
    type Aggregate = PilotCenter;
    const NAME: &'static str = "pilot_centers";
    const EVENT_TYPES: &'static [&'static str] = PilotCenterEvent::TYPES;
    const TABLES: &'static [&'static str] = &["pilot_centers"];

    fn version(&self) -> u64 {
        self.version
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn aggregate(&self) -> PilotCenter {
        PilotCenter(Some(PilotCenterState {
            name: self.name.clone(),
            pilot_location: self.pilot_location,
            status: self.status,
            close_reason: self.close_reason.clone(),
        }))
    }

    fn show(
        id: Uuid,
        center: &PilotCenter,
        version: u64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Option<Self> {
        let state = center.state()?;
        Some(Self {
            id,
            name: state.name.clone(),
            pilot_location: state.pilot_location,
            status: state.status,
            close_reason: state.close_reason.clone(),
            version,
            created_at,
            updated_at,
        })
    }
}

/// Keeps `pilot_centers`.
pub type PilotCentersProjector = StateProjector<PilotCenterView>;

impl crate::views::Load for PilotCenterView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}
