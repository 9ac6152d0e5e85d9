//! What the benchmarks share: a fresh database, and task events written in bulk.
#![allow(dead_code)]

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

pub mod pgbench;

/// A database of the benchmark's own, created from DATABASE_URL and dropped by `drop`.
pub struct BenchDatabase {
    admin: PgConnectOptions,
    name: String,
    pub pool: PgPool,
}

impl BenchDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let url = std::env::var("DATABASE_URL")
            .expect("DATABASE_URL must name a PostgreSQL server (./dev bench-* provide one)");
        let admin: PgConnectOptions = url.parse()?;
        let name = format!("ops_bench_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin).await?;
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(admin.clone().database(&name))
            .await?;
        operations::startup::migrate(&pool).await?;
        Ok(Self { admin, name, pool })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How to connect to this database.
    pub fn options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// An HTTP client that sends a new admin key, named `name`, on every request.
    pub async fn admin_client(&self, name: &str) -> anyhow::Result<reqwest::Client> {
        let role = operations::auth::Role::Admin;
        let key = operations::auth::keys::create(&self.pool, name, role, None, None).await?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {key}").parse()?,
        );
        Ok(reqwest::Client::builder()
            .default_headers(headers)
            .build()?)
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let mut conn = PgConnection::connect_with(&self.admin).await?;
        conn.execute(format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, self.name).as_str())
            .await?;
        Ok(())
    }

    /// Writes about `events` task events (8 per task, 8,000 per transaction); returns how many.
    pub async fn write_task_events(&self, events: i64) -> anyhow::Result<i64> {
        self.write(WRITE_TASKS, events).await
    }

    /// Writes about `events` pilot events (a day of 8 per pilot: registration, a shift with a
    /// break, an assignment requested, accepted and finished; 8,000 per transaction).
    pub async fn write_pilot_events(&self, events: i64) -> anyhow::Result<i64> {
        self.write(WRITE_PILOTS, events).await
    }

    /// Writes about `events` trip events (8 per trip: planned, a route, departure, an assistance
    /// request acknowledged and resolved, an arrival, completion; 8,000 per transaction).
    pub async fn write_trip_events(&self, events: i64) -> anyhow::Result<i64> {
        self.write(WRITE_TRIPS, events).await
    }

    /// Writes about `events` field-operations task events (8 per task: created with a travel
    /// and an action, assigned, started, each subtask started and done, completed).
    pub async fn write_fo_task_events(&self, events: i64) -> anyhow::Result<i64> {
        self.write(WRITE_FO_TASKS, events).await
    }

    async fn write(&self, statement: &str, events: i64) -> anyhow::Result<i64> {
        for _ in 0..(events / 8000).max(1) {
            sqlx::query(statement).execute(&self.pool).await?;
        }
        sqlx::query("VACUUM ANALYZE events")
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await?)
    }
}

/// 1,000 tasks' lives, 8 events each, interleaved by sequence as live traffic would be.
const WRITE_TASKS: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT 'Task', t.id::text, s.seq, s.event_type, '1.0', s.payload::json,
       '{"actor": "bench:replay", "command": "bench", "request_id": "r", "correlation_id": "c",
         "causation_id": "r"}'
  FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 1000)) t
 CROSS JOIN LATERAL (VALUES
   (1, 'TaskCreated', json_build_object('TaskCreated', json_build_object(
        'task_type', 'DELIVERY_TRIP', 'hub_id', t.id, 'robot_id', null,
        'scheduled_at', null, 'external_ref', 'order'))::text),
   (2, 'TaskRobotAssigned', json_build_object('TaskRobotAssigned', json_build_object(
        'robot_id', t.id, 'previous_robot_id', null))::text),
   (3, 'TaskMarkedPending', '{"TaskMarkedPending": {"from_status": "SCHEDULED"}}'),
   (4, 'TaskStarted', '{"TaskStarted": {"from_status": "PENDING"}}'),
   (5, 'TaskPaused', '{"TaskPaused": {"from_status": "IN_PROGRESS", "reason": "crossing"}}'),
   (6, 'TaskResumed', '{"TaskResumed": {"from_status": "PAUSED"}}'),
   (7, 'TaskArrived', '{"TaskArrived": {"from_status": "IN_PROGRESS"}}'),
   (8, 'TaskCompleted', '{"TaskCompleted": {"from_status": "ARRIVED"}}')
 ) AS s(seq, event_type, payload)
 ORDER BY s.seq, t.id
"#;

/// 1,000 pilots' days, 8 events each, interleaved by sequence as live traffic would be.
const WRITE_PILOTS: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT 'Pilot', p.id::text, s.seq, s.event_type, '1.0', s.payload::json,
       '{"actor": "bench:replay", "command": "bench", "request_id": "r", "correlation_id": "c",
         "causation_id": "r"}'
  FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS shift,
               gen_random_uuid() AS assignment, gen_random_uuid() AS task
          FROM generate_series(1, 1000)) p
 CROSS JOIN LATERAL (VALUES
   (1, 'PilotRegistered', json_build_object('PilotRegistered', json_build_object(
        'user_id', null, 'pilot_location', 'US', 'pilot_center_id', null))::text),
   (2, 'PilotShiftStarted', json_build_object('PilotShiftStarted', json_build_object(
        'shift_id', p.shift, 'started_at', '2026-11-29T08:00:00Z'))::text),
   (3, 'PilotShiftStateChanged', json_build_object('PilotShiftStateChanged', json_build_object(
        'shift_id', p.shift, 'from_state', 'ON_SHIFT', 'to_state', 'ON_BREAK'))::text),
   (4, 'PilotShiftStateChanged', json_build_object('PilotShiftStateChanged', json_build_object(
        'shift_id', p.shift, 'from_state', 'ON_BREAK', 'to_state', 'ON_SHIFT'))::text),
   (5, 'PilotAssignmentRequested', json_build_object('PilotAssignmentRequested',
        json_build_object('assignment_id', p.assignment, 'task_id', p.task,
                          'shift_id', p.shift, 'requested_at', '2026-11-29T09:00:00Z'))::text),
   (6, 'PilotAssignmentAccepted', json_build_object('PilotAssignmentAccepted', json_build_object(
        'assignment_id', p.assignment, 'task_id', p.task, 'from_status', 'REQUESTED'))::text),
   (7, 'PilotAssignmentFinished', json_build_object('PilotAssignmentFinished', json_build_object(
        'assignment_id', p.assignment, 'task_id', p.task, 'from_status', 'ACCEPTED'))::text),
   (8, 'PilotShiftEnded', json_build_object('PilotShiftEnded', json_build_object(
        'shift_id', p.shift, 'from_state', 'ON_SHIFT', 'ended_at', '2026-11-29T16:00:00Z'))::text)
 ) AS s(seq, event_type, payload)
 ORDER BY s.seq, p.id
"#;

/// 1,000 trips, 8 events each, interleaved by sequence as live traffic would be.
const WRITE_TRIPS: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT 'Trip', t.id::text, s.seq, s.event_type, '1.0', s.payload::json,
       '{"actor": "bench:replay", "command": "bench", "request_id": "r", "correlation_id": "c",
         "causation_id": "r"}'
  FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS request
          FROM generate_series(1, 1000)) t
 CROSS JOIN LATERAL (VALUES
   (1, 'TripPlanned', json_build_object('TripPlanned', json_build_object(
        'task_id', t.id, 'robot_id', t.id, 'trip_type', 'DELIVERY',
        'origin', json_build_object('lat', 37.77, 'lng', -122.41, 'name', 'Hub',
                                    'location_id', null),
        'destination', json_build_object('lat', 37.78, 'lng', -122.40, 'name', null,
                                         'location_id', null)))::text),
   (2, 'TripRouteRecorded', json_build_object('TripRouteRecorded', json_build_object(
        'route_id', t.request, 'distance_m', 1200.5, 'duration_s', 600,
        'polyline', 'abc'))::text),
   (3, 'TripReadyToDepart', '{"TripReadyToDepart": {"from_status": "AT_STOP"}}'),
   (4, 'TripDeparted', '{"TripDeparted": {"from_status": "READY_TO_DEPART"}}'),
   (5, 'FoAssistanceRequested', json_build_object('FoAssistanceRequested', json_build_object(
        'request_id', t.request, 'kind', 'STUCK', 'note', null))::text),
   (6, 'FoAssistanceAcknowledged', json_build_object('FoAssistanceAcknowledged',
        json_build_object('request_id', t.request, 'fo_id', null))::text),
   (7, 'FoAssistanceResolved', json_build_object('FoAssistanceResolved', json_build_object(
        'request_id', t.request, 'outcome', 'RESOLVED', 'note', null,
        'from_status', 'ACKNOWLEDGED'))::text),
   (8, 'TripArrivedAtStop', json_build_object('TripArrivedAtStop', json_build_object(
        'from_status', 'IN_TRANSIT', 'location', json_build_object('lat', 37.78,
        'lng', -122.40, 'name', 'Customer', 'location_id', null)))::text)
 ) AS s(seq, event_type, payload)
 ORDER BY s.seq, t.id
"#;

/// 1,000 field-operations tasks, 8 events each, interleaved by sequence as live traffic would be.
const WRITE_FO_TASKS: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT 'FoTask', t.id::text, s.seq, s.event_type, '1.0', s.payload::json,
       '{"actor": "bench:replay", "command": "bench", "request_id": "r", "correlation_id": "c",
         "causation_id": "r"}'
  FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS travel, gen_random_uuid() AS act
          FROM generate_series(1, 1000)) t
 CROSS JOIN LATERAL (VALUES
   (1, 'FoTaskCreated', json_build_object('FoTaskCreated', json_build_object(
        'hub_id', t.id, 'kind', 'ROBOT_RESCUE', 'robot_id', t.id, 'trip_id', null,
        'subtasks', json_build_array(
            json_build_object('subtask_id', t.travel, 'kind', 'TRAVEL',
                'from', json_build_object('lat', 37.77, 'lng', -122.41, 'name', 'Hub',
                                          'location_id', null),
                'to', json_build_object('lat', 37.78, 'lng', -122.40, 'name', null,
                                        'location_id', null)),
            json_build_object('subtask_id', t.act, 'kind', 'ACTION', 'action', 'RESET_ROBOT',
                'location', json_build_object('lat', 37.78, 'lng', -122.40, 'name', null,
                                              'location_id', null)))))::text),
   (2, 'FoAssigned', json_build_object('FoAssigned', json_build_object(
        'assignment_id', t.travel, 'fo_id', t.act, 'from_status', 'CREATED',
        'to_status', 'ASSIGNED'))::text),
   (3, 'FoTaskStarted', '{"FoTaskStarted": {"from_status": "ASSIGNED"}}'),
   (4, 'FoSubtaskStarted', json_build_object('FoSubtaskStarted', json_build_object(
        'subtask_id', t.travel, 'from_status', 'PENDING'))::text),
   (5, 'FoSubtaskCompleted', json_build_object('FoSubtaskCompleted', json_build_object(
        'subtask_id', t.travel, 'from_status', 'IN_PROGRESS'))::text),
   (6, 'FoSubtaskStarted', json_build_object('FoSubtaskStarted', json_build_object(
        'subtask_id', t.act, 'from_status', 'PENDING'))::text),
   (7, 'FoSubtaskCompleted', json_build_object('FoSubtaskCompleted', json_build_object(
        'subtask_id', t.act, 'from_status', 'IN_PROGRESS'))::text),
   (8, 'FoTaskCompleted', '{"FoTaskCompleted": {"from_status": "IN_PROGRESS"}}')
 ) AS s(seq, event_type, payload)
 ORDER BY s.seq, t.id
"#;

/// Sends a setting-up command to the service at `base`, which must succeed.
pub async fn setup(
    http: &reqwest::Client,
    base: &str,
    collection: &str,
    id: Uuid,
    body: serde_json::Value,
) -> anyhow::Result<()> {
    let response = (http.post(format!("{base}/v1/{collection}/{id}/commands")))
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "{body}: {status}: {text}");
    Ok(())
}

/// Registers a city and a hub in it, which tasks and field tasks name; returns the hub.
pub async fn register_hub(http: &reqwest::Client, base: &str) -> anyhow::Result<Uuid> {
    let (city, hub) = (Uuid::new_v4(), Uuid::new_v4());
    let register = serde_json::json!({"type": "RegisterCity", "name": "Bench City",
                                      "country_code": "US", "timezone": "America/Los_Angeles"});
    setup(http, base, "cities", city, register).await?;
    let register = serde_json::json!({"type": "RegisterHub", "name": "Bench Hub", "city_id": city,
                                      "location": {"lat": 37.77, "lng": -122.42}});
    setup(http, base, "hubs", hub, register).await?;
    Ok(hub)
}

/// Registers a robot at `hub`, deployed there if `deploy` (a trip departs only with its robot
/// deployed); returns the robot.
pub async fn register_robot(
    http: &reqwest::Client,
    base: &str,
    hub: Uuid,
    deploy: bool,
) -> anyhow::Result<Uuid> {
    let robot = Uuid::new_v4();
    let register = serde_json::json!({"type": "RegisterRobot", "hub_id": hub,
                                      "serial_number": format!("BENCH-{}", robot.simple())});
    setup(http, base, "robots", robot, register).await?;
    if deploy {
        let deploy = serde_json::json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": hub});
        setup(http, base, "robots", robot, deploy).await?;
    }
    Ok(robot)
}
