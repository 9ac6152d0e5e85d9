use serde::{Deserialize, Serialize};

/// Who asked for a change, and in the course of what: stored with every event of a command.
/// Values are strings, as cqrs-es's `EventEnvelope::metadata` expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Who issued the command: the authenticated principal (`key:<name>`,
    /// `jwt:<sub>@<issuer>`), or the process (`process:assignment`). Events stored before
    /// authentication existed carry the caller's self-declared `X-Actor` here.
    pub actor: String,
    /// Whom the actor acted for, as it said (`X-Actor`: a service acting for a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// The command that produced the event.
    pub command: String,
    /// The HTTP request that carried the command.
    pub request_id: String,
    /// The business flow the command belongs to, shared by everything it causes.
    pub correlation_id: String,
    /// What directly caused the command: the request for a client's command, the event for a
    /// command issued by a process.
    pub causation_id: String,
}
