//! The database's limit for the service's commands: pgbench doing one command's database work
//! (load a stream, append an event to it, in one transaction) with as many clients as the HTTP
//! load, on a fresh database of the service's schema.

use std::time::Duration;

use super::BenchDatabase;

/// What a run reached: transactions (or commands) per second and the p99 latency.
#[derive(Debug, Clone, Copy)]
pub struct Reached {
    pub per_second: f64,
    pub p99: Duration,
}

/// One command's database work. Each client writes to 2,000 task streams of its own in turn
/// (a stream gets a few events over a run, as a task's life has 7), each event of about the
/// size the service writes, its hash given (as the service gives it). (No `:` followed by a
/// letter or digit in the JSON: pgbench would take it for a variable, quotes or not.)
const SCRIPT: &str = r#"\set stream :client_id * 10000 + random(1, 2000)
BEGIN;
SELECT sequence, event_type, event_version, payload::text, hash FROM events
 WHERE aggregate_type = 'Task' AND aggregate_id = 'pgbench-' || :stream::text
 ORDER BY sequence;
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata, recorded_at, hash)
SELECT 'Task', 'pgbench-' || :stream::text, coalesce(max(sequence), 0) + 1,
       'TaskCreated', '1.0',
       '{"task_type":"DELIVERY_TRIP","hub_id":"7f1d2a52-4f4c-4a55-9d0e-0b7c5e3d9a11","robot_id":"a3c9e6f0-2b1d-4e8a-9f7c-5d4b3a2e1f00","scheduled_at": null,"external_ref":"order-1234"}'::json,
       '{"actor":"key-bench-load","command":"CreateTask","request_id":"5f0c7d2e-9a41-4d6b-8e3f-2c1b0a9d8e7f","correlation_id":"5f0c7d2e-9a41-4d6b-8e3f-2c1b0a9d8e7f","causation_id":"5f0c7d2e-9a41-4d6b-8e3f-2c1b0a9d8e7f"}'::json,
       now(), sha256(random()::text::bytea)
  FROM events WHERE aggregate_type = 'Task' AND aggregate_id = 'pgbench-' || :stream::text;
COMMIT;
"#;

/// Runs pgbench for `seconds` with `clients` on a database of its own (dropped after).
pub async fn limit(clients: usize, seconds: u64) -> anyhow::Result<Reached> {
    let db = BenchDatabase::create().await?;
    let reached = run(&db, clients, seconds).await;
    db.drop().await?;
    reached
}

async fn run(db: &BenchDatabase, clients: usize, seconds: u64) -> anyhow::Result<Reached> {
    let dir = std::env::temp_dir().join(format!("ops-pgbench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("command.sql");
    std::fs::write(&script, SCRIPT)?;
    let url = std::env::var("DATABASE_URL")?;
    let mut target = reqwest::Url::parse(&url)?;
    target.set_path(&format!("/{}", db.name()));
    let output = tokio::process::Command::new("pgbench")
        .current_dir(&dir)
        .args([
            "--no-vacuum",
            "--protocol=prepared",
            "--log",
            "--log-prefix=tx",
        ])
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={}", clients.min(2)))
        .arg(format!("--time={seconds}"))
        .arg(format!("--file={}", script.display()))
        .arg(target.as_str())
        .output()
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot run pgbench ({e}): it comes with PostgreSQL's server package")
        })?;
    anyhow::ensure!(
        output.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let per_second = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no tps in pgbench's output:\n{stdout}"))?;
    // Each transaction's log line: client, number, latency (µs), script, epoch s, µs.
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("tx."))
        {
            for line in std::fs::read_to_string(&path)?.lines() {
                if let Some(us) = line.split_whitespace().nth(2).and_then(|v| v.parse().ok()) {
                    latencies.push(Duration::from_micros(us));
                }
            }
        }
    }
    latencies.sort();
    let p99 = latencies
        .get((latencies.len() * 99).div_ceil(100).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    std::fs::remove_dir_all(&dir)?;
    Ok(Reached { per_second, p99 })
}
