//! The bodies and headers the API answers with.

use crate::store::AppendedEvent;
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};
use projections::DeadLetter;
use serde::Serialize;
use uuid::Uuid;

/// The answer header carrying a command's consistency token.
pub const CONSISTENCY_TOKEN: &str = "x-consistency-token";

/// A stream version as an entity tag: `"3"`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// What a command answers: the stream's version after it, the events it appended and the
/// token to read them back with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommandAnswer {
    pub id: Uuid,
    /// The stream's version after the command.
    pub version: u64,
    /// The events it appended, in order (none when it changed nothing).
    pub events: Vec<AppendedEvent>,
    /// Name it in `consistent_with` to read your own write (`null` when nothing was appended).
    #[schema(required = true)]
    pub token: Option<String>,
}

/// A page of a list: its items and the cursor of the next page (`null` on the last).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T: utoipa::ToSchema, C: utoipa::ToSchema = String> {
    pub items: Vec<T>,
    #[schema(required = true, inline)]
    pub next: Option<C>,
}

/// A page of the feed: its events and the token to read on from (the last event's, or the
/// one asked for when there was nothing new).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    #[schema(schema_with = events)]
    pub items: Vec<serde_json::Value>,
    pub next: String,
}

/// A list of events, each as the feed shows it (`Event`).
fn events() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::Array::new(utoipa::openapi::Ref::from_schema_name("Event"))
}

/// Every item of a short list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Items<T: utoipa::ToSchema> {
    pub items: Vec<T>,
}

/// A view as a read answers it: with what holds it back when dead letters do.
#[derive(Debug, Serialize)]
pub struct Read<T> {
    #[serde(flatten)]
    pub view: T,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub behind: Vec<Behind>,
}

/// A dead letter holding a read back: the entity's event it could not apply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Behind {
    pub dead_letter: i64,
    pub projector: String,
    pub sequence: Option<i64>,
    pub event_type: Option<String>,
    pub token: Option<String>,
}

impl From<&DeadLetter> for Behind {
    fn from(letter: &DeadLetter) -> Self {
        Self {
            dead_letter: letter.id,
            projector: letter.projector.clone(),
            sequence: letter.sequence,
            event_type: letter.event_type.clone(),
            token: letter.token.clone(),
        }
    }
}

/// An entity's timeline: its history rows and the events operators skipped, in feed order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline<R: utoipa::ToSchema> {
    pub id: Uuid,
    /// The changes, in stream order; an event an operator skipped is a `skipped` row.
    pub items: Vec<TimelineItem<R>>,
    /// The dead letters holding the entity back (only when some do).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub behind: Vec<Behind>,
}

/// A row of a timeline: a change of the history, or a `skipped` row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum TimelineItem<R: utoipa::ToSchema> {
    Change(R),
    Skipped(Skipped),
}

/// An event an operator skipped (a dead letter): who, when and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    /// `skipped`.
    pub kind: &'static str,
    pub sequence: Option<i64>,
    pub event_type: Option<String>,
    /// `SKIPPED`.
    pub to_status: &'static str,
    pub changed_at: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    pub reason: Option<String>,
    pub position: Option<i64>,
    pub dead_letter: i64,
    pub projector: String,
}

impl From<DeadLetter> for Skipped {
    fn from(letter: DeadLetter) -> Self {
        Self {
            kind: "skipped",
            sequence: letter.sequence,
            event_type: letter.event_type,
            to_status: "SKIPPED",
            changed_at: letter.resolved_at,
            actor: letter.resolved_by,
            reason: letter.reason,
            position: letter.position,
            dead_letter: letter.id,
            projector: letter.projector,
        }
    }
}

/// A history row: where its event stands in the feed and when it changed things.
pub trait TimelineRow {
    fn position(&self) -> i64;
    fn changed_at(&self) -> DateTime<Utc>;
}

impl<R: TimelineRow + utoipa::ToSchema> TimelineItem<R> {
    pub fn position(&self) -> Option<i64> {
        match self {
            Self::Change(row) => Some(row.position()),
            Self::Skipped(skipped) => skipped.position,
        }
    }

    pub fn changed_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Change(row) => Some(row.changed_at()),
            Self::Skipped(skipped) => skipped.changed_at,
        }
    }
}

/// The state at a version or a moment, folded from the events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PastState<S: utoipa::ToSchema> {
    pub id: Uuid,
    #[schema(minimum = 1)]
    pub version: u64,
    pub as_of: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub state: S,
}

/// One stream's events, a page of them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StreamPage {
    pub id: Uuid,
    #[schema(schema_with = events)]
    pub items: Vec<serde_json::Value>,
    /// The last event's sequence: the next page's `after`.
    pub next: i64,
}

/// A stream's hash chain, recomputed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub id: Uuid,
    pub status: ChainStatus,
    /// The stream's events, verified.
    pub events: u64,
    pub head: Head,
    /// The first event that no longer fits its chain; `null` when all do.
    #[schema(required = true)]
    pub broken: Option<Break>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChainStatus {
    Intact,
    Broken,
}

/// The stream's last event: its sequence and its link in the chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Head {
    pub sequence: i64,
    #[schema(required = true)]
    pub hash: Option<String>,
}

/// Where a chain breaks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Break {
    pub sequence: i64,
    /// `altered`, `removed`, `inserted`, `unchained`...
    pub kind: &'static str,
    pub detail: String,
}
