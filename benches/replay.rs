//! Replay benchmark: writes N task (or pilot) events into a fresh database, then rebuilds every
//! read model from them and prints the rate in events/s.
//!
//!     ./dev bench-replay                         # 1,000,000 task events
//!     ./dev bench-replay -- --events 200000 --batch-size 5000
//!     ./dev bench-replay -- --streams pilots     # pilot events instead (or trips, fo-tasks)

use std::time::Instant;

use clap::Parser;

mod common;
use common::BenchDatabase;

#[derive(Parser)]
struct Args {
    /// Events to write (8 per task or pilot).
    #[arg(long, default_value_t = 1_000_000)]
    events: i64,
    /// Which streams to write: `tasks`, `pilots`, `trips` or `fo-tasks`.
    #[arg(long, default_value = "tasks", value_parser = ["tasks", "pilots", "trips", "fo-tasks"])]
    streams: String,
    /// Events per replay batch.
    #[arg(long, default_value_t = 5000)]
    batch_size: i64,
    /// cargo bench passes --bench; accepted and ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db = BenchDatabase::create().await?;
    let pool = db.pool.clone();
    let started = Instant::now();
    let total = match args.streams.as_str() {
        "pilots" => db.write_pilot_events(args.events).await?,
        "trips" => db.write_trip_events(args.events).await?,
        "fo-tasks" => db.write_fo_task_events(args.events).await?,
        _ => db.write_task_events(args.events).await?,
    };
    eprintln!(
        "wrote {total} {} events in {:.1} s",
        args.streams.trim_end_matches('s'),
        started.elapsed().as_secs_f64()
    );

    let all = Instant::now();
    let mut read = 0u64;
    for projector in projections::all() {
        let done = projections::replay(&pool, projector.as_ref(), args.batch_size, |_| {}).await?;
        read += done.events_read;
        println!(
            "{:>20}: {} events in {:.2} s = {:.0} events/s (switched in {:.2} s)",
            projector.name(),
            done.events_read,
            done.elapsed.as_secs_f64(),
            done.events_read as f64 / done.elapsed.as_secs_f64(),
            done.switched_in.as_secs_f64()
        );
    }
    let seconds = all.elapsed().as_secs_f64();
    println!(
        "{:>20}: {read} events in {seconds:.2} s = {:.0} events/s",
        "all read models",
        read as f64 / seconds
    );
    db.drop().await
}
