//! Replay benchmark: writes N task events into a fresh database, then rebuilds every read model
//! from them and prints the rate in events/s.
//!
//!     ./dev bench-replay                         # 1,000,000 events
//!     ./dev bench-replay -- --events 200000 --batch-size 5000

use std::time::Instant;

use clap::Parser;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    /// Task events to write (8 per task).
    #[arg(long, default_value_t = 1_000_000)]
    events: i64,
    /// Events per replay batch.
    #[arg(long, default_value_t = 5000)]
    batch_size: i64,
    /// cargo bench passes --bench; accepted and ignored.
    #[arg(long, hide = true)]
    bench: bool,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must name a PostgreSQL server (./dev bench-replay provides one)");
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

    let started = Instant::now();
    let chunks = (args.events / 8000).max(1);
    for _ in 0..chunks {
        sqlx::query(WRITE_TASKS).execute(&pool).await?;
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    sqlx::query("VACUUM ANALYZE events").execute(&pool).await?;
    eprintln!(
        "wrote {total} task events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let all = Instant::now();
    let mut read = 0u64;
    for projector in projections::all() {
        let done = projections::replay(&pool, projector.as_ref(), args.batch_size, |_| {}).await?;
        read += done.events_read;
        println!(
            "{:>14}: {} events in {:.2} s = {:.0} events/s",
            projector.name(),
            done.events_read,
            done.elapsed.as_secs_f64(),
            done.events_read as f64 / done.elapsed.as_secs_f64()
        );
    }
    let seconds = all.elapsed().as_secs_f64();
    println!(
        "{:>14}: {read} events in {seconds:.2} s = {:.0} events/s",
        "all read models",
        read as f64 / seconds
    );
    pool.close().await;
    conn.execute(format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#).as_str())
        .await?;
    Ok(())
}
