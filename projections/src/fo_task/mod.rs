//! The field-operations task read models: `fo_tasks`, `fo_subtasks`, `fo_assignments` (current
//! state) and `fo_task_history` (the status timeline of the task and of its subtasks).

mod history;
mod rows;
mod state;
mod view;

pub use history::{FoTaskHistoryProjector, FoTaskHistoryRow};
pub use state::FoTasksProjector;
pub use view::{FoAssignmentView, FoSubtaskView, FoTaskView};
