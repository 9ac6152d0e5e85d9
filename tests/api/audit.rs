//! Tamper evidence, tried as someone who can write to the database would: each kind of
//! rewrite through SQL, and what `operations verify` (alone, and with a digest) and
//! `GET /v1/{collection}/{id}/verify` make of it.

use std::path::PathBuf;

use operations::auth::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::feed::run_cli;
use crate::helpers::{client_with, TestApp};

/// A service with a few streams: the fixtures' city, hub, location and robot (five events), a
/// task with five events (the one tampered with), another task, and a pilot.
async fn recorded() -> (TestApp, Uuid) {
    let app = TestApp::spawn().await;
    let task = app.create_task().await;
    for body in [
        json!({"type": "MarkTaskPending"}),
        json!({"type": "StartTask"}),
        json!({"type": "PauseTask", "reason": "crossing closed"}),
        json!({"type": "ResumeTask"}),
    ] {
        app.ok("tasks", task, body).await;
    }
    app.create_task().await;
    app.new_pilot().await;
    (app, task)
}

/// Runs SQL as someone with write access would, stepping around the append-only trigger.
async fn tamper(app: &TestApp, sql: &str) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// `operations verify ARGS`: (succeeded, standard output).
async fn verify(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    let output = run_cli(app, &all).await;
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn where_task(task: Uuid, sequence: i64) -> String {
    format!("aggregate_type = 'Task' AND aggregate_id = '{task}' AND sequence = {sequence}")
}

#[tokio::test]
async fn an_untouched_record_verifies_clean_by_cli_and_http() {
    let (app, task) = recorded().await;
    let (intact, out) = verify(&app, &[]).await;
    assert!(intact, "{out}");
    assert_eq!(out.trim(), "intact: 8 streams, 13 events");
    // An auditor's read-only database role is enough.
    let role = format!("ops_auditor_{}", Uuid::new_v4().simple());
    sqlx::raw_sql(&format!(
        "CREATE ROLE {role} LOGIN; GRANT SELECT ON events TO {role};"
    ))
    .execute(&app.pool)
    .await
    .unwrap();
    let read_only = std::process::Command::new(env!("CARGO_BIN_EXE_operations"))
        .arg("verify")
        .env(
            "DATABASE_URL",
            sqlx::ConnectOptions::to_url_lossy(&app.db.options.clone().username(&role)).to_string(),
        )
        .output()
        .unwrap();
    sqlx::raw_sql(&format!(
        "REVOKE ALL ON events FROM {role}; DROP ROLE {role};"
    ))
    .execute(&app.pool)
    .await
    .unwrap();
    assert!(read_only.status.success(), "{read_only:?}");
    let auditor = client_with(&app.db.key("auditor", Role::Auditor, None).await);
    let answer: Value = auditor
        .get(app.url(&format!("/v1/tasks/{task}/verify")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "intact", "{answer}");
    assert_eq!(answer["events"], 5);
    assert_eq!(answer["head"]["sequence"], 5);
    // Every event in the API carries its hash; the head's is the one /verify names.
    let events: Value = auditor
        .get(app.url(&format!("/v1/tasks/{task}/events")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hashes: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 5);
    assert!(hashes.iter().all(|h| h.len() == 64));
    assert_eq!(answer["head"]["hash"], hashes[4]);
    let unknown = auditor
        .get(app.url(&format!("/v1/tasks/{}/verify", Uuid::new_v4())))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn verify_alone_catches_an_altered_payload_a_changed_actor_a_deleted_or_a_moved_event() {
    let cases = [
        (
            "payload",
            "UPDATE events SET payload = '{\"TaskPaused\":{\"from_status\":\"IN_PROGRESS\",\"reason\":\"nothing happened\"}}' WHERE ",
            4,
            4,
            "altered",
        ),
        (
            "actor",
            "UPDATE events SET metadata = jsonb_set(metadata::jsonb, '{actor}', '\"key:someone-else\"')::json WHERE ",
            2,
            2,
            "altered",
        ),
        ("deleted", "DELETE FROM events WHERE ", 3, 4, "removed"),
    ];
    for (what, sql, sequence, reported, kind) in cases {
        let (app, task) = recorded().await;
        tamper(&app, &format!("{sql}{}", where_task(task, sequence))).await;
        let (intact, out) = verify(&app, &[]).await;
        assert!(!intact, "{what}: {out}");
        let expected = format!("BROKEN Task {task} at sequence {reported}: {kind}");
        assert!(out.contains(&expected), "{what}: {out}");
        assert_eq!(out.lines().count(), 1, "only the tampered stream: {out}");
        let answer: Value = app
            .get(&format!("/v1/tasks/{task}/verify"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "broken", "{what}: {answer}");
        assert_eq!(answer["broken"]["sequence"], reported);
        assert_eq!(answer["broken"]["kind"], kind);
        // Scoped to that stream, the CLI says the same.
        let (intact, out) =
            verify(&app, &["--collection", "tasks", "--id", &task.to_string()]).await;
        assert!(!intact && out.contains(&expected), "{what}: {out}");
    }
    // Two events swapping places.
    let (app, task) = recorded().await;
    tamper(
        &app,
        &format!(
            "UPDATE events SET sequence = 999 WHERE {};
             UPDATE events SET sequence = 2 WHERE {};
             UPDATE events SET sequence = 3 WHERE {}",
            where_task(task, 2),
            where_task(task, 3),
            where_task(task, 999)
        ),
    )
    .await;
    let (intact, out) = verify(&app, &[]).await;
    assert!(!intact);
    assert!(
        out.contains(&format!("BROKEN Task {task} at sequence 2: altered")),
        "{out}"
    );
    // An event put before a stream's first.
    let (app, task) = recorded().await;
    tamper(
        &app,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                 payload, metadata)
             SELECT aggregate_type, aggregate_id, 0, event_type, event_version, payload, metadata
               FROM events WHERE {}",
            where_task(task, 1)
        ),
    )
    .await;
    let (intact, out) = verify(&app, &[]).await;
    assert!(!intact);
    assert!(
        out.contains(&format!("BROKEN Task {task} at sequence 0: inserted")),
        "{out}"
    );
    let refused = app.get(&format!("/v1/tasks/{task}/verify?foo=1")).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

struct Signer {
    dir: PathBuf,
}

impl Signer {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("ops-digest-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().to_string()
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_digest_catches_a_stream_deleted_whole_or_rewritten_with_recomputed_hashes() {
    let signer = Signer::new();
    let (key, digest) = (signer.path("signing.key"), signer.path("digest.ndjson"));
    let (app, task) = recorded().await;
    let made = run_cli(&app, &["digest", "--new-key", &key]).await;
    assert!(made.status.success(), "{made:?}");
    let public = String::from_utf8(made.stdout).unwrap().trim().to_string();
    let signed = run_cli(&app, &["digest", "--key", &key, "--out", &digest]).await;
    assert!(signed.status.success(), "{signed:?}");
    let with_digest = ["--digest", digest.as_str(), "--public-key", public.as_str()];
    let (intact, out) = verify(&app, &with_digest).await;
    assert!(intact, "{out}");
    // A stream that grew since the digest is fine.
    app.ok("tasks", task, json!({"type": "MarkTaskArrived"}))
        .await;
    assert!(verify(&app, &with_digest).await.0);

    // Rewritten from sequence 2 on, every hash recomputed: the chain holds, the digest not.
    tamper(
        &app,
        &format!(
            "UPDATE events SET metadata = jsonb_set(metadata::jsonb, '{{actor}}', '\"key:someone-else\"')::json
              WHERE {};
             DO $$ DECLARE e record; previous bytea; BEGIN
               FOR e IN SELECT * FROM events WHERE aggregate_type = 'Task' AND aggregate_id = '{task}'
                         ORDER BY sequence LOOP
                 UPDATE events SET hash = events_chain_hash(previous, e.aggregate_type, e.aggregate_id,
                        e.sequence, e.event_type, e.event_version, e.payload::text, e.metadata::text,
                        e.recorded_at)
                  WHERE aggregate_type = e.aggregate_type AND aggregate_id = e.aggregate_id
                    AND sequence = e.sequence
                 RETURNING hash INTO previous;
               END LOOP; END $$",
            where_task(task, 2)
        ),
    )
    .await;
    let (intact, out) = verify(&app, &[]).await;
    assert!(intact, "alone, a careful rewrite passes: {out}");
    let (intact, out) = verify(&app, &with_digest).await;
    assert!(!intact);
    assert!(
        out.contains(&format!("BROKEN Task {task} at sequence 5: rewritten")),
        "{out}"
    );

    // A whole stream deleted: nothing is left to check, but the digest remembers it.
    let other: String = sqlx::query_scalar(
        "SELECT aggregate_id FROM events WHERE aggregate_type = 'Pilot' LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    tamper(
        &app,
        &format!("DELETE FROM events WHERE aggregate_id = '{other}'"),
    )
    .await;
    let (_, out) = verify(&app, &with_digest).await;
    assert!(
        out.contains(&format!("BROKEN Pilot {other} at sequence 1: deleted")),
        "{out}"
    );
    // Scoped to that one stream, too; and a stream with no events, without a digest, is not
    // "intact".
    let mut scoped = vec!["--collection", "pilots", "--id", other.as_str()];
    scoped.extend_from_slice(&with_digest);
    let (intact, out) = verify(&app, &scoped).await;
    assert!(!intact && out.contains("deleted"), "{out}");
    let (intact, _) = verify(&app, &["--collection", "pilots", "--id", other.as_str()]).await;
    assert!(!intact);

    // The digest itself cannot be edited, nor passed off with another key.
    let text = std::fs::read_to_string(&digest).unwrap();
    std::fs::write(
        &digest,
        text.replacen("\"sequence\":1", "\"sequence\":9", 1),
    )
    .unwrap();
    let (intact, _) = verify(&app, &with_digest).await;
    assert!(!intact);
    std::fs::write(&digest, &text).unwrap();
    let (intact, _) = verify(&app, &["--digest", &digest, "--public-key", "AAAA"]).await;
    assert!(!intact);
}

#[tokio::test]
async fn the_migration_chains_the_events_stored_before_it() {
    use sqlx::migrate::Migrator;
    let db = crate::helpers::TestDatabase::create().await;
    let pool = sqlx::PgPool::connect_with(db.options.clone())
        .await
        .unwrap();
    let chain = 20261201000013;
    let before = Migrator {
        migrations: std::borrow::Cow::Owned(
            operations::startup::MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version < chain)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    before.run(&pool).await.unwrap();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    for (task, sequence, event) in [
        (
            first,
            1,
            json!({"TaskCreated": {"task_type": "NONE", "hub_id": first}}),
        ),
        (
            first,
            2,
            json!({"TaskMarkedPending": {"from_status": "SCHEDULED"}}),
        ),
        (first, 3, json!({"TaskStarted": {"from_status": "PENDING"}})),
        (
            second,
            1,
            json!({"TaskCreated": {"task_type": "NONE", "hub_id": second}}),
        ),
    ] {
        let event_type = event.as_object().unwrap().keys().next().unwrap().clone();
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                 payload, metadata)
             VALUES ('Task', $1, $2, $3, '1.0', $4, '{\"actor\": \"dispatcher:old\"}')",
        )
        .bind(task.to_string())
        .bind(sequence)
        .bind(event_type)
        .bind(event)
        .execute(&pool)
        .await
        .unwrap();
    }
    operations::startup::migrate(&pool).await.unwrap();
    let unchained: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE hash IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unchained, 0);
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_operations"))
            .args(args)
            .env(
                "DATABASE_URL",
                sqlx::ConnectOptions::to_url_lossy(&db.options).to_string(),
            )
            .output()
            .unwrap()
    };
    let verified = cli(&["verify"]);
    assert!(verified.status.success(), "{verified:?}");
    assert_eq!(
        String::from_utf8(verified.stdout).unwrap().trim(),
        "intact: 2 streams, 4 events"
    );
    // The chain links a new event to the migrated ones.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Task', $1, 4, 'TaskPaused', '1.0',
                 '{\"TaskPaused\": {\"from_status\": \"IN_PROGRESS\", \"reason\": null}}', '{}')",
    )
    .bind(first.to_string())
    .execute(&pool)
    .await
    .unwrap();
    assert!(cli(&["verify"]).status.success());
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_append_only")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE events SET metadata = '{\"actor\": \"dispatcher:new\"}' WHERE sequence = 2",
    )
    .execute(&pool)
    .await
    .unwrap();
    let broken = cli(&["verify"]);
    assert!(!broken.status.success());
    let out = String::from_utf8(broken.stdout).unwrap();
    assert!(
        out.contains(&format!("BROKEN Task {first} at sequence 2: altered")),
        "{out}"
    );
}
