use std::collections::BTreeMap;

use aggregates::hub::{Hub, HubEvent, HubState, HubStatus, PartnerKind};
use aggregates::Location;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::frame::{table, Batch, Fact, Fold, Inconsistent, Rows, Table};

table! {
    /// A hub as the API shows it: the columns of the `hubs` read model.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct HubView in "hubs" by (pub id: Uuid) {
        pub name: String,
        pub city_id: Uuid,
        pub lat: f64,
        pub lng: f64,
        /// The name its location was given, if any.
        pub location_name: Option<String>,
        /// The known location (`/v1/locations`) it stands at, if named.
        pub location_id: Option<Uuid>,
        /// Its own IANA zone when it differs from its city's.
        pub timezone: Option<String>,
        pub status: HubStatus,
        /// Why it was closed (CLOSED).
        pub close_reason: Option<String>,
        /// How many partners it serves now (`hub_partners`).
        pub partner_count: i64,
        /// The stream version: the number of events the hub has.
        pub version: u64,
        /// When the first event was recorded.
        pub created_at: DateTime<Utc>,
        /// When the last event was recorded.
        pub updated_at: DateTime<Utc>,
    }
}

table! {
    /// A partner a hub serves (seed `HubPartner`): the columns of `hub_partners`. A removed
    /// partner keeps its row, with `removed_at`; added again, the row is its again.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct HubPartnerView in "hub_partners" by (pub hub_id: Uuid, pub partner_id: Uuid) {
        pub name: String,
        pub kind: PartnerKind,
        pub added_at: DateTime<Utc>,
        pub removed_at: Option<DateTime<Utc>>,
    }
}

impl HubView {
    /// The view after `event`, folded with the aggregate's own `evolve` (`Aggregate::apply`);
    /// `None` when the hub was never registered. The partners are `hub_partners`' to keep.
    fn fold(view: Option<&HubView>, fact: &Fact<'_>, event: HubEvent) -> Option<HubView> {
        let partners = view.map_or(0, |v| v.partner_count)
            + match event {
                HubEvent::HubPartnerAdded { .. } => 1,
                HubEvent::HubPartnerRemoved { .. } => -1,
                _ => 0,
            };
        let mut hub = Hub(view.map(HubView::state));
        hub.apply(event);
        let state = hub.state()?;
        Some(Self {
            id: fact.stream,
            name: state.name.clone(),
            city_id: state.city_id,
            lat: state.location.lat,
            lng: state.location.lng,
            location_name: state.location.name.clone(),
            location_id: state.location.location_id,
            timezone: state.timezone.clone(),
            status: state.status,
            close_reason: state.close_reason.clone(),
            partner_count: partners,
            version: fact.sequence as u64,
            created_at: view.map_or(fact.at, |v| v.created_at),
            updated_at: fact.at,
        })
    }

    fn state(&self) -> HubState {
        HubState {
            name: self.name.clone(),
            city_id: self.city_id,
            location: Location {
                lat: self.lat,
                lng: self.lng,
                name: self.location_name.clone(),
                location_id: self.location_id,
            },
            timezone: self.timezone.clone(),
            status: self.status,
            close_reason: self.close_reason.clone(),
            partners: BTreeMap::new(),
        }
    }
}

impl HubPartnerView {
    /// The partners a hub serves now, by name.
    pub async fn of_hub(pool: &PgPool, hub_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {} FROM hub_partners WHERE hub_id = $1 AND removed_at IS NULL
              ORDER BY name, partner_id",
            Self::COLUMNS
        ))
        .bind(hub_id)
        .fetch_all(pool)
        .await
    }
}

/// Keeps `hubs` (folding each event with the aggregate's own `apply`) and `hub_partners`.
pub struct HubsProjector;

impl Fold for HubsProjector {
    const NAME: &'static str = "hubs";
    const AGGREGATE_TYPE: &'static str = Hub::TYPE;
    const EVENT_TYPES: &'static [&'static str] = HubEvent::TYPES;
    const TABLES: &'static [&'static str] = &["hubs", "hub_partners"];
    type Batch = Hubs;
}

/// The hubs and partners a batch touches.
#[derive(Default)]
pub struct Hubs {
    pub hubs: Rows<HubView>,
    pub partners: Rows<HubPartnerView>,
}

fn partner_of(event: &HubEvent) -> Option<Uuid> {
    match event {
        HubEvent::HubPartnerAdded { partner_id, .. }
        | HubEvent::HubPartnerRemoved { partner_id } => Some(*partner_id),
        _ => None,
    }
}

#[async_trait]
impl Batch for Hubs {
    type Event = HubEvent;

    fn want(&mut self, fact: &Fact<'_>, event: &HubEvent) {
        self.hubs.want(fact.stream);
        if let Some(partner) = partner_of(event) {
            self.partners.want((fact.stream, partner));
        }
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.hubs.load(conn).await?;
        self.partners.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: HubEvent) -> Result<(), Inconsistent> {
        let current = self.hubs.peek(&fact.stream);
        if current.is_some_and(|v| v.version as i64 >= fact.sequence) {
            return Err(Inconsistent("the row is already at or past this event"));
        }
        match &event {
            HubEvent::HubPartnerAdded {
                partner_id,
                name,
                kind,
            } => {
                let key = (fact.stream, *partner_id);
                if self
                    .partners
                    .peek(&key)
                    .is_some_and(|p| p.removed_at.is_none())
                {
                    return Err(Inconsistent("the partner is the hub's already"));
                }
                self.partners.put(HubPartnerView {
                    hub_id: fact.stream,
                    partner_id: *partner_id,
                    name: name.clone(),
                    kind: *kind,
                    added_at: fact.at,
                    removed_at: None,
                });
            }
            HubEvent::HubPartnerRemoved { partner_id } => {
                let partner = self
                    .partners
                    .get(&(fact.stream, *partner_id), "no such partner")?;
                if partner.removed_at.is_some() {
                    return Err(Inconsistent("the partner was removed already"));
                }
                partner.removed_at = Some(fact.at);
            }
            _ => {}
        }
        let next = HubView::fold(self.hubs.peek(&fact.stream), fact, event)
            .ok_or(Inconsistent("the hub was never registered"))?;
        self.hubs.put(next);
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.hubs.write(conn).await?;
        self.partners.write(conn).await
    }
}

impl crate::views::Load for HubView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        <Self as Table>::load(conn, ids).await
    }
}
