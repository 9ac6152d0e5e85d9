//! `operations`: an event-sourced command/query service for the operations of a robot-delivery
//! fleet. See README.md.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod companion;
pub mod http;
pub mod process;
pub mod serve;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod upgrade;
