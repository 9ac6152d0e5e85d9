//! The frame of a history read model (`*_history`): rows appended from each event alone, with
//! no state to load. A history table is declared with `history!` (what its rows say besides what
//! every row copies from its event, `Recorded`); its projector says which row an event adds
//! (`Changes`), its batch is `History<Self>`, and its timeline is read with `timeline`.

use std::marker::PhantomData;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{FromRow, PgConnection, PgPool, Postgres};
use uuid::Uuid;

use aggregates::VariantNames;

use super::{restore, Append, Appends, Batch, Fact, Fold, Inconsistent};

/// What every history row copies from its event: its place in the feed and in its stream, which
/// event it is, when, by whom and in what flow. Stored in the columns `global_position`, the
/// stream's id column (`task_id`...), `sequence`, `event_type`, `changed_at`, `actor` and
/// `correlation_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub global_position: i64,
    /// The stream's id.
    pub stream: Uuid,
    pub sequence: i64,
    pub event_type: String,
    pub changed_at: DateTime<Utc>,
    pub actor: String,
    pub correlation_id: Option<String>,
}

impl Fact<'_> {
    /// What a history row copies from this event.
    pub fn recorded(&self) -> Recorded {
        let provenance = self.provenance();
        Recorded {
            global_position: self.position,
            stream: self.stream,
            sequence: self.sequence,
            event_type: self.event_type().to_string(),
            changed_at: self.at,
            actor: provenance.actor,
            correlation_id: provenance.correlation_id,
        }
    }
}

impl Recorded {
    pub fn from_row(row: &PgRow, id_column: &str) -> Result<Self, sqlx::Error> {
        Ok(Self {
            global_position: restore(row, "global_position")?,
            stream: restore(row, id_column)?,
            sequence: restore(row, "sequence")?,
            event_type: restore(row, "event_type")?,
            changed_at: restore(row, "changed_at")?,
            actor: restore(row, "actor")?,
            correlation_id: restore(row, "correlation_id")?,
        })
    }

    /// Binds the rows' columns, one array each, in the order `history!`'s `COLUMNS` names them
    /// (`global_position`, the stream's id, `sequence`, `event_type`, `changed_at`, `actor`,
    /// `correlation_id`).
    pub fn bind<'q>(
        query: Query<'q, Postgres, PgArguments>,
        rows: impl Iterator<Item = &'q Self> + Clone,
    ) -> Query<'q, Postgres, PgArguments> {
        query
            .bind(rows.clone().map(|r| r.global_position).collect::<Vec<_>>())
            .bind(rows.clone().map(|r| r.stream).collect::<Vec<_>>())
            .bind(rows.clone().map(|r| r.sequence).collect::<Vec<_>>())
            .bind(
                rows.clone()
                    .map(|r| r.event_type.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(rows.clone().map(|r| r.changed_at).collect::<Vec<_>>())
            .bind(rows.clone().map(|r| r.actor.as_str()).collect::<Vec<_>>())
            .bind(
                rows.map(|r| r.correlation_id.as_deref())
                    .collect::<Vec<_>>(),
            )
    }
}

/// What each event adds to a history table. A `Changes` is a `Fold` (a projector) whose batch
/// is `History<Self>` and whose one table is its entry's.
pub trait Changes: Send + Sync + 'static {
    /// The projector's stable name (see `Fold::NAME`).
    const NAME: &'static str;
    /// The aggregate whose events it records.
    type Aggregate: cqrs_es::Aggregate;
    type Event: DeserializeOwned + Send + VariantNames;
    /// The event types it is given: all its aggregate's, unless it says which.
    const EVENT_TYPES: &'static [&'static str] = <Self::Event as VariantNames>::VARIANTS;
    type Entry: Append;
    /// The row `event` adds, if it adds one (an event that changes nothing the timeline shows
    /// adds none).
    fn entry(fact: &Fact<'_>, event: Self::Event) -> Result<Option<Self::Entry>, Inconsistent>;
}

impl<C: Changes> Fold for C {
    const NAME: &'static str = C::NAME;
    const AGGREGATE_TYPE: &'static str = <C::Aggregate as cqrs_es::Aggregate>::TYPE;
    const EVENT_TYPES: &'static [&'static str] = C::EVENT_TYPES;
    const TABLES: &'static [&'static str] = &[<C::Entry as Append>::TABLE];
    type Batch = History<C>;
}

/// The history rows a batch adds.
pub struct History<C: Changes> {
    pub(crate) rows: Appends<C::Entry>,
    of: PhantomData<fn() -> C>,
}

impl<C: Changes> Default for History<C> {
    fn default() -> Self {
        Self {
            rows: Appends::default(),
            of: PhantomData,
        }
    }
}

#[async_trait]
impl<C: Changes> Batch for History<C> {
    type Event = C::Event;

    fn fold(&mut self, fact: &Fact<'_>, event: C::Event) -> Result<(), Inconsistent> {
        if let Some(entry) = C::entry(fact, event)? {
            self.rows.push(entry);
        }
        Ok(())
    }

    async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        self.rows.write(conn).await
    }
}

/// One entity's timeline: the rows of `E`'s table whose `id_column` is `id`, in stream order,
/// each read as `R` with its event's `position`, whom the actor acted for (`on_behalf_of`) and
/// what caused it (`causation_id`), both from the event's metadata.
pub async fn timeline<E, R>(pool: &PgPool, id_column: &str, id: Uuid) -> Result<Vec<R>, sqlx::Error>
where
    E: Append,
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as(&format!(
        "SELECT h.*, h.global_position AS position,
                e.metadata->>'on_behalf_of' AS on_behalf_of,
                e.metadata->>'causation_id' AS causation_id
           FROM (SELECT {} FROM {} WHERE {id_column} = $1) h
           LEFT JOIN events e ON e.global_position = h.global_position
          ORDER BY h.sequence",
        E::COLUMNS,
        E::TABLE
    ))
    .bind(id)
    .fetch_all(pool)
    .await
}

/// Declares a history table's row: what it records (`recorded`, stored in the columns named by
/// `Recorded`, the stream's id as `by`) and the fields of its own, each a column of its name.
/// Its `FromRow`, its columns and its insert follow. With a served row declared first (`struct
/// Name;`), that row follows too, with its `Timeline`: the fields of both, flat, plus whom the
/// actor acted for (`on_behalf_of`), what caused it (`causation_id`) and the event's `position`.
///
/// ```ignore
/// history! {
///     /// One status change of a task.
///     #[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
///     pub struct TaskHistoryRow;
///     /// A row of `task_history`.
///     #[derive(Debug, Clone, PartialEq)]
///     pub struct TaskHistoryEntry in "task_history" by task_id {
///         pub to_status: TaskStatus,
///     }
/// }
/// ```
macro_rules! history {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal by $id:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            pub recorded: $crate::frame::Recorded,
            $($(#[$fmeta])* $fvis $field: $fty,)*
        }

        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                Ok(Self {
                    recorded: $crate::frame::Recorded::from_row(row, stringify!($id))?,
                    $($field: $crate::frame::restore(row, stringify!($field))?,)*
                })
            }
        }

        #[async_trait::async_trait]
        impl $crate::frame::Append for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static str = concat!(
                "global_position, ", stringify!($id),
                ", sequence, event_type, changed_at, actor, correlation_id"
                $(, ", ", stringify!($field))*
            );

            async fn insert(
                conn: &mut sqlx::PgConnection,
                rows: &[Self],
            ) -> Result<(), sqlx::Error> {
                use $crate::frame::Column as _;
                static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = SQL.get_or_init(|| {
                    let columns: Vec<&str> = Self::COLUMNS.split(", ").collect();
                    $crate::frame::insert_sql($table, &[], &columns)
                });
                $crate::frame::Recorded::bind(sqlx::query(sql), rows.iter().map(|r| &r.recorded))
                    $(.bind(rows.iter().map(|r| r.$field.bind()).collect::<Vec<_>>()))*
                    .execute(conn)
                    .await?;
                Ok(())
            }
        }
    };

    (
        $(#[$rmeta:meta])*
        $rvis:vis struct $row:ident;
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal by $id:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)?
        }
    ) => {
        $crate::frame::history! {
            $(#[$meta])*
            $vis struct $name in $table by $id {
                $($(#[$fmeta])* $fvis $field: $fty,)*
            }
        }

        $crate::frame::row! {
            $(#[$rmeta])*
            $rvis struct $row {
                pub $id: uuid::Uuid,
                pub sequence: i64,
                pub event_type: String,
                $($(#[$fmeta])* pub $field: $fty,)*
                pub changed_at: chrono::DateTime<chrono::Utc>,
                pub actor: String,
                /// Whom the actor acted for (`X-Actor`), from the event's metadata; `null` when it acted
                /// for itself.
                pub on_behalf_of: Option<String>,
                pub correlation_id: Option<String>,
                /// What caused the change, from the event's metadata: the request that carried a
                /// client's command, or `event:<position>`, the event a process reacted to (the
                /// shift event that moved an operator's status, the accepted assignment that
                /// gave a task its pilot).
                pub causation_id: Option<String>,
                /// The event's global position.
                pub position: i64,
            }
        }

        impl $crate::views::Timeline for $row {
            async fn of(pool: &sqlx::PgPool, id: uuid::Uuid) -> Result<Vec<Self>, sqlx::Error> {
                $crate::frame::timeline::<$name, Self>(pool, stringify!($id), id).await
            }
        }
    };
}

pub(crate) use history;
