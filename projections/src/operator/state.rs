use aggregates::operator::{Operator, OperatorEvent, OperatorStatus};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use sqlx::PgConnection;

use super::{OperatorDevice, OperatorHub, OperatorRow};
use crate::frame::{Batch, Fact, Fold, Inconsistent, Rows};

/// Keeps `operators`, `operator_hubs` and `operator_mobile_devices`.
pub struct OperatorsProjector;

impl Fold for OperatorsProjector {
    const NAME: &'static str = "operators";
    const AGGREGATE_TYPE: &'static str = Operator::TYPE;
    const EVENT_TYPES: &'static [&'static str] = OperatorEvent::TYPES;
    const TABLES: &'static [&'static str] =
        &["operators", "operator_hubs", "operator_mobile_devices"];
    type Batch = Operators;
}

/// The operators, hubs and devices a batch touches.
#[derive(Default)]
pub struct Operators {
    pub operators: Rows<OperatorRow>,
    pub hubs: Rows<OperatorHub>,
    pub devices: Rows<OperatorDevice>,
}

#[async_trait]
impl Batch for Operators {
    type Event = OperatorEvent;

    fn want(&mut self, fact: &Fact<'_>, event: &OperatorEvent) {
        self.operators.want(fact.stream);
        match event {
            OperatorEvent::OperatorAssignedToHub { hub_id }
            | OperatorEvent::OperatorRemovedFromHub { hub_id } => {
                self.hubs.want((fact.stream, *hub_id))
            }
            OperatorEvent::OperatorMobileDeviceRegistered { device_id, .. }
            | OperatorEvent::OperatorMobileDeviceRemoved { device_id } => {
                self.devices.want((fact.stream, device_id.clone()))
            }
            _ => {}
        }
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.operators.load(conn).await?;
        self.hubs.load(conn).await?;
        self.devices.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: OperatorEvent) -> Result<(), Inconsistent> {
        let id = fact.stream;
        let at = fact.at;
        if let OperatorEvent::OperatorRegistered {
            role,
            user_id,
            display_name,
        } = event
        {
            let row = OperatorRow {
                id,
                role,
                user_id,
                display_name,
                status: OperatorStatus::Offline,
                active: true,
                deactivation_reason: None,
                version: fact.sequence,
                created_at: at,
                updated_at: at,
            };
            self.operators.create(row, "the operator already exists")?;
            return Ok(());
        }
        let missing = "the operator was never registered";
        let operator = (self.operators).advance(&id, fact.sequence, at, missing)?;
        if let Some(status) = event.new_status() {
            operator.status = status;
        }
        match event {
            OperatorEvent::OperatorDeactivated { reason, .. } => {
                operator.active = false;
                operator.deactivation_reason = reason;
            }
            OperatorEvent::OperatorAssignedToHub { hub_id } => {
                self.hubs.put(OperatorHub {
                    operator_id: id,
                    hub_id,
                    assigned_at: at,
                    removed_at: None,
                });
            }
            OperatorEvent::OperatorRemovedFromHub { hub_id } => {
                let hub = (self.hubs).get(&(id, hub_id), "the operator was never at the hub")?;
                hub.removed_at = Some(at);
            }
            OperatorEvent::OperatorMobileDeviceRegistered {
                device_id,
                platform,
                app_version,
            } => {
                let key = (id, device_id);
                let registered_at = match self.devices.peek(&key) {
                    Some(known) if known.removed_at.is_none() => known.registered_at,
                    _ => at,
                };
                self.devices.put(OperatorDevice {
                    operator_id: id,
                    device_id: key.1,
                    platform,
                    app_version,
                    registered_at,
                    updated_at: at,
                    removed_at: None,
                });
            }
            OperatorEvent::OperatorMobileDeviceRemoved { device_id } => {
                let device = (self.devices).get(&(id, device_id), "no such device")?;
                device.removed_at = Some(at);
                device.updated_at = at;
            }
            OperatorEvent::OperatorRegistered { .. }
            | OperatorEvent::OperatorStatusChanged { .. } => {}
        }
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.operators.write(conn).await?;
        self.hubs.write(conn).await?;
        self.devices.write(conn).await
    }
}

#[cfg(test)]
mod tests {
    use aggregates::operator::{DevicePlatform, OperatorRole};
    use uuid::Uuid;

    use super::*;
    use crate::frame::testing::fold;

    #[test]
    fn hubs_and_devices_are_kept_with_when_they_were_left_and_a_deactivation_ends_it_offline() {
        let operator = Uuid::now_v7();
        let hub = Uuid::now_v7();
        let events = vec![
            (
                operator,
                1,
                OperatorEvent::OperatorRegistered {
                    role: OperatorRole::Field,
                    user_id: None,
                    display_name: None,
                },
            ),
            (
                operator,
                2,
                OperatorEvent::OperatorAssignedToHub { hub_id: hub },
            ),
            (
                operator,
                3,
                OperatorEvent::OperatorMobileDeviceRegistered {
                    device_id: "dev-1".into(),
                    platform: DevicePlatform::Ios,
                    app_version: None,
                },
            ),
            (
                operator,
                4,
                OperatorEvent::OperatorRemovedFromHub { hub_id: hub },
            ),
            (
                operator,
                5,
                OperatorEvent::OperatorStatusChanged {
                    from_status: OperatorStatus::Offline,
                    to_status: OperatorStatus::Available,
                },
            ),
            (
                operator,
                6,
                OperatorEvent::OperatorDeactivated {
                    from_status: OperatorStatus::Available,
                    reason: Some("left".into()),
                },
            ),
        ];
        let mut batch = Operators::default();
        fold(&mut batch, Operator::TYPE, events).unwrap();
        let row = batch.operators.peek(&operator).unwrap();
        assert_eq!(
            (
                row.status,
                row.active,
                row.version,
                row.deactivation_reason.as_deref()
            ),
            (OperatorStatus::Offline, false, 6, Some("left"))
        );
        let at_hub = batch.hubs.peek(&(operator, hub)).unwrap();
        assert!(at_hub.removed_at.is_some());
        let device = batch.devices.peek(&(operator, "dev-1".into())).unwrap();
        assert_eq!(
            (device.platform, device.removed_at),
            (DevicePlatform::Ios, None)
        );
    }

    #[test]
    fn an_event_for_an_operator_never_registered_is_inconsistent() {
        let mut batch = Operators::default();
        let events = vec![(
            Uuid::now_v7(),
            2,
            OperatorEvent::OperatorAssignedToHub {
                hub_id: Uuid::nil(),
            },
        )];
        assert!(fold(&mut batch, Operator::TYPE, events).is_err());
    }
}
