use aggregates::operator::{DevicePlatform, OperatorRole, OperatorStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::frame::{table, versioned, Table};
use crate::views::children;

table! {
    /// A row of `operators`: an operator's own columns.
    #[derive(Debug, Clone, PartialEq)]
    pub struct OperatorRow in "operators" by (pub id: Uuid) {
        pub role: OperatorRole,
        pub user_id: Option<Uuid>,
        pub display_name: Option<String>,
        pub status: OperatorStatus,
        pub active: bool,
        pub deactivation_reason: Option<String>,
        pub version: i64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

table! {
    /// A row of `operator_hubs` (seed `OperatorHub`): a hub an operator is or was assigned to.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct OperatorHub in "operator_hubs" by (pub operator_id: Uuid, pub hub_id: Uuid) {
        pub assigned_at: DateTime<Utc>,
        /// When it left the hub; `null` while assigned.
        pub removed_at: Option<DateTime<Utc>>,
    }
}

table! {
    /// A row of `operator_mobile_devices` (seed `OperatorMobileDevice`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct OperatorDevice in "operator_mobile_devices" by (
        pub operator_id: Uuid,
        pub device_id: String,
    ) {
        pub platform: DevicePlatform,
        pub app_version: Option<String>,
        pub registered_at: DateTime<Utc>,
        /// When it was last registered (a new app version...).
        pub updated_at: DateTime<Utc>,
        /// When it was removed; `null` while registered.
        pub removed_at: Option<DateTime<Utc>>,
    }
}

versioned!(OperatorRow);

/// An operator as the API shows it: its own columns, the hubs it is assigned to and the devices
/// it works from (those it left or removed are in its timeline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OperatorView {
    pub id: Uuid,
    pub role: OperatorRole,
    /// The identity provider's user; unique among operators.
    pub user_id: Option<Uuid>,
    pub display_name: Option<String>,
    pub status: OperatorStatus,
    /// False once deactivated (for good).
    pub active: bool,
    pub deactivation_reason: Option<String>,
    /// The hubs it is assigned to, in the order it joined them.
    pub hub_ids: Vec<Uuid>,
    /// The devices it works from, in the order they were registered.
    pub devices: Vec<OperatorDevice>,
    /// The stream version: the number of events the operator has.
    pub version: u64,
    /// When the first event was recorded.
    pub created_at: DateTime<Utc>,
    /// When the last event was recorded.
    pub updated_at: DateTime<Utc>,
}

impl crate::views::Load for OperatorView {
    async fn load_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Self>, sqlx::Error> {
        let rows = <OperatorRow as Table>::load(conn, ids).await?;
        let mut hubs = children::<OperatorHub>(
            conn,
            "SELECT operator_id, hub_id, assigned_at, removed_at FROM operator_hubs
              WHERE operator_id = ANY($1) AND removed_at IS NULL ORDER BY assigned_at, hub_id",
            ids,
            |h| h.operator_id,
        )
        .await?;
        let mut devices = children::<OperatorDevice>(
            conn,
            &format!(
                "SELECT {} FROM operator_mobile_devices
                  WHERE operator_id = ANY($1) AND removed_at IS NULL
                  ORDER BY registered_at, device_id",
                <OperatorDevice as Table>::COLUMNS
            ),
            ids,
            |d| d.operator_id,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| OperatorView {
                id: row.id,
                role: row.role,
                user_id: row.user_id,
                display_name: row.display_name,
                status: row.status,
                active: row.active,
                deactivation_reason: row.deactivation_reason,
                hub_ids: (hubs.remove(&row.id).unwrap_or_default().into_iter())
                    .map(|h| h.hub_id)
                    .collect(),
                devices: devices.remove(&row.id).unwrap_or_default(),
                version: row.version as u64,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
            .collect())
    }
}
