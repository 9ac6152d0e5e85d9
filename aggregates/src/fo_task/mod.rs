//! The FoTask aggregate: work for field operators, the people on the ground who fix, move or
//! rescue robots (seed tables `FoTaskModel`, `FoSubtaskModel`, `FoAssignmentModel`).

mod command;
mod decide;
mod error;
mod event;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::FoTaskCommand;
pub use error::FoTaskError;
pub use event::FoTaskEvent;
pub use state::{FoAssignment, FoTask, FoTaskState, Subtask};
pub use types::{
    FoAction, FoTaskKind, FoTaskStatus, SubtaskDetail, SubtaskKind, SubtaskSpec, SubtaskStatus,
};
