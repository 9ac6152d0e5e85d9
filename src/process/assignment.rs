//! The assignment process: keeps a task and its pilot in step.
//!
//! - `PilotAssignmentAccepted` -> the task records the pilot (`TaskPilotAssigned`); if the task
//!   already has another pilot, has ended or does not exist, the pilot's assignment is revoked
//!   with that reason.
//! - `TaskCompleted` -> the pilot's assignment is finished; `TaskCancelled` -> canceled.
//! - `PilotAssignmentAbandoned` / `Revoked` / `Canceled` / `Finished` -> the task lets the pilot
//!   go (`TaskPilotUnassigned`): every way an accepted assignment ends frees its task for
//!   another pilot, except a task that completed, which keeps the pilot who drove it. (The
//!   other endings, `Rejected` and `Stale`, end a REQUESTED assignment, which no task holds.)
//!
//! Commands carry the causing event's position as causation id and its correlation id. Each
//! decision's key is derived from the causing event and the decision is stored, refusals
//! included (`decide_once`), so a batch redelivered after a crash (effects done, checkpoint not
//! yet moved) finds every decision already taken and takes none again.

use aggregates::pilot::{Pilot, PilotAssignmentStatus, PilotCommand, PilotEvent, PilotServices};
use aggregates::task::{Task, TaskCommand};
use aggregates::Note;
use async_trait::async_trait;
use projections::StoredEvent;
use uuid::Uuid;

use super::{decide_once, Cause, Effect, Reaction};
use crate::store::EventStore;

pub const NAME: &str = "assignment_process";

pub struct AssignmentProcess {
    store: EventStore,
}

impl AssignmentProcess {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Reaction for AssignmentProcess {
    const NAME: &'static str = NAME;
    const EVENT_TYPES: &'static [&'static str] = &[
        "PilotAssignmentAccepted",
        "PilotAssignmentAbandoned",
        "PilotAssignmentRevoked",
        "PilotAssignmentCanceled",
        "PilotAssignmentFinished",
        "TaskCompleted",
        "TaskCancelled",
    ];

    async fn react(&self, event: &StoredEvent) -> anyhow::Result<()> {
        let cause = Cause::of("process:assignment", event);
        let key = |step: &str| format!("{NAME}:{}:{step}", event.at.position);
        let stream = event.stream_uuid()?;
        if event.aggregate_type == "Task" {
            return self
                .task_ended(stream, &event.event_type, key("pilot"), &cause)
                .await;
        }
        let payload: PilotEvent = event.decode()?;
        let Some((assignment_id, task_id, _, to_status, reason)) = payload.assignment_change()
        else {
            return Ok(());
        };
        // A finished assignment carries no reason of its own: the task's trail says what
        // ended it.
        let reason = reason.or((to_status == PilotAssignmentStatus::Finished)
            .then_some("the pilot's assignment finished"));
        match payload {
            PilotEvent::PilotAssignmentAccepted { .. } => {
                let keys = (key("task"), key("revoke"));
                self.accepted(stream, assignment_id, task_id, keys, &cause)
                    .await
            }
            _ => {
                let command = TaskCommand::RecordPilotUnassigned {
                    pilot_id: stream,
                    assignment_id,
                    reason: reason.and_then(|r| Note::parse(r).ok()),
                };
                let effect =
                    decide_once::<Task>(&self.store, &(), key("task"), task_id, command, &cause)
                        .await?;
                if let Effect::Refused(refusal) = effect {
                    tracing::debug!(%task_id, %refusal, "task not told of an ended assignment");
                }
                Ok(())
            }
        }
    }
}

fn pilot_services() -> PilotServices {
    PilotServices {
        now: chrono::Utc::now(),
    }
}

impl AssignmentProcess {
    async fn accepted(
        &self,
        pilot_id: Uuid,
        assignment_id: Uuid,
        task_id: Uuid,
        (task_key, revoke_key): (String, String),
        cause: &Cause,
    ) -> anyhow::Result<()> {
        let assign = TaskCommand::RecordPilotAssigned {
            pilot_id,
            assignment_id,
        };
        let Effect::Refused(refusal) =
            decide_once::<Task>(&self.store, &(), task_key, task_id, assign, cause).await?
        else {
            return Ok(());
        };
        tracing::info!(%pilot_id, %assignment_id, %task_id, %refusal, "revoking an accepted assignment");
        let revoke = PilotCommand::RevokeAssignment {
            assignment_id,
            reason: Note::parse(format!("the task refused the pilot: {refusal}")).ok(),
        };
        let revoked = decide_once::<Pilot>(
            &self.store,
            &pilot_services(),
            revoke_key,
            pilot_id,
            revoke,
            cause,
        )
        .await?;
        if let Effect::Refused(refusal) = revoked {
            tracing::debug!(%pilot_id, %assignment_id, %refusal, "assignment already ended");
        }
        Ok(())
    }

    /// A task completed or was cancelled: its pilot's assignment ends with it.
    async fn task_ended(
        &self,
        task_id: Uuid,
        event_type: &str,
        key: String,
        cause: &Cause,
    ) -> anyhow::Result<()> {
        let task = self.store.load::<Task>(&task_id.to_string()).await?;
        let Some(link) = task.aggregate.state().and_then(|t| t.pilot) else {
            return Ok(());
        };
        let assignment_id = link.assignment_id;
        let command = if event_type == "TaskCompleted" {
            PilotCommand::FinishAssignment { assignment_id }
        } else {
            PilotCommand::CancelAssignment {
                assignment_id,
                reason: Note::parse("the task was cancelled").ok(),
            }
        };
        let ended = decide_once::<Pilot>(
            &self.store,
            &pilot_services(),
            key,
            link.pilot_id,
            command,
            cause,
        )
        .await?;
        if let Effect::Refused(refusal) = ended {
            tracing::debug!(%task_id, %assignment_id, %refusal, "assignment already ended");
        }
        Ok(())
    }
}
