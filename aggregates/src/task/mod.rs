//! The Task aggregate: an operational task for a robot delivery (seed table `Task`).

mod aggregate;
mod command;
mod error;
mod event;
mod types;

#[cfg(test)]
mod tests;

pub use aggregate::{PilotLink, Task, TaskState};
pub use command::TaskCommand;
pub use error::TaskError;
pub use event::TaskEvent;
pub use types::{CancellationReason, TaskStatus, TaskType};
