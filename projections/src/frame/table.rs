//! A table declared once: its row type, its columns, and from them its load and its upsert.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection};

use super::Inconsistent;

/// A read-model table whose rows a batch loads by key, changes in memory and writes back with
/// one multi-row upsert. Implemented by `table!`.
#[async_trait]
pub trait Table: Sized + Send + Sync + Unpin + for<'r> FromRow<'r, PgRow> {
    type Key: Eq + Hash + Clone + Send + Sync;
    /// The table's name.
    const TABLE: &'static str;
    /// Its columns, comma-separated, in the row's order: `SELECT {COLUMNS} FROM {TABLE}`.
    const COLUMNS: &'static str;
    fn key(&self) -> Self::Key;
    /// The rows with these keys (the missing ones are not there).
    async fn load(conn: &mut PgConnection, keys: &[Self::Key]) -> Result<Vec<Self>, sqlx::Error>;
    /// Inserts these rows, or overwrites the rows with their keys, in one statement.
    async fn upsert(conn: &mut PgConnection, rows: &[&Self]) -> Result<(), sqlx::Error>;
    /// Inserts these new rows in one statement (a row with a key already stored is an error).
    async fn insert(conn: &mut PgConnection, rows: &[&Self]) -> Result<(), sqlx::Error>;
}

/// A table that is only ever added to (a history, a log): one multi-row insert per batch.
/// Implemented by `table!` for a table declared without a key.
#[async_trait]
pub trait Append: Sized + Send + Sync + Unpin + for<'r> FromRow<'r, PgRow> {
    const TABLE: &'static str;
    const COLUMNS: &'static str;
    async fn insert(conn: &mut PgConnection, rows: &[Self]) -> Result<(), sqlx::Error>;
}

/// A row a stream's events move along: it carries the sequence of the last event applied.
pub trait Versioned {
    fn version(&self) -> i64;
    /// Records that the event at `sequence`, recorded `at`, was applied.
    fn stamp(&mut self, sequence: i64, at: chrono::DateTime<chrono::Utc>);
}

/// The rows of one table that a batch touches: the keys it wants, the rows as they are after
/// each event, and which of them changed.
pub struct Rows<T: Table> {
    wanted: Vec<T::Key>,
    rows: HashMap<T::Key, T>,
    /// The keys of the rows read from the table (the others are new).
    stored: HashSet<T::Key>,
    changed: HashSet<T::Key>,
}

impl<T: Table> Default for Rows<T> {
    fn default() -> Self {
        Self {
            wanted: Vec::new(),
            rows: HashMap::new(),
            stored: HashSet::new(),
            changed: HashSet::new(),
        }
    }
}

impl<T: Table> Rows<T> {
    /// Notes a row to load before the batch is folded.
    pub fn want(&mut self, key: T::Key) {
        self.wanted.push(key);
    }

    /// Loads the wanted rows, in one statement.
    pub async fn load(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let mut seen = HashSet::with_capacity(self.wanted.len());
        let keys: Vec<_> = std::mem::take(&mut self.wanted)
            .into_iter()
            .filter(|key| seen.insert(key.clone()))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        for row in T::load(conn, &keys).await? {
            self.stored.insert(row.key());
            self.rows.insert(row.key(), row);
        }
        Ok(())
    }

    /// Adds a row the batch creates; a row with its key already there is an inconsistency.
    pub fn create(&mut self, row: T, exists: &'static str) -> Result<&mut T, Inconsistent> {
        let key = row.key();
        if self.rows.contains_key(&key) {
            return Err(Inconsistent(exists));
        }
        Ok(self.put(row))
    }

    /// Adds a row, or replaces the row with its key.
    pub fn put(&mut self, row: T) -> &mut T {
        let key = row.key();
        self.changed.insert(key.clone());
        self.rows.entry(key).insert_entry(row).into_mut()
    }

    /// The row with this key, to change it, if there is one.
    pub fn find(&mut self, key: &T::Key) -> Option<&mut T> {
        let row = self.rows.get_mut(key)?;
        self.changed.insert(key.clone());
        Some(row)
    }

    /// The row with this key, to change it; a missing row is an inconsistency.
    pub fn get(&mut self, key: &T::Key, missing: &'static str) -> Result<&mut T, Inconsistent> {
        self.find(key).ok_or(Inconsistent(missing))
    }

    /// The row with this key, read only.
    pub fn peek(&self, key: &T::Key) -> Option<&T> {
        self.rows.get(key)
    }

    /// The rows the batch changed, in no particular order.
    pub fn changed(&self) -> impl Iterator<Item = &T> {
        self.changed.iter().filter_map(|key| self.rows.get(key))
    }

    /// Writes the changed rows back: the new ones in one insert, the stored ones in one upsert.
    /// (A fold must `want` every row it touches, so a row it did not find is new.)
    pub async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let (stored, new): (Vec<&T>, Vec<&T>) = self
            .changed()
            .partition(|row| self.stored.contains(&row.key()));
        if !new.is_empty() {
            T::insert(conn, &new).await?;
        }
        if !stored.is_empty() {
            T::upsert(conn, &stored).await?;
        }
        Ok(())
    }
}

impl<T: Table + Versioned> Rows<T> {
    /// The stream's row, moved to the event at `sequence`: a missing row, or one already at or
    /// past the event (it would be applied twice), is an inconsistency.
    pub fn advance(
        &mut self,
        key: &T::Key,
        sequence: i64,
        at: chrono::DateTime<chrono::Utc>,
        missing: &'static str,
    ) -> Result<&mut T, Inconsistent> {
        let row = self.get(key, missing)?;
        if row.version() >= sequence {
            return Err(Inconsistent("the row is already at or past this event"));
        }
        row.stamp(sequence, at);
        Ok(row)
    }
}

/// The rows a batch adds to an append-only table.
pub struct Appends<T: Append>(Vec<T>);

impl<T: Append> Default for Appends<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Append> Appends<T> {
    pub fn push(&mut self, row: T) {
        self.0.push(row);
    }

    pub fn rows(&self) -> &[T] {
        &self.0
    }

    pub async fn write(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.0.is_empty() {
            return Ok(());
        }
        T::insert(conn, &self.0).await
    }
}

/// Declares a table's row once; its `FromRow`, its columns, its load and its upsert (or, for a
/// table without a key, its insert) follow. Each field is a column of the same name, stored as
/// its `Column` says.
///
/// ```ignore
/// table! {
///     /// A row of `routes`.
///     pub struct RouteRow in "routes" by (pub route_id: Uuid) {
///         pub trip_id: Uuid,
///         pub distance_m: f64,
///     }
/// }
/// ```
macro_rules! table {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal by (
            $($(#[$kmeta:meta])* $kvis:vis $key:ident : $kty:ty),+ $(,)?
        ) {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$kmeta])* $kvis $key: $kty,)+
            $($(#[$fmeta])* $fvis $field: $fty,)*
        }

        $crate::frame::table!(@from_row $name { $($key,)+ $($field,)* });

        #[async_trait::async_trait]
        impl $crate::frame::Table for $name {
            type Key = $crate::frame::table!(@key_type $($kty),+);
            const TABLE: &'static str = $table;
            const COLUMNS: &'static str =
                $crate::frame::table!(@columns $($key,)+ $($field,)*);

            fn key(&self) -> Self::Key {
                $crate::frame::table!(@key_value self $($key),+)
            }

            async fn load(
                conn: &mut sqlx::PgConnection,
                keys: &[Self::Key],
            ) -> Result<Vec<Self>, sqlx::Error> {
                static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = SQL.get_or_init(|| {
                    $crate::frame::load_sql($table, &[$(stringify!($key)),+], Self::COLUMNS)
                });
                let query = sqlx::query_as::<_, Self>(sql);
                $crate::frame::table!(@bind_keys query keys $($key),+)
                    .fetch_all(conn)
                    .await
            }

            async fn upsert(
                conn: &mut sqlx::PgConnection,
                rows: &[&Self],
            ) -> Result<(), sqlx::Error> {
                use $crate::frame::Column as _;
                static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = SQL.get_or_init(|| {
                    $crate::frame::insert_sql(
                        $table,
                        &[$(stringify!($key)),+],
                        &[$(stringify!($field)),*],
                    )
                });
                sqlx::query(sql)
                    $(.bind(rows.iter().map(|r| r.$key.bind()).collect::<Vec<_>>()))+
                    $(.bind(rows.iter().map(|r| r.$field.bind()).collect::<Vec<_>>()))*
                    .execute(conn)
                    .await?;
                Ok(())
            }

            async fn insert(
                conn: &mut sqlx::PgConnection,
                rows: &[&Self],
            ) -> Result<(), sqlx::Error> {
                use $crate::frame::Column as _;
                static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = SQL.get_or_init(|| {
                    $crate::frame::insert_sql(
                        $table,
                        &[],
                        &[$(stringify!($key),)+ $(stringify!($field)),*],
                    )
                });
                sqlx::query(sql)
                    $(.bind(rows.iter().map(|r| r.$key.bind()).collect::<Vec<_>>()))+
                    $(.bind(rows.iter().map(|r| r.$field.bind()).collect::<Vec<_>>()))*
                    .execute(conn)
                    .await?;
                Ok(())
            }
        }
    };

    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $fty,)*
        }

        $crate::frame::table!(@from_row $name { $($field,)* });

        #[async_trait::async_trait]
        impl $crate::frame::Append for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static str = $crate::frame::table!(@columns $($field,)*);

            async fn insert(
                conn: &mut sqlx::PgConnection,
                rows: &[Self],
            ) -> Result<(), sqlx::Error> {
                use $crate::frame::Column as _;
                static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = SQL.get_or_init(|| {
                    $crate::frame::insert_sql($table, &[], &[$(stringify!($field)),*])
                });
                sqlx::query(sql)
                    $(.bind(rows.iter().map(|r| r.$field.bind()).collect::<Vec<_>>()))*
                    .execute(conn)
                    .await?;
                Ok(())
            }
        }
    };

    (@from_row $name:ident { $($field:ident,)* }) => {
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                Ok(Self {
                    $($field: $crate::frame::restore(row, stringify!($field))?,)*
                })
            }
        }
    };

    (@columns $first:ident, $($field:ident,)*) => {
        concat!(stringify!($first) $(, ", ", stringify!($field))*)
    };

    (@key_type $kty:ty) => { $kty };
    (@key_type $k1:ty, $k2:ty) => { ($k1, $k2) };

    (@key_value $self:ident $key:ident) => { $self.$key.clone() };
    (@key_value $self:ident $k1:ident, $k2:ident) => { ($self.$k1.clone(), $self.$k2.clone()) };

    (@bind_keys $query:ident $keys:ident $key:ident) => {{
        use $crate::frame::Column as _;
        $query.bind($keys.iter().map(|k| k.bind()).collect::<Vec<_>>())
    }};
    (@bind_keys $query:ident $keys:ident $k1:ident, $k2:ident) => {{
        use $crate::frame::Column as _;
        $query
            .bind($keys.iter().map(|k| k.0.bind()).collect::<Vec<_>>())
            .bind($keys.iter().map(|k| k.1.bind()).collect::<Vec<_>>())
    }};
}

/// Declares a row a query reads (a view over one or more tables): its `FromRow`, each field
/// read from the column of its name as its `Column` says.
macro_rules! row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $fty,)*
        }

        $crate::frame::table!(@from_row $name { $($field,)* });
    };
}

/// `Versioned` for rows that carry their stream's `version` (i64) and `updated_at`.
macro_rules! versioned {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::frame::Versioned for $ty {
            fn version(&self) -> i64 {
                self.version
            }

            fn stamp(&mut self, sequence: i64, at: chrono::DateTime<chrono::Utc>) {
                self.version = sequence;
                self.updated_at = at;
            }
        }
    )+};
}

pub(crate) use {row, table, versioned};
