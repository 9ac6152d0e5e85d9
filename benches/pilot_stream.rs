//! Long pilot streams: a command on a pilot with 50,000 events against one on a new pilot.
//! Snapshots keep the first from growing with the stream.
//!
//!     ./dev bench-pilot                        # 50,000 events, 2,000 commands each
//!     ./dev bench-pilot -- --events 100000 --commands 5000

use std::time::{Duration, Instant};

use aggregates::pilot::{Pilot, PilotCommand, PilotServices, ShiftStatus};
use clap::Parser;
use operations::commands::{self, CommandEnvelope};
use operations::store::{EventMetadata, EventStore};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    /// Events in the long pilot's stream.
    #[arg(long, default_value_t = 50_000)]
    events: i64,
    /// Commands measured on each pilot.
    #[arg(long, default_value_t = 2_000)]
    commands: usize,
    /// cargo bench passes --bench; accepted and ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// A registered pilot on shift followed by break/back-on-shift changes, `$2` events in all.
const LONG_PILOT: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT 'Pilot', $1, n,
       CASE WHEN n = 1 THEN 'PilotRegistered' WHEN n = 2 THEN 'PilotShiftStarted'
            ELSE 'PilotShiftStateChanged' END,
       '1.0',
       CASE WHEN n = 1 THEN
              '{"PilotRegistered": {"user_id": null, "pilot_location": "US", "pilot_center_id": null}}'
            WHEN n = 2 THEN
              json_build_object('PilotShiftStarted', json_build_object(
                'shift_id', $3::uuid, 'started_at', '2026-01-01T00:00:00Z'))::text
            WHEN n % 2 = 1 THEN
              json_build_object('PilotShiftStateChanged', json_build_object(
                'shift_id', $3::uuid, 'from_state', 'ON_SHIFT', 'to_state', 'ON_BREAK'))::text
            ELSE
              json_build_object('PilotShiftStateChanged', json_build_object(
                'shift_id', $3::uuid, 'from_state', 'ON_BREAK', 'to_state', 'ON_SHIFT'))::text
       END::json,
       '{"actor": "bench:pilot"}'
  FROM generate_series(1, $2) AS n
"#;

async fn run(store: &EventStore, pilot: Uuid, command: PilotCommand) -> Duration {
    let services = PilotServices {
        now: chrono::Utc::now(),
    };
    run_on::<Pilot>(store, &services, pilot, command).await
}

async fn run_on<A>(
    store: &EventStore,
    services: &A::Services,
    id: Uuid,
    command: A::Command,
) -> Duration
where
    A: operations::store::Stream,
    A::Command: aggregates::CommandNames + Clone,
{
    let started = Instant::now();
    commands::execute::<A>(
        store,
        services,
        CommandEnvelope {
            aggregate_id: id,
            command,
            precondition: None,
            idempotency: None,
            metadata: EventMetadata {
                actor: "bench:pilot".into(),
                on_behalf_of: None,
                command: "bench".into(),
                request_id: "bench".into(),
                correlation_id: "bench".into(),
                causation_id: "bench".into(),
            },
        },
    )
    .await
    .expect("the command succeeds");
    started.elapsed()
}

/// Alternates the shift between ON_BREAK and ON_SHIFT `n` times; returns the latencies.
async fn toggle(store: &EventStore, pilot: Uuid, on_break_next: bool, n: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let state = if (i % 2 == 0) == on_break_next {
            ShiftStatus::OnBreak
        } else {
            ShiftStatus::OnShift
        };
        latencies.push(run(store, pilot, PilotCommand::ChangeShiftState { state }).await);
    }
    latencies.sort();
    latencies
}

fn summary(latencies: &[Duration]) -> (f64, f64, f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = latencies.iter().map(|d| ms(*d)).sum::<f64>() / latencies.len() as f64;
    (
        mean,
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() * 99 / 100]),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must name a PostgreSQL server (./dev bench-pilot provides one)");
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
    let store = EventStore::new(pool.clone(), Default::default());

    let long = Uuid::new_v4();
    sqlx::query(LONG_PILOT)
        .bind(long.to_string())
        .bind(args.events)
        .bind(Uuid::new_v4())
        .execute(&pool)
        .await?;
    sqlx::query("VACUUM ANALYZE events").execute(&pool).await?;
    // The stream ends ON_SHIFT when its length is even, ON_BREAK when odd.
    let long_on_break_next = args.events % 2 == 0;
    let first = run(
        &store,
        long,
        PilotCommand::ChangeShiftState {
            state: if long_on_break_next {
                ShiftStatus::OnBreak
            } else {
                ShiftStatus::OnShift
            },
        },
    )
    .await;
    println!(
        "first command on the {}-event pilot (no snapshot yet, folds everything): {:.1} ms",
        args.events,
        first.as_secs_f64() * 1000.0
    );

    // A pilot is an operator with role PILOT.
    let new = Uuid::new_v4();
    let operator = aggregates::operator::OperatorCommand::RegisterOperator {
        role: aggregates::operator::OperatorRole::Pilot,
        user_id: None,
        display_name: None,
    };
    run_on::<aggregates::operator::Operator>(&store, &(), new, operator).await;
    run(
        &store,
        new,
        PilotCommand::RegisterPilot {
            user_id: None,
            pilot_location: None,
            pilot_center_id: None,
        },
    )
    .await;
    run(
        &store,
        new,
        PilotCommand::StartShift {
            shift_id: Uuid::new_v4(),
        },
    )
    .await;

    // Interleave the two so that both see the same machine.
    let mut long_latencies = Vec::new();
    let mut new_latencies = Vec::new();
    let rounds = 10;
    for round in 0..rounds {
        let n = args.commands / rounds;
        let long_next = (round * n) % 2 == 0;
        long_latencies.extend(toggle(&store, long, long_next != long_on_break_next, n).await);
        new_latencies.extend(toggle(&store, new, (round * n) % 2 == 0, n).await);
    }
    long_latencies.sort();
    new_latencies.sort();
    let (long_mean, long_p50, long_p99) = summary(&long_latencies);
    let (new_mean, new_p50, new_p99) = summary(&new_latencies);
    println!(
        "pilot with {} events: mean {long_mean:.3} ms, p50 {long_p50:.3} ms, p99 {long_p99:.3} ms",
        args.events
    );
    println!(
        "new pilot:            mean {new_mean:.3} ms, p50 {new_p50:.3} ms, p99 {new_p99:.3} ms"
    );
    println!("ratio (mean):         {:.2}x", long_mean / new_mean);
    for (label, pilot) in [("long", long), ("new", new)] {
        let started = Instant::now();
        for _ in 0..500 {
            store.load::<Pilot>(&pilot.to_string()).await?;
        }
        println!(
            "load only, {label} pilot: {:.3} ms",
            started.elapsed().as_secs_f64() * 2.0
        );
    }
    pool.close().await;
    conn.execute(format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#).as_str())
        .await?;
    Ok(())
}
