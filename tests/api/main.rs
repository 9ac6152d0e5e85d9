//! Integration tests: the service over real HTTP against a real PostgreSQL, each test on a
//! database of its own. Run them with `./dev test` (it provides PostgreSQL where DATABASE_URL
//! is unset). Set TEST_LOG=1 to see the service's logs.

mod helpers;

mod abuse;
mod access;
mod audit;
mod availability_quotes;
mod cities;
mod cluster;
mod concurrency;
mod crash;
mod dead_letters;
mod endings;
mod errors;
mod failover;
mod feed;
mod fo_tasks;
mod hubs;
mod idempotency;
mod jwt;
mod lists;
mod locations;
mod moves;
mod openapi;
mod operator_roles;
mod operators;
mod pilot_centers;
mod pilots;
mod process;
mod read_side;
mod references;
mod robot_trips;
mod robots;
mod seed_collections;
mod shared_feed;
mod store;
mod tasks;
mod trips;
mod versions;
