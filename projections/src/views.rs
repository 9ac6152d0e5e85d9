//! What the views' loaders share: one snapshot for a read, child rows grouped by their owner.

use std::collections::HashMap;
use std::future::Future;

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A view the API reads by id.
pub trait Load: Sized + Send {
    /// Views by id, in no particular order (ids without a row are left out), read on `conn`
    /// with one statement per table (run them in one `snapshot` for parts that agree).
    fn load_many(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> impl Future<Output = Result<Vec<Self>, sqlx::Error>> + Send;

    /// One view, `None` if it has no row. (A view of several tables reads them in one
    /// `snapshot` instead.)
    fn load(
        pool: &PgPool,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Self>, sqlx::Error>> + Send {
        async move {
            let mut conn = pool.acquire().await?;
            Ok(Self::load_many(&mut conn, &[id]).await?.pop())
        }
    }
}

/// A row of an entity's timeline (its history), read by the entity's id.
pub trait Timeline: Sized + Send {
    /// The entity's timeline, in order.
    fn of(pool: &PgPool, id: Uuid) -> impl Future<Output = Result<Vec<Self>, sqlx::Error>> + Send;
}

/// A read-only transaction that sees one snapshot throughout, so that a view assembled from
/// several tables (or a list and its items) agrees with itself.
pub async fn snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Rows of a child table for these owners (`$1` is the owners' ids), grouped by `owner`, each
/// group in the statement's order.
pub(crate) async fn children<T>(
    conn: &mut PgConnection,
    sql: &str,
    ids: &[Uuid],
    owner: impl Fn(&T) -> Uuid,
) -> Result<HashMap<Uuid, Vec<T>>, sqlx::Error>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in sqlx::query_as::<_, T>(sql)
        .bind(ids)
        .fetch_all(conn)
        .await?
    {
        groups.entry(owner(&row)).or_default().push(row);
    }
    Ok(groups)
}
