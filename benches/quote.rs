//! Availability-quote latency over HTTP, with a fleet of 10,000 pilots and 5,000 robots:
//! `./dev bench-quote [-- --pilots 10000 --robots 5000 --hubs 20 --quotes 2000 --clients 1
//! --rate 10]`.
//!
//! One instance with its projectors on. Through its API: `--hubs` hubs; `--robots` robots
//! registered and deployed, spread over the hubs; `--pilots` pilots, each an operator assigned
//! to a hub and on shift (one in ten on break, one in ten with an assignment, so the counts
//! filter); a field operator per 20 pilots, AVAILABLE. Once the read models have it all, each
//! client asks for quotes of the hubs in turn, `--rate` a second (or back to back with
//! `--rate 0`); the run prints the latency percentiles of `POST /v1/availability-quotes`
//! (counting, recording the event, answering), the answer's size, and the count alone.

mod common;

use std::time::{Duration, Instant};

use clap::Parser;
use futures::future::join_all;
use operations::settings::{
    AuthSettings, DatabaseSettings, LimitSettings, ProjectionSettings, ServeSettings,
};
use operations::startup::Application;
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    pilots: usize,
    #[arg(long, default_value_t = 5_000)]
    robots: usize,
    #[arg(long, default_value_t = 20)]
    hubs: usize,
    /// Quotes each client asks for, one after the other.
    #[arg(long, default_value_t = 2_000)]
    quotes: usize,
    /// Clients asking at once.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Quotes per second each client asks for, on a fixed schedule (its latency is measured
    /// from when it was sent); 0: each as soon as the last one answered, as fast as the
    /// service goes.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Keep the database (its name is printed) to look into it afterwards.
    #[arg(long)]
    keep: bool,
    /// cargo bench passes --bench; accepted and ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const SETUP_CLIENTS: usize = 16;

async fn instance(db: &common::BenchDatabase) -> String {
    let app = Application::build(ServeSettings {
        addr: "127.0.0.1:0".parse().expect("an address"),
        idempotency_ttl: Duration::from_secs(86_400),
        quote_ttl: Duration::from_secs(60),
        consistency_timeout: Duration::from_secs(120),
        long_transaction: Duration::from_secs(30),
        no_reference_checks: false,
        database: DatabaseSettings {
            url: db.options(),
            max_connections: 20,
            timeouts: Default::default(),
        },
        projections: ProjectionSettings::default(),
        auth: AuthSettings::default(),
        limits: LimitSettings {
            rate_limit: 0,
            rate_limit_unauthenticated: 0,
            ..LimitSettings::default()
        },
    })
    .await
    .expect("the service starts");
    let base = format!("http://{}", app.local_addr().expect("an address"));
    tokio::spawn(app.run_until_stopped());
    base
}

/// Sends a command that must succeed; returns its token.
async fn send(
    http: &reqwest::Client,
    base: &str,
    collection: &str,
    id: Uuid,
    body: Value,
) -> anyhow::Result<String> {
    let response = (http.post(format!("{base}/v1/{collection}/{id}/commands")))
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "{body}: {status}: {answer}");
    Ok(answer["token"].as_str().unwrap_or_default().to_string())
}

/// The `n`th pilot: an operator of `hub`, registered, on shift; every tenth on break, every
/// tenth (another) with an assignment requested.
async fn pilot(http: &reqwest::Client, base: &str, hub: Uuid, n: usize) -> anyhow::Result<()> {
    let id = Uuid::new_v4();
    send(
        http,
        base,
        "operators",
        id,
        json!({"type": "RegisterOperator", "role": "PILOT"}),
    )
    .await?;
    let assign = json!({"type": "AssignOperatorToHub", "hub_id": hub});
    send(http, base, "operators", id, assign).await?;
    send(http, base, "pilots", id, json!({"type": "RegisterPilot"})).await?;
    let shift = json!({"type": "StartShift", "shift_id": Uuid::new_v4()});
    send(http, base, "pilots", id, shift).await?;
    match n % 10 {
        3 => {
            let on_break = json!({"type": "ChangeShiftState", "state": "ON_BREAK"});
            send(http, base, "pilots", id, on_break).await?;
        }
        7 => {
            let request = json!({"type": "RequestAssignment", "assignment_id": Uuid::new_v4(),
                                 "task_id": Uuid::new_v4()});
            send(http, base, "pilots", id, request).await?;
        }
        _ => {}
    }
    Ok(())
}

async fn field_operator(http: &reqwest::Client, base: &str, hub: Uuid) -> anyhow::Result<()> {
    let id = Uuid::new_v4();
    send(
        http,
        base,
        "operators",
        id,
        json!({"type": "RegisterOperator", "role": "FIELD"}),
    )
    .await?;
    let assign = json!({"type": "AssignOperatorToHub", "hub_id": hub});
    send(http, base, "operators", id, assign).await?;
    let available = json!({"type": "ChangeOperatorStatus", "status": "AVAILABLE"});
    send(http, base, "operators", id, available).await?;
    Ok(())
}

/// Runs `work(i)` for i in 0..n on `SETUP_CLIENTS` clients at once.
async fn spread<F, Fut>(n: usize, work: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let work = &work;
    let results = join_all((0..SETUP_CLIENTS).map(|client| async move {
        for i in (client..n).step_by(SETUP_CLIENTS) {
            work(i).await?;
        }
        anyhow::Ok(())
    }))
    .await;
    results.into_iter().collect()
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let at = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len()) - 1;
    sorted[at].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db = common::BenchDatabase::create().await?;
    let base = instance(&db).await;
    let http = db.admin_client("bench-quote").await?;

    let started = Instant::now();
    let mut hubs = Vec::new();
    for _ in 0..args.hubs {
        hubs.push(common::register_hub(&http, &base).await?);
    }
    let (http, base, hubs) = (&http, &base, &hubs);
    let hub = |i: usize| hubs[i % hubs.len()];
    spread(args.robots, |i| async move {
        common::register_robot(http, base, hub(i), true)
            .await
            .map(|_| ())
    })
    .await?;
    spread(args.pilots, |i| pilot(http, base, hub(i), i / hubs.len())).await?;
    spread(args.pilots / 20, |i| field_operator(http, base, hub(i))).await?;
    // The last write's token: every quote below counts from read models that include it all.
    let last = send(
        http,
        base,
        "cities",
        Uuid::new_v4(),
        json!({"type": "RegisterCity",
        "name": "Last", "country_code": "US", "timezone": "America/Los_Angeles"}),
    )
    .await?;
    eprintln!(
        "{} robots, {} pilots, {} field operators at {} hubs, set up in {:.0} s",
        args.robots,
        args.pilots,
        args.pilots / 20,
        args.hubs,
        started.elapsed().as_secs_f64()
    );

    let ask = |hub: Uuid, token: Option<String>| async move {
        let now = chrono::Utc::now();
        let body = json!({"hub_id": hub, "from": now + chrono::Duration::minutes(10),
                          "until": now + chrono::Duration::minutes(70)});
        let path = match token {
            Some(token) => format!("{base}/v1/availability-quotes?consistent_with={token}"),
            None => format!("{base}/v1/availability-quotes"),
        };
        let asked = Instant::now();
        let response = http.post(path).json(&body).send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let took = asked.elapsed();
        anyhow::ensure!(
            status.as_u16() == 201,
            "{status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        anyhow::Ok((took, bytes))
    };
    // The first quote waits for the read models to include everything.
    let (_, first) = ask(hubs[0], Some(last)).await?;
    let size = first.len();
    let first: Value = serde_json::from_slice(&first)?;
    let per_hub = &first["capacity"];
    let started = Instant::now();
    let (quotes, rate) = (args.quotes, args.rate);
    let results = join_all((0..args.clients).map(|client| async move {
        let mut waits = Vec::with_capacity(quotes);
        let schedule = tokio::time::Instant::now();
        for i in 0..quotes {
            if rate > 0.0 {
                let at = schedule + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(at).await;
            }
            let (took, _) = ask(hubs[(client + i * 7) % hubs.len()], None).await?;
            waits.push(took);
        }
        anyhow::Ok(waits)
    }))
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let mut waits = Vec::new();
    for result in results {
        waits.extend(result?);
    }
    waits.sort();
    // The count alone: the read models' snapshot, without the HTTP exchange and the append.
    let mut counts = Vec::new();
    for i in 0..args.quotes.min(500) {
        let asked = Instant::now();
        let counted = projections::availability_quote::availability(
            &db.pool,
            hubs[i % hubs.len()],
            chrono::Utc::now(),
        )
        .await?;
        counts.push(asked.elapsed());
        std::hint::black_box(counted);
    }
    counts.sort();
    println!("per hub:   {per_hub}");
    println!(
        "quotes:    {} by {} client(s) ({}) in {seconds:.1} s = {:.0} quotes/s, answers of {} kB (hub 1)",
        waits.len(),
        args.clients,
        if rate > 0.0 { format!("{rate}/s each") } else { "back to back".to_string() },
        waits.len() as f64 / seconds,
        size / 1024
    );
    println!(
        "latency:   p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&waits, 50),
        percentile(&waits, 99),
        percentile(&waits, 100)
    );
    println!(
        "counting:  p50 {:.2} ms, p99 {:.2} ms (the snapshot's four statements alone)",
        percentile(&counts, 50),
        percentile(&counts, 99)
    );
    if args.keep {
        eprintln!(
            "kept the database {}",
            db.options().get_database().unwrap_or("?")
        );
    } else {
        db.drop().await?;
    }
    Ok(())
}
