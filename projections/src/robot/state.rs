use aggregates::robot::{Robot, RobotEvent};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use sqlx::PgConnection;

use super::{DeploymentView, RobotView};
use crate::frame::{Batch, Fact, Fold, Inconsistent, Rows};

/// Keeps `robots` (folding each event with the aggregate's own `apply`) and
/// `robot_deployments`.
pub struct RobotsProjector;

impl Fold for RobotsProjector {
    const NAME: &'static str = "robots";
    const AGGREGATE_TYPE: &'static str = Robot::TYPE;
    const EVENT_TYPES: &'static [&'static str] = RobotEvent::TYPES;
    const TABLES: &'static [&'static str] = &["robots", "robot_deployments"];
    type Batch = Robots;
}

/// The robots and deployments a batch touches.
#[derive(Default)]
pub struct Robots {
    pub robots: Rows<RobotView>,
    pub deployments: Rows<DeploymentView>,
}

/// The deployment an event opens or ends.
fn deployment_of(event: &RobotEvent) -> Option<uuid::Uuid> {
    match event {
        RobotEvent::RobotDeployed { deployment_id, .. }
        | RobotEvent::RobotDeploymentEnded { deployment_id, .. } => Some(*deployment_id),
        RobotEvent::RobotGrounded { deployment_id, .. } => *deployment_id,
        _ => None,
    }
}

#[async_trait]
impl Batch for Robots {
    type Event = RobotEvent;

    fn want(&mut self, fact: &Fact<'_>, event: &RobotEvent) {
        self.robots.want(fact.stream);
        if let Some(deployment) = deployment_of(event) {
            self.deployments.want((fact.stream, deployment));
        }
    }

    async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.robots.load(conn).await?;
        self.deployments.load(conn).await
    }

    fn fold(&mut self, fact: &Fact<'_>, event: RobotEvent) -> Result<(), Inconsistent> {
        let current = self.robots.peek(&fact.stream);
        if current.is_some_and(|v| v.version as i64 >= fact.sequence) {
            return Err(Inconsistent("the row is already at or past this event"));
        }
        let key = deployment_of(&event).map(|d| (fact.stream, d));
        match (&event, key) {
            (RobotEvent::RobotDeployed { hub_id, .. }, Some((robot_id, deployment_id))) => {
                let deployment = DeploymentView {
                    robot_id,
                    deployment_id,
                    hub_id: *hub_id,
                    started_at: fact.at,
                    ended_at: None,
                    ended_by: None,
                    end_reason: None,
                };
                self.deployments
                    .create(deployment, "the deployment already exists")?;
            }
            (ended, Some(key)) => {
                let deployment = self.deployments.get(&key, "no such deployment")?;
                deployment.ended_at = Some(fact.at);
                deployment.ended_by = Some(ended.name().to_string());
                deployment.end_reason = match ended {
                    RobotEvent::RobotDeploymentEnded { reason, .. } => reason.clone(),
                    RobotEvent::RobotGrounded { reason, .. } => Some(reason.to_string()),
                    _ => None,
                };
            }
            _ => {}
        }
        let next = RobotView::fold(current, fact.stream, event, fact.sequence, fact.at)
            .ok_or(Inconsistent("the robot was never registered"))?;
        self.robots.put(next);
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.robots.write(conn).await?;
        self.deployments.write(conn).await
    }
}
