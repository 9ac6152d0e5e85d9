use aggregates::site::{LocationEvent, LocationKind, LocationStatus, Site, SiteState};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::frame::{table, Batch, Fact, Fold, Inconsistent, Rows, Table};

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

impl LocationView {
    /// The view after `event`, folded with the aggregate's own `apply`.
    fn fold(view: Option<&Self>, fact: &Fact<'_>, event: LocationEvent) -> Option<Self> {
        let mut site = Site(view.map(|v| SiteState {
            name: v.name.clone(),
            lat: v.lat,
            lng: v.lng,
            kind: v.kind,
            address: v.address.clone(),
            hub_id: v.hub_id,
            status: v.status,
        }));
        site.apply(event);
        let state = site.state()?;
        Some(Self {
            id: fact.stream,
            name: state.name.clone(),
            lat: state.lat,
            lng: state.lng,
            kind: state.kind,
            address: state.address.clone(),
            hub_id: state.hub_id,
            status: state.status,
            version: fact.sequence as u64,
            created_at: view.map_or(fact.at, |v| v.created_at),
            updated_at: fact.at,
        })
    }

    /// One location from the read model.
    pub async fn load(pool: &PgPool, id: Uuid) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        Ok(Self::load_many(&mut conn, &[id]).await?.pop())
    }

    /// Locations of the read model by id, in no particular order.
    pub async fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}

/// Keeps `locations`.
pub struct LocationsProjector;

impl Fold for LocationsProjector {
    const NAME: &'static str = "locations";
    const AGGREGATE_TYPE: &'static str = Site::TYPE;
    const EVENT_TYPES: &'static [&'static str] = LocationEvent::TYPES;
    const TABLES: &'static [&'static str] = &["locations"];
    type Batch = Locations;
}

/// The locations a batch touches.
#[derive(Default)]
pub struct Locations {
    pub locations: Rows<LocationView>,
}

#[async_trait]
impl Batch for Locations {
    type Event = LocationEvent;

    fn want(&mut self, fact: &Fact<'_>, _: &LocationEvent) {
        self.locations.want(fact.stream);
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.locations.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: LocationEvent) -> Result<(), Inconsistent> {
        let current = self.locations.peek(&fact.stream);
        if current.is_some_and(|v| v.version as i64 >= fact.sequence) {
            return Err(Inconsistent("the row is already at or past this event"));
        }
        let next = LocationView::fold(current, fact, event)
            .ok_or(Inconsistent("the location was never registered"))?;
        self.locations.put(next);
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.locations.write(conn).await
    }
}
