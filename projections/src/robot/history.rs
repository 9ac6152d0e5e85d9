use aggregates::robot::{Robot, RobotEvent, RobotStatus};
use aggregates::Label;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::frame::{history, Appends, Batch, Fact, Fold, Inconsistent};

/// One row of a robot's merged timeline: a change of its state (`state`), a deployment opened
/// or ended (`deployment`), a trip gone on or parked for (`trip`), or a check-in or check-out
/// at a hub (`check_in`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RobotHistoryRow {
    /// `state`, `deployment`, `trip` or `check_in`.
    pub kind: String,
    /// The deployment or trip (`deployment`, `trip`), the hub (`check_in`); `null` for a change
    /// of state alone.
    pub subject_id: Option<Uuid>,
    pub sequence: i64,
    pub event_type: String,
    /// A robot state for `state`, `deployment` and `trip` rows; `null` for a registration and
    /// for check-ins.
    pub from_status: Option<String>,
    /// A robot state; `CHECKED_IN` or `CHECKED_OUT` for `check_in` rows.
    pub to_status: String,
    pub changed_at: DateTime<Utc>,
    pub actor: String,
    /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
    /// for itself.
    pub on_behalf_of: Option<String>,
    /// A grounding's reason, an ended deployment's or a retirement's.
    pub reason: Option<String>,
    /// A grounding's or a release's note.
    pub note: Option<String>,
    pub correlation_id: Option<String>,
    /// What caused the change, from the event's metadata: the request that carried a client's
    /// command, or `event:<position>`, the event a process reacted to.
    pub causation_id: Option<String>,
    /// The event's global position.
    pub position: i64,
}

impl crate::views::Timeline for RobotHistoryRow {
    /// A robot's state changes and check-ins, merged in stream order.
    async fn of(pool: &PgPool, robot_id: Uuid) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            "SELECT h.*, e.metadata->>'on_behalf_of' AS on_behalf_of,
                    e.metadata->>'causation_id' AS causation_id FROM (
             SELECT CASE WHEN event_type IN ('RobotDeployed', 'RobotDeploymentEnded')
                         THEN 'deployment'
                         WHEN event_type IN ('RobotWentOnTrip', 'RobotParked') THEN 'trip'
                         ELSE 'state' END AS kind,
                    subject_id, sequence, event_type, from_status, to_status, changed_at, actor,
                    reason, note, correlation_id, global_position AS position
               FROM robot_state_history WHERE robot_id = $1
             UNION ALL
             SELECT 'check_in', hub_id, sequence, event_type, NULL, action, changed_at, actor,
                    NULL, NULL, correlation_id, global_position
               FROM robot_check_in_history WHERE robot_id = $1) h
             LEFT JOIN events e ON e.global_position = h.position
             ORDER BY h.position, h.kind",
        )
        .bind(robot_id)
        .fetch_all(pool)
        .await
    }
}

history! {
    /// A row of `robot_state_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct StateHistoryEntry in "robot_state_history" by robot_id {
        pub from_status: Option<RobotStatus>,
        pub to_status: RobotStatus,
        pub subject_id: Option<Uuid>,
        pub reason: Option<String>,
        pub note: Option<String>,
    }
}

history! {
    /// A row of `robot_check_in_history`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct CheckInHistoryEntry in "robot_check_in_history" by robot_id {
        pub hub_id: Uuid,
        pub action: String,
    }
}

/// Keeps `robot_state_history` (one row per state change) and `robot_check_in_history` (one
/// per check-in or check-out, a retirement's included).
pub struct RobotHistoryProjector;

impl Fold for RobotHistoryProjector {
    const NAME: &'static str = "robot_history";
    const AGGREGATE_TYPE: &'static str = Robot::TYPE;
    const EVENT_TYPES: &'static [&'static str] = RobotEvent::TYPES;
    const TABLES: &'static [&'static str] = &["robot_state_history", "robot_check_in_history"];
    type Batch = RobotHistory;
}

/// The history rows a batch adds.
#[derive(Default)]
pub struct RobotHistory {
    pub(crate) states: Appends<StateHistoryEntry>,
    pub(crate) check_ins: Appends<CheckInHistoryEntry>,
}

#[async_trait]
impl Batch for RobotHistory {
    type Event = RobotEvent;

    fn fold(&mut self, fact: &Fact<'_>, event: RobotEvent) -> Result<(), Inconsistent> {
        let check_in = |hub_id: Uuid, action: &str| CheckInHistoryEntry {
            recorded: fact.recorded(),
            hub_id,
            action: action.to_string(),
        };
        match &event {
            RobotEvent::RobotCheckedIn { hub_id } => {
                self.check_ins.push(check_in(*hub_id, "CHECKED_IN"))
            }
            RobotEvent::RobotCheckedOut { hub_id }
            | RobotEvent::RobotRetired {
                checked_out_of: Some(hub_id),
                ..
            } => self.check_ins.push(check_in(*hub_id, "CHECKED_OUT")),
            _ => {}
        }
        let Some(to_status) = event.new_status() else {
            return Ok(());
        };
        let (from_status, subject_id, reason, note) = match event {
            RobotEvent::RobotRegistered { .. } => (None, None, None, None),
            RobotEvent::RobotDeployed {
                deployment_id,
                from_status,
                ..
            } => (Some(from_status), Some(deployment_id), None, None),
            RobotEvent::RobotDeploymentEnded {
                deployment_id,
                from_status,
                reason,
            } => (Some(from_status), Some(deployment_id), reason, None),
            RobotEvent::RobotWentOnTrip {
                trip_id,
                from_status,
            }
            | RobotEvent::RobotParked {
                trip_id,
                from_status,
                ..
            } => (Some(from_status), Some(trip_id), None, None),
            RobotEvent::RobotGrounded {
                from_status,
                reason,
                note,
                deployment_id,
            } => (
                Some(from_status),
                deployment_id,
                Some(reason.as_str().to_string()),
                note,
            ),
            RobotEvent::RobotReleased { from_status, note } => {
                (Some(from_status), None, None, note)
            }
            RobotEvent::RobotRetired {
                from_status,
                reason,
                ..
            } => (Some(from_status), None, Some(reason), None),
            RobotEvent::RobotCheckedIn { .. } | RobotEvent::RobotCheckedOut { .. } => return Ok(()),
        };
        self.states.push(StateHistoryEntry {
            recorded: fact.recorded(),
            from_status,
            to_status,
            subject_id,
            reason,
            note,
        });
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.states.write(conn).await?;
        self.check_ins.write(conn).await
    }
}
