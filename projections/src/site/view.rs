use aggregates::site::{LocationEvent, LocationKind, LocationStatus, Site, SiteState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::frame::{table, StateProjector, StateView, Table};

table! {
    /// A location as the API shows it: the columns of the `locations` read model.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct LocationView in "locations" by (pub id: Uuid) {
        pub name: String,
        pub lat: f64,
        pub lng: f64,
        pub kind: LocationKind,
        pub address: Option<String>,
        pub hub_id: Option<Uuid>,
        pub status: LocationStatus,
        /// The stream version: the number of events the location has.
        pub version: u64,
        /// When the first event was recorded.
        pub created_at: DateTime<Utc>,
        /// When the last event was recorded.
        pub updated_at: DateTime<Utc>,
    }
}

impl StateView for LocationView {
    type Aggregate = Site;
    const NAME: &'static str = "locations";
    const EVENT_TYPES: &'static [&'static str] = LocationEvent::TYPES;
    const TABLES: &'static [&'static str] = &["locations"];

    fn version(&self) -> u64 {
        self.version
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn aggregate(&self) -> Site {
        Site(Some(SiteState {
            name: self.name.clone(),
            lat: self.lat,
            lng: self.lng,
            kind: self.kind,
            address: self.address.clone(),
            hub_id: self.hub_id,
            status: self.status,
        }))
    }

    fn show(
        id: Uuid,
        site: &Site,
        version: u64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Option<Self> {
        let state = site.state()?;
        Some(Self {
            id,
            name: state.name.clone(),
            lat: state.lat,
            lng: state.lng,
            kind: state.kind,
            address: state.address.clone(),
            hub_id: state.hub_id,
            status: state.status,
            version,
            created_at,
            updated_at,
        })
    }
}

/// Keeps `locations`.
pub type LocationsProjector = StateProjector<LocationView>;

impl crate::views::Load for LocationView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}
