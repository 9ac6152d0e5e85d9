//! Replay benchmark: writes N task (or pilot) events into a fresh database, then rebuilds every
//! read model from them and prints the rate in events/s.
//!
//!     ./dev bench-replay                         # 1,000,000 task events
//!     ./dev bench-replay -- --events 200000 --batch-size 5000
//!     ./dev bench-replay -- --streams pilots     # pilot events instead (or trips, fo-tasks)
//!     ./dev bench-replay -- --each               # also each read model alone

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
    #[arg(long, default_value_t = 20000)]
    batch_size: i64,
    /// Also rebuild each read model alone, one after the other.
    #[arg(long)]
    each: bool,
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

    // Each alone first, as the live tables are then (empty), for figures comparable run to run.
    if args.each {
        for projector in &projections::all() {
            let done =
                projections::replay(&pool, projector.as_ref(), args.batch_size, |_| {}).await?;
            println!(
                "{:>24} alone: {} events in {:.2} s = {:.0} events/s (switched in {:.2} s)",
                projector.name(),
                done.events_read,
                done.elapsed.as_secs_f64(),
                done.events_read as f64 / done.elapsed.as_secs_f64(),
                done.switched_in.as_secs_f64()
            );
        }
    }
    // All read models in one pass over the feed, as `operations replay` does.
    let all = projections::all();
    let rebuilds: Vec<_> = (all.iter())
        .map(|p| projections::Rebuild {
            projector: p.as_ref(),
            policy: projections::FailurePolicy::Park,
        })
        .collect();
    let done = projections::replay_many(&pool, &rebuilds, args.batch_size, |_| {}).await?;
    let seconds = done.elapsed.as_secs_f64();
    println!(
        "all read models, one pass: {} stored events in {seconds:.2} s = {:.0} stored events/s \
         ({} applied, switched in {:.2} s)",
        done.events_read,
        done.events_read as f64 / seconds,
        done.events_applied,
        done.switched_in.as_secs_f64()
    );
    db.drop().await
}
