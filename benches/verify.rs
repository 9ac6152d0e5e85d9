//! Verification benchmark: writes N task events (chained by the append's trigger) into a fresh
//! database, then runs `operations verify` over them and prints its rate.
//!
//!     ./dev bench-verify                       # 1,000,000 task events
//!     ./dev bench-verify -- --events 200000

use std::process::Command;
use std::time::Instant;

use clap::Parser;
use sqlx::ConnectOptions;

mod common;
use common::BenchDatabase;

#[derive(Parser)]
struct Args {
    /// Events to write (8 per task).
    #[arg(long, default_value_t = 1_000_000)]
    events: i64,
    /// cargo bench passes --bench; accepted and ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db = BenchDatabase::create().await?;
    let started = Instant::now();
    let total = db.write_task_events(args.events).await?;
    eprintln!(
        "wrote {total} chained events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The release binary, as an auditor runs it (`cargo bench` built it alongside).
    let binary = std::env::current_exe()?
        .parent()
        .and_then(|deps| deps.parent())
        .map(|release| release.join("operations"))
        .filter(|path| path.exists())
        .ok_or_else(|| anyhow::anyhow!("build the binary first: cargo build --release"))?;
    let started = Instant::now();
    let output = Command::new(binary)
        .arg("verify")
        .env("DATABASE_URL", db.options().to_url_lossy().to_string())
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    println!("events:      {total}");
    println!(
        "verify took: {seconds:.2} s (with start-up), {:.0} events/s",
        total as f64 / seconds
    );
    let intact = output.status.success();
    db.drop().await?;
    anyhow::ensure!(intact, "verify found the benchmark's own events broken");
    Ok(())
}
