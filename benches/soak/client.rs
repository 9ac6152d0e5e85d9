//! A soak client: loops over a task's life, a pilot taking a task, a trip and a field task,
//! and reads its own writes, counting what it did and how long it waited.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Default)]
pub struct Counters {
    pub commands: AtomicU64,
    pub reads: AtomicU64,
    /// Answers 4xx the scenario did not expect.
    pub unexpected_4xx: AtomicU64,
    /// `409 concurrent_modification`, retried.
    pub conflicts: AtomicU64,
    pub server_errors: AtomicU64,
    pub transport_errors: AtomicU64,
    /// Reads of one's own write: how long until the read models had it, in µs.
    pub lags: Mutex<Vec<u64>>,
    pub last_error: Mutex<Option<String>>,
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub counters: Arc<Counters>,
    /// The hub its tasks and field tasks are at.
    pub hub: Uuid,
    /// Its robot, deployed at the hub, which its trips take (one at a time).
    pub robot: Uuid,
}

impl Client {
    /// Sends a command; a `409 concurrent_modification` (the assignment process wrote to the
    /// same stream meanwhile) is retried, as a client is told to.
    pub async fn command(&self, collection: &str, id: Uuid, body: Value) -> Option<Value> {
        for _ in 0..5 {
            match self.send(collection, id, &body).await {
                Err(true) => {
                    self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Err(false) => return None,
                Ok(answer) => return Some(answer),
            }
        }
        None
    }

    /// `Err(true)`: a conflict worth retrying.
    pub async fn send(&self, collection: &str, id: Uuid, body: &Value) -> Result<Value, bool> {
        let sent = self
            .http
            .post(format!("{}/v1/{collection}/{id}/commands", self.base))
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(err) => {
                self.counters
                    .transport_errors
                    .fetch_add(1, Ordering::Relaxed);
                *self.counters.last_error.lock().unwrap() = Some(err.to_string());
                return Err(false);
            }
        };
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            self.counters.commands.fetch_add(1, Ordering::Relaxed);
            return Ok(answer);
        }
        if answer["code"] == "concurrent_modification" {
            return Err(true);
        }
        let counter = if status.is_server_error() {
            &self.counters.server_errors
        } else {
            &self.counters.unexpected_4xx
        };
        counter.fetch_add(1, Ordering::Relaxed);
        *self.counters.last_error.lock().unwrap() =
            Some(format!("{collection} {body}: {status} {answer}"));
        Err(false)
    }

    pub async fn read(&self, path: &str) -> bool {
        match self.http.get(format!("{}{path}", self.base)).send().await {
            Ok(r) if r.status().is_success() => {
                self.counters.reads.fetch_add(1, Ordering::Relaxed);
                true
            }
            Ok(r) => {
                let status = r.status();
                if status.is_server_error() {
                    self.counters.server_errors.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.counters.unexpected_4xx.fetch_add(1, Ordering::Relaxed);
                }
                *self.counters.last_error.lock().unwrap() = Some(format!(
                    "GET {path}: {status} {}",
                    r.text().await.unwrap_or_default()
                ));
                false
            }
            Err(err) => {
                self.counters
                    .transport_errors
                    .fetch_add(1, Ordering::Relaxed);
                *self.counters.last_error.lock().unwrap() = Some(err.to_string());
                false
            }
        }
    }

    /// Reads `path` naming the answer's token; records the wait.
    pub async fn read_own_write(&self, path: &str, answer: &Value) {
        let Some(token) = answer["token"].as_str() else {
            return;
        };
        let started = Instant::now();
        if self.read(&format!("{path}?consistent_with={token}")).await {
            self.counters
                .lags
                .lock()
                .unwrap()
                .push(started.elapsed().as_micros() as u64);
        }
    }

    pub async fn task_life(&self) -> Option<Uuid> {
        let id = Uuid::new_v4();
        let created = self
            .command(
                "tasks",
                id,
                json!({"type": "CreateTask", "task_type": "DELIVERY_TRIP",
                       "hub_id": self.hub, "robot_id": self.robot}),
            )
            .await?;
        self.read_own_write(&format!("/v1/tasks/{id}"), &created)
            .await;
        self.command("tasks", id, json!({"type": "MarkTaskPending"}))
            .await?;
        Some(id)
    }

    pub async fn finish_task(&self, id: Uuid) -> Option<()> {
        for command in ["StartTask", "MarkTaskArrived", "CompleteTask"] {
            self.command("tasks", id, json!({"type": command})).await?;
        }
        self.read(&format!("/v1/tasks/{id}/history")).await;
        Some(())
    }

    pub async fn pilot_round(&self, round: u64) -> Option<()> {
        let task = self.task_life().await?;
        let (pilot, assignment) = (Uuid::new_v4(), Uuid::new_v4());
        // A pilot is an operator with role PILOT.
        let operator = json!({"type": "RegisterOperator", "role": "PILOT"});
        self.command("operators", pilot, operator).await?;
        self.command("pilots", pilot, json!({"type": "RegisterPilot"}))
            .await?;
        self.command(
            "pilots",
            pilot,
            json!({"type": "StartShift", "shift_id": Uuid::new_v4()}),
        )
        .await?;
        self.command(
            "pilots",
            pilot,
            json!({"type": "RequestAssignment", "assignment_id": assignment, "task_id": task}),
        )
        .await?;
        if round % 4 == 0 {
            // Nobody accepts: the deadline marks it STALE.
            return Some(());
        }
        let accepted = self
            .command(
                "pilots",
                pilot,
                json!({"type": "AcceptAssignment", "assignment_id": assignment}),
            )
            .await?;
        self.read_own_write(&format!("/v1/pilots/{pilot}"), &accepted)
            .await;
        // The process links the task, then finishes the assignment when the task completes.
        self.finish_task(task).await?;
        self.read(&format!("/v1/pilots/{pilot}/history")).await;
        Some(())
    }

    pub async fn trip_life(&self) -> Option<()> {
        let id = Uuid::new_v4();
        let hub = json!({"lat": 37.7749, "lng": -122.4194, "name": "Hub SF"});
        let customer = json!({"lat": 37.7793, "lng": -122.4057, "name": "Customer, 5th St"});
        let planned = self
            .command(
                "trips",
                id,
                json!({"type": "PlanTrip", "task_id": Uuid::new_v4(), "robot_id": self.robot,
                       "trip_type": "DELIVERY", "origin": hub, "destination": customer}),
            )
            .await?;
        self.read_own_write(&format!("/v1/trips/{id}"), &planned)
            .await;
        for body in [
            json!({"type": "MarkReadyToDepart"}),
            json!({"type": "DepartTrip"}),
            json!({"type": "ArriveAtStop", "location": customer}),
            json!({"type": "CompleteTrip"}),
        ] {
            self.command("trips", id, body).await?;
        }
        self.read(&format!("/v1/trips/{id}/history")).await;
        Some(())
    }

    pub async fn fo_task_life(&self) -> Option<()> {
        let (id, go, fo) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let operator = json!({"type": "RegisterOperator", "role": "FIELD"});
        self.command("operators", fo, operator).await?;
        let spot = json!({"lat": 37.7760, "lng": -122.4120, "name": "Market & 7th"});
        let hub = json!({"lat": 37.7749, "lng": -122.4194, "name": "Hub SF"});
        let created = self
            .command(
                "fo-tasks",
                id,
                json!({"type": "CreateFoTask", "hub_id": self.hub, "kind": "ROBOT_RESCUE",
                       "subtasks": [{"subtask_id": go, "kind": "TRAVEL", "from": hub, "to": spot}]}),
            )
            .await?;
        self.read_own_write(&format!("/v1/fo-tasks/{id}"), &created)
            .await;
        for body in [
            json!({"type": "AssignFieldOperator", "assignment_id": Uuid::new_v4(), "fo_id": fo}),
            json!({"type": "StartFoTask"}),
            json!({"type": "StartSubtask", "subtask_id": go}),
            json!({"type": "CompleteSubtask", "subtask_id": go}),
            json!({"type": "CompleteFoTask"}),
        ] {
            self.command("fo-tasks", id, body).await?;
        }
        self.read("/v1/fo-tasks?limit=20").await;
        Some(())
    }

    pub async fn run(self, stop: Arc<AtomicBool>, offset: u64) {
        let mut round = offset;
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            match round % 4 {
                0 => {
                    if let Some(task) = self.task_life().await {
                        self.finish_task(task).await;
                    }
                    self.read("/v1/tasks?limit=20").await;
                }
                1 => {
                    self.pilot_round(round / 4).await;
                }
                2 => {
                    self.trip_life().await;
                }
                _ => {
                    self.fo_task_life().await;
                }
            };
        }
    }
}
