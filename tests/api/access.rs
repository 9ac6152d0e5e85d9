//! Who may call what: credentials, the role matrix over every documented route, the actor
//! recorded, revocation on every instance, and idempotency keys per principal.

use std::time::{Duration, Instant};

use operations::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::feed::run_cli;
use crate::helpers::{assert_problem, client_with, create_task_body, TestApp};

/// What the table says a role may do on a route: the contract, written out apart from
/// the service's own access table.
fn allowed(role: Option<&str>, method: &Method, template: &str) -> bool {
    let public = [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/docs",
        "/docs/scalar.js",
    ]
    .contains(&template);
    if public {
        return true;
    }
    let Some(role) = role else { return false };
    if role == "admin" {
        return true;
    }
    // Asking for an availability quote records it: a command on the quotes.
    if method == Method::POST && template == "/v1/availability-quotes" {
        return false;
    }
    if method == Method::POST && template.ends_with("/commands") {
        // The service key of this test may command tasks only.
        return role == "service:tasks" && template == "/v1/tasks/{id}/commands";
    }
    if template.ends_with("/verify") {
        return role == "auditor";
    }
    if template.starts_with("/v1/dead-letters") || template.starts_with("/v1/admin") {
        return false;
    }
    true
}

#[tokio::test]
async fn every_documented_route_answers_every_role_as_the_matrix_says() {
    let app = TestApp::spawn().await;
    let mut principals: Vec<(Option<&str>, reqwest::Client)> = vec![
        (None, reqwest::Client::new()),
        (Some("admin"), app.client.clone()),
    ];
    for (name, role, collections) in [
        ("service:tasks", Role::Service, Some(&["tasks"][..])),
        ("analyst", Role::Analyst, None),
        ("auditor", Role::Auditor, None),
    ] {
        let key = app.db.key(&name.replace(':', "-"), role, collections).await;
        principals.push((Some(name), client_with(&key)));
    }
    let document: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{}", paths.len());
    let mut wrong = Vec::new();
    for (template, item) in paths {
        let path = template.replace("{id}", &Uuid::new_v4().to_string());
        for (method, operation) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            // The document says the same: no security on the public routes, x-roles elsewhere.
            let public = operation["security"] == json!([]);
            assert_eq!(
                public,
                allowed(None, &method, template),
                "{method} {template}"
            );
            for (role, client) in &principals {
                let response = client
                    .request(method.clone(), app.url(&path))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let expected = allowed(*role, &method, template);
                let fine = match (expected, role) {
                    (true, _) => {
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
                    }
                    (false, None) => {
                        status == StatusCode::UNAUTHORIZED
                            && response.headers()["www-authenticate"] == "Bearer"
                    }
                    (false, Some(_)) => status == StatusCode::FORBIDDEN,
                };
                if !fine {
                    wrong.push(format!("{method} {template} as {role:?}: {status}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(app.event_count().await, 0, "bodies of {{}} store nothing");
}

#[tokio::test]
async fn a_missing_or_bad_credential_is_401_says_why_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let expired = {
        let pool = &app.pool;
        let secret = operations::auth::keys::create(
            pool,
            "short-lived",
            Role::Admin,
            None,
            Some(Duration::from_millis(1)),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        secret
    };
    let unknown = format!("ops_{}_{}", "0".repeat(24), "x".repeat(43));
    let wrong_secret = {
        let (id, _) = app.admin_key.rsplit_once('_').unwrap();
        format!("{id}_{}", "y".repeat(43))
    };
    let cases = [
        (None, "credential_required"),
        (
            Some("Basic dXNlcjpwYXNz".to_string()),
            "malformed_credential",
        ),
        (Some("Bearer ".to_string()), "malformed_credential"),
        (Some(format!("Bearer {unknown}")), "unknown_key"),
        (Some(format!("Bearer {wrong_secret}")), "unknown_key"),
        (Some(format!("Bearer {expired}")), "credential_expired"),
        (Some("Bearer a.b.c".to_string()), "invalid_jwt"),
    ];
    for (header, code) in cases {
        let mut request = reqwest::Client::new()
            .post(app.url(&format!("/v1/tasks/{}/commands", Uuid::new_v4())))
            .json(&create_task_body());
        if let Some(header) = &header {
            request = request.header("Authorization", header);
        }
        let response = request.send().await.unwrap();
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let problem = assert_problem(response, StatusCode::UNAUTHORIZED, code).await;
        let text = problem.to_string();
        for secret in [&unknown, &wrong_secret, &expired] {
            assert!(!text.contains(secret.as_str()), "{text}");
            assert!(!challenge.contains(secret.as_str()), "{challenge}");
        }
    }
    // Two credentials are ambiguous, whichever comes first.
    let two = reqwest::Client::new()
        .post(app.url(&format!("/v1/tasks/{}/commands", Uuid::new_v4())))
        .header("Authorization", format!("Bearer {}", app.admin_key))
        .header("Authorization", format!("Bearer {unknown}"))
        .json(&create_task_body())
        .send()
        .await
        .unwrap();
    assert_problem(two, StatusCode::UNAUTHORIZED, "malformed_credential").await;
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn the_actor_is_the_principal_and_x_actor_is_whom_it_acts_for() {
    let app = TestApp::spawn().await;
    app.places().await;
    let before = app.event_count().await;
    let key = app
        .db
        .key("dispatch", Role::Service, Some(&["tasks"]))
        .await;
    let dispatch = client_with(&key);
    let task = Uuid::new_v4();
    let created = dispatch
        .post(app.url(&format!("/v1/tasks/{task}/commands")))
        .header("X-Actor", "dispatcher:ana")
        .json(&create_task_body())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let answer: Value = created.json().await.unwrap();
    let history: Value = dispatch
        .get(app.url(&format!(
            "/v1/tasks/{task}/history?consistent_with={}",
            answer["token"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"][0]["actor"], "key:dispatch");
    assert_eq!(history["items"][0]["on_behalf_of"], "dispatcher:ana");
    let events: Value = dispatch
        .get(app.url(&format!("/v1/tasks/{task}/events")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["items"][0]["metadata"]["actor"], "key:dispatch");
    assert_eq!(
        events["items"][0]["metadata"]["on_behalf_of"],
        "dispatcher:ana"
    );
    // The service key commands its collections only: pilots are not among them.
    let refused = dispatch
        .post(app.url(&format!("/v1/pilots/{}/commands", Uuid::new_v4())))
        .json(&json!({"type": "RegisterPilot"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(problem["detail"].as_str().unwrap().contains("pilots"));
    assert_eq!(app.event_count().await, before + 1);
}

#[tokio::test]
async fn two_principals_may_pick_the_same_idempotency_key() {
    let app = TestApp::spawn().await;
    app.places().await;
    let before = app.event_count().await;
    let first = client_with(&app.db.key("first", Role::Service, None).await);
    let second = client_with(&app.db.key("second", Role::Service, None).await);
    for client in [&first, &second] {
        let response = client
            .post(app.url(&format!("/v1/tasks/{}/commands", Uuid::new_v4())))
            .header("Idempotency-Key", "order-1")
            .json(&create_task_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    // The same principal reusing it for another request is still refused.
    let reused = first
        .post(app.url(&format!("/v1/tasks/{}/commands", Uuid::new_v4())))
        .header("Idempotency-Key", "order-1")
        .json(&create_task_body())
        .send()
        .await
        .unwrap();
    assert_problem(
        reused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.event_count().await, before + 2);
}

#[tokio::test]
async fn keys_are_issued_listed_and_revoked_by_the_cli_on_every_instance_at_once() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let created = run_cli(
        &app,
        &[
            "keys",
            "create",
            "--name",
            "ops-bot",
            "--role",
            "analyst",
            "--expires",
            "90d",
        ],
    )
    .await;
    assert!(created.status.success(), "{created:?}");
    let stdout = String::from_utf8(created.stdout).unwrap();
    let secret = stdout.lines().last().unwrap().to_string();
    assert!(secret.starts_with("ops_"), "{stdout}");
    let bot = client_with(&secret);
    for base in [&app.address, &second] {
        let read = bot.get(format!("{base}/v1/tasks")).send().await.unwrap();
        assert_eq!(read.status(), StatusCode::OK);
    }

    let listed = run_cli(&app, &["keys", "list"]).await;
    let table = String::from_utf8(listed.stdout).unwrap();
    assert!(
        table.contains("ops-bot") && table.contains("analyst"),
        "{table}"
    );
    assert!(
        !table.contains(&secret[4..20]),
        "the list shows no secret: {table}"
    );
    let twice = run_cli(
        &app,
        &["keys", "create", "--name", "ops-bot", "--role", "admin"],
    )
    .await;
    assert!(!twice.status.success());

    let revoked = run_cli(&app, &["keys", "revoke", "ops-bot"]).await;
    assert!(revoked.status.success(), "{revoked:?}");
    // Each instance drops the key when the revocation's notification reaches it: within
    // milliseconds, so well within the second allowed here.
    let started = Instant::now();
    for base in [&app.address, &second] {
        loop {
            let response = bot.get(format!("{base}/v1/tasks")).send().await.unwrap();
            if response.status() == StatusCode::UNAUTHORIZED {
                assert_problem(response, StatusCode::UNAUTHORIZED, "key_revoked").await;
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(1), "still accepted");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let unknown = run_cli(&app, &["keys", "create", "--name", "x", "--role", "root"]).await;
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn readiness_shows_its_details_to_admins_only() {
    let app = TestApp::spawn().await;
    let analyst = client_with(&app.db.key("reader", Role::Analyst, None).await);
    for client in [reqwest::Client::new(), analyst] {
        let ready: Value = client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready, json!({"status": "ready"}));
    }
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], "ok");
}
