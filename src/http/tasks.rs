use aggregates::task::{Task, TaskStatus, TaskType};
use projections::frame::Fold;
use projections::task::{TaskHistoryRow, TaskView};

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for Task {
    const PATH: &'static str = "tasks";
    const DESCRIPTION: &'static str = "Delivery tasks.";
    const STATE_PROJECTOR: &'static str = projections::task::TasksProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::task::TaskHistoryProjector::NAME];
    type View = TaskView;
    type HistoryRow = TaskHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "tasks",
        filters: &[
            Filter::enumeration::<TaskStatus>("status"),
            Filter::enumeration::<TaskType>("task_type"),
            Filter::uuid("hub_id"),
            Filter::uuid("robot_id"),
            Filter::uuid("pilot_id"),
        ],
    };

    fn services() {}
}

views!(TaskView, |v: &TaskView| v.version, TaskHistoryRow);
