//! The read side of operations: the ordered, gap-safe event feed, the projector abstraction, the
//! catch-up runner that applies events to read models exactly once, replay, and one module per
//! read model.

pub mod availability_quote;
pub mod checkpoint;
pub mod city;
pub mod dead_letters;
pub mod feed;
pub mod fo_task;
pub mod frame;
pub mod hub;
pub mod lease;
pub mod operator;
pub mod pilot;
pub mod pilot_center;
mod projector;
mod replay;
pub mod robot;
mod runner;
pub mod site;
pub mod task;
pub mod trip;
pub mod views;

pub use checkpoint::{Checkpoint, ProjectorStatus};
pub use dead_letters::DeadLetter;
pub use feed::{FeedFilter, FeedPosition, Provenance, StoredEvent};
pub use projector::{Delivery, ProjectionError, Projector};
pub use replay::{replay, replay_many, replay_with_policy, Rebuild, ReplayProgress};
pub use runner::{FailurePolicy, FeedStats, Moved, Runner, RunnerHandle, RunnerSettings, Wakeup};

use std::sync::Arc;

/// Every projector of the service, in the order they are run and replayed.
pub fn all() -> Vec<Arc<dyn Projector>> {
    vec![
        Arc::new(task::TasksProjector),
        Arc::new(task::TaskHistoryProjector),
        Arc::new(pilot::PilotsProjector),
        Arc::new(pilot::PilotHistoryProjector),
        Arc::new(pilot::PilotStatusHistoryProjector),
        Arc::new(trip::TripsProjector),
        Arc::new(trip::TripHistoryProjector),
        Arc::new(trip::TripAssistanceHistoryProjector),
        Arc::new(fo_task::FoTasksProjector),
        Arc::new(fo_task::FoTaskHistoryProjector),
        Arc::new(robot::RobotsProjector),
        Arc::new(robot::RobotHistoryProjector),
        Arc::new(operator::OperatorsProjector),
        Arc::new(operator::OperatorHistoryProjector),
        Arc::new(pilot_center::PilotCentersProjector::default()),
        Arc::new(pilot_center::PilotCenterHistoryProjector),
        Arc::new(site::LocationsProjector::default()),
        Arc::new(site::LocationHistoryProjector),
        Arc::new(city::CitiesProjector::default()),
        Arc::new(city::CityHistoryProjector),
        Arc::new(hub::HubsProjector),
        Arc::new(hub::HubHistoryProjector),
        Arc::new(availability_quote::AvailabilityQuotesProjector::default()),
        Arc::new(availability_quote::AvailabilityQuoteHistoryProjector),
    ]
}
