//! The database moved to another cluster (pg_dump and pg_restore into a freshly made one, whose
//! transaction ids start far below the stored ones) keeps projecting, feeding and answering
//! consistent reads, with nothing skipped.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use operations::auth::Role;

use crate::cluster::Cluster;
use crate::helpers::{
    assert_problem, client_with, create_task_body, register_places, wait_for_projections, TestApp,
    TestDatabase,
};

struct Instance {
    base: String,
    http: reqwest::Client,
}

impl Instance {
    async fn create_task(&self) -> (Uuid, String) {
        let id = Uuid::new_v4();
        let response = self
            .http
            .post(format!("{}/v1/tasks/{id}/commands", self.base))
            .json(&create_task_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let answer: Value = response.json().await.unwrap();
        (id, answer["token"].as_str().unwrap().to_string())
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Every task id the feed's `TaskCreated` events name, in feed order.
    async fn created_in_feed(&self) -> Vec<String> {
        let (mut ids, mut after) = (Vec::new(), String::from("0.0"));
        loop {
            let page: Value = self
                .get(&format!(
                    "/v1/events?event_type=TaskCreated&limit=1000&after={after}"
                ))
                .await
                .json()
                .await
                .unwrap();
            let items = page["items"].as_array().unwrap();
            if items.is_empty() {
                return ids;
            }
            ids.extend(
                items
                    .iter()
                    .map(|e| e["aggregate_id"].as_str().unwrap().to_string()),
            );
            after = page["next"].as_str().unwrap().to_string();
        }
    }
}

async fn max_stored_xid(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT max(transaction_id)::text::bigint FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_database_restored_into_a_new_cluster_projects_every_new_write() {
    // The old cluster has a long past (its ids start at 3 × 2³²); the new one is freshly made.
    let old = Cluster::start(Some(3));
    let new = Cluster::start(None);
    let source = TestDatabase::create_on(old.admin()).await;
    let key = source.key("mover", Role::Admin, None).await;
    let before = Instance {
        base: TestApp::spawn_instance(&source).await,
        http: client_with(&key),
    };
    register_places(&before.http, &before.base).await;
    let mut written = Vec::new();
    for _ in 0..30 {
        written.push(before.create_task().await);
    }
    let source_pool = PgPool::connect_with(source.options.clone()).await.unwrap();
    wait_for_projections(&source_pool).await;

    let dump = old.path("operations.dump");
    let dump = dump.to_str().unwrap();
    old.client(
        "pg_dump",
        &["-Fc", "-f", dump, "-d", &old.url(&source.name)],
    );
    // A write after the dump: lost in the move, and its token must not pass for a new write's.
    let (_, lost_token) = before.create_task().await;

    let target = TestDatabase::create_on(new.admin()).await;
    new.client(
        "pg_restore",
        &["--no-owner", "-d", &new.url(&target.name), dump],
    );
    let target_pool = PgPool::connect_with(target.options.clone()).await.unwrap();
    let raw: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&target_pool)
        .await
        .unwrap();
    assert!(
        raw < max_stored_xid(&target_pool).await,
        "the drill needs a new cluster whose ids are below the stored ones"
    );

    // The service starts on the restored database: its migrate sees the move.
    let after = Instance {
        base: TestApp::spawn_instance(&target).await,
        http: client_with(&key), // the keys moved with the database
    };
    for _ in 0..30 {
        let (id, token) = after.create_task().await;
        // Read with the write's token: the read model has the task, never a stale 404.
        let read = after
            .get(&format!("/v1/tasks/{id}?consistent_with={token}"))
            .await;
        assert_eq!(
            read.status(),
            StatusCode::OK,
            "task {id} with token {token}"
        );
        written.push((id, token));
    }
    let moves: Vec<(String, i64)> =
        sqlx::query_as("SELECT reason, new_offset FROM feed_clock_moves")
            .fetch_all(&target_pool)
            .await
            .unwrap();
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert!(moves[0].0.contains("stored transaction ids"), "{moves:?}");
    // A token from before the move still reads; one of the lost write is refused clearly.
    let (first, first_token) = &written[0];
    let read = after
        .get(&format!("/v1/tasks/{first}?consistent_with={first_token}"))
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_problem(
        after
            .get(&format!("/v1/tasks/{first}?consistent_with={lost_token}"))
            .await,
        StatusCode::BAD_REQUEST,
        "unknown_token",
    )
    .await;

    wait_for_projections(&target_pool).await;
    let in_read_model: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&target_pool)
        .await
        .unwrap();
    assert_eq!(in_read_model, 60);
    // The feed has all 60, the restored ones first, in the order they were written.
    let expected: Vec<String> = written.iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(after.created_in_feed().await, expected);

    // A second start (or `operations migrate`) finds nothing more to follow.
    let again = operations::startup::migrate(&target_pool).await.unwrap();
    assert_eq!(again.moved, None);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM feed_clock_moves")
        .fetch_one(&target_pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    source_pool.close().await;
    target_pool.close().await;
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_cut_over_to_a_logical_replica_projects_every_new_write() {
    let old = Cluster::start(Some(2));
    let new = Cluster::start(None);
    let source = TestDatabase::create_on(old.admin()).await;
    let key = source.key("mover", Role::Admin, None).await;
    let before = Instance {
        base: TestApp::spawn_instance(&source).await,
        http: client_with(&key),
    };
    register_places(&before.http, &before.base).await;
    let mut written = Vec::new();
    for _ in 0..20 {
        written.push(before.create_task().await);
    }
    let source_pool = PgPool::connect_with(source.options.clone()).await.unwrap();

    // The replica: the schema copied, then every table published and subscribed.
    let schema = old.path("schema.dump");
    let schema = schema.to_str().unwrap();
    old.client(
        "pg_dump",
        &[
            "-Fc",
            "--schema-only",
            "-f",
            schema,
            "-d",
            &old.url(&source.name),
        ],
    );
    let target = TestDatabase::create_on(new.admin()).await;
    new.client(
        "pg_restore",
        &["--no-owner", "-d", &new.url(&target.name), schema],
    );
    sqlx::query("CREATE PUBLICATION operations FOR ALL TABLES")
        .execute(&source_pool)
        .await
        .unwrap();
    let target_pool = PgPool::connect_with(target.options.clone()).await.unwrap();
    sqlx::query(&format!(
        "CREATE SUBSCRIPTION operations CONNECTION 'host=127.0.0.1 port={} dbname={} user=postgres'
         PUBLICATION operations",
        old.port, source.name
    ))
    .execute(&target_pool)
    .await
    .unwrap();
    // Writes go on while the replica catches up.
    for _ in 0..10 {
        written.push(before.create_task().await);
    }
    wait_for_projections(&source_pool).await;
    let events = count(&source_pool, "SELECT count(*) FROM events").await;
    let checkpoints = count(
        &source_pool,
        "SELECT COALESCE(sum(position), 0)::bigint FROM projector_checkpoints",
    )
    .await;
    for _ in 0..600 {
        // Every table copied and streaming ('r'), and the last writes arrived.
        if count(
            &target_pool,
            "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'",
        )
        .await
            == 0
            && count(&target_pool, "SELECT count(*) FROM events").await == events
            && count(
                &target_pool,
                "SELECT COALESCE(sum(position), 0)::bigint FROM projector_checkpoints",
            )
            .await
                == checkpoints
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(&target_pool, "SELECT count(*) FROM events").await,
        events
    );
    // The cut-over: writers stop (here: no more writes to the source), the subscription goes.
    sqlx::query("ALTER SUBSCRIPTION operations DISABLE")
        .execute(&target_pool)
        .await
        .unwrap();
    sqlx::query("ALTER SUBSCRIPTION operations SET (slot_name = NONE)")
        .execute(&target_pool)
        .await
        .unwrap();
    sqlx::query("DROP SUBSCRIPTION operations")
        .execute(&target_pool)
        .await
        .unwrap();

    let after = Instance {
        base: TestApp::spawn_instance(&target).await,
        http: client_with(&key),
    };
    for _ in 0..20 {
        let (id, token) = after.create_task().await;
        let read = after
            .get(&format!("/v1/tasks/{id}?consistent_with={token}"))
            .await;
        assert_eq!(
            read.status(),
            StatusCode::OK,
            "task {id} with token {token}"
        );
        written.push((id, token));
    }
    // Logical replication carries no sequence: the service set the positions' past the copied.
    let advanced: Vec<String> = sqlx::query_scalar("SELECT reason FROM feed_clock_moves")
        .fetch_all(&target_pool)
        .await
        .unwrap();
    assert_eq!(advanced.len(), 1, "{advanced:?}");
    wait_for_projections(&target_pool).await;
    assert_eq!(count(&target_pool, "SELECT count(*) FROM tasks").await, 50);
    let expected: Vec<String> = written.iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(after.created_in_feed().await, expected);
    sqlx::query("DROP PUBLICATION operations")
        .execute(&source_pool)
        .await
        .unwrap();
    source_pool.close().await;
    target_pool.close().await;
}

#[tokio::test]
async fn a_new_system_identifier_is_a_move_even_when_the_ids_are_above() {
    // As after pg_upgrade, or a restore into a cluster already busier than the old one: the
    // ids still sort, but writes the old cluster made after the copy must not share new ids.
    let app = TestApp::spawn().await;
    app.create_task().await;
    sqlx::query("UPDATE feed_clock SET system_identifier = '1'")
        .execute(&app.pool)
        .await
        .unwrap();
    let stored = max_stored_xid(&app.pool).await;
    let followed = operations::startup::migrate(&app.pool).await.unwrap();
    let moved = followed.moved.expect("a move");
    assert!(moved.reason.contains("system identifier"), "{moved:?}");
    assert_eq!(moved.previous_system_identifier.as_deref(), Some("1"));
    app.create_task().await;
    assert!(max_stored_xid(&app.pool).await > stored + operations::store::moves::MOVE_GAP);
    // Followed once: the clock now names this cluster.
    assert_eq!(
        operations::startup::migrate(&app.pool).await.unwrap().moved,
        None
    );
}
