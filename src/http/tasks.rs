use aggregates::task::Task;
use projections::task::TaskView;
use uuid::Uuid;

use super::collection::Collection;
use crate::store::Loaded;

impl Collection for Task {
    const PATH: &'static str = "tasks";
    type View = TaskView;

    fn view(id: Uuid, loaded: Loaded<Self>) -> Option<TaskView> {
        let state = loaded.aggregate.state()?;
        Some(TaskView::from_state(
            id,
            state,
            loaded.version,
            loaded.created_at?,
            loaded.updated_at?,
        ))
    }
}
