//! Read benchmark: the feed and export rates, and history latency, over N task events.
//!
//!     ./dev bench-read                            # 1,000,000 events
//!     ./dev bench-read -- --events 10000000       # the 10-million figure (about 10 minutes)

use std::io::Write;
use std::time::{Duration, Instant};

use clap::Parser;
use projections::task::TaskHistoryRow;
use projections::{feed, FeedFilter, FeedPosition};
use uuid::Uuid;

mod common;
use common::BenchDatabase;

#[derive(Parser)]
struct Args {
    /// Task events to write (8 per task).
    #[arg(long, default_value_t = 1_000_000)]
    events: i64,
    /// History queries to time.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
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
    let total = db.write_task_events(args.events).await?;
    eprintln!(
        "wrote {total} events in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    // The feed as GET /v1/events pages it (1,000 per page), decoded to its JSON shape.
    let started = Instant::now();
    let (mut after, mut read) = (FeedPosition::default(), 0usize);
    loop {
        let page = feed::read_page(&pool, after, &FeedFilter::default(), 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.at;
        read += page.len();
        for event in &page {
            std::hint::black_box(event.to_json());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "feed:    {read} events in {seconds:.1} s = {:.0} events/s",
        read as f64 / seconds
    );

    // Export: pages of 5,000 written as NDJSON (to a sink, so the disk does not count).
    let started = Instant::now();
    let (mut after, mut written) = (FeedPosition::default(), 0usize);
    let mut out = std::io::BufWriter::new(std::io::sink());
    loop {
        let page = feed::read_page(&pool, after, &FeedFilter::default(), 5000).await?;
        let Some(last) = page.last() else { break };
        after = last.at;
        for event in &page {
            serde_json::to_writer(&mut out, &event.to_json())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "export:  {written} events in {seconds:.1} s = {:.0} events/s",
        written as f64 / seconds
    );

    // History: project task_history, then time one task's timeline at a time.
    let started = Instant::now();
    for projector in projections::all() {
        if projector.name() == "task_history" {
            projections::replay(&pool, projector.as_ref(), 5000, |_| {}).await?;
        }
    }
    sqlx::query("VACUUM ANALYZE task_history")
        .execute(&pool)
        .await?;
    eprintln!(
        "projected task_history in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT task_id FROM task_history TABLESAMPLE SYSTEM (1) LIMIT $1")
            .bind(args.queries as i64)
            .fetch_all(&pool)
            .await?;
    let mut latencies: Vec<Duration> = Vec::with_capacity(ids.len());
    for id in &ids {
        let started = Instant::now();
        let rows = <TaskHistoryRow as projections::views::Timeline>::of(&pool, *id).await?;
        latencies.push(started.elapsed());
        assert!(!rows.is_empty());
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "history: {} timelines over {total} events: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() * 99 / 100]),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
    );
    db.drop().await
}
