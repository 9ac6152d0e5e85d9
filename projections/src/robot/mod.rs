//! The robot read models: `robots` and `robot_deployments` (current state), and
//! `robot_state_history` and `robot_check_in_history` (its timeline).

mod history;
mod state;
mod view;

pub use history::{RobotHistoryProjector, RobotHistoryRow};
pub use state::RobotsProjector;
pub use view::{DeploymentView, RobotView};
