//! Writers racing for one stream: exactly the expected ones win, the others get 409.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::TestApp;

/// Sends `StartTask` to one pending task from `racers` clients at once, spread over the given
/// service instances; returns the answers' statuses and codes.
async fn race_to_start(
    app: &TestApp,
    instances: &[String],
    racers: usize,
) -> (Uuid, Vec<(StatusCode, Value)>) {
    let id = app.create_task().await;
    app.ok("tasks", id, json!({"type": "MarkTaskPending"}))
        .await;
    let requests = (0..racers).map(|n| {
        let url = format!("{}/v1/tasks/{id}/commands", instances[n % instances.len()]);
        let client = app.client.clone();
        async move {
            let response = client
                .post(url)
                .header("X-Actor", format!("racer:{n}"))
                .json(&json!({"type": "StartTask"}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    (id, join_all(requests).await)
}

fn assert_one_winner(answers: &[(StatusCode, Value)]) {
    let winners = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(winners, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        let code = body["code"].as_str().unwrap();
        assert!(
            ["concurrent_modification", "invalid_transition"].contains(&code),
            "{body}"
        );
    }
}

#[tokio::test]
async fn twenty_parallel_starts_of_one_task_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let (id, answers) = race_to_start(&app, std::slice::from_ref(&app.address), 20).await;
        assert_one_winner(&answers);
        assert_eq!(
            app.event_types(id).await,
            ["TaskCreated", "TaskMarkedPending", "TaskStarted"]
        );
    }
}

#[tokio::test]
async fn two_service_instances_racing_on_one_task_still_have_one_winner() {
    let app = TestApp::spawn().await;
    let second = TestApp::spawn_instance(&app.db).await;
    let instances = [app.address.clone(), second];
    for _ in 0..3 {
        let (id, answers) = race_to_start(&app, &instances, 20).await;
        assert_one_winner(&answers);
        assert_eq!(app.event_types(id).await.len(), 3);
    }
}

#[tokio::test]
async fn commands_on_different_tasks_do_not_conflict() {
    let app = TestApp::spawn().await;
    app.places().await;
    let before = app.event_count().await;
    let ids: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let answers = join_all(
        ids.iter()
            .map(|id| app.command("tasks", *id, crate::helpers::create_task_body())),
    )
    .await;
    assert!(answers.iter().all(|a| a.status() == StatusCode::CREATED));
    assert_eq!(app.event_count().await, before + 20);
}
