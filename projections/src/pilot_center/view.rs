use aggregates::pilot::PilotLocation;
use aggregates::pilot_center::{
    PilotCenter, PilotCenterEvent, PilotCenterState, PilotCenterStatus,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::frame::{table, Batch, Fact, Fold, Inconsistent, Rows, Table};

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

impl PilotCenterView {
    /// The view after `event`, folded with the aggregate's own `apply`.
    fn fold(view: Option<&Self>, fact: &Fact<'_>, event: PilotCenterEvent) -> Option<Self> {
        let mut center = PilotCenter(view.map(|v| PilotCenterState {
            name: v.name.clone(),
            pilot_location: v.pilot_location,
            status: v.status,
            close_reason: v.close_reason.clone(),
        }));
        center.apply(event);
        let state = center.state()?;
        Some(Self {
            id: fact.stream,
            name: state.name.clone(),
            pilot_location: state.pilot_location,
            status: state.status,
            close_reason: state.close_reason.clone(),
            version: fact.sequence as u64,
            created_at: view.map_or(fact.at, |v| v.created_at),
            updated_at: fact.at,
        })
    }

    /// One pilot center from the read model.
    pub async fn load(pool: &PgPool, id: Uuid) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        Ok(Self::load_many(&mut conn, &[id]).await?.pop())
    }

    /// Pilot centers of the read model by id, in no particular order.
    pub async fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}

/// Keeps `pilot_centers`.
pub struct PilotCentersProjector;

impl Fold for PilotCentersProjector {
    const NAME: &'static str = "pilot_centers";
    const AGGREGATE_TYPE: &'static str = PilotCenter::TYPE;
    const EVENT_TYPES: &'static [&'static str] = PilotCenterEvent::TYPES;
    const TABLES: &'static [&'static str] = &["pilot_centers"];
    type Batch = PilotCenters;
}

/// The pilot centers a batch touches.
#[derive(Default)]
pub struct PilotCenters {
    pub centers: Rows<PilotCenterView>,
}

#[async_trait]
impl Batch for PilotCenters {
    type Event = PilotCenterEvent;

    fn want(&mut self, fact: &Fact<'_>, _: &PilotCenterEvent) {
        self.centers.want(fact.stream);
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.centers.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: PilotCenterEvent) -> Result<(), Inconsistent> {
        let current = self.centers.peek(&fact.stream);
        if current.is_some_and(|v| v.version as i64 >= fact.sequence) {
            return Err(Inconsistent("the row is already at or past this event"));
        }
        let next = PilotCenterView::fold(current, fact, event)
            .ok_or(Inconsistent("the pilot center was never registered"))?;
        self.centers.put(next);
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.centers.write(conn).await
    }
}
