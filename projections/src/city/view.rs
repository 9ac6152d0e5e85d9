use aggregates::city::{City, CityEvent, CityState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::frame::{table, StateProjector, StateView, Table};

table! {
    /// A city as the API shows it: the columns of the `cities` read model.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct CityView in "cities" by (pub id: Uuid) {
        pub name: String,
        /// ISO 3166-1 alpha-2.
        pub country_code: String,
        /// IANA time zone.
        pub timezone: String,
        /// The stream version: the number of events the city has.
        pub version: u64,
        /// When the first event was recorded.
        pub created_at: DateTime<Utc>,
        /// When the last event was recorded.
        pub updated_at: DateTime<Utc>,
    }
}

impl StateView for CityView {
    type Aggregate = City;
    const NAME: &'static str = "cities";
    const EVENT_TYPES: &'static [&'static str] = CityEvent::TYPES;
    const TABLES: &'static [&'static str] = &["cities"];

    fn version(&self) -> u64 {
        self.version
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn aggregate(&self) -> City {
        City(Some(CityState {
            name: self.name.clone(),
            country_code: self.country_code.clone(),
            timezone: self.timezone.clone(),
        }))
    }

    fn show(
        id: Uuid,
        city: &City,
        version: u64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Option<Self> {
        let state = city.state()?;
        Some(Self {
            id,
            name: state.name.clone(),
            country_code: state.country_code.clone(),
            timezone: state.timezone.clone(),
            version,
            created_at,
            updated_at,
        })
    }
}

/// Keeps `cities`.
pub type CitiesProjector = StateProjector<CityView>;

impl crate::views::Load for CityView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}
