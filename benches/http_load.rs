//! HTTP load benchmark: clients drive tasks through their whole life over the API, each on
//! task streams of its own, and the run prints commands/s and latency percentiles.
//!
//!     ./dev bench                                   # in-process service, fresh database
//!     ./dev bench -- --clients 16 --seconds 30
//!     ./dev bench -- --url http://127.0.0.1:8080    # a service already running
//!
//! Without --url the service runs inside this process on a database of its own (created from
//! DATABASE_URL, dropped afterwards), so client and service share this machine's cores.
//!
//! Tasks name a hub and a robot, which the run registers first (a city, a hub, one robot per
//! client); `--no-reference-checks` runs the in-process service without checking them, to
//! measure what the checks cost.
//!
//!     ./dev bench -- --rate 800 --read-own-write    # 800 commands/s, each read back with its token
//!
//! With `--read-own-write`, every command's task is read back with the answer's consistency
//! token, and the wait of those reads is reported beside the commands' latency.
//!
//!     ./dev bench-limit                             # = ./dev bench -- --against-pgbench 3
//!
//! With `--against-pgbench N`, N rounds alternate pgbench doing one command's database work
//! (`common::pgbench`: load a stream and append an event in a transaction, as many clients, as
//! long, on a fresh database) and the HTTP load, each on a database of its own, then print the
//! service's commands/s as a ratio of pgbench's transactions/s, and the p99 of both.

use std::time::{Duration, Instant};

use clap::Parser;
use operations::settings::{
    AuthSettings, DatabaseSettings, LimitSettings, ProjectionSettings, ServeSettings,
};
use operations::startup::Application;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

mod common;

use common::pgbench::Reached;

#[derive(Parser)]
// A later `--against-pgbench` (from `./dev bench-limit ARGS`) overrides the earlier one.
#[command(args_override_self = true)]
struct Args {
    /// Concurrent clients, each with one connection.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of measured load (after the warm-up).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds of unmeasured warm-up.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Drive this running service instead of starting one in-process.
    #[arg(long, requires = "key")]
    url: Option<String>,
    /// The credential to send to the service named by --url: an admin key, or a service key
    /// for cities, hubs, robots and tasks. The in-process service issues one of its own.
    #[arg(long, env = "OPERATIONS_KEY")]
    key: Option<String>,
    /// Connections in the in-process service's pool.
    #[arg(long, default_value_t = 20)]
    pool: u32,
    /// Commands per second of all clients together, each client keeping its share of the
    /// pace (0: every client as fast as the service answers).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Read every command's task back with the answer's consistency token
    /// (`GET /v1/tasks/{id}?consistent_with=`) and report that wait: read-your-own-write.
    #[arg(long)]
    read_own_write: bool,
    /// Do not run the projectors in the in-process service (commands only).
    #[arg(long)]
    no_projections: bool,
    /// Do not check the tasks' references in the in-process service.
    #[arg(long)]
    no_reference_checks: bool,
    /// The in-process service's credential: an API key (`key`), or a JWT (`jwt`) checked
    /// against a JWKS the benchmark makes.
    #[arg(long, default_value = "key", value_parser = ["key", "jwt"])]
    auth: String,

    /// Rounds of pgbench doing one command's database work, alternating with rounds of the
    /// HTTP load (in-process service only): the service's commands/s as a ratio of the
    /// database's limit.
    #[arg(long, conflicts_with = "url")]
    against_pgbench: Option<usize>,
    /// cargo bench passes --bench; accepted and ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One task's life at `hub` with `robot`: 7 commands on one stream.
fn life(hub: Uuid, robot: Uuid) -> [Value; 7] {
    [
        json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": hub, "robot_id": robot}),
        json!({"type": "MarkTaskPending"}),
        json!({"type": "StartTask"}),
        json!({"type": "PauseTask", "reason": "crossing"}),
        json!({"type": "ResumeTask"}),
        json!({"type": "MarkTaskArrived"}),
        json!({"type": "CompleteTask"}),
    ]
}

struct ClientResult {
    latencies: Vec<Duration>,
    /// Reads of the task with the command's token, when asked (`--read-own-write`).
    own_reads: Vec<Duration>,
    errors: u64,
}

/// How one client drives the service.
#[derive(Clone, Copy)]
struct Pace {
    /// Time between two commands of this client, when paced.
    every: Option<Duration>,
    read_own_write: bool,
}

fn http_client(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {key}")
            .parse()
            .expect("a credential fits in a header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(1)
        .build()
        .expect("an HTTP client")
}

/// Registers a city, a hub in it and `robots` robots at the hub; returns the hub and robots.
async fn register_fleet(base: &str, key: &str, robots: usize) -> (Uuid, Vec<Uuid>) {
    let http = http_client(key);
    let hub = common::register_hub(&http, base)
        .await
        .expect("the hub is registered");
    let mut fleet = Vec::new();
    for _ in 0..robots {
        let robot = common::register_robot(&http, base, hub, false).await;
        fleet.push(robot.expect("the robot is registered"));
    }
    (hub, fleet)
}

async fn client(
    base: String,
    key: String,
    (hub, robot): (Uuid, Uuid),
    pace: Pace,
    (start_measuring, stop): (Instant, Instant),
) -> ClientResult {
    let http = http_client(&key);
    let mut result = ClientResult {
        latencies: Vec::with_capacity(100_000),
        own_reads: Vec::new(),
        errors: 0,
    };
    let mut ticker = pace.every.map(|every| {
        // Clients start spread over one period, not all on the same tick.
        let first = every.mul_f64(rand_fraction());
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + first, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker
    });
    'streams: loop {
        let id = Uuid::new_v4();
        let url = format!("{base}/v1/tasks/{id}/commands");
        for body in life(hub, robot) {
            if let Some(ticker) = ticker.as_mut() {
                ticker.tick().await;
            }
            let now = Instant::now();
            if now >= stop {
                break 'streams;
            }
            let response = http.post(&url).json(&body).send().await;
            let ok = matches!(&response, Ok(r) if r.status().is_success());
            let token = match response {
                Ok(r) => {
                    let token = r.headers().get("x-consistency-token").cloned();
                    let _ = r.bytes().await;
                    token
                }
                Err(_) => None,
            };
            let measured = now >= start_measuring;
            if measured {
                if ok {
                    result.latencies.push(now.elapsed());
                } else {
                    result.errors += 1;
                }
            }
            if !ok {
                continue 'streams;
            }
            if let (true, Some(token)) = (pace.read_own_write, token) {
                let token = token.to_str().unwrap_or_default();
                let read = Instant::now();
                let response = (http.get(format!("{base}/v1/tasks/{id}")))
                    .query(&[("consistent_with", token)])
                    .send()
                    .await;
                let ok = matches!(&response, Ok(r) if r.status().is_success());
                if let Ok(r) = response {
                    let _ = r.bytes().await;
                }
                match (measured, ok) {
                    (true, true) => result.own_reads.push(read.elapsed()),
                    (true, false) => result.errors += 1,
                    _ => {}
                }
            }
        }
    }
    result
}

/// A fraction in [0, 1) from a random UUID, enough to spread clients' first ticks.
fn rand_fraction() -> f64 {
    f64::from(Uuid::new_v4().as_u128() as u16) / 65_536.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The service's address, the load's credential, the one that registers the fleet, and the
/// database to drop.
async fn in_process_service(args: &Args) -> (String, String, String, PgConnectOptions, String) {
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must name a PostgreSQL server (./dev bench provides one)");
    let admin: PgConnectOptions = url.parse().expect("a valid DATABASE_URL");
    let name = format!("ops_bench_{}", Uuid::new_v4().simple());
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .expect("a connection");
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("a bench database");
    let mut auth = AuthSettings::default();
    let jwt = (args.auth == "jwt").then(jwt_issuer);
    if let Some((jwks, _)) = &jwt {
        auth.jwt_jwks = Some(jwks.to_string_lossy().to_string());
        auth.jwt_issuer = Some("https://idp.bench/".into());
        auth.jwt_audience = Some("operations".into());
    }
    let app = Application::build(ServeSettings {
        addr: "127.0.0.1:0".parse().expect("an address"),
        idempotency_ttl: Duration::from_secs(86_400),
        quote_ttl: Duration::from_secs(60),
        consistency_timeout: Duration::from_secs(5),
        long_transaction: Duration::from_secs(30),
        no_reference_checks: args.no_reference_checks,
        database: DatabaseSettings {
            url: admin.clone().database(&name),
            max_connections: args.pool,
            timeouts: Default::default(),
        },
        projections: ProjectionSettings {
            disabled: args.no_projections,
            ..ProjectionSettings::default()
        },
        auth,
        limits: LimitSettings::default(),
    })
    .await
    .expect("the service starts");
    let base = format!("http://{}", app.local_addr().expect("an address"));
    tokio::spawn(app.run_until_stopped());
    let pool = sqlx::PgPool::connect_with(admin.clone().database(&name))
        .await
        .expect("a connection");
    let key = match jwt {
        Some((_, token)) => token,
        None => operations::auth::keys::create(
            &pool,
            "bench-load",
            operations::auth::Role::Service,
            Some(vec!["tasks".into()]),
            None,
        )
        .await
        .expect("a key"),
    };
    let setup = operations::auth::keys::create(
        &pool,
        "bench-setup",
        operations::auth::Role::Admin,
        None,
        None,
    )
    .await
    .expect("a key");
    pool.close().await;
    (base, key, setup, admin, name)
}

/// A JWKS file with one Ed25519 key, and a service token signed with it.
fn jwt_issuer() -> (std::path::PathBuf, String) {
    use base64::Engine;
    use ring::signature::KeyPair;
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .expect("a key");
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("a key");
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let jwks = std::env::temp_dir().join(format!("ops-bench-jwks-{}.json", Uuid::new_v4()));
    let document = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "bench", "x": x}]});
    std::fs::write(&jwks, document.to_string()).expect("the JWKS is written");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some("bench".into());
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "https://idp.bench/", "aud": "operations", "sub": "bench-load",
                        "exp": now + 3600, "nbf": now, "roles": ["service"],
                        "collections": ["tasks"]});
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
    )
    .expect("a token");
    (jwks, token)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let Some(rounds) = args.against_pgbench else {
        load(&args).await;
        return;
    };
    let mut results = Vec::new();
    for round in 1..=rounds.max(1) {
        eprintln!(
            "round {round}: pgbench, {} clients, {}s",
            args.clients, args.seconds
        );
        let limit = common::pgbench::limit(args.clients, args.seconds)
            .await
            .expect("pgbench runs");
        println!(
            "round {round} pgbench:     {:.0} transactions/s, p99 {:.2} ms",
            limit.per_second,
            limit.p99.as_secs_f64() * 1000.0
        );
        let service = load(&args).await;
        println!(
            "round {round} service:     {:.0} commands/s, p99 {:.2} ms: {:.2}x the limit",
            service.per_second,
            service.p99.as_secs_f64() * 1000.0,
            service.per_second / limit.per_second
        );
        results.push((limit, service));
    }
    let mean = |f: &dyn Fn(&(Reached, Reached)) -> f64| {
        results.iter().map(f).sum::<f64>() / results.len() as f64
    };
    let (limit, service) = (mean(&|r| r.0.per_second), mean(&|r| r.1.per_second));
    let (limit_p99, service_p99) = (
        mean(&|r| r.0.p99.as_secs_f64() * 1000.0),
        mean(&|r| r.1.p99.as_secs_f64() * 1000.0),
    );
    println!(
        "limit:       {limit:.0} transactions/s, p99 {limit_p99:.2} ms (pgbench, mean of {} rounds)",
        results.len()
    );
    println!("service:     {service:.0} commands/s, p99 {service_p99:.2} ms");
    println!(
        "ratio:       {:.2}x the limit's throughput, {:.2}x its p99",
        service / limit,
        service_p99 / limit_p99
    );
}

/// One run of the HTTP load; prints and returns what it reached.
async fn load(args: &Args) -> Reached {
    let service = match (&args.url, &args.key) {
        (Some(url), Some(key)) => {
            let base = url.trim_end_matches('/').to_string();
            (base, key.clone(), key.clone(), None)
        }
        _ => {
            let (base, key, setup, admin, name) = in_process_service(args).await;
            (base, key, setup, Some((admin, name)))
        }
    };
    let (base, key, setup, database) = service;
    let (hub, robots) = register_fleet(&base, &setup, args.clients).await;
    eprintln!(
        "driving {base} with {} clients ({} credential, references {}): {}s warm-up, {}s measured",
        args.clients,
        args.auth,
        if args.no_reference_checks {
            "not checked"
        } else {
            "checked"
        },
        args.warmup,
        args.seconds
    );
    let start_measuring = Instant::now() + Duration::from_secs(args.warmup);
    let stop = start_measuring + Duration::from_secs(args.seconds);
    let pace = Pace {
        every: (args.rate > 0.0).then(|| Duration::from_secs_f64(args.clients as f64 / args.rate)),
        read_own_write: args.read_own_write,
    };
    let clients: Vec<_> = (robots.into_iter())
        .map(|robot| {
            let (base, key) = (base.clone(), key.clone());
            let window = (start_measuring, stop);
            tokio::spawn(client(base, key, (hub, robot), pace, window))
        })
        .collect();
    let (mut latencies, mut own_reads) = (Vec::new(), Vec::new());
    let mut errors = 0;
    for handle in clients {
        let result = handle.await.expect("a client finishes");
        latencies.extend(result.latencies);
        own_reads.extend(result.own_reads);
        errors += result.errors;
    }
    latencies.sort();
    own_reads.sort();
    let commands = latencies.len();
    println!("clients:     {}", args.clients);
    println!("commands:    {commands} ({errors} failed)");
    println!(
        "throughput:  {:.0} commands/s",
        commands as f64 / args.seconds as f64
    );
    for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0)] {
        println!(
            "latency {name}: {:.2} ms",
            percentile(&latencies, p).as_secs_f64() * 1000.0
        );
    }
    if args.read_own_write {
        for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0)] {
            println!(
                "own-write read {name}: {:.2} ms ({} reads with consistent_with)",
                percentile(&own_reads, p).as_secs_f64() * 1000.0,
                own_reads.len()
            );
        }
    }
    if let Some((admin, name)) = database {
        if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
            let _ = conn
                .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                .await;
        }
    }
    Reached {
        per_second: commands as f64 / args.seconds as f64,
        p99: percentile(&latencies, 99.0),
    }
}
