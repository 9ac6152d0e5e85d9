//! Failover that does not wait for TCP: the instance holding the projectors is paused
//! (SIGSTOP) under load; another takes over within the lease's time; the paused one, woken,
//! applies nothing more, and every read model ends exact.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::crash::{free_port, Service};
use crate::helpers::{create_task_body, register_places, wait_for_projections, TestDatabase};

fn signal(pid: u32, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{name} {pid}");
}

/// The holder of each projector's lease, by pid.
async fn holders(pool: &PgPool) -> Vec<(String, u32)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, holder FROM projector_leases WHERE expires_at > now() ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(name, holder)| {
            let pid = holder.split(':').nth(1).unwrap().parse().unwrap();
            (name, pid)
        })
        .collect()
}

/// Clients driving tasks through their lives on `bases` until `stop`; requests to a paused
/// instance time out and the client moves on.
async fn load(
    http: reqwest::Client,
    bases: Vec<String>,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) {
    join_all((0..6).map(|client| {
        let (http, bases, stop, done) = (http.clone(), bases.clone(), stop.clone(), done.clone());
        async move {
            let mut turn = client;
            while !stop.load(Ordering::Relaxed) {
                turn += 1;
                let base = &bases[turn % bases.len()];
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
                    if !sent.is_ok_and(|r| r.status().is_success()) {
                        break;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }))
    .await;
}

#[tokio::test]
async fn a_paused_leader_loses_its_projectors_within_the_lease_and_applies_nothing_after() {
    let db = TestDatabase::create().await;
    // The first instance up takes every lease; two more stand by.
    let first = Service::start(&db, free_port()).await;
    register_places(&first.client, &first.base).await;
    let pool = PgPool::connect_with(db.options.clone()).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM projector_checkpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    let count = count as usize;
    let projectors = {
        let started = Instant::now();
        loop {
            let held = holders(&pool).await;
            if held.len() == count {
                break held;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "{held:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert!(
        projectors.iter().all(|(_, pid)| *pid == first.pid()),
        "{projectors:?}"
    );
    let others = [
        Service::start(&db, free_port()).await,
        Service::start(&db, free_port()).await,
    ];
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", first.key).parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let bases = vec![
        first.base.clone(),
        others[0].base.clone(),
        others[1].base.clone(),
    ];
    let load = tokio::spawn(load(http.clone(), bases, stop.clone(), done.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Pause the leader, mid-load (perhaps mid-batch, holding its checkpoint's row lock).
    signal(first.pid(), "STOP");
    let paused = Instant::now();
    // Within 15 s, the projectors run elsewhere: a write through another instance reads back.
    let taken_over = loop {
        let held = holders(&pool).await;
        if held.len() == count && held.iter().all(|(_, pid)| *pid != first.pid()) {
            break paused.elapsed();
        }
        assert!(
            paused.elapsed() < Duration::from_secs(15),
            "not taken over within 15 s: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = Uuid::new_v4();
    let answer: Value = http
        .post(format!("{}/v1/tasks/{id}/commands", others[0].base))
        .json(&create_task_body())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["token"].as_str().unwrap();
    let read = loop {
        let read = http
            .get(format!(
                "{}/v1/tasks/{id}?consistent_with={token}",
                others[1].base
            ))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Ok(read) = read {
            if read.status().is_success() {
                break paused.elapsed();
            }
        }
        // Counted from the takeover: after it, the new leaders catch up on the load first (20
        // projectors' worth on a shared machine).
        assert!(
            paused.elapsed() < taken_over + Duration::from_secs(15),
            "no read model moved"
        );
    };
    assert!(
        read < taken_over + Duration::from_secs(15),
        "read back {read:?} after the pause, taken over after {taken_over:?}"
    );
    eprintln!("taken over {taken_over:?} after SIGSTOP; own write read back after {read:?}");

    // The paused leader wakes up under load, and must apply nothing more.
    signal(first.pid(), "CONT");
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    assert!(done.load(Ordering::Relaxed) > 50, "the load did too little");
    wait_for_projections(&pool).await;
    // It did not take anything back either.
    assert!(holders(&pool)
        .await
        .iter()
        .all(|(_, pid)| *pid != first.pid()));

    // Every status event has exactly one history row, every read model row is at its
    // stream's version.
    crate::crash::assert_tasks_projected_exactly_once(&pool).await;
    drop(others);
    drop(first);
}
