//! The Operator aggregate: a person who runs the fleet (seed tables `Operator`, `OperatorModel`,
//! `OperatorMobileDevice`, `OperatorHub`, and `FoModel` for those with role FIELD; its status
//! changes are `OperatorStatusHistory`): registered with a role, its status moved between
//! OFFLINE, AVAILABLE and IN_BREAK, assigned to hubs, with the mobile devices it works from,
//! deactivated for good. A pilot is an operator with role PILOT; a field operator one with role
//! FIELD.

mod command;
mod decide;
mod event;
mod state;

#[cfg(test)]
mod tests;

pub use command::OperatorCommand;
pub use event::OperatorEvent;
pub use state::{
    DevicePlatform, MobileDevice, Operator, OperatorError, OperatorRole, OperatorState,
    OperatorStatus,
};
