//! What an aggregate declares to join the API: its path, its projectors, its views and how it
//! is listed. The routes (`routes.rs`) and the document (`openapi.rs`) follow from it.

use std::borrow::Cow;
use std::future::Future;

use aggregates::fo_task::FoTask;
use aggregates::pilot::Pilot;
use aggregates::task::Task;
use aggregates::trip::Trip;
use aggregates::{CommandNames, DomainError};
use cqrs_es::Aggregate;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::answer::TimelineRow;
use crate::store::Stream;

/// A view that knows which entity it shows, and at what version of its stream.
pub trait Entity {
    fn id(&self) -> Uuid;
    fn version(&self) -> u64;
}

/// `Entity` for a view and `TimelineRow` for its history row, which carry `id` and `version`,
/// `position` and `changed_at`; `$version` reads the version as a `u64`.
macro_rules! views {
    ($view:ty, $version:expr, $row:ty) => {
        impl $crate::http::collection::Entity for $view {
            fn id(&self) -> uuid::Uuid {
                self.id
            }

            fn version(&self) -> u64 {
                ($version)(self)
            }
        }

        impl $crate::http::answer::TimelineRow for $row {
            fn position(&self) -> i64 {
                self.position
            }

            fn changed_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.changed_at
            }
        }
    };
}

pub(super) use views;

pub trait Collection:
    Stream
    + Aggregate<
        Command: DeserializeOwned + CommandNames + ToSchema + Send,
        Event: ToSchema,
        Error: DomainError + Send,
        Services: Send,
    > + ToSchema
    + 'static
{
    /// The path segment: `tasks`, `trips`, `pilots`, `fo-tasks`.
    const PATH: &'static str;
    /// The projector keeping the current-state read model.
    const STATE_PROJECTOR: &'static str;
    /// The projectors keeping the history tables.
    const HISTORY_PROJECTORS: &'static [&'static str];
    /// The current state as the API shows it.
    type View: Entity + Serialize + ToSchema + Send;
    /// One row of the status timeline.
    type HistoryRow: TimelineRow + Serialize + ToSchema + Send;
    /// How `GET /v1/{collection}` lists the read model.
    const LIST: ListSpec;

    /// What the aggregate's decisions need from outside, for one command.
    fn services() -> Self::Services;

    /// The current state from the read model, `None` if it has no row.
    fn read(
        pool: &PgPool,
        id: Uuid,
    ) -> impl Future<Output = sqlx::Result<Option<Self::View>>> + Send;
    /// The current states of these entities, in no particular order (those without a row are
    /// left out), read on `conn` (the list's snapshot) with one statement per table.
    fn read_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> impl Future<Output = sqlx::Result<Vec<Self::View>>> + Send;
    /// The status timeline from the history tables, in order.
    fn history(
        pool: &PgPool,
        id: Uuid,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::HistoryRow>>> + Send;
}

/// How a collection is listed: its table and the filters it takes (each backed by an index).
pub struct ListSpec {
    pub table: &'static str,
    pub filters: &'static [Filter],
}

pub struct Filter {
    /// The query parameter.
    pub name: &'static str,
    pub column: &'static str,
    pub kind: FilterKind,
}

pub enum FilterKind {
    Uuid,
    /// A value of an enumeration: `valid` says whether a text is one; `schema` names the
    /// enumeration's schema in the OpenAPI document.
    Enum {
        valid: fn(&str) -> bool,
        schema: fn() -> Cow<'static, str>,
    },
    /// `true` or `false`: whether the (timestamp) column is set.
    IsSet,
}

impl FilterKind {
    /// A filter on the values of the enumeration `T`.
    pub const fn enumeration<T: DeserializeOwned + ToSchema>() -> Self {
        Self::Enum {
            valid: is_value::<T>,
            schema: T::name,
        }
    }
}

/// Whether `text` is a value of the enumeration `T` (in its JSON spelling).
fn is_value<T: DeserializeOwned>(text: &str) -> bool {
    serde_json::from_value::<T>(Value::String(text.to_string())).is_ok()
}

/// The collections' path segments, as in `/v1/{collection}`.
pub fn collection_paths() -> [&'static str; 4] {
    [
        <Task as Collection>::PATH,
        <Pilot as Collection>::PATH,
        <Trip as Collection>::PATH,
        <FoTask as Collection>::PATH,
    ]
}

/// The aggregate type behind a collection's path segment (`tasks` -> `Task`).
pub fn aggregate_type_of(collection: &str) -> Option<&'static str> {
    [
        (
            <Task as Collection>::PATH,
            <Task as cqrs_es::Aggregate>::TYPE,
        ),
        (
            <Pilot as Collection>::PATH,
            <Pilot as cqrs_es::Aggregate>::TYPE,
        ),
        (
            <Trip as Collection>::PATH,
            <Trip as cqrs_es::Aggregate>::TYPE,
        ),
        (
            <FoTask as Collection>::PATH,
            <FoTask as cqrs_es::Aggregate>::TYPE,
        ),
    ]
    .into_iter()
    .find(|(path, _)| *path == collection)
    .map(|(_, aggregate_type)| aggregate_type)
}
