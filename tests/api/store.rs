//! The events table is postgres-es's: its repository reads the streams we write.

use aggregates::task::{Task, TaskEvent, TaskStatus};
use cqrs_es::persist::PersistedEventRepository;
use postgres_es::PostgresEventRepository;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn postgres_es_reads_the_streams_the_service_writes() {
    let app = TestApp::spawn().await;
    let id = app.create_task().await;
    app.ok("tasks", id, json!({"type": "MarkTaskPending"}))
        .await;

    let repo = PostgresEventRepository::new(app.pool.clone());
    let events = repo.get_events::<Task>(&id.to_string()).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].sequence, 2);
    assert_eq!(events[1].event_type, "TaskMarkedPending");
    assert_eq!(events[1].event_version, "1.0");
    let payload: TaskEvent = serde_json::from_value(events[1].payload.clone()).unwrap();
    assert_eq!(
        payload,
        TaskEvent::TaskMarkedPending {
            from_status: TaskStatus::Scheduled
        }
    );
    assert_eq!(events[1].metadata["actor"], "key:test-admin");
    assert_eq!(events[1].metadata["on_behalf_of"], "test:runner");
}

#[tokio::test]
async fn stored_events_cannot_be_changed_or_deleted() {
    let app = TestApp::spawn().await;
    app.create_task().await;
    let before = app.event_count().await;
    let update = sqlx::query("UPDATE events SET event_type = 'Forged'")
        .execute(&app.pool)
        .await;
    assert!(update.is_err());
    let delete = sqlx::query("DELETE FROM events").execute(&app.pool).await;
    assert!(delete.is_err());
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn events_are_numbered_globally_in_commit_order_with_their_transaction() {
    let app = TestApp::spawn().await;
    let first = app.create_task().await;
    let second = app.create_task().await;
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT aggregate_id, global_position, transaction_id::text FROM events
          WHERE aggregate_type = 'Task' ORDER BY global_position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, first.to_string());
    assert_eq!(rows[1].0, second.to_string());
    assert!(rows[0].1 < rows[1].1);
    let xids: Vec<u64> = rows.iter().map(|r| r.2.parse().unwrap()).collect();
    assert!(xids[0] < xids[1]);
}
