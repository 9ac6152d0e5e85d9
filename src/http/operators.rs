use aggregates::operator::{Operator, OperatorRole, OperatorStatus};
use projections::frame::Fold;
use projections::operator::{OperatorHistoryRow, OperatorView};

use super::collection::{views, Collection, Filter, ListSpec};

impl Collection for Operator {
    const PATH: &'static str = "operators";
    const DESCRIPTION: &'static str =
        "The people who run the fleet: pilots, dispatch, support and field operators.";
    const STATE_PROJECTOR: &'static str = projections::operator::OperatorsProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::operator::OperatorHistoryProjector::NAME];
    type View = OperatorView;
    type HistoryRow = OperatorHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "operators",
        filters: &[
            Filter::enumeration::<OperatorRole>("role"),
            Filter::enumeration::<OperatorStatus>("status"),
            Filter::boolean("active"),
            Filter::member(
                "hub_id",
                "EXISTS (SELECT 1 FROM operator_hubs m WHERE m.operator_id = t.id \
                 AND m.hub_id = $?::uuid AND m.removed_at IS NULL)",
            ),
        ],
    };

    fn services() {}
}

views!(
    OperatorView,
    |v: &OperatorView| v.version,
    OperatorHistoryRow
);
