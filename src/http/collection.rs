//! What an aggregate declares to join the API: its path, its projectors, its views and how it
//! is listed. The routes (`routes.rs`) and the document (`openapi.rs`) follow from it.

use std::borrow::Cow;
use std::future::Future;

use futures::future::BoxFuture;

use aggregates::availability_quote::AvailabilityQuote;
use aggregates::city::City;
use aggregates::fo_task::FoTask;
use aggregates::hub::Hub;
use aggregates::operator::Operator;
use aggregates::pilot::Pilot;
use aggregates::pilot_center::PilotCenter;
use aggregates::robot::Robot;
use aggregates::site::Site;
use aggregates::task::Task;
use aggregates::trip::Trip;
use aggregates::{CommandNames, DomainError};
use cqrs_es::Aggregate;
use projections::views::{Load, Timeline};
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
        Command: DeserializeOwned + CommandNames + ToSchema + Clone + Send,
        Event: ToSchema + aggregates::VariantNames,
        Error: DomainError + Send,
        Services: Send,
    > + ToSchema
    + 'static
{
    /// The path segment: `tasks`, `trips`, `pilots`, `fo-tasks`.
    const PATH: &'static str;
    /// What its entities are, in a few words (the document's tag).
    const DESCRIPTION: &'static str;
    /// The projector keeping the current-state read model.
    const STATE_PROJECTOR: &'static str;
    /// The projectors keeping the history tables.
    const HISTORY_PROJECTORS: &'static [&'static str];
    /// The current state as the API shows it.
    type View: Entity + Load + Serialize + ToSchema;
    /// One row of the status timeline.
    type HistoryRow: TimelineRow + Timeline + Serialize + ToSchema;
    /// How `GET /v1/{collection}` lists the read model.
    const LIST: ListSpec;

    /// What the aggregate's decisions need from outside, for one command.
    fn services() -> Self::Services;

    /// The current state from the read model, `None` if it has no row.
    fn read(
        pool: &PgPool,
        id: Uuid,
    ) -> impl Future<Output = sqlx::Result<Option<Self::View>>> + Send {
        Self::View::load(pool, id)
    }
    /// The current states of these entities, in no particular order (those without a row are
    /// left out), read on `conn` (the list's snapshot) with one statement per table.
    fn read_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> impl Future<Output = sqlx::Result<Vec<Self::View>>> + Send {
        Self::View::load_many(conn, ids)
    }
    /// The status timeline from the history tables, in order.
    fn history(
        pool: &PgPool,
        id: Uuid,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::HistoryRow>>> + Send {
        Self::HistoryRow::of(pool, id)
    }
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

impl Filter {
    /// A filter on the UUID column of the parameter's name.
    pub const fn uuid(name: &'static str) -> Self {
        Self::on(name, FilterKind::Uuid)
    }

    /// A filter on the column of the parameter's name, holding values of the enumeration `T`.
    pub const fn enumeration<T: DeserializeOwned + ToSchema>(name: &'static str) -> Self {
        Self::on(name, FilterKind::enumeration::<T>())
    }

    /// `name=true|false`: whether the (timestamp) `column` is set.
    pub const fn is_set(name: &'static str, column: &'static str) -> Self {
        Self {
            name,
            column,
            kind: FilterKind::IsSet,
        }
    }

    /// `name=true|false`: the boolean column of the parameter's name.
    pub const fn boolean(name: &'static str) -> Self {
        Self::on(name, FilterKind::Bool)
    }

    /// `name=<uuid>`: rows for which `exists` holds, an SQL condition on the row `t` with the
    /// UUID as `$?` (a membership in another table).
    pub const fn member(name: &'static str, exists: &'static str) -> Self {
        Self::on(name, FilterKind::Member { exists })
    }

    const fn on(name: &'static str, kind: FilterKind) -> Self {
        Self {
            name,
            column: name,
            kind,
        }
    }
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
    /// `true` or `false`: the (boolean) column's value.
    Bool,
    /// A UUID for which the condition `exists` holds (see `Filter::member`).
    Member {
        exists: &'static str,
    },
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

/// Something done for each collection (its routes, its part of the document...).
pub trait Each {
    fn each<C: Collection>(&mut self);
}

/// Every collection, in order: the one list an aggregate joins to be served (its routes, the
/// document, the feed's and the export's types, keys, the timeline command all follow).
pub fn for_each(each: &mut impl Each) {
    each.each::<Task>();
    each.each::<Trip>();
    each.each::<Pilot>();
    each.each::<FoTask>();
    each.each::<Robot>();
    each.each::<PilotCenter>();
    each.each::<Site>();
    each.each::<City>();
    each.each::<Hub>();
    each.each::<Operator>();
    each.each::<AvailabilityQuote>();
}

/// What the service says of a collection, whatever its type.
#[derive(Clone, Copy)]
pub struct About {
    /// The path segment: `/v1/{path}`.
    pub path: &'static str,
    pub aggregate_type: &'static str,
    pub description: &'static str,
    pub event_types: &'static [&'static str],
    /// The entity's timeline, each row as the API shows it.
    pub history: for<'a> fn(&'a PgPool, Uuid) -> BoxFuture<'a, sqlx::Result<Vec<Value>>>,
}

impl About {
    fn of<C: Collection>() -> Self {
        Self {
            path: C::PATH,
            aggregate_type: C::TYPE,
            description: C::DESCRIPTION,
            event_types: <C::Event as aggregates::VariantNames>::VARIANTS,
            history: |pool, id| {
                Box::pin(async move {
                    let rows = C::history(pool, id).await?;
                    rows.iter()
                        .map(|row| {
                            serde_json::to_value(row).map_err(|e| sqlx::Error::Decode(e.into()))
                        })
                        .collect()
                })
            },
        }
    }
}

/// Every collection's `About`, in `for_each`'s order (gathered once).
pub fn collections() -> &'static [About] {
    static ALL: std::sync::LazyLock<Vec<About>> = std::sync::LazyLock::new(gather);
    &ALL
}

fn gather() -> Vec<About> {
    struct Gather(Vec<About>);
    impl Each for Gather {
        fn each<C: Collection>(&mut self) {
            self.0.push(About::of::<C>());
        }
    }
    let mut gather = Gather(Vec::new());
    for_each(&mut gather);
    gather.0
}

/// The collections' path segments, as in `/v1/{collection}`.
pub fn collection_paths() -> Vec<&'static str> {
    collections().iter().map(|c| c.path).collect()
}

/// The aggregate type behind a collection's path segment (`tasks` -> `Task`).
pub fn aggregate_type_of(collection: &str) -> Option<&'static str> {
    (collections().iter())
        .find(|c| c.path == collection)
        .map(|c| c.aggregate_type)
}
