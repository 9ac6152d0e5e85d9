//! The operations domain: commands, events and aggregates for the robot-delivery fleet.
//!
//! No I/O lives here: no SQL, no HTTP, no clock. Every decision is taken in an aggregate's
//! `handle`, `apply` only assigns, and everything a decision needs arrives with the command.

pub mod fo_task;
mod location;
pub mod pilot;
pub mod task;
mod text;
pub mod trip;
pub mod versions;

pub use location::{Location, LocationError};
pub use text::{ExternalRef, Note, TextError};

/// What a caller needs to know about a refusal, whatever the aggregate: a stable code and
/// whether the refusal means "no such entity" rather than "a rule said no".
pub trait DomainError: std::error::Error {
    /// A stable, machine-readable code (`invalid_transition`, `not_found`...).
    fn code(&self) -> &'static str;
    /// True when the command named an entity that does not exist.
    fn is_not_found(&self) -> bool {
        false
    }
}

/// The names of an aggregate's commands, as they appear in the HTTP body's `"type"`.
pub trait CommandNames {
    /// Every command a client may send, in catalogue order.
    const PUBLIC: &'static [&'static str];
    /// This command's name.
    fn name(&self) -> &'static str;
    /// True for the command that creates the stream.
    fn creates_stream(&self) -> bool;
}
