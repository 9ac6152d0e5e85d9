use uuid::Uuid;

use super::{FoTaskStatus, SubtaskStatus};
use crate::DomainError;

/// Why a field-operations task refused a command. Messages are safe to show to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoTaskError {
    #[error("the field-operations task does not exist; create it with CreateFoTask first")]
    NotFound,
    #[error("the field-operations task already exists")]
    AlreadyExists,
    #[error(
        "the field-operations task is {status}, which is final; it accepts no further commands"
    )]
    Ended { status: FoTaskStatus },
    #[error("{command} is not allowed while the field-operations task is {status}")]
    InvalidTransition {
        command: &'static str,
        status: FoTaskStatus,
    },
    #[error("subtask id {subtask_id} is used more than once in the task")]
    DuplicateSubtask { subtask_id: Uuid },
    #[error("a field-operations task holds at most {max} subtasks")]
    TooManySubtasks { max: usize },
    #[error("the task has no subtask {subtask_id}")]
    SubtaskNotFound { subtask_id: Uuid },
    #[error(
        "subtask {subtask_id} is not the current one; subtasks are done in order{}",
        current_hint(.current)
    )]
    SubtaskOutOfOrder {
        subtask_id: Uuid,
        current: Option<Uuid>,
    },
    #[error("{command} is not allowed while subtask {subtask_id} is {status}")]
    InvalidSubtaskTransition {
        subtask_id: Uuid,
        command: &'static str,
        status: SubtaskStatus,
    },
    #[error("{open} subtask(s) are neither done nor skipped; complete or skip them first")]
    SubtasksOpen { open: usize },
    #[error("assignment {assignment_id} already exists on the task")]
    AssignmentAlreadyExists { assignment_id: Uuid },
    #[error("field operator {fo_id} is already assigned to the task")]
    OperatorAlreadyAssigned { fo_id: Uuid },
    #[error("the task has no assignment {assignment_id}")]
    AssignmentNotFound { assignment_id: Uuid },
    #[error("assignment {assignment_id} has already ended")]
    AssignmentNotActive { assignment_id: Uuid },
    #[error("no field operator is assigned; assign one with AssignFieldOperator before starting")]
    NoOperatorAssigned,
}

fn current_hint(current: &Option<Uuid>) -> String {
    match current {
        Some(id) => format!(" and the current one is {id}"),
        None => " and every subtask is done or skipped".to_string(),
    }
}

impl DomainError for FoTaskError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Ended { .. } => "task_ended",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::DuplicateSubtask { .. } => "duplicate_subtask",
            Self::TooManySubtasks { .. } => "too_many_subtasks",
            Self::SubtaskNotFound { .. } => "subtask_not_found",
            Self::SubtaskOutOfOrder { .. } => "subtask_out_of_order",
            Self::InvalidSubtaskTransition { .. } => "invalid_subtask_transition",
            Self::SubtasksOpen { .. } => "subtasks_open",
            Self::AssignmentAlreadyExists { .. } => "assignment_already_exists",
            Self::OperatorAlreadyAssigned { .. } => "operator_already_assigned",
            Self::AssignmentNotFound { .. } => "assignment_not_found",
            Self::AssignmentNotActive { .. } => "assignment_not_active",
            Self::NoOperatorAssigned => "no_operator_assigned",
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound)
    }
}
