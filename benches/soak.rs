//! The soak: the service binary (release build) on a database of its own, with its projectors,
//! the assignment process and the deadlines, driven for N minutes by clients sending mixed
//! commands and reads on all four collections. Prints, every interval, commands/s, the
//! service's RSS, the projectors' lag (the wait of a read naming the command's token, and the
//! events behind the slowest checkpoint) and errors; then a summary against the goals: RSS
//! growth after warm-up under 10%, no 5xx, lag p99 under 100 ms.
//!
//!     ./dev soak [--minutes 30] [--clients 8] [--interval 30]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use operations::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

mod common;

#[derive(Default)]
struct Counters {
    commands: AtomicU64,
    reads: AtomicU64,
    /// Answers 4xx the scenario did not expect.
    unexpected_4xx: AtomicU64,
    /// `409 concurrent_modification`, retried.
    conflicts: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
    /// Reads of one's own write: how long until the read models had it, in µs.
    lags: Mutex<Vec<u64>>,
    last_error: Mutex<Option<String>>,
}

struct Client {
    http: reqwest::Client,
    base: String,
    counters: Arc<Counters>,
}

impl Client {
    /// Sends a command; a `409 concurrent_modification` (the assignment process wrote to the
    /// same stream meanwhile) is retried, as a client is told to.
    async fn command(&self, collection: &str, id: Uuid, body: Value) -> Option<Value> {
        for _ in 0..5 {
            match self.send(collection, id, &body).await {
                Err(true) => {
                    self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Err(false) => return None,
                Ok(answer) => return Some(answer),
            }
        }
        None
    }

    /// `Err(true)`: a conflict worth retrying.
    async fn send(&self, collection: &str, id: Uuid, body: &Value) -> Result<Value, bool> {
        let sent = self
            .http
            .post(format!("{}/v1/{collection}/{id}/commands", self.base))
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(err) => {
                self.counters
                    .transport_errors
                    .fetch_add(1, Ordering::Relaxed);
                *self.counters.last_error.lock().unwrap() = Some(err.to_string());
                return Err(false);
            }
        };
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            self.counters.commands.fetch_add(1, Ordering::Relaxed);
            return Ok(answer);
        }
        if answer["code"] == "concurrent_modification" {
            return Err(true);
        }
        let counter = if status.is_server_error() {
            &self.counters.server_errors
        } else {
            &self.counters.unexpected_4xx
        };
        counter.fetch_add(1, Ordering::Relaxed);
        *self.counters.last_error.lock().unwrap() =
            Some(format!("{collection} {body}: {status} {answer}"));
        Err(false)
    }

    async fn read(&self, path: &str) -> bool {
        match self.http.get(format!("{}{path}", self.base)).send().await {
            Ok(r) if r.status().is_success() => {
                self.counters.reads.fetch_add(1, Ordering::Relaxed);
                true
            }
            Ok(r) => {
                let status = r.status();
                if status.is_server_error() {
                    self.counters.server_errors.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.counters.unexpected_4xx.fetch_add(1, Ordering::Relaxed);
                }
                *self.counters.last_error.lock().unwrap() = Some(format!(
                    "GET {path}: {status} {}",
                    r.text().await.unwrap_or_default()
                ));
                false
            }
            Err(err) => {
                self.counters
                    .transport_errors
                    .fetch_add(1, Ordering::Relaxed);
                *self.counters.last_error.lock().unwrap() = Some(err.to_string());
                false
            }
        }
    }

    /// Reads `path` naming the answer's token; records the wait.
    async fn read_own_write(&self, path: &str, answer: &Value) {
        let Some(token) = answer["token"].as_str() else {
            return;
        };
        let started = Instant::now();
        if self.read(&format!("{path}?consistent_with={token}")).await {
            self.counters
                .lags
                .lock()
                .unwrap()
                .push(started.elapsed().as_micros() as u64);
        }
    }

    async fn task_life(&self) -> Option<Uuid> {
        let id = Uuid::new_v4();
        let created = self
            .command(
                "tasks",
                id,
                json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP",
                       "hub_id": Uuid::new_v4(), "robot_id": Uuid::new_v4()}),
            )
            .await?;
        self.read_own_write(&format!("/v1/tasks/{id}"), &created)
            .await;
        self.command("tasks", id, json!({"type": "MarkTaskPending"}))
            .await?;
        Some(id)
    }

    async fn finish_task(&self, id: Uuid) -> Option<()> {
        for command in ["StartTask", "MarkTaskArrived", "CompleteTask"] {
            self.command("tasks", id, json!({"type": command})).await?;
        }
        self.read(&format!("/v1/tasks/{id}/history")).await;
        Some(())
    }

    async fn pilot_round(&self, round: u64) -> Option<()> {
        let task = self.task_life().await?;
        let (pilot, assignment) = (Uuid::new_v4(), Uuid::new_v4());
        self.command("pilots", pilot, json!({"type": "RegisterPilot"}))
            .await?;
        self.command(
            "pilots",
            pilot,
            json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
        )
        .await?;
        self.command(
            "pilots",
            pilot,
            json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
        )
        .await?;
        if round % 4 == 0 {
            // Nobody accepts: the deadline marks it STALE.
            return Some(());
        }
        let accepted = self
            .command(
                "pilots",
                pilot,
                json!({"type": "AcceptAssignment", "assignment_id": assignment}),
            )
            .await?;
        self.read_own_write(&format!("/v1/pilots/{pilot}"), &accepted)
            .await;
        // The process links the task, then finishes the assignment when the task completes.
        self.finish_task(task).await?;
        self.read(&format!("/v1/pilots/{pilot}/history")).await;
        Some(())
    }

    async fn trip_life(&self) -> Option<()> {
        let id = Uuid::new_v4();
        let hub = json!({"lat": 37.7749, "lng": -122.4194, "name": "Hub SF"});
        let customer = json!({"lat": 37.7793, "lng": -122.4057, "name": "Customer, 5th St"});
        let planned = self
            .command(
                "trips",
                id,
                json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": Uuid::new_v4(),
                       "trip_type": "DELIVERY", "origin": hub, "destination": customer}),
            )
            .await?;
        self.read_own_write(&format!("/v1/trips/{id}"), &planned)
            .await;
        for body in [
            json!({"type": "MarkReadyToDepart"}),
            json!({"type": "DepartTrip"}),
            json!({"type": "ArriveAtStop", "location": customer}),
            json!({"type": "CompleteTrip"}),
        ] {
            self.command("trips", id, body).await?;
        }
        self.read(&format!("/v1/trips/{id}/history")).await;
        Some(())
    }

    async fn fo_task_life(&self) -> Option<()> {
        let (id, go, fo) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let spot = json!({"lat": 37.7760, "lng": -122.4120, "name": "Market & 7th"});
        let hub = json!({"lat": 37.7749, "lng": -122.4194, "name": "Hub SF"});
        let created = self
            .command(
                "fo-tasks",
                id,
                json!({"type": "CreateFoTask", "hub_id": Uuid::new_v4(), "kind": "ROBOT_RESCUE",
                       "subtasks": [{"subtask_id": go, "kind": "TRAVEL", "from": hub, "to": spot}]}),
            )
            .await?;
        self.read_own_write(&format!("/v1/fo-tasks/{id}"), &created)
            .await;
        for body in [
            json!({"type": "AssignFieldOperator", "assignment_id": Uuid::new_v4(), "fo_id": fo}),
            json!({"type": "StartFoTask"}),
            json!({"type": "StartSubtask", "subtask_id": go}),
            json!({"type": "CompleteSubtask", "subtask_id": go}),
            json!({"type": "CompleteFoTask"}),
        ] {
            self.command("fo-tasks", id, body).await?;
        }
        self.read("/v1/fo-tasks?limit=20").await;
        Some(())
    }

    async fn run(self, stop: Arc<AtomicBool>, offset: u64) {
        let mut round = offset;
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            match round % 4 {
                0 => {
                    if let Some(task) = self.task_life().await {
                        self.finish_task(task).await;
                    }
                    self.read("/v1/tasks?limit=20").await;
                }
                1 => {
                    self.pilot_round(round / 4).await;
                }
                2 => {
                    self.trip_life().await;
                }
                _ => {
                    self.fo_task_life().await;
                }
            };
        }
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
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
    let db = common::BenchDatabase::create().await?;
    let key = operations::auth::keys::create(&db.pool, "soak", Role::Admin, None, None).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = std::env::temp_dir().join(format!("operations-soak-{port}.log"));
    let service = Service(
        Command::new(env!("CARGO_BIN_EXE_operations"))
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
        "soak: {minutes} min, {clients} clients, service pid {pid} (log: {})",
        log.display()
    );
    println!(
        "{:>6} {:>9} {:>8} {:>9} {:>10} {:>10} {:>9} {:>6} {:>6} {:>6}",
        "min",
        "cmds/s",
        "reads/s",
        "RSS MiB",
        "lag p50ms",
        "lag p99ms",
        "behind",
        "4xx",
        "5xx",
        "conn"
    );

    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..clients)
        .map(|offset| {
            let client = Client {
                http: http.clone(),
                base: base.clone(),
                counters: counters.clone(),
            };
            tokio::spawn(client.run(stop.clone(), offset))
        })
        .collect();

    let total = Duration::from_secs(minutes * 60);
    let warm_up = (total / 10).max(interval);
    let (mut last_commands, mut last_reads, mut last_at) = (0, 0, Instant::now());
    let mut all_lags: Vec<u64> = Vec::new();
    let (mut rss_after_warm_up, mut rss_max_after) = (None::<u64>, 0u64);
    let mut worst_behind = 0i64;
    while started.elapsed() < total {
        tokio::time::sleep(interval.min(total.saturating_sub(started.elapsed()))).await;
        let now = Instant::now();
        let seconds = now.duration_since(last_at).as_secs_f64();
        let commands = counters.commands.load(Ordering::Relaxed);
        let reads = counters.reads.load(Ordering::Relaxed);
        let mut lags = std::mem::take(&mut *counters.lags.lock().unwrap());
        lags.sort_unstable();
        let rss = rss_kib(pid);
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
            all_lags.extend_from_slice(&lags);
            worst_behind = worst_behind.max(behind);
        }
        println!(
            "{:>6.1} {:>9.0} {:>8.0} {:>9.1} {:>10.1} {:>10.1} {:>9} {:>6} {:>6} {:>6}",
            elapsed.as_secs_f64() / 60.0,
            (commands - last_commands) as f64 / seconds,
            (reads - last_reads) as f64 / seconds,
            rss as f64 / 1024.0,
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
        "after warm-up ({:.0} s): RSS {:.1} MiB -> max {:.1} MiB ({growth:+.1}%); lag p50 {:.1} ms, \
         p99 {lag_p99:.1} ms, max {:.1} ms; most events behind a checkpoint: {worst_behind}",
        warm_up.as_secs_f64(),
        rss_start as f64 / 1024.0,
        rss_max_after as f64 / 1024.0,
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
