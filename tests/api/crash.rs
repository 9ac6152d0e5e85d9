//! The service killed with SIGKILL in the middle of a load loses nothing and applies nothing
//! twice once it is restarted.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;
use sqlx::{ConnectOptions, PgPool};
use uuid::Uuid;

use operations::auth::Role;

use crate::helpers::{
    client_with, create_task_body, register_places, wait_for_projections, TestDatabase,
};

/// The service binary, killed when dropped.
pub struct Service {
    child: Child,
    pub base: String,
    /// Sends an admin key of this start's own.
    pub client: reqwest::Client,
    /// That admin key's credential.
    pub key: String,
}

impl Service {
    pub async fn start(db: &TestDatabase, port: u16) -> Self {
        Self::start_with(db, port, &[]).await
    }

    /// Starts the binary with more arguments for `serve`.
    pub async fn start_with(db: &TestDatabase, port: u16, args: &[&str]) -> Self {
        let key = db
            .key(
                &format!("crash-{}", Uuid::new_v4().simple()),
                Role::Admin,
                None,
            )
            .await;
        let child = Command::new(env!("CARGO_BIN_EXE_operations"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--projection-batch-size", "7"])
            .args(args)
            .env("DATABASE_URL", db.options.to_url_lossy().to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the service binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the service did not come up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            child,
            base,
            client: client_with(&key),
            key,
        }
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Clients driving tasks through their life until the service stops answering.
async fn load_until_killed(http: reqwest::Client, base: String, clients: usize) {
    join_all((0..clients).map(|_| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            'tasks: loop {
                let url = format!("{base}/v1/tasks/{}/commands", Uuid::new_v4());
                let mut bodies = vec![create_task_body()];
                for command in [
                    "MarkTaskPending",
                    "StartTask",
                    "MarkTaskArrived",
                    "CompleteTask",
                ] {
                    bodies.push(json!({"type": command}));
                }
                for body in bodies {
                    let sent = http.post(&url).json(&body).send().await;
                    if sent.is_err() {
                        break 'tasks;
                    }
                }
            }
        }
    }))
    .await;
}

#[tokio::test]
async fn a_service_killed_mid_load_loses_nothing_and_applies_nothing_twice() {
    let db = TestDatabase::create().await;
    let port = free_port();
    for round in 0..3 {
        let mut service = Service::start(&db, port).await;
        if round == 0 {
            register_places(&service.client, &service.base).await;
        }
        let load = tokio::spawn(load_until_killed(
            service.client.clone(),
            service.base.clone(),
            8,
        ));
        tokio::time::sleep(Duration::from_millis(700 + 300 * round)).await;
        service.kill();
        load.await.unwrap();
    }
    let _service = Service::start(&db, port).await;
    let pool = sqlx::PgPool::connect_with(db.options.clone())
        .await
        .unwrap();
    wait_for_projections(&pool).await;

    let events = assert_tasks_projected_exactly_once(&pool).await;
    assert!(events > 50, "the load wrote only {events} events");
}

/// Read models commit without waiting for the WAL (`synchronous_commit = off`): a database
/// crash may lose their last batches, and must lose each batch whole, rows and checkpoint
/// together, so that the events are applied again, once.
#[tokio::test]
async fn a_database_crash_mid_load_loses_read_model_batches_whole_and_they_are_applied_again() {
    let cluster = crate::cluster::Cluster::start(None);
    let db = TestDatabase::create_on(cluster.admin()).await;
    let port = free_port();
    let mut service = Service::start(&db, port).await;
    register_places(&service.client, &service.base).await;
    let load = tokio::spawn(load_until_killed(
        service.client.clone(),
        service.base.clone(),
        8,
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.crash_and_restart();
    // The load goes on against the recovered database, then the service is replaced.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    service.kill();
    load.await.unwrap();
    let _service = Service::start(&db, port).await;
    let pool = sqlx::PgPool::connect_with(db.options.clone())
        .await
        .unwrap();
    wait_for_projections(&pool).await;
    let events = assert_tasks_projected_exactly_once(&pool).await;
    assert!(events > 50, "the load wrote only {events} events");
}

/// After a fault drill on tasks (besides the fixtures' places): every status-changing task event has exactly one history row
/// and no row lacks its event, every task row is at its stream's last event, and both
/// projectors counted every event once. Returns the number of events.
pub async fn assert_tasks_projected_exactly_once(pool: &sqlx::PgPool) -> i64 {
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Task'")
            .fetch_one(pool)
            .await
            .unwrap();
    let unmatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT * FROM events WHERE aggregate_type = 'Task') e
           FULL JOIN task_history h ON h.global_position = e.global_position
          WHERE e.global_position IS NULL OR h.global_position IS NULL",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(unmatched, 0);
    // Every task row is at its stream's last event.
    let behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT aggregate_id, max(sequence) AS version FROM events
                                WHERE aggregate_type = 'Task' GROUP BY aggregate_id) s
           FULL JOIN tasks t ON t.id::text = s.aggregate_id
          WHERE t.version IS DISTINCT FROM s.version",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(behind, 0);
    let applied: Vec<i64> = sqlx::query_scalar(
        "SELECT events_applied FROM projector_checkpoints
          WHERE name IN ('tasks', 'task_history') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(applied, [events, events]);
    events
}

/// True when the process `name` (acting as `actor`) has written an effect of an event past its
/// checkpoint: a kill now redelivers that event after the restart.
pub async fn effect_ahead_of_checkpoint(pool: &PgPool, name: &str, actor: &str) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (
            SELECT FROM events cause, projector_checkpoints c, events effect
             WHERE c.name = $1
               AND (cause.transaction_id, cause.global_position) > (c.transaction_id, c.position)
               AND effect.metadata->>'causation_id' = 'event:' || cause.global_position
               AND effect.metadata->>'actor' = $2)",
    )
    .bind(name)
    .bind(actor)
    .fetch_one(pool)
    .await
    .unwrap_or(false)
}
