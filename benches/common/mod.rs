//! What the benchmarks share: a fresh database, and task events written in bulk.
#![allow(dead_code)]

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

/// A database of the benchmark's own, created from DATABASE_URL and dropped by `drop`.
pub struct BenchDatabase {
    admin: PgConnectOptions,
    name: String,
    pub pool: PgPool,
}

impl BenchDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let url = std::env::var("DATABASE_URL")
            .expect("DATABASE_URL must name a PostgreSQL server (./dev bench-* provide one)");
        let admin: PgConnectOptions = url.parse()?;
        let name = format!("ops_bench_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin).await?;
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(admin.clone().database(&name))
            .await?;
        operations::startup::migrate(&pool).await?;
        Ok(Self { admin, name, pool })
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let mut conn = PgConnection::connect_with(&self.admin).await?;
        conn.execute(format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, self.name).as_str())
            .await?;
        Ok(())
    }

    /// Writes about `events` task events (8 per task, 8,000 per transaction); returns how many.
    pub async fn write_task_events(&self, events: i64) -> anyhow::Result<i64> {
        for _ in 0..(events / 8000).max(1) {
            sqlx::query(WRITE_TASKS).execute(&self.pool).await?;
        }
        sqlx::query("VACUUM ANALYZE events")
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await?)
    }
}

/// 1,000 tasks' lives, 8 events each, interleaved by sequence as live traffic would be.
const WRITE_TASKS: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT 'Task', t.id::text, s.seq, s.event_type, '1.0', s.payload::json,
       '{"actor": "bench:replay", "command": "bench", "request_id": "r", "correlation_id": "c",
         "causation_id": "r"}'
  FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 1000)) t
 CROSS JOIN LATERAL (VALUES
   (1, 'TaskCreated', json_build_object('TaskCreated', json_build_object(
        'task_type', 'DELIVERY_TRIP', 'hub_id', t.id, 'robot_id', null,
        'scheduled_at', null, 'external_ref', 'order'))::text),
   (2, 'TaskRobotAssigned', json_build_object('TaskRobotAssigned', json_build_object(
        'robot_id', t.id, 'previous_robot_id', null))::text),
   (3, 'TaskMarkedPending', '{"TaskMarkedPending": {"from_status": "SCHEDULED"}}'),
   (4, 'TaskStarted', '{"TaskStarted": {"from_status": "PENDING"}}'),
   (5, 'TaskPaused', '{"TaskPaused": {"from_status": "IN_PROGRESS", "reason": "crossing"}}'),
   (6, 'TaskResumed', '{"TaskResumed": {"from_status": "PAUSED"}}'),
   (7, 'TaskArrived', '{"TaskArrived": {"from_status": "IN_PROGRESS"}}'),
   (8, 'TaskCompleted', '{"TaskCompleted": {"from_status": "ARRIVED"}}')
 ) AS s(seq, event_type, payload)
 ORDER BY s.seq, t.id
"#;
