//! What each kind of stream adds to the store (`Stream`): the values it claims, the state other
//! commands' references see it in, the references its commands make, its snapshots and its
//! companions.

use aggregates::fo_task::FoTask;
use aggregates::hub::Hub;
use aggregates::operator::Operator;
use aggregates::pilot::{Pilot, PilotEvent};
use aggregates::pilot_center::PilotCenter;
use aggregates::robot::Robot;
use aggregates::site::Site;
use aggregates::task::Task;
use aggregates::trip::Trip;
use uuid::Uuid;

use super::{Claim, Reference, Stream};

/// A user of the identity provider is one pilot, and one operator: the claim of its `user_id`.
fn user(user_id: &Option<Uuid>) -> Vec<Claim> {
    (user_id.iter())
        .map(|user| Claim {
            field: "user_id",
            value: user.to_string(),
        })
        .collect()
}

/// A task is created at an open hub; its robot, if it names one, is not retired.
impl Stream for Task {
    fn references(_id: Uuid, command: &aggregates::task::TaskCommand) -> Vec<Reference> {
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
    fn references(_id: Uuid, command: &aggregates::trip::TripCommand) -> Vec<Reference> {
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
    fn references(_id: Uuid, command: &aggregates::fo_task::FoTaskCommand) -> Vec<Reference> {
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
            FoTaskCommand::AssignFieldOperator { fo_id, .. } => {
                vec![Reference::to::<Operator>("fo_id", *fo_id).in_state(FIELD)]
            }
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

    fn references(_id: Uuid, command: &aggregates::site::LocationCommand) -> Vec<Reference> {
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

/// A quote is of an open hub (a closed one takes no new task: there is nothing to quote).
impl Stream for aggregates::availability_quote::AvailabilityQuote {
    fn references(
        _id: Uuid,
        command: &aggregates::availability_quote::AvailabilityQuoteCommand,
    ) -> Vec<Reference> {
        use aggregates::availability_quote::AvailabilityQuoteCommand::RecordAvailabilityQuote;
        let RecordAvailabilityQuote { hub_id, .. } = command;
        vec![Reference::to::<Hub>("hub_id", *hub_id).in_state(OPEN)]
    }
}

impl Stream for Hub {
    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|hub| hub.status.into())
    }

    fn references(_id: Uuid, command: &aggregates::hub::HubCommand) -> Vec<Reference> {
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
/// A pilot is an active operator with role PILOT; a field operator one with role FIELD (an
/// operator's registry state is its role while active, `DEACTIVATED` after).
const PILOT: &[&str] = &["PILOT"];
const FIELD: &[&str] = &["FIELD"];
/// A robot named by a new task or trip must not be retired.
const NOT_RETIRED: &[&str] = &["DEPLOYED", "ON_TRIP", "PARKED", "GROUNDED", "OFF_DUTY"];
/// A pilot lives for years and collects tens of thousands of events.
impl Stream for Pilot {
    const SNAPSHOT_EVERY: Option<u64> = Some(50);

    /// A pilot is an operator (the seed's `pilots.id` references it): registered on the id of
    /// an active operator with role PILOT, and it starts a shift only while that operator is
    /// one. It joins (or moves to) a pilot center that is open.
    fn references(id: Uuid, command: &aggregates::pilot::PilotCommand) -> Vec<Reference> {
        use aggregates::pilot::PilotCommand::{RegisterPilot, StartShift, UpdatePilotProfile};
        let operator = || Reference::to::<Operator>("id", id).in_state(PILOT);
        let center = |center: &Option<Uuid>| {
            center.map(|center| {
                Reference::to::<PilotCenter>("pilot_center_id", center).in_state(OPEN)
            })
        };
        match command {
            RegisterPilot {
                pilot_center_id, ..
            } => std::iter::once(operator())
                .chain(center(pilot_center_id))
                .collect(),
            UpdatePilotProfile {
                pilot_center_id, ..
            } => center(pilot_center_id).into_iter().collect(),
            StartShift { .. } => vec![operator()],
            _ => Vec::new(),
        }
    }

    /// `user_id` is unique in the seed's `pilots` table: one user account, one pilot.
    fn claims(event: &PilotEvent) -> Vec<Claim> {
        match event {
            PilotEvent::PilotRegistered { user_id, .. } => user(user_id),
            _ => Vec::new(),
        }
    }
}

/// `serial_number` is unique among robots, as in the seed's `Robot` table, for good (a retired
/// robot keeps its number), regardless of case: the claim is its capitals.
///
/// A robot takes trips for years: its stream grows by a few events a trip (most of them
/// appended beside the trip's, see `companion`).
impl Stream for aggregates::robot::Robot {
    const SNAPSHOT_EVERY: Option<u64> = Some(50);

    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|robot| robot.status.into())
    }

    /// A robot is registered and checked in at a hub that exists, deployed at an open one.
    fn references(_id: Uuid, command: &aggregates::robot::RobotCommand) -> Vec<Reference> {
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

/// An operator's `user_id` is unique among operators, for good: one user account, one
/// operator. Other commands see it as its role while it is active, `DEACTIVATED` after.
///
/// An operator's status follows every shift of its pilot (the shift process): thousands of
/// events over the years.
impl Stream for Operator {
    const SNAPSHOT_EVERY: Option<u64> = Some(50);

    fn registry_state(&self) -> Option<&'static str> {
        self.state().map(|operator| {
            if operator.deactivated {
                "DEACTIVATED"
            } else {
                operator.role.into()
            }
        })
    }

    /// An operator is assigned to a hub that is open.
    fn references(_id: Uuid, command: &aggregates::operator::OperatorCommand) -> Vec<Reference> {
        match command {
            aggregates::operator::OperatorCommand::AssignOperatorToHub { hub_id } => {
                vec![Reference::to::<Hub>("hub_id", *hub_id).in_state(OPEN)]
            }
            _ => Vec::new(),
        }
    }

    fn claims(event: &aggregates::operator::OperatorEvent) -> Vec<Claim> {
        match event {
            aggregates::operator::OperatorEvent::OperatorRegistered { user_id, .. } => {
                user(user_id)
            }
            _ => Vec::new(),
        }
    }
}
