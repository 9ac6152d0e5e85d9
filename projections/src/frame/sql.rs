//! The statements a declared table's load and upsert run, built once per table.

/// `SELECT columns FROM table WHERE key = ANY($1)`, or joined on the keys' arrays for a pair.
pub fn load_sql(table: &str, keys: &[&str], columns: &str) -> String {
    match keys {
        [key] => format!("SELECT {columns} FROM {table} WHERE {key} = ANY($1)"),
        _ => {
            let params = (1..=keys.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>();
            format!(
                "SELECT {columns} FROM {table} JOIN UNNEST({}) AS k({}) USING ({})",
                params.join(", "),
                keys.join(", "),
                keys.join(", "),
            )
        }
    }
}

/// `INSERT ... SELECT * FROM UNNEST($1, ...)`, each parameter one column's array; with keys,
/// `ON CONFLICT (keys) DO UPDATE` every other column.
pub fn insert_sql(table: &str, keys: &[&str], columns: &[&str]) -> String {
    let all: Vec<&str> = keys.iter().chain(columns).copied().collect();
    let params = (1..=all.len()).map(|i| format!("${i}")).collect::<Vec<_>>();
    let mut sql = format!(
        "INSERT INTO {table} ({}) SELECT * FROM UNNEST({})",
        all.join(", "),
        params.join(", ")
    );
    if keys.is_empty() {
        return sql;
    }
    if columns.is_empty() {
        // A table that is all key: an upsert has nothing to change.
        return sql + &format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", "));
    }
    let set: Vec<_> = (columns.iter())
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    sql += &format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        keys.join(", "),
        set.join(", ")
    );
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_follow_from_the_declared_columns() {
        assert_eq!(
            load_sql("trips", &["id"], "id, status"),
            "SELECT id, status FROM trips WHERE id = ANY($1)"
        );
        assert_eq!(
            load_sql(
                "pilot_shifts",
                &["pilot_id", "shift_id"],
                "pilot_id, shift_id, state"
            ),
            "SELECT pilot_id, shift_id, state FROM pilot_shifts \
             JOIN UNNEST($1, $2) AS k(pilot_id, shift_id) USING (pilot_id, shift_id)"
        );
        assert_eq!(
            insert_sql("trips", &["id"], &["status", "version"]),
            "INSERT INTO trips (id, status, version) SELECT * FROM UNNEST($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version"
        );
        assert_eq!(
            insert_sql("claims", &["value"], &[]),
            "INSERT INTO claims (value) SELECT * FROM UNNEST($1) ON CONFLICT (value) DO NOTHING"
        );
        assert_eq!(
            insert_sql("routes", &[], &["route_id", "trip_id"]),
            "INSERT INTO routes (route_id, trip_id) SELECT * FROM UNNEST($1, $2)"
        );
    }
}
