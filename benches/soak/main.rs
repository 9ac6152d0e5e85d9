//! The soak: the service binary (release build) on a database of its own, with its projectors,
//! the assignment process and the deadlines, driven for N minutes by clients sending mixed
//! commands and reads on all four collections. Prints, every interval, commands/s, the
//! service's RSS, the projectors' lag (the wait of a read naming the command's token, and the
//! events behind the slowest checkpoint) and errors; then a summary against the goals: RSS
//! growth after warm-up under 10%, no 5xx, lag p99 under 100 ms.
//!
//!     ./dev soak [--minutes 30] [--clients 8] [--interval 30] [--bin PATH]
//!
//! `--bin` runs another build of the service (a profile's, an earlier commit's) in place of the
//! one this benchmark was built with.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use operations::auth::Role;
use serde_json::Value;

mod client;
#[path = "../common/mod.rs"]
mod common;

use client::{Client, Counters};

fn arg(name: &str, default: u64) -> u64 {
    text_arg(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A line of the process's status in KiB: `VmRSS` (all it has resident), `RssAnon` (its heap
/// and stacks; the rest of the RSS is the binary's code and data mapped from its file).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| {
                    l.strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with(':'))
                })
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The value of a flag that takes text, if given (the last one given wins).
fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().rposition(|a| a == name)?;
    args.get(at + 1).cloned()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let minutes = arg("--minutes", 30);
    let clients = arg("--clients", 8);
    let interval = Duration::from_secs(arg("--interval", 30));
    let bin = text_arg("--bin").unwrap_or_else(|| env!("CARGO_BIN_EXE_operations").to_string());
    let db = common::BenchDatabase::create().await?;
    let key = operations::auth::keys::create(&db.pool, "soak", Role::Admin, None, None).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = std::env::temp_dir().join(format!("operations-soak-{port}.log"));
    let service = Service(
        Command::new(&bin)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            // Deadlines fire during the soak: requested assignments nobody accepts go STALE.
            .args(["--assignment-timeout", "2s"])
            .env(
                "DATABASE_URL",
                sqlx::ConnectOptions::to_url_lossy(&db.options()).to_string(),
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?,
    );
    let pid = service.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {key}").parse()?,
            )]
            .into_iter()
            .collect(),
        )
        .timeout(Duration::from_secs(30))
        .build()?;
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the service did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "soak: {minutes} min, {clients} clients, service {bin}, pid {pid} (log: {})",
        log.display()
    );
    println!(
        "{:>6} {:>9} {:>8} {:>9} {:>9} {:>10} {:>10} {:>9} {:>6} {:>6} {:>6}",
        "min",
        "cmds/s",
        "reads/s",
        "RSS MiB",
        "heap MiB",
        "lag p50ms",
        "lag p99ms",
        "behind",
        "4xx",
        "5xx",
        "conn"
    );

    // Tasks and field tasks name a hub, trips a robot: registered first, one robot a client.
    let hub = common::register_hub(&http, &base).await?;
    let mut robots = Vec::new();
    for _ in 0..clients {
        robots.push(common::register_robot(&http, &base, hub, true).await?);
    }
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (robots.into_iter().zip(0..))
        .map(|(robot, offset)| {
            let client = Client {
                http: http.clone(),
                base: base.clone(),
                counters: counters.clone(),
                hub,
                robot,
            };
            tokio::spawn(client.run(stop.clone(), offset))
        })
        .collect();

    let total = Duration::from_secs(minutes * 60);
    let warm_up = (total / 10).max(interval);
    let (mut last_commands, mut last_reads, mut last_at) = (0, 0, Instant::now());
    let mut all_lags: Vec<u64> = Vec::new();
    let (mut rss_after_warm_up, mut rss_max_after) = (None::<u64>, 0u64);
    let (mut heap_after_warm_up, mut heap_max_after) = (None::<u64>, 0u64);
    let mut worst_behind = 0i64;
    while started.elapsed() < total {
        tokio::time::sleep(interval.min(total.saturating_sub(started.elapsed()))).await;
        let now = Instant::now();
        let seconds = now.duration_since(last_at).as_secs_f64();
        let commands = counters.commands.load(Ordering::Relaxed);
        let reads = counters.reads.load(Ordering::Relaxed);
        let mut lags = std::mem::take(&mut *counters.lags.lock().unwrap());
        lags.sort_unstable();
        let (rss, heap) = (status_kib(pid, "VmRSS"), status_kib(pid, "RssAnon"));
        let statuses: Value = http
            .get(format!("{base}/v1/projections"))
            .send()
            .await?
            .json()
            .await?;
        let behind = statuses["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|p| p["lag_events"].as_i64())
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let elapsed = started.elapsed();
        if elapsed >= warm_up {
            rss_after_warm_up.get_or_insert(rss);
            rss_max_after = rss_max_after.max(rss);
            heap_after_warm_up.get_or_insert(heap);
            heap_max_after = heap_max_after.max(heap);
            all_lags.extend_from_slice(&lags);
            worst_behind = worst_behind.max(behind);
        }
        println!(
            "{:>6.1} {:>9.0} {:>8.0} {:>9.1} {:>9.1} {:>10.1} {:>10.1} {:>9} {:>6} {:>6} {:>6}",
            elapsed.as_secs_f64() / 60.0,
            (commands - last_commands) as f64 / seconds,
            (reads - last_reads) as f64 / seconds,
            rss as f64 / 1024.0,
            heap as f64 / 1024.0,
            percentile(&lags, 0.5),
            percentile(&lags, 0.99),
            behind,
            counters.unexpected_4xx.load(Ordering::Relaxed),
            counters.server_errors.load(Ordering::Relaxed),
            counters.transport_errors.load(Ordering::Relaxed),
        );
        (last_commands, last_reads, last_at) = (commands, reads, now);
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    all_lags.sort_unstable();
    let rss_start = rss_after_warm_up.unwrap_or(0);
    let growth = if rss_start > 0 {
        (rss_max_after as f64 / rss_start as f64 - 1.0) * 100.0
    } else {
        0.0
    };
    let server_errors = counters.server_errors.load(Ordering::Relaxed);
    let lag_p99 = percentile(&all_lags, 0.99);
    let secs = started.elapsed().as_secs_f64();
    println!();
    println!(
        "commands: {} ({:.0}/s), reads: {} ({:.0}/s), own-write reads measured: {}",
        counters.commands.load(Ordering::Relaxed),
        counters.commands.load(Ordering::Relaxed) as f64 / secs,
        counters.reads.load(Ordering::Relaxed),
        counters.reads.load(Ordering::Relaxed) as f64 / secs,
        all_lags.len()
    );
    println!(
        "after warm-up ({:.0} s): RSS {:.1} MiB -> max {:.1} MiB ({growth:+.1}%), of it heap {:.1} \
         -> {:.1} MiB; lag p50 {:.1} ms, p99 {lag_p99:.1} ms, max {:.1} ms; most events behind a \
         checkpoint: {worst_behind}",
        warm_up.as_secs_f64(),
        rss_start as f64 / 1024.0,
        rss_max_after as f64 / 1024.0,
        heap_after_warm_up.unwrap_or(0) as f64 / 1024.0,
        heap_max_after as f64 / 1024.0,
        percentile(&all_lags, 0.5),
        percentile(&all_lags, 1.0),
    );
    println!(
        "errors: 5xx {server_errors}, unexpected 4xx {}, transport {}; conflicts retried {}{}",
        counters.unexpected_4xx.load(Ordering::Relaxed),
        counters.transport_errors.load(Ordering::Relaxed),
        counters.conflicts.load(Ordering::Relaxed),
        counters
            .last_error
            .lock()
            .unwrap()
            .as_deref()
            .map(|e| format!(" (last: {e})"))
            .unwrap_or_default()
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "goals: RSS growth < 10%: {}; no 5xx: {}; lag p99 < 100 ms: {}",
        verdict(growth < 10.0),
        verdict(server_errors == 0),
        verdict(lag_p99 < 100.0)
    );
    drop(service);
    db.drop().await?;
    Ok(())
}
