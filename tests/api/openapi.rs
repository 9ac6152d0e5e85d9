//! `/openapi.json` is a valid OpenAPI 3.1 document, and it tells the truth: every body sent
//! and every answer received in a tour of the API validates against the schema it documents.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{TestApp, HUB, LOCATION, ROBOT};

/// The document, and validators built from the schemas it names.
struct Contract {
    document: Value,
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Contract {
    async fn fetch(app: &TestApp) -> Self {
        let response = app.get("/openapi.json").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        Self {
            document: response.json().await.unwrap(),
        }
    }

    /// Validates `instance` against the schema at `pointer` in the document (references into
    /// `#/components` resolve against the document itself); formats (uuid, date-time) are
    /// asserted too.
    fn check(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let mut root = self.document.clone();
        // A URI fragment: the braces of path templates are percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = json!(format!("#{fragment}"));
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{pointer}: {errors:?}\n{instance:#}"))
        }
    }

    fn operation(&self, template: &str, method: &str) -> String {
        let pointer = format!("/paths/{}/{method}", escape(template));
        assert!(
            self.document.pointer(&pointer).is_some(),
            "{method} {template} is not documented"
        );
        pointer
    }

    /// The pointer to the documented schema of an answer, following a response reference.
    fn response_schema(&self, template: &str, method: &str, status: u16) -> String {
        let pointer = format!("{}/responses/{status}", self.operation(template, method));
        let response = self
            .document
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("{method} {template} documents no {status}"));
        let pointer = match response.get("$ref").and_then(Value::as_str) {
            Some(target) => target.trim_start_matches('#').to_string(),
            None => pointer,
        };
        let content = self.document.pointer(&pointer).unwrap()["content"]
            .as_object()
            .unwrap();
        let media = content.keys().next().unwrap();
        format!("{pointer}/content/{}/schema", escape(media))
    }

    /// Asserts that an answer is documented and matches its schema; returns its body.
    async fn answer(
        &self,
        template: &str,
        method: &str,
        response: reqwest::Response,
    ) -> (StatusCode, Value) {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let pointer = self.response_schema(template, method, status.as_u16());
        self.check(&pointer, &body).unwrap();
        (status, body)
    }

    fn request_body(&self, template: &str) -> String {
        format!(
            "{}/requestBody/content/application~1json/schema",
            self.operation(template, "post")
        )
    }
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_with_valid_schemas() {
    let app = TestApp::in_process().await;
    let contract = Contract::fetch(&app).await;
    let document = &contract.document;

    let meta: Value =
        serde_json::from_str(include_str!("fixtures/openapi-3.1-schema.json")).unwrap();
    let validator = jsonschema::validator_for(&meta).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // OpenAPI 3.1 schemas are JSON Schema 2020-12: each must be a valid one.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    assert!(schemas.len() > 100, "{} schemas", schemas.len());
    for (name, schema) in schemas {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("{name}: {e}");
        }
    }
    for path in [
        "/v1/tasks/{id}/commands",
        "/v1/trips",
        "/v1/pilots/{id}",
        "/v1/fo-tasks/{id}/history",
        "/v1/pilots/{id}/events",
        "/v1/events",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path}");
    }
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let app = TestApp::in_process().await;
    let contract = Contract::fetch(&app).await;
    for (template, item) in contract.document["paths"].as_object().unwrap() {
        let path = template.replace("{id}", &Uuid::new_v4().to_string());
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let request = app
                .request(method.clone(), &path)
                .header("x-actor", "test")
                .json(&json!({}));
            let response = app.send(request).await;
            assert_ne!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            if response.status() == StatusCode::NOT_FOUND {
                let problem: Value = response.json().await.unwrap();
                let detail = problem["detail"].as_str().unwrap_or_default();
                assert!(
                    !detail.starts_with("no route"),
                    "{method} {path}: {problem}"
                );
                assert!(
                    problem.get("collection").is_none(),
                    "{method} {path}: {problem}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_docs_page_renders_the_document() {
    let app = TestApp::in_process().await;
    let response = app.get("/docs").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"data-url="/openapi.json""#), "{page}");
    // Everything the page loads comes from the service: it works offline and behind a proxy.
    assert!(page.contains(r#"<script src="/docs/scalar.js">"#), "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    let script = app
        .send(reqwest::Client::new().get(app.url("/docs/scalar.js")))
        .await;
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(script.headers()["content-encoding"], "gzip");
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let bytes = script.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        bytes.len() > 1_000_000,
        "the whole bundle: {} bytes",
        bytes.len()
    );
}

#[tokio::test]
async fn the_command_schemas_refuse_what_the_service_refuses() {
    let app = TestApp::in_process().await;
    let contract = Contract::fetch(&app).await;
    let body = contract.request_body("/v1/tasks/{id}/commands");
    let good = json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP",
                      "hub_id": Uuid::new_v4()});
    contract.check(&body, &good).unwrap();
    for bad in [
        json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP"}),
        json!({"type": "CreateTask", "task_type": "TELEPORT", "hub_id": Uuid::new_v4()}),
        json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": "nope"}),
        json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": Uuid::new_v4(),
               "colour": "red"}),
        json!({"type": "FlyTask"}),
        json!({"type": "RecordPilotAssigned", "pilot_id": Uuid::new_v4(),
               "assignment_id": Uuid::new_v4()}),
        json!({"type": "PauseTask", "reason": ""}),
        json!({"type": "PauseTask", "reason": "   "}),
        json!({"type": "PauseTask", "reason": "bell\u{7}"}),
    ] {
        assert!(
            contract.check(&body, &bad).is_err(),
            "the schema takes {bad}"
        );
        let response = app.command("tasks", Uuid::new_v4(), bad.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// Sends commands, checking each body against the documented request schema and each answer
/// against the documented response.
async fn send(contract: &Contract, app: &TestApp, collection: &str, id: Uuid, bodies: &[Value]) {
    let template = format!("/v1/{collection}/{{id}}/commands");
    let schema = contract.request_body(&template);
    for body in bodies {
        contract.check(&schema, body).unwrap();
        let response = app.command(collection, id, body.clone()).await;
        let headers = response.headers().clone();
        let (status, answer) = contract.answer(&template, "post", response).await;
        assert!(status.is_success(), "{body}: {answer}");
        // The headers documented for this answer are sent (but the retry marker).
        let documented = contract
            .document
            .pointer(&format!(
                "{}/responses/{}/headers",
                contract.operation(&template, "post"),
                status.as_u16()
            ))
            .and_then(Value::as_object)
            .unwrap();
        for name in documented.keys() {
            let expected = match name.as_str() {
                "Idempotent-Replayed" => false,
                "Location" => status == StatusCode::CREATED,
                _ => true,
            };
            assert_eq!(
                headers.contains_key(name.as_str()),
                expected,
                "{name} on {status}"
            );
        }
    }
}

fn place(name: &str) -> Value {
    let lat = 37.77 + f64::from(name.len() as u8) / 1000.0;
    // The hub is a known location (`LOCATION`); other places are only coordinates.
    let known = (name == "hub").then_some(LOCATION);
    json!({"lat": lat, "lng": -122.4194, "name": name, "location_id": known})
}

#[tokio::test]
async fn every_answer_of_a_tour_of_the_api_matches_the_document() {
    let app = TestApp::spawn().await;
    app.places().await;
    let (other_robot, center) = (app.deployed_robot().await, Uuid::new_v4());
    app.ok(
        "pilot-centers",
        center,
        json!({"type": "RegisterPilotCenter", "name": "Hyderabad", "pilot_location": "TDCX_INDIA"}),
    )
    .await;
    let contract = Contract::fetch(&app).await;
    let (task, trip, pilot, fo_task) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let request = Uuid::new_v4();
    send(
        &contract,
        &app,
        "tasks",
        task,
        &[
            json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP", "hub_id": HUB,
               "robot_id": ROBOT, "scheduled_at": "2026-11-22T10:00:00Z", "external_ref": "order-1"}),
            json!({"type": "MarkTaskPending"}),
            json!({"type": "StartTask"}),
            json!({"type": "PauseTask", "reason": "crossing closed"}),
            json!({"type": "ResumeTask"}),
            json!({"type": "AssignRobot", "robot_id": other_robot}),
            json!({"type": "AttachTrip", "trip_id": trip}),
        ],
    )
    .await;
    send(
        &contract,
        &app,
        "trips",
        trip,
        &[
            json!({"type": "PlanTrip", "task_id": task, "robot_id": ROBOT,
               "trip_type": "DELIVERY", "origin": place("hub"), "destination": place("customer door")}),
            json!({"type": "RecordRoute", "route_id": Uuid::new_v4(), "distance_m": 2400.5,
               "duration_s": 900.0, "polyline": "_p~iF~ps|U_ulLnnqC"}),
            json!({"type": "MarkReadyToDepart"}),
            json!({"type": "DepartTrip"}),
            json!({"type": "RequestFoAssistance", "request_id": request, "kind": "STUCK",
               "note": "wheel in a grate"}),
            json!({"type": "AcknowledgeFoAssistance", "request_id": request,
               "fo_id": Uuid::new_v4()}),
        ],
    )
    .await;
    app.operator(pilot, "PILOT").await;
    send(
        &contract,
        &app,
        "pilots",
        pilot,
        &[
            json!({"type": "RegisterPilot", "pilot_location": "TDCX_INDIA",
               "pilot_center_id": center}),
            json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
            json!({"type": "ReservePilot", "reservation_id": Uuid::new_v4(), "task_id": task,
               "until": "2099-01-01T00:00:00Z"}),
            json!({"type": "RequestAssignment", "assignment_id": Uuid::new_v4(), "task_id": task}),
        ],
    )
    .await;
    send(
        &contract,
        &app,
        "fo-tasks",
        fo_task,
        &[
            json!({"type": "CreateFoTask", "hub_id": HUB, "kind": "ROBOT_RESCUE",
            "robot_id": ROBOT, "trip_id": trip, "subtasks": [
                {"subtask_id": Uuid::new_v4(), "kind": "TRAVEL",
                 "from": place("hub"), "to": place("robot")},
                {"subtask_id": Uuid::new_v4(), "kind": "ACTION", "action": "SWAP_BATTERY",
                 "location": place("robot")},
            ]}),
            json!({"type": "AssignFieldOperator", "assignment_id": Uuid::new_v4(),
               "fo_id": app.field_operator().await}),
        ],
    )
    .await;
    // A quote: its body and its answer as documented, a refusal too.
    let template = "/v1/availability-quotes";
    let now = chrono::Utc::now();
    let (from, until) = (
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(1),
    );
    let body = json!({"hub_id": HUB, "from": from, "until": until});
    contract
        .check(&contract.request_body(template), &body)
        .unwrap();
    let response = app
        .send(app.request(Method::POST, template).json(&body))
        .await;
    let (status, answer) = contract.answer(template, "post", response).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let quote: Uuid = answer["quote_id"].as_str().unwrap().parse().unwrap();
    let refused = app
        .send(
            app.request(Method::POST, template)
                .json(&json!({"hub_id": HUB})),
        )
        .await;
    let (status, _) = contract.answer(template, "post", refused).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.wait_for_projections().await;

    let quotes_at_hub = format!("hub_id={HUB}");
    for (collection, id, filter) in [
        ("tasks", task, "status=IN_PROGRESS"),
        ("trips", trip, "status=IN_TRANSIT"),
        ("pilots", pilot, "pilot_location=TDCX_INDIA"),
        ("fo-tasks", fo_task, "kind=ROBOT_RESCUE"),
        ("availability-quotes", quote, quotes_at_hub.as_str()),
    ] {
        let reads = [
            (
                format!("/v1/{collection}/{{id}}"),
                format!("/v1/{collection}/{id}"),
            ),
            (
                format!("/v1/{collection}/{{id}}"),
                format!("/v1/{collection}/{id}?version=1"),
            ),
            (
                format!("/v1/{collection}/{{id}}"),
                format!("/v1/{collection}/{id}?as_of=2099-01-01T00:00:00Z"),
            ),
            (
                format!("/v1/{collection}/{{id}}/history"),
                format!("/v1/{collection}/{id}/history"),
            ),
            (
                format!("/v1/{collection}/{{id}}/events"),
                format!("/v1/{collection}/{id}/events"),
            ),
            (
                format!("/v1/{collection}"),
                format!("/v1/{collection}?{filter}&limit=1"),
            ),
            (
                format!("/v1/{collection}/{{id}}"),
                format!("/v1/{collection}/{}", Uuid::new_v4()),
            ),
            (
                format!("/v1/{collection}"),
                format!("/v1/{collection}?limit=0"),
            ),
        ];
        for (template, path) in reads {
            let (status, body) = contract
                .answer(&template, "get", app.get(&path).await)
                .await;
            if !path.contains("limit=0") && path.contains(&id.to_string()) {
                assert_eq!(status, StatusCode::OK, "{path}: {body}");
            }
            if path.ends_with("limit=1") {
                assert_eq!(status, StatusCode::OK, "{path}: {body}");
                assert_eq!(body["items"].as_array().unwrap().len(), 1, "{path}: {body}");
            }
        }
    }

    for path in [
        "/v1/events",
        "/v1/events?aggregate_type=Pilot&limit=2",
        "/v1/events?limit=0",
    ] {
        contract
            .answer("/v1/events", "get", app.get(path).await)
            .await;
    }
    for path in ["/v1/projections", "/healthz", "/readyz"] {
        let (status, _) = contract.answer(path, "get", app.get(path).await).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }

    // Refusals are documented problems.
    let template = "/v1/tasks/{id}/commands";
    let refusals = [
        app.command("tasks", task, json!({"type": "CreateTask"}))
            .await,
        app.command("tasks", Uuid::new_v4(), json!({"type": "StartTask"}))
            .await,
        app.command("tasks", task, json!({"type": "MarkTaskPending"}))
            .await,
        app.post_command("tasks", task)
            .header("if-match", "\"1\"")
            .json(&json!({"type": "CompleteTask"}))
            .send()
            .await
            .unwrap(),
        app.post_command("tasks", task)
            .body(vec![b' '; 2 << 20])
            .send()
            .await
            .unwrap(),
    ];
    let mut statuses = Vec::new();
    for response in refusals {
        statuses.push(contract.answer(template, "post", response).await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::BAD_REQUEST,
            StatusCode::NOT_FOUND,
            StatusCode::CONFLICT,
            StatusCode::PRECONDITION_FAILED,
            StatusCode::PAYLOAD_TOO_LARGE,
        ]
    );
    let key = Uuid::new_v4().to_string();
    let mut statuses = Vec::new();
    for body in [
        json!({"type": "MarkTaskArrived"}),
        json!({"type": "CompleteTask"}),
    ] {
        let response = app
            .post_command("tasks", task)
            .header("idempotency-key", &key)
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(contract.answer(template, "post", response).await.0);
    }
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY]);
}
