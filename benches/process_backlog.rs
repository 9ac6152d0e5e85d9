//! How long a read of one's own write waits while the assignment process works through a
//! backlog: `./dev bench-process [-- --assignments 1000]`.
//!
//! One instance, projectors off, stores N accepted assignments (N events for the process to
//! react to, each a command of its own). A second instance then starts with the projectors on,
//! and while its process catches up a client writes a task on the first instance and reads it
//! back on the second with `consistent_with`, again and again. The process holds no
//! transaction while its commands run, so those reads wait for the read models, not for the
//! process's batch; the run prints the worst and the 99th-percentile wait, and how long the
//! process took.

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
    /// Accepted assignments in the backlog (one process event each).
    #[arg(long, default_value_t = 1000)]
    assignments: usize,
    /// cargo bench passes --bench; accepted and ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

async fn instance(db: &common::BenchDatabase, projections: bool) -> String {
    let app = Application::build(ServeSettings {
        addr: "127.0.0.1:0".parse().expect("an address"),
        idempotency_ttl: Duration::from_secs(86_400),
        quote_ttl: Duration::from_secs(60),
        consistency_timeout: Duration::from_secs(30),
        long_transaction: Duration::from_secs(30),
        no_reference_checks: false,
        database: DatabaseSettings {
            url: db.options(),
            max_connections: 10,
            timeouts: Default::default(),
        },
        projections: ProjectionSettings {
            disabled: !projections,
            ..ProjectionSettings::default()
        },
        auth: AuthSettings::default(),
        limits: LimitSettings::default(),
    })
    .await
    .expect("the service starts");
    let base = format!("http://{}", app.local_addr().expect("an address"));
    tokio::spawn(app.run_until_stopped());
    base
}

async fn send(
    http: &reqwest::Client,
    base: &str,
    collection: &str,
    id: Uuid,
    body: Value,
) -> Value {
    let response = http
        .post(format!("{base}/v1/{collection}/{id}/commands"))
        .json(&body)
        .send()
        .await
        .expect("the service answers");
    assert!(
        response.status().is_success(),
        "{body}: {}",
        response.status()
    );
    response.json().await.expect("a JSON answer")
}

/// A pending task at `hub` and a pilot who accepted it.
async fn accepted(http: &reqwest::Client, base: &str, hub: Uuid) {
    let (task, pilot, assignment) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    send(
        http,
        base,
        "tasks",
        task,
        json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": hub}),
    )
    .await;
    send(
        http,
        base,
        "tasks",
        task,
        json!({"type": "MarkTaskPending"}),
    )
    .await;
    send(
        http,
        base,
        "operators",
        pilot,
        json!({"type": "RegisterOperator", "role": "PILOT"}),
    )
    .await;
    for body in [
        json!({"type": "RegisterPilot"}),
        json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
        json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
        json!({"type": "AcceptAssignment", "assignment_id": assignment}),
    ] {
        send(http, base, "pilots", pilot, body).await;
    }
}

async fn process_lag(db: &common::BenchDatabase) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events e
          WHERE e.event_type = 'PilotAssignmentAccepted'
            AND NOT EXISTS (
                SELECT FROM projector_checkpoints c
                 WHERE c.name = 'assignment_process'
                   AND (e.transaction_id, e.global_position) <= (c.transaction_id, c.position))",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the lag")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db = common::BenchDatabase::create().await?;
    let writer = instance(&db, false).await;
    let http = db.admin_client("bench-process").await?;
    let hub = common::register_hub(&http, &writer).await?;
    let per_client = args.assignments.div_ceil(16);
    join_all((0..16).map(|_| async {
        for _ in 0..per_client {
            accepted(&http, &writer, hub).await;
        }
    }))
    .await;
    let backlog = process_lag(&db).await;
    eprintln!("{backlog} accepted assignments stored; starting the projectors");

    let reader = instance(&db, true).await;
    let started = Instant::now();
    let mut waits = Vec::new();
    let mut caught_up = None;
    while started.elapsed() < Duration::from_secs(120) {
        let task = Uuid::new_v4();
        let answer = send(
            &http,
            &writer,
            "tasks",
            task,
            json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": hub}),
        )
        .await;
        let token = answer["token"].as_str().expect("a token").to_string();
        let asked = Instant::now();
        let read = http
            .get(format!("{reader}/v1/tasks/{task}?consistent_with={token}"))
            .send()
            .await?;
        assert!(read.status().is_success(), "read: {}", read.status());
        waits.push(asked.elapsed());
        if caught_up.is_none() && process_lag(&db).await == 0 {
            caught_up = Some(started.elapsed());
            break;
        }
    }
    waits.sort();
    let p99 = waits[(waits.len() * 99).div_ceil(100).clamp(1, waits.len()) - 1];
    println!("process backlog:      {backlog} events");
    match caught_up {
        Some(took) => println!("process caught up in: {:.2} s", took.as_secs_f64()),
        None => println!("process caught up in: more than 120 s"),
    }
    println!("consistent reads:     {} during the catch-up", waits.len());
    println!("wait p99:             {:.1} ms", p99.as_secs_f64() * 1000.0);
    println!(
        "wait max:             {:.1} ms",
        waits.last().expect("a read").as_secs_f64() * 1000.0
    );
    db.drop().await?;
    Ok(())
}
