//! `GET /v1/{collection}`: a read model's rows, filtered, in a stable order, keyset-paginated.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::answer::Page;
use super::collection::{Collection, Entity, FilterKind};
use super::context::ApiContext;
use super::extract::ApiQuery;
use super::problem::{ApiError, Code};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// The place after which the next page starts: the last row's creation time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    created_at: DateTime<Utc>,
    id: Uuid,
}

/// A time as PostgreSQL reads it back, in UTC: `None` outside the years 1 to 9999 (PostgreSQL
/// has no year 0 and reads a negative year only as BC).
fn database_time(time: DateTime<Utc>) -> Option<String> {
    (1..=9999)
        .contains(&time.year())
        .then(|| time.to_rfc3339_opts(SecondsFormat::Micros, true))
}

impl Cursor {
    fn encode(&self) -> String {
        format!("{}_{}", self.created_at.timestamp_micros(), self.id)
    }

    fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('_')?;
        Some(Self {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

fn invalid(field: &str, detail: String) -> ApiError {
    ApiError::new(Code::InvalidQuery, detail).with("field", field)
}

pub async fn list<C: Collection>(
    State(ctx): State<ApiContext>,
    ApiQuery(mut params): ApiQuery<HashMap<String, String>>,
) -> Result<Json<Page<C::View>>, ApiError> {
    let spec = &C::LIST;
    let token = params.remove("consistent_with");
    let mut sql = format!("SELECT t.created_at, t.id FROM {} t WHERE true", spec.table);
    let mut binds: Vec<String> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, value: String| {
        binds.push(value);
        sql.push_str(&clause.replace("$?", &format!("${}", binds.len())));
    };
    for filter in spec.filters {
        let Some(value) = params.remove(filter.name) else {
            continue;
        };
        let column = filter.column;
        match filter.kind {
            FilterKind::Uuid => {
                uuid_value(filter.name, &value)?;
                bind(&mut sql, &format!(" AND t.{column} = $?::uuid"), value);
            }
            FilterKind::Member { exists } => {
                uuid_value(filter.name, &value)?;
                bind(&mut sql, &format!(" AND {exists}"), value);
            }
            FilterKind::Enum { valid, .. } => {
                if !valid(&value) {
                    return Err(invalid(
                        filter.name,
                        format!("`{value}` is not a value of {}", filter.name),
                    ));
                }
                bind(&mut sql, &format!(" AND t.{column} = $?"), value);
            }
            FilterKind::IsSet => {
                let not = if bool_value(filter.name, &value)? {
                    "NOT "
                } else {
                    ""
                };
                sql.push_str(&format!(" AND t.{column} IS {not}NULL"));
            }
            FilterKind::Bool => {
                let set = bool_value(filter.name, &value)?;
                sql.push_str(&format!(" AND t.{column} = {set}"));
            }
        }
    }
    for (name, op) in [("updated_since", ">="), ("updated_until", "<")] {
        if let Some(value) = params.remove(name) {
            let time = DateTime::parse_from_rfc3339(&value)
                .ok()
                .and_then(|t| database_time(t.with_timezone(&Utc)))
                .ok_or_else(|| {
                    invalid(
                        name,
                        format!(
                            "{name} must be an RFC 3339 time from year 1 to 9999, got `{value}`"
                        ),
                    )
                })?;
            bind(
                &mut sql,
                &format!(" AND t.updated_at {op} $?::timestamptz"),
                time,
            );
        }
    }
    if let Some(after) = params.remove("after") {
        let cursor = Cursor::decode(&after)
            .ok_or_else(|| invalid("after", format!("`{after}` is not a page cursor")))?;
        let created_at = database_time(cursor.created_at)
            .ok_or_else(|| invalid("after", format!("`{after}` is not a page cursor")))?;
        binds.push(created_at);
        binds.push(cursor.id.to_string());
        let n = binds.len();
        sql.push_str(&format!(
            " AND (t.created_at, t.id) > (${}::timestamptz, ${}::uuid)",
            n - 1,
            n
        ));
    }
    let limit = match params.remove("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<i64>() {
            Ok(n @ 1..=MAX_LIMIT) => n,
            _ => {
                return Err(invalid(
                    "limit",
                    format!("limit must be from 1 to {MAX_LIMIT}, got `{text}`"),
                ))
            }
        },
    };
    if let Some(unknown) = params.keys().next() {
        let mut known: Vec<_> = spec.filters.iter().map(|f| f.name).collect();
        known.extend([
            "updated_since",
            "updated_until",
            "after",
            "limit",
            "consistent_with",
        ]);
        return Err(invalid(
            unknown,
            format!(
                "unknown parameter `{unknown}`; this list takes: {}",
                known.join(", ")
            ),
        ));
    }
    sql.push_str(&format!(" ORDER BY t.created_at, t.id LIMIT {limit}"));
    let mut query = sqlx::query(&sql);
    for value in &binds {
        query = query.bind(value);
    }
    super::consistency::wait_for_token(&ctx, token, &[C::STATE_PROJECTOR]).await?;
    // The page and its items are read in one snapshot: an item always matches the filters.
    let mut tx = projections::views::snapshot(ctx.store.pool()).await?;
    let rows = query.fetch_all(&mut *tx).await?;
    let next = if rows.len() as i64 == limit {
        rows.last()
            .map(|row| -> Result<String, sqlx::Error> {
                Ok(Cursor {
                    created_at: row.try_get("created_at")?,
                    id: row.try_get("id")?,
                }
                .encode())
            })
            .transpose()?
    } else {
        None
    };
    // The items are the views `GET /v1/{collection}/{id}` answers, in the page's order.
    let ids = rows
        .iter()
        .map(|row| row.try_get::<Uuid, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    let found = C::read_many(&mut tx, &ids).await?;
    tx.rollback().await?;
    let mut views: HashMap<Uuid, C::View> = found.into_iter().map(|v| (v.id(), v)).collect();
    let items = ids.iter().filter_map(|id| views.remove(id)).collect();
    Ok(Json(Page { items, next }))
}

/// A filter's value that must be a UUID.
fn uuid_value(name: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value)
        .map_err(|_| invalid(name, format!("{name} must be a UUID, got `{value}`")))
}

/// A filter's value that must be `true` or `false`.
fn bool_value(name: &str, value: &str) -> Result<bool, ApiError> {
    value
        .parse()
        .map_err(|_| invalid(name, format!("{name} must be true or false")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_rejects_garbage() {
        let cursor = Cursor {
            created_at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: Uuid::from_u128(7),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("yesterday"), None);
        assert_eq!(Cursor::decode("12_not-a-uuid"), None);
    }
}
