//! The HTTP API. A module per concern, none importing this one: `routes` merges the routes,
//! `collection` is what an aggregate declares to join, `extract` and `answer` are what handlers
//! take and give, `problem` is the error and its code table.

pub mod access;
mod answer;
mod api;
mod availability_quotes;
mod cities;
mod collection;
mod command;
mod consistency;
mod context;
mod dead_letters;
mod events;
mod extract;
mod fo_tasks;
mod headers;
mod health;
mod hubs;
mod list;
mod locations;
pub mod metrics;
mod openapi;
mod operators;
mod pilot_centers;
mod pilots;
mod problem;
pub mod rate;
mod reads;
mod registry;
mod resource;
mod robots;
mod routes;
mod schemas;
mod status;
mod tasks;
mod trips;

pub use collection::{aggregate_type_of, collection_paths, collections, Collection};
pub use command::parse_command;
pub use context::{ApiContext, MAX_BODY_BYTES};
pub use events::{aggregate_types, event_types};
pub use problem::{ApiError, Code};
pub use routes::document as openapi_document;
pub use routes::{problem_for_timeout, router};
