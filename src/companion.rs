//! What another stream must record together with a command's events, in the same transaction:
//! a multi-stream append. A trip that departs puts its robot on the trip (`RobotWentOnTrip`);
//! a trip that stops, completes or is cancelled parks it (`RobotParked`). Both streams' versions
//! are checked in that one transaction (each append's primary key), so two trips of one robot
//! racing to depart cannot both win: the robot's stream takes one of them.
//!
//! Why not a process with compensation: between the trip's departure and the robot's refusal
//! the trip would be seen IN_TRANSIT with a robot that is grounded or on another trip, and the
//! compensation (cancelling a trip a client was told had departed) is a lie to that client.
//! PostgreSQL gives us the transaction; one is cheaper than two plus a process.

use aggregates::robot::{Robot, RobotCommand, RobotStatus};
use aggregates::trip::{Trip, TripEvent};
use uuid::Uuid;

use crate::store::{AppendError, EventMetadata, EventStore, Prepared, Stream};

/// A change another stream must make with a command's events.
#[derive(Debug, Clone)]
pub enum Companion {
    /// The trip's robot goes on the trip, or parks from it.
    Robot {
        robot_id: Uuid,
        command: RobotCommand,
    },
}

/// Why the other stream refused: the command is refused with it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the trip's robot {robot_id} cannot {doing}: {reason}")]
pub struct CompanionRefusal {
    pub robot_id: Uuid,
    /// The robot's state when it refused.
    pub robot_status: RobotStatus,
    doing: &'static str,
    reason: String,
}

impl Companion {
    /// What a trip's `events` ask of its robot, if anything.
    pub fn of_trip(trip_id: Uuid, trip: &Trip, events: &[TripEvent]) -> Option<Self> {
        let robot_id = trip.0.as_ref()?.robot_id;
        let command = events.iter().rev().find_map(|event| match event {
            TripEvent::TripDeparted { .. } => Some(RobotCommand::RecordRobotWentOnTrip { trip_id }),
            TripEvent::TripArrivedAtStop { .. } => Some(RobotCommand::RecordRobotParked {
                trip_id,
                trip_ended: false,
            }),
            TripEvent::TripCompleted { .. } | TripEvent::TripCancelled { .. } => {
                Some(RobotCommand::RecordRobotParked {
                    trip_id,
                    trip_ended: true,
                })
            }
            _ => None,
        })?;
        Some(Self::Robot { robot_id, command })
    }

    /// The other stream's append, decided on its state as loaded now; `None` when it records
    /// nothing (a robot parked already, or one the service does not know: `PlanTrip` names a
    /// registered robot unless reference checks are off, for an import, and then a trip of an
    /// unknown robot moves without robot events).
    pub async fn prepare(
        &self,
        store: &EventStore,
        metadata: &EventMetadata,
    ) -> Result<Option<CompanionAppend>, PrepareError> {
        let Self::Robot { robot_id, command } = self;
        let id = robot_id.to_string();
        let loaded = store
            .load::<Robot>(&id)
            .await
            .map_err(|e| PrepareError::Store(e.into()))?;
        let Some(state) = loaded.aggregate.state() else {
            return Ok(None);
        };
        let events = loaded
            .aggregate
            .decide(command.clone())
            .map_err(|refusal| {
                PrepareError::Refused(CompanionRefusal {
                    robot_id: *robot_id,
                    robot_status: state.status,
                    doing: match command {
                        RobotCommand::RecordRobotWentOnTrip { .. } => "set out on this trip",
                        _ => "park from this trip",
                    },
                    reason: refusal.to_string(),
                })
            })?;
        if events.is_empty() {
            return Ok(None);
        }
        // The registry follows the robot's status, as for its own commands.
        let before = loaded.aggregate.registry_state();
        let mut after = loaded.aggregate.clone();
        for event in &events {
            cqrs_es::Aggregate::apply(&mut after, event.clone());
        }
        let state = after.registry_state().filter(|s| Some(*s) != before);
        let head = (loaded.version, loaded.head_hash.as_deref());
        let prepared = Prepared::new::<Robot>(&id, head, &events, metadata, None)
            .map_err(PrepareError::Append)?
            .registering(state);
        Ok(Some(CompanionAppend {
            prepared,
            version: loaded.version + events.len() as u64,
            snapshot_version: loaded.snapshot_version,
            after,
            id,
        }))
    }
}

/// The other stream's append, and the stream as it leaves it.
pub struct CompanionAppend {
    pub prepared: Prepared,
    id: String,
    after: Robot,
    /// Its version once appended, and its snapshot's as loaded.
    version: u64,
    snapshot_version: u64,
}

impl CompanionAppend {
    /// Once appended: a robot's stream grows with every trip it takes, mostly through this
    /// append, so its snapshot is kept here as for its own commands.
    pub async fn snapshot_if_due(&self, store: &EventStore) {
        store
            .snapshot_if_due(&self.id, self.version, self.snapshot_version, &self.after)
            .await;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Refused(CompanionRefusal),
    #[error(transparent)]
    Append(AppendError),
    #[error(transparent)]
    Store(anyhow::Error),
}
