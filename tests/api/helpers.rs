use std::sync::Once;
use std::time::Duration;

use operations::auth::Role;
use operations::settings::{
    AuthSettings, DatabaseSettings, LimitSettings, LogFormat, ProjectionSettings, ServeSettings,
};
use operations::startup::Application;
use operations::telemetry;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

static TRACING: Once = Once::new();

/// A database of this test's own, dropped when the test ends.
pub struct TestDatabase {
    admin: PgConnectOptions,
    pub name: String,
    pub options: PgConnectOptions,
}

impl TestDatabase {
    /// An empty database of this test's own on `DATABASE_URL`'s server.
    pub async fn create() -> Self {
        let url = std::env::var("DATABASE_URL")
            .expect("DATABASE_URL must name a PostgreSQL server: run the tests with ./dev test");
        Self::create_on(url.parse().expect("DATABASE_URL is not a valid URL")).await
    }

    /// An empty database of this test's own on the server `admin` connects to.
    pub async fn create_on(admin: PgConnectOptions) -> Self {
        let name = format!("ops_test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("cannot connect to DATABASE_URL");
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("cannot create the test database");
        let options = admin.clone().database(&name);
        Self {
            admin,
            name,
            options,
        }
    }

    /// Issues an API key on this database (migrating it first); returns its credential.
    pub async fn key(&self, name: &str, role: Role, collections: Option<&[&str]>) -> String {
        let pool = PgPool::connect_with(self.options.clone())
            .await
            .expect("cannot connect to the test database");
        operations::startup::migrate(&pool)
            .await
            .expect("the migrations apply");
        let collections = collections.map(|c| c.iter().map(|s| s.to_string()).collect());
        let secret = operations::auth::keys::create(&pool, name, role, collections, None)
            .await
            .expect("the key is issued");
        pool.close().await;
        secret
    }
}

/// An HTTP client that sends `credential` as its bearer token on every request.
pub fn client_with(credential: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {credential}"))
        .expect("a credential fits in a header");
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                    let _ = conn.execute(sql.as_str()).await;
                }
            });
        });
        let _ = dropped.join();
    }
}

pub struct TestApp {
    pub address: String,
    /// Set once the fixtures' places are registered (`places`).
    places: tokio::sync::OnceCell<()>,
    /// Set for an application built without a socket (`in_process`): requests go to its
    /// router directly.
    router: Option<operations::startup::InProcess>,
    pub pool: PgPool,
    /// Sends the admin key below on every request.
    pub client: reqwest::Client,
    /// An admin key (`key:test-admin`).
    pub admin_key: String,
    pub db: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns the service with settings adjusted by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut ServeSettings)) -> Self {
        Self::spawn_on_with(TestDatabase::create().await, adjust).await
    }

    /// Spawns the service on a database a test prepared.
    pub async fn spawn_on(db: TestDatabase) -> Self {
        Self::spawn_on_with(db, |_| {}).await
    }

    async fn spawn_on_with(db: TestDatabase, adjust: impl FnOnce(&mut ServeSettings)) -> Self {
        let mut settings = Self::settings(&db);
        adjust(&mut settings);
        let address = Self::spawn_instance_with(settings).await;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(db.options.clone())
            .await
            .expect("cannot connect to the test database");
        let admin_key = db.key("test-admin", Role::Admin, None).await;
        Self {
            address,
            places: Default::default(),
            router: None,
            pool,
            client: client_with(&admin_key),
            admin_key,
            db,
        }
    }

    /// The service's router alone, without a socket and without projectors, processes or
    /// deadlines: for the tests of the HTTP shapes (errors, the document), which need none.
    /// Requests sent with `send` go straight to the router.
    pub async fn in_process() -> Self {
        let db = TestDatabase::create().await;
        let mut settings = Self::settings(&db);
        settings.projections.disabled = true;
        let router = Application::in_process(settings)
            .await
            .expect("the service is assembled");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(db.options.clone())
            .await
            .expect("cannot connect to the test database");
        let admin_key = db.key("test-admin", Role::Admin, None).await;
        Self {
            address: "http://in-process".into(),
            places: Default::default(),
            router: Some(router),
            pool,
            client: client_with(&admin_key),
            admin_key,
            db,
        }
    }

    /// Sends a request built with this app's client (or any): over the socket, or to the
    /// router in process.
    pub async fn send(&self, request: RequestBuilder) -> Response {
        let Some(in_process) = &self.router else {
            return request.send().await.expect("the request is sent");
        };
        use tower::ServiceExt;
        let request: axum::http::Request<reqwest::Body> = request
            .build()
            .expect("a well-formed request")
            .try_into()
            .expect("an HTTP request");
        let (parts, body) = request.into_parts();
        let mut request = axum::http::Request::from_parts(parts, axum::body::Body::new(body));
        let peer: std::net::SocketAddr = "127.0.0.1:9".parse().expect("an address");
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let response = in_process
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("the body is read");
        Response::from(axum::http::Response::from_parts(parts, bytes))
    }

    /// The settings of a service instance on this database, on a free port.
    pub fn settings(db: &TestDatabase) -> ServeSettings {
        ServeSettings {
            addr: "127.0.0.1:0".parse().expect("a socket address"),
            idempotency_ttl: Duration::from_secs(86_400),
            quote_ttl: Duration::from_secs(60),
            consistency_timeout: Duration::from_secs(10),
            long_transaction: Duration::from_secs(30),
            no_reference_checks: false,
            database: DatabaseSettings {
                url: db.options.clone(),
                max_connections: 10,
                timeouts: Default::default(),
            },
            projections: ProjectionSettings {
                poll_interval: Duration::from_millis(100),
                ..ProjectionSettings::default()
            },
            auth: AuthSettings::default(),
            // The tests send many refused requests from one address, in bursts: the rate
            // limits have tests of their own.
            limits: LimitSettings {
                rate_limit: 0,
                rate_limit_unauthenticated: 0,
                ..LimitSettings::default()
            },
        }
    }

    /// Starts one more service instance on this test's database; returns its base URL.
    pub async fn spawn_instance(db: &TestDatabase) -> String {
        Self::spawn_instance_with(Self::settings(db)).await
    }

    pub async fn spawn_instance_with(settings: ServeSettings) -> String {
        TRACING.call_once(|| {
            if std::env::var("TEST_LOG").is_ok() {
                telemetry::init_subscriber(telemetry::get_subscriber(
                    "debug",
                    LogFormat::Text,
                    std::io::stdout,
                ));
            }
        });
        let app = Application::build(settings)
            .await
            .expect("the service starts");
        let address = format!("http://{}", app.local_addr().expect("a bound address"));
        tokio::spawn(app.run_until_stopped());
        address
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request to `path` with the admin key (sent explicitly, so that it reaches the router
    /// in process too: a client's default headers are added only when it sends).
    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        (self.client.request(method, self.url(path))).bearer_auth(&self.admin_key)
    }

    /// A command request for a person (`X-Actor`), ready for more headers.
    pub fn post_command(&self, collection: &str, id: Uuid) -> RequestBuilder {
        self.request(
            reqwest::Method::POST,
            &format!("/v1/{collection}/{id}/commands"),
        )
        .header("X-Actor", "test:runner")
    }

    pub async fn command(&self, collection: &str, id: Uuid, body: Value) -> Response {
        self.send(self.post_command(collection, id).json(&body))
            .await
    }

    /// Sends a command that must succeed; returns its answer.
    pub async fn ok(&self, collection: &str, id: Uuid, body: Value) -> Value {
        let response = self.command(collection, id, body.clone()).await;
        let status = response.status();
        let answer: Value = response.json().await.expect("a JSON answer");
        assert!(
            status.is_success(),
            "{body} was refused with {status}: {answer}"
        );
        answer
    }

    /// Sends commands to one stream that must all succeed, in order; returns the last answer.
    pub async fn run(&self, collection: &str, id: Uuid, bodies: &[Value]) -> Value {
        let mut answer = Value::Null;
        for body in bodies {
            answer = self.ok(collection, id, body.clone()).await;
        }
        answer
    }

    /// Sends a command that must be refused with `status` and `code`, storing nothing;
    /// returns the problem.
    pub async fn refused(
        &self,
        collection: &str,
        id: Uuid,
        body: Value,
        status: StatusCode,
        code: &str,
    ) -> Value {
        let before = self.event_count().await;
        let response = self.command(collection, id, body.clone()).await;
        let problem = assert_problem(response, status, code).await;
        assert_eq!(self.event_count().await, before, "{body} stored events");
        problem
    }

    /// Sends each bad body (to its stream), which must be refused `400 invalid_field` naming
    /// the field, its detail saying what, storing nothing.
    pub async fn refuses_fields<const N: usize>(
        &self,
        collection: &str,
        cases: [(Uuid, Value, Value, &str); N],
    ) {
        for (id, body, field, says) in cases {
            let (status, code) = (StatusCode::BAD_REQUEST, "invalid_field");
            let problem = self
                .refused(collection, id, body.clone(), status, code)
                .await;
            assert_eq!(problem["field"], field, "{body}: {problem}");
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(says), "{body}: {problem}");
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// Registers a city; returns its id.
    pub async fn city(&self) -> Uuid {
        let id = Uuid::new_v4();
        let body = serde_json::json!({"type": "RegisterCity", "name": "San Francisco",
                                      "country_code": "US", "timezone": "America/Los_Angeles"});
        self.ok("cities", id, body).await;
        id
    }

    /// Registers a hub (in a new city); returns its id. Commands that name a hub need one.
    pub async fn hub(&self) -> Uuid {
        let (id, city) = (Uuid::new_v4(), self.city().await);
        let body = serde_json::json!({"type": "RegisterHub", "name": "Mission", "city_id": city,
                                      "location": {"lat": 37.76, "lng": -122.41}});
        self.ok("hubs", id, body).await;
        id
    }

    /// Registers the places and the robot the fixtures name (`HUB`, `ROBOT`, `LOCATION`),
    /// once: a command naming them needs them registered, since references are checked.
    pub async fn places(&self) {
        self.places
            .get_or_init(|| async {
                for (collection, id, body) in places_commands() {
                    self.ok(collection, id, body).await;
                }
            })
            .await;
    }

    /// Registers a robot and deploys it at `HUB`; returns its id. A trip departs only with
    /// its robot deployed, and a robot is on one trip at a time.
    pub async fn deployed_robot(&self) -> Uuid {
        self.places().await;
        let id = Uuid::new_v4();
        for body in robot_commands(id) {
            self.ok("robots", id, body).await;
        }
        id
    }

    /// Registers an operator with `role` (PILOT, FIELD...) on `id`.
    pub async fn operator(&self, id: Uuid, role: &str) -> Value {
        self.ok("operators", id, operator_body(role)).await
    }

    /// A new operator with role FIELD (a field task's `fo_id`); returns its id.
    pub async fn field_operator(&self) -> Uuid {
        let id = Uuid::new_v4();
        self.operator(id, "FIELD").await;
        id
    }

    /// A new operator with role PILOT, not yet a pilot; returns its id.
    pub async fn pilot_operator(&self) -> Uuid {
        let id = Uuid::new_v4();
        self.operator(id, "PILOT").await;
        id
    }

    /// Registers the pilot `id` with `body` (a `RegisterPilot`), after its operator: a pilot
    /// is an operator with role PILOT. Answers the pilot's command.
    pub async fn pilot(&self, id: Uuid, body: Value) -> Value {
        self.operator(id, "PILOT").await;
        self.ok("pilots", id, body).await
    }

    /// A new pilot (`RegisterPilot` with nothing else), with its operator; returns its id.
    pub async fn new_pilot(&self) -> Uuid {
        let id = Uuid::new_v4();
        self.pilot(id, json!({"type": "RegisterPilot"})).await;
        id
    }

    /// Creates a task with a robot; returns its id.
    pub async fn create_task(&self) -> Uuid {
        self.places().await;
        let id = Uuid::new_v4();
        self.ok("tasks", id, create_task_body()).await;
        id
    }

    /// GETs a path (with a query or without) once the read models include `token` (a
    /// command answer's `token`).
    pub async fn get_consistent(&self, path: &str, answer: &Value) -> Response {
        let token = answer["token"]
            .as_str()
            .expect("a command answer with a token");
        let joint = if path.contains('?') { '&' } else { '?' };
        self.get(&format!("{path}{joint}consistent_with={token}"))
            .await
    }

    /// The JSON of a GET that must answer 200 once the read models include `answer`.
    pub async fn read_consistent(&self, path: &str, answer: &Value) -> Value {
        let response = self.get_consistent(path, answer).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("a JSON answer")
    }

    /// Waits until every projector has applied every committed event.
    pub async fn wait_for_projections(&self) {
        wait_for_projections(&self.pool).await
    }

    /// The event types of the feed filtered to `aggregate_type`, once it shows at least
    /// `count` of them (the feed shows an event once every older transaction has ended, and
    /// another test's transaction on the shared cluster may hold that back for a moment).
    pub async fn feed_types(&self, aggregate_type: &str, count: usize) -> Vec<String> {
        let mut types = Vec::new();
        for _ in 0..100 {
            let feed: Value = (self.get(&format!("/v1/events?aggregate_type={aggregate_type}")))
                .await
                .json()
                .await
                .expect("a feed page");
            types = (feed["items"].as_array().expect("items").iter())
                .map(|e| e["event_type"].as_str().expect("a type").to_string())
                .collect();
            if types.len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        types
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .expect("events can be counted")
    }

    pub async fn event_types(&self, id: Uuid) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .expect("events can be read")
    }
}

/// The city, hub, location and robot the fixtures name, registered by `TestApp::places` or
/// `register_places`.
pub const CITY: Uuid = Uuid::from_u128(0x6f1c2a52_5b1e_4d7e_9a55_1c0c3e1f0a00);
pub const HUB: Uuid = Uuid::from_u128(0x6f1c2a52_5b1e_4d7e_9a55_1c0c3e1f0a10);
/// The hub's own location, a trip's usual origin.
pub const LOCATION: Uuid = Uuid::from_u128(0x6f1c2a52_5b1e_4d7e_9a55_1c0c3e1f0a01);
/// Deployed at `HUB`.
pub const ROBOT: Uuid = Uuid::from_u128(0x6f1c2a52_5b1e_4d7e_9a55_1c0c3e1f0a20);

/// The events `TestApp::places` records, in order.
pub const PLACES_EVENTS: [&str; 5] = [
    "CityRegistered",
    "HubRegistered",
    "LocationRegistered",
    "RobotRegistered",
    "RobotDeployed",
];

/// The commands that register the fixtures' places and deploy `ROBOT`.
fn places_commands() -> Vec<(&'static str, Uuid, Value)> {
    let mut commands = vec![
        (
            "cities",
            CITY,
            json!({"type": "RegisterCity", "name": "San Francisco", "country_code": "US",
                   "timezone": "America/Los_Angeles"}),
        ),
        (
            "hubs",
            HUB,
            json!({"type": "RegisterHub", "name": "Hub SF", "city_id": CITY,
                   "location": {"lat": 37.7749, "lng": -122.4194}}),
        ),
        (
            "locations",
            LOCATION,
            json!({"type": "RegisterLocation", "name": "Hub SF", "lat": 37.7749,
                   "lng": -122.4194, "kind": "HUB", "hub_id": HUB}),
        ),
    ];
    commands.extend(robot_commands(ROBOT).map(|body| ("robots", ROBOT, body)));
    commands
}

/// Registers robot `id` (its serial number made of its id) and deploys it at `HUB`.
fn robot_commands(id: Uuid) -> [Value; 2] {
    [
        json!({"type": "RegisterRobot", "serial_number": format!("SN-{}", id.simple()),
               "hub_id": HUB, "model": "Gen 3"}),
        json!({"type": "DeployRobot", "deployment_id": Uuid::new_v4(), "hub_id": HUB}),
    ]
}

/// Registers the fixtures' places through the service at `base` with `client` (which carries
/// a credential), for tests that run instances of their own.
pub async fn register_places(client: &reqwest::Client, base: &str) {
    for (collection, id, body) in places_commands() {
        let response = client
            .post(format!("{base}/v1/{collection}/{id}/commands"))
            .header("X-Actor", "test:runner")
            .json(&body)
            .send()
            .await
            .expect("the request is sent");
        assert!(
            response.status().is_success(),
            "{body}: {}",
            response.status()
        );
    }
}

/// `RegisterOperator` with `role`.
pub fn operator_body(role: &str) -> Value {
    json!({"type": "RegisterOperator", "role": role})
}

/// A task at `HUB` with `ROBOT` (registered by `TestApp::places`).
pub fn create_task_body() -> Value {
    json!({
        "type": "CreateTask",
        "task_type": "DELIVERY_TRIP",
        "hub_id": HUB,
        "robot_id": ROBOT,
    })
}

/// Asserts a problem answer: its status, its `code`, and that it is problem+json.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.expect("a problem document");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status.as_u16());
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    problem
}

/// Waits (up to 30 s) until every projector has applied every committed event.
pub async fn wait_for_projections(pool: &PgPool) {
    wait_for_projections_within(pool, Duration::from_secs(30)).await
}

/// Waits (up to `limit`) until every projector has applied every committed event.
pub async fn wait_for_projections_within(pool: &PgPool, limit: Duration) {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        let statuses = projections::checkpoint::statuses(pool)
            .await
            .expect("projector statuses");
        if !statuses.is_empty() && statuses.iter().all(|s| s.lag_events == 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the projectors did not catch up within {limit:?}");
}
