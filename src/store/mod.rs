//! The write side's event store: postgres-es's `events` table, written in one statement per
//! command.
//!
//! Why not postgres-es's own `persist`: it writes each event with its own statement inside a
//! transaction it opens itself, so a command costs 3 + n round trips and nothing else can join
//! that transaction. Here a command's events and its idempotency record are one `INSERT ...
//! SELECT FROM UNNEST` with a data-modifying CTE: one round trip, atomic, and the primary key
//! `(aggregate_type, aggregate_id, sequence)` still turns a concurrent writer into a conflict.
//! The table is postgres-es's, column for column, so its repository reads what we write (a test
//! proves it).

mod append;
mod explain;
mod idempotency;
mod load;
mod metadata;
pub mod moves;

pub use append::{AppendError, AppendedEvent, Prepared};
pub use idempotency::{IdempotencyRecord, RememberedCommand};
pub use load::{LoadError, Loaded, Past, Until};
pub use metadata::EventMetadata;

use aggregates::fo_task::FoTask;
use aggregates::hub::Hub;
use aggregates::pilot::{Pilot, PilotEvent};
use aggregates::pilot_center::PilotCenter;
use aggregates::robot::Robot;
use aggregates::site::Site;
use aggregates::task::Task;
use aggregates::trip::Trip;
use cqrs_es::Aggregate;
use projections::Wakeup;
use sqlx::PgPool;

/// How a kind of stream is stored.
pub trait Stream: Aggregate {
    /// Take a snapshot once this many events have followed the last one; `None`: never.
    ///
    /// Snapshots are written by us, not by cqrs-es's snapshot store, which in 0.5.0 applies
    /// each new event twice to the saved state. Ours is the aggregate exactly as the command
    /// left it (its events applied once, by `EventSink::write`); a test compares a pilot loaded
    /// from its snapshot with one folded from all its events. A snapshot that no longer
    /// deserializes is ignored; after a change of what a state's fields mean, delete the
    /// aggregate's snapshots (`DELETE FROM snapshots WHERE aggregate_type = ...`).
    const SNAPSHOT_EVERY: Option<u64> = None;

    /// The values `event` claims for its stream, unique among all streams of this type for
    /// good: the seed's unique columns, which one stream cannot check alone. The append that
    /// stores the event claims them in the same statement, or fails with `AppendError::Taken`.
    fn claims(_event: &Self::Event) -> Vec<Claim> {
        Vec::new()
    }

    /// The state other commands' references see this stream in (`entity_registry`), written
    /// by the append that changes it; `None` for streams nothing names. The registry is the
    /// write side's: a reference is checked against it in the append's own statement, never
    /// against a lagging read model.
    fn registry_state(&self) -> Option<&'static str> {
        None
    }

    /// The entities `command` names, each checked in the append (`Reference`).
    fn references(_command: &Self::Command) -> Vec<Reference> {
        Vec::new()
    }

    /// What another stream must record with `events` (the stream `id`'s, which left it
    /// `after`), appended in the same transaction (see `companion`).
    fn companion(
        _id: uuid::Uuid,
        _after: &Self,
        _events: &[Self::Event],
    ) -> Option<crate::companion::Companion> {
        None
    }
}

/// An entity a command names, which must exist, in one of the `allowed` states if any are
/// given (see `Stream::references`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The command's field that names it, as the API spells it.
    pub field: &'static str,
    pub aggregate_type: &'static str,
    pub id: uuid::Uuid,
    /// The states it may be in (`Stream::registry_state`); empty: any.
    pub allowed: &'static [&'static str],
}

impl Reference {
    pub fn to<A: Stream>(field: &'static str, id: uuid::Uuid) -> Self {
        Self {
            field,
            aggregate_type: A::TYPE,
            id,
            allowed: &[],
        }
    }

    pub fn in_state(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
}

/// A value an event claims for its stream alone (see `Stream::claims`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The field that holds it, as the API names it.
    pub field: &'static str,
    pub value: String,
}

/// A task is created at an open hub; its robot, if it names one, is not retired.
impl Stream for Task {
    fn references(command: &aggregates::task::TaskCommand) -> Vec<Reference> {
        use aggregates::task::TaskCommand::{AssignRobot, CreateTask};
        match command {
            CreateTask {
                hub_id, robot_id, ..
            } => {
                std::iter::once(Reference::to::<Hub>("hub_id", *hub_id).in_state(OPEN))
                    .chain(robot_id.map(|robot| {
                        Reference::to::<Robot>("robot_id", robot).in_state(NOT_RETIRED)
                    }))
                    .collect()
            }
            AssignRobot { robot_id } => {
                vec![Reference::to::<Robot>("robot_id", *robot_id).in_state(NOT_RETIRED)]
            }
            _ => Vec::new(),
        }
    }
}

/// A trip's robot goes on the trip when it departs and parks when it stops or ends.
impl Stream for Trip {
    /// A trip is planned for a robot that is not retired; the locations it names are active.
    fn references(command: &aggregates::trip::TripCommand) -> Vec<Reference> {
        use aggregates::trip::TripCommand::{ArriveAtStop, PlanTrip};
        let at = |field, location: &aggregates::Location| {
            location
                .location_id
                .map(|id| Reference::to::<Site>(field, id).in_state(ACTIVE))
        };
        match command {
            PlanTrip {
                robot_id,
                origin,
                destination,
                ..
            } => {
                std::iter::once(Reference::to::<Robot>("robot_id", *robot_id).in_state(NOT_RETIRED))
                    .chain(at("origin.location_id", origin))
                    .chain(at("destination.location_id", destination))
                    .collect()
            }
            ArriveAtStop {
                location: Some(location),
            } => at("location.location_id", location).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    fn companion(
        id: uuid::Uuid,
        after: &Trip,
        events: &[aggregates::trip::TripEvent],
    ) -> Option<crate::companion::Companion> {
        crate::companion::Companion::of_trip(id, after, events)
    }
}
/// A field task is created at an open hub, for a robot the service knows (in any state: a
/// retired robot may still need collecting); the locations its subtasks name are active.
impl Stream for FoTask {
    fn references(command: &aggregates::fo_task::FoTaskCommand) -> Vec<Reference> {
        use aggregates::fo_task::{FoTaskCommand, SubtaskDetail, SubtaskSpec};
        fn places(prefix: &[&'static str; 3], subtask: &SubtaskSpec) -> Vec<Reference> {
            let named = match &subtask.detail {
                SubtaskDetail::Travel { from, to } => vec![(prefix[0], from), (prefix[1], to)],
                SubtaskDetail::Action { location, .. } => vec![(prefix[2], location)],
            };
            let at = |(field, location): (&'static str, &aggregates::Location)| {
                Some(Reference::to::<Site>(field, location.location_id?).in_state(ACTIVE))
            };
            named.into_iter().filter_map(at).collect()
        }
        const LISTED: &[&str; 3] = &[
            "subtasks.from.location_id",
            "subtasks.to.location_id",
            "subtasks.location.location_id",
        ];
        const ADDED: &[&str; 3] = &[
            "subtask.from.location_id",
            "subtask.to.location_id",
            "subtask.location.location_id",
        ];
        match command {
            FoTaskCommand::CreateFoTask {
                hub_id,
                robot_id,
                subtasks,
                ..
            } => std::iter::once(Reference::to::<Hub>("hub_id", *hub_id).in_state(OPEN))
                .chain(robot_id.map(|robot| Reference::to::<Robot>("robot_id", robot)))
                .chain(subtasks.iter().flat_map(|subtask| places(LISTED, subtask)))
                .collect(),
            FoTaskCommand::AddSubtask { subtask } => places(ADDED, subtask),
            _ => Vec::new(),
        }
    }
}

impl Stream for aggregates::pilot_center::PilotCenter {
    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|center| center.status.into())
    }
}

impl Stream for aggregates::site::Site {
    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|site| site.status.into())
    }

    fn references(command: &aggregates::site::LocationCommand) -> Vec<Reference> {
        use aggregates::site::LocationCommand::RegisterLocation;
        match command {
            RegisterLocation {
                hub_id: Some(hub), ..
            } => vec![Reference::to::<Hub>("hub_id", *hub)],
            _ => Vec::new(),
        }
    }
}

/// A city is named once registered; it has no other state.
impl Stream for aggregates::city::City {
    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|_| "REGISTERED")
    }
}

impl Stream for Hub {
    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|hub| hub.status.into())
    }

    fn references(command: &aggregates::hub::HubCommand) -> Vec<Reference> {
        use aggregates::hub::HubCommand::{RegisterHub, UpdateHub};
        let at = |location: Option<&aggregates::Location>| {
            let location = location.and_then(|l| l.location_id);
            location.map(|id| Reference::to::<Site>("location.location_id", id).in_state(ACTIVE))
        };
        match command {
            RegisterHub {
                city_id, location, ..
            } => std::iter::once(Reference::to::<aggregates::city::City>("city_id", *city_id))
                .chain(at(Some(location)))
                .collect(),
            UpdateHub { location, .. } => at(location.as_ref()).into_iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// A location named by a new reference must not be retired.
const ACTIVE: &[&str] = &["ACTIVE"];
/// A hub takes no new deployment, task or field task while closed; a pilot center no new pilot.
const OPEN: &[&str] = &["OPEN"];
/// A robot named by a new task or trip must not be retired.
const NOT_RETIRED: &[&str] = &["DEPLOYED", "ON_TRIP", "PARKED", "GROUNDED", "OFF_DUTY"];
/// A pilot lives for years and collects tens of thousands of events.
impl Stream for Pilot {
    const SNAPSHOT_EVERY: Option<u64> = Some(50);

    /// A pilot joins (or moves to) a pilot center that is open.
    fn references(command: &aggregates::pilot::PilotCommand) -> Vec<Reference> {
        use aggregates::pilot::PilotCommand::{RegisterPilot, UpdatePilotProfile};
        match command {
            RegisterPilot {
                pilot_center_id: Some(center),
                ..
            }
            | UpdatePilotProfile {
                pilot_center_id: Some(center),
                ..
            } => vec![Reference::to::<PilotCenter>("pilot_center_id", *center).in_state(OPEN)],
            _ => Vec::new(),
        }
    }

    /// `user_id` is unique in the seed's `pilots` table: one user account, one pilot.
    fn claims(event: &PilotEvent) -> Vec<Claim> {
        match event {
            PilotEvent::PilotRegistered {
                user_id: Some(user),
                ..
            } => vec![Claim {
                field: "user_id",
                value: user.to_string(),
            }],
            _ => Vec::new(),
        }
    }
}

/// `serial_number` is unique among robots, as in the seed's `Robot` table, for good (a retired
/// robot keeps its number), regardless of case: the claim is its capitals.
impl Stream for aggregates::robot::Robot {
    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|robot| robot.status.into())
    }

    /// A robot is registered and checked in at a hub that exists, deployed at an open one.
    fn references(command: &aggregates::robot::RobotCommand) -> Vec<Reference> {
        use aggregates::robot::RobotCommand::{CheckInRobot, DeployRobot, RegisterRobot};
        match command {
            RegisterRobot { hub_id, .. } | CheckInRobot { hub_id } => {
                vec![Reference::to::<Hub>("hub_id", *hub_id)]
            }
            DeployRobot { hub_id, .. } => {
                vec![Reference::to::<Hub>("hub_id", *hub_id).in_state(OPEN)]
            }
            _ => Vec::new(),
        }
    }

    fn claims(event: &aggregates::robot::RobotEvent) -> Vec<Claim> {
        match event {
            aggregates::robot::RobotEvent::RobotRegistered { serial_number, .. } => vec![Claim {
                field: "serial_number",
                value: aggregates::robot::SerialNumber::unique_form(serial_number),
            }],
            _ => Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    wakeup: Wakeup,
    check_references: bool,
}

impl EventStore {
    /// A store whose appends wake `wakeup`'s projectors.
    pub fn new(pool: PgPool, wakeup: Wakeup) -> Self {
        Self {
            pool,
            wakeup,
            check_references: true,
        }
    }

    /// A store that checks commands' references (`Stream::references`) or, for importing
    /// history, takes them as given.
    pub fn checking_references(mut self, check: bool) -> Self {
        self.check_references = check;
        self
    }

    pub fn checks_references(&self) -> bool {
        self.check_references
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// An operator's `user_id` is unique among operators, for good: one user account, one
/// operator. Other commands see it as its role while it is active, `DEACTIVATED` after.
impl Stream for aggregates::operator::Operator {
    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|operator| match operator.deactivated {
            true => "DEACTIVATED",
            false => operator.role.into(),
        })
    }

    /// An operator is assigned to a hub that is open.
    fn references(command: &aggregates::operator::OperatorCommand) -> Vec<Reference> {
        match command {
            aggregates::operator::OperatorCommand::AssignOperatorToHub { hub_id } => {
                vec![Reference::to::<Hub>("hub_id", *hub_id).in_state(OPEN)]
            }
            _ => Vec::new(),
        }
    }

    fn claims(event: &aggregates::operator::OperatorEvent) -> Vec<Claim> {
        match event {
            aggregates::operator::OperatorEvent::OperatorRegistered {
                user_id: Some(user),
                ..
            } => vec![Claim {
                field: "user_id",
                value: user.to_string(),
            }],
            _ => Vec::new(),
        }
    }
}
