//! What one client may cost: rate limits per principal and per address, and slow or idle
//! connections cut off while the service keeps answering.

use std::time::{Duration, Instant};

use operations::auth::Role;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::helpers::{assert_problem, client_with, create_task_body, TestApp};

#[tokio::test]
async fn a_principal_over_its_rate_is_429_with_retry_after_and_others_go_on() {
    let app = TestApp::spawn_with(|s| s.limits.rate_limit = 5).await;
    app.places().await;
    let before = app.event_count().await;
    let busy = client_with(&app.db.key("busy", Role::Analyst, None).await);
    let mut limited = None;
    for _ in 0..20 {
        let response = busy.get(app.url("/v1/tasks")).send().await.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = limited.expect("the sixth request within a second is over the rate");
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another principal has a budget of its own; the health checks need none.
    let calm = client_with(&app.db.key("calm", Role::Analyst, None).await);
    assert_eq!(
        calm.get(app.url("/v1/tasks"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    for _ in 0..20 {
        let health = reqwest::get(app.url("/healthz")).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    }
    // A refused command stores nothing.
    let service = client_with(&app.db.key("writer", Role::Service, None).await);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let response = service
            .post(app.url(&format!("/v1/tasks/{}/commands", Uuid::new_v4())))
            .json(&create_task_body())
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count() as i64;
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(app.event_count().await, before + created);
}

#[tokio::test]
async fn guessing_credentials_from_one_address_is_slowed_to_its_rate() {
    let app = TestApp::spawn_with(|s| s.limits.rate_limit_unauthenticated = 3).await;
    let guesser = reqwest::Client::new();
    let mut statuses = Vec::new();
    for n in 0..10 {
        let response = guesser
            .get(app.url("/v1/tasks"))
            .bearer_auth(format!("ops_{n:024}_{}", "z".repeat(43)))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(statuses[..3], [StatusCode::UNAUTHORIZED; 3], "{statuses:?}");
    assert!(
        statuses[3..].contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // A valid credential from the same address is not held back by the guesses.
    let read = app.get("/v1/tasks").await;
    assert_eq!(read.status(), StatusCode::OK);
}

/// Opens a connection that sends half a request header and then nothing.
async fn half_a_header(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// True once the server has closed the connection (reads end or fail).
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    matches!(
        tokio::time::timeout(within, async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue, // a 408 or similar before the close
                }
            }
        })
        .await,
        Ok(())
    )
}

#[tokio::test]
async fn slow_and_idle_connections_are_cut_and_the_service_keeps_answering() {
    let app = TestApp::spawn_with(|s| {
        s.limits.header_read_timeout = Duration::from_secs(1);
        s.limits.idle_timeout = Duration::from_millis(500);
        s.limits.request_body_timeout = Duration::from_secs(1);
        s.limits.max_open_connections = 64;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_string();
    // More slow connections than the cap: the service still answers, once the slow ones are
    // cut (the others wait in the listen queue meanwhile).
    let mut slow = Vec::new();
    for _ in 0..100 {
        slow.push(half_a_header(&address).await);
    }
    let started = Instant::now();
    let health = reqwest::Client::new()
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for stream in &mut slow {
        assert!(
            closed_by_server(stream, Duration::from_secs(5)).await,
            "a slow header is cut"
        );
    }

    // A body that never comes is cut too, and stores nothing.
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/tasks/{}/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"type\":",
        Uuid::new_v4(),
        app.admin_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "a stalled body is cut");
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.starts_with("HTTP/1.1 2"), "{answer}");
    assert_eq!(app.event_count().await, 0);

    // A kept-alive connection that asks nothing more is closed after the idle timeout.
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: idle\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_by_server(&mut stream, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_request_past_the_whole_request_timeout_is_408() {
    let app = TestApp::spawn_with(|s| {
        s.limits.request_timeout = Duration::from_millis(300);
        s.consistency_timeout = Duration::from_secs(5);
        s.projections.disabled = true;
    })
    .await;
    app.places().await;
    let id = Uuid::new_v4();
    let answer = app.ok("tasks", id, create_task_body()).await;
    let started = Instant::now();
    let response = app
        .get(&format!(
            "/v1/tasks/{id}?consistent_with={}",
            answer["token"].as_str().unwrap()
        ))
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_problem(response, StatusCode::REQUEST_TIMEOUT, "request_timeout").await;
}
