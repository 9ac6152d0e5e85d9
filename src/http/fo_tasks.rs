use aggregates::fo_task::{FoTask, FoTaskKind, FoTaskStatus};
use projections::fo_task::{FoTaskHistoryRow, FoTaskView};
use projections::frame::Fold;

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for FoTask {
    const PATH: &'static str = "fo-tasks";
    const DESCRIPTION: &'static str = "Field-operator tasks and their subtasks.";
    const STATE_PROJECTOR: &'static str = projections::fo_task::FoTasksProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::fo_task::FoTaskHistoryProjector::NAME];
    type View = FoTaskView;
    type HistoryRow = FoTaskHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "fo_tasks",
        filters: &[
            Filter::enumeration::<FoTaskStatus>("status"),
            Filter::enumeration::<FoTaskKind>("kind"),
            Filter::uuid("hub_id"),
            Filter::uuid("robot_id"),
            Filter::uuid("trip_id"),
        ],
    };

    fn services() {}
}

views!(FoTaskView, |v: &FoTaskView| v.version, FoTaskHistoryRow);
