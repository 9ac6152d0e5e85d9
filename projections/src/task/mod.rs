//! The task read models: `tasks` (current state) and `task_history` (status timeline).

mod history;
mod state;
mod view;

pub use history::{TaskHistoryProjector, TaskHistoryRow};
pub use state::TasksProjector;
pub use view::TaskView;
