//! Event versions, and the upcasters that read an event stored in an older version in the
//! shape the code knows now.
//!
//! Stored events are never rewritten. When an event type changes shape, its `event_version`
//! goes up and a step is added to [`UPCASTS`] that turns the previous version's fields into the
//! new ones. Everything that reads events (the aggregates' load, the projectors, the feed and
//! the export) passes them through [`Upcasters`] first, so nothing downstream ever sees an old
//! shape. Steps chain: an event two versions behind goes through both, oldest first.

use std::sync::{LazyLock, OnceLock};

use cqrs_es::persist::{EventUpcaster, SemanticVersion, SerializedEvent};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// One change of an event type's shape: events of `event_type` stored in a version before `to`
/// have `change` applied to their fields and are read as version `to`.
pub struct Upcast {
    pub event_type: &'static str,
    pub to: &'static str,
    /// Edits the event's fields (the object inside the `{"<EventType>": {...}}` wrapper).
    pub change: fn(&mut Map<String, Value>),
}

/// Every change of shape so far (in any order: each type's steps run in version order).
pub const UPCASTS: &[Upcast] = &[
    // 1.1 names the task a reservation held the pilot for. Version 1.0 did not record it, and
    // one event alone cannot tell it: those read as `null`.
    Upcast {
        event_type: "PilotReservationReleased",
        to: "1.1",
        change: add_task_id,
    },
    Upcast {
        event_type: "PilotReservationExpired",
        to: "1.1",
        change: add_task_id,
    },
    // 1.1 says why a pilot was archived; 1.0 could not be told.
    Upcast {
        event_type: "PilotArchived",
        to: "1.1",
        change: add_reason,
    },
];

/// 1.0 to 1.1 of the reservation's end: the task was not recorded.
fn add_task_id(fields: &mut Map<String, Value>) {
    fields.entry("task_id").or_insert(Value::Null);
}

/// 1.0 to 1.1 of `PilotArchived`: no reason was given.
fn add_reason(fields: &mut Map<String, Value>) {
    fields.entry("reason").or_insert(Value::Null);
}

/// The version the code writes an event type in: where its upcasts lead, "1.0" for a type
/// that never changed. `DomainEvent::event_version` answers this, so the version written and
/// the upcasts cannot disagree.
pub fn current(event_type: &str) -> &'static str {
    Upcasters::all().current(event_type)
}

/// The service's upcasters as cqrs-es takes them (for its own event stores and tools).
pub fn event_upcasters() -> Vec<Box<dyn EventUpcaster>> {
    Upcasters::new(UPCASTS)
        .steps
        .into_iter()
        .map(|step| Box::new(step) as Box<dyn EventUpcaster>)
        .collect()
}

struct Step {
    upcast: &'static Upcast,
    version: SemanticVersion,
}

impl EventUpcaster for Step {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == self.upcast.event_type
            && event_version
                .parse::<SemanticVersion>()
                .is_ok_and(|stored| self.version.supersedes(&stored))
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        if let Some(fields) = event
            .payload
            .get_mut(self.upcast.event_type)
            .and_then(Value::as_object_mut)
        {
            (self.upcast.change)(fields);
        }
        // The version as the code writes it ("1.1"), not as `SemanticVersion` prints it.
        event.event_version = self.upcast.to.to_string();
        event
    }
}

/// A chain of upcasters: for each event type, its steps from the oldest version up.
pub struct Upcasters {
    steps: Vec<Step>,
}

static ALL: LazyLock<Upcasters> = LazyLock::new(|| Upcasters::new(UPCASTS));
/// `UPCASTS` and those added by `deploy`, once it was called.
static DEPLOYED: OnceLock<Upcasters> = OnceLock::new();

impl Upcasters {
    /// The service's upcasters.
    pub fn all() -> &'static Self {
        DEPLOYED.get().unwrap_or(&ALL)
    }

    /// Adds upcasts to the service's, in a running process, once (false if it was done
    /// already). A real fix is compiled into the next release; this is how the tests stand for
    /// that deployment (an event parked because no upcaster read it, retried once one does).
    pub fn deploy(more: &'static [Upcast]) -> bool {
        DEPLOYED.set(Self::of(UPCASTS.iter().chain(more))).is_ok()
    }

    /// A chain of these upcasts, in version order whatever the order given.
    pub fn new(upcasts: &'static [Upcast]) -> Self {
        Self::of(upcasts.iter())
    }

    fn of(upcasts: impl Iterator<Item = &'static Upcast>) -> Self {
        let mut steps: Vec<Step> = upcasts
            .map(|upcast| Step {
                upcast,
                version: upcast
                    .to
                    .parse()
                    .expect("an upcast's version is a semantic version"),
            })
            .collect();
        steps.sort_by(|a, b| {
            (a.upcast.event_type, &a.version)
                .partial_cmp(&(b.upcast.event_type, &b.version))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Self { steps }
    }

    /// The version an event type is written in: its latest upcast's, "1.0" if none.
    pub fn current(&self, event_type: &str) -> &'static str {
        self.steps
            .iter()
            .rev()
            .find(|step| step.upcast.event_type == event_type)
            .map_or("1.0", |step| step.upcast.to)
    }

    /// Whether an event stored as `event_type` in `event_version` needs upcasting: false for
    /// every event the current code wrote, which is the fast path.
    pub fn applies(&self, event_type: &str, event_version: &str) -> bool {
        self.steps
            .iter()
            .any(|step| step.can_upcast(event_type, event_version))
    }

    /// The event in its current shape and version: every step that applies, in order.
    pub fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        for step in &self.steps {
            if step.can_upcast(&event.event_type, &event.event_version) {
                event = step.upcast(event);
            }
        }
        event
    }

    /// A stored payload in its current shape, and the version it was upcast to (`None` when
    /// it was stored in its current version, and is returned as it was).
    pub fn upcast_payload(
        &self,
        event_type: &str,
        event_version: &str,
        payload: Value,
    ) -> (Value, Option<String>) {
        if !self.applies(event_type, event_version) {
            return (payload, None);
        }
        let event = self.upcast(SerializedEvent {
            aggregate_id: String::new(),
            sequence: 0,
            aggregate_type: String::new(),
            event_type: event_type.to_string(),
            event_version: event_version.to_string(),
            payload,
            metadata: Value::Null,
        });
        (event.payload, Some(event.event_version))
    }
}

/// Decodes a stored payload as `E`, upcast first when it was stored in an older version.
pub fn decode<E: DeserializeOwned>(
    event_type: &str,
    event_version: &str,
    payload: &str,
) -> Result<E, serde_json::Error> {
    decode_with(Upcasters::all(), event_type, event_version, payload)
}

/// `decode` with a chain of one's choosing.
pub fn decode_with<E: DeserializeOwned>(
    upcasters: &Upcasters,
    event_type: &str,
    event_version: &str,
    payload: &str,
) -> Result<E, serde_json::Error> {
    if !upcasters.applies(event_type, event_version) {
        return serde_json::from_str(payload);
    }
    let stored = serde_json::from_str(payload)?;
    let (current, _) = upcasters.upcast_payload(event_type, event_version, stored);
    serde_json::from_value(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pilot::PilotEvent;
    use cqrs_es::DomainEvent;
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn a_version_1_0_release_reads_as_1_1_with_no_task() {
        let reservation = Uuid::from_u128(7);
        let stored = json!({"PilotReservationReleased": {
            "reservation_id": reservation, "reason": "shift over"
        }});
        let (payload, version) =
            Upcasters::all().upcast_payload("PilotReservationReleased", "1.0", stored);
        assert_eq!(version.as_deref(), Some("1.1"));
        assert_eq!(
            payload["PilotReservationReleased"]["task_id"],
            Value::Null,
            "the field exists, as null"
        );
        let event: PilotEvent = serde_json::from_value(payload).unwrap();
        assert_eq!(
            event,
            PilotEvent::PilotReservationReleased {
                reservation_id: reservation,
                task_id: None,
                reason: Some("shift over".into()),
            }
        );
    }

    #[test]
    fn events_in_their_current_version_are_left_alone() {
        let upcasters = Upcasters::all();
        assert!(!upcasters.applies("PilotReservationReleased", "1.1"));
        assert!(!upcasters.applies("PilotReservationExpired", "1.1"));
        assert!(!upcasters.applies("PilotReserved", "1.0"));
        assert!(!upcasters.applies("TaskCreated", "1.0"));
        let payload = json!({"PilotReserved": {"reservation_id": Uuid::nil()}});
        let (same, version) = upcasters.upcast_payload("PilotReserved", "1.0", payload.clone());
        assert_eq!((same, version), (payload, None));
    }

    #[test]
    fn an_upcast_never_overwrites_a_field_the_event_has() {
        let task = Uuid::from_u128(9);
        let stored = json!({"PilotReservationExpired": {
            "reservation_id": Uuid::nil(), "task_id": task, "until": "2026-01-01T00:00:00Z"
        }});
        let (payload, _) =
            Upcasters::all().upcast_payload("PilotReservationExpired", "1.0", stored);
        assert_eq!(payload["PilotReservationExpired"]["task_id"], json!(task));
    }

    /// A made-up history of one event type: 1.1 renamed `name` to `label`, 2.0 made `size` a
    /// required number (absent in 1.x: 0). Listed out of order on purpose.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    enum Sample {
        Resized { label: String, size: u32 },
    }

    fn rename(fields: &mut Map<String, Value>) {
        if let Some(name) = fields.remove("name") {
            fields.insert("label".into(), name);
        }
    }

    fn add_size(fields: &mut Map<String, Value>) {
        fields.entry("size").or_insert(json!(0));
    }

    const SAMPLE_UPCASTS: &[Upcast] = &[
        Upcast {
            event_type: "Resized",
            to: "2.0",
            change: add_size,
        },
        Upcast {
            event_type: "Resized",
            to: "1.1",
            change: rename,
        },
    ];

    #[test]
    fn old_versions_go_through_every_later_step_in_version_order() {
        let upcasters = Upcasters::new(SAMPLE_UPCASTS);
        assert_eq!(upcasters.current("Resized"), "2.0");
        let stored = r#"{"Resized": {"name": "crate"}}"#;
        // Without the upcasts, the old shape does not decode at all.
        assert!(serde_json::from_str::<Sample>(stored).is_err());
        let expected = Sample::Resized {
            label: "crate".into(),
            size: 0,
        };
        for version in ["1.0", "1"] {
            let event: Sample = decode_with(&upcasters, "Resized", version, stored).unwrap();
            assert_eq!(event, expected);
        }
        // A 1.1 event only takes the 2.0 step (a second rename would find no `name`).
        let stored = r#"{"Resized": {"label": "box"}}"#;
        let event: Sample = decode_with(&upcasters, "Resized", "1.1", stored).unwrap();
        assert_eq!(
            event,
            Sample::Resized {
                label: "box".into(),
                size: 0
            }
        );
        let current = r#"{"Resized": {"label": "box", "size": 3}}"#;
        assert!(!upcasters.applies("Resized", "2.0"));
        let event: Sample = decode_with(&upcasters, "Resized", "2.0", current).unwrap();
        assert_eq!(
            event,
            Sample::Resized {
                label: "box".into(),
                size: 3
            }
        );
        let (_, version) = upcasters.upcast_payload(
            "Resized",
            "1.0",
            serde_json::from_str(r#"{"Resized": {"name": "x"}}"#).unwrap(),
        );
        assert_eq!(version.as_deref(), Some("2.0"));
    }

    #[test]
    fn the_service_upcasters_are_given_to_cqrs_es_too() {
        let upcasters = event_upcasters();
        assert_eq!(upcasters.len(), UPCASTS.len());
        assert!(upcasters
            .iter()
            .any(|u| u.can_upcast("PilotReservationReleased", "1.0")));
    }

    #[test]
    fn events_are_written_in_the_version_their_upcasts_lead_to() {
        let released = PilotEvent::PilotReservationReleased {
            reservation_id: Uuid::nil(),
            task_id: None,
            reason: None,
        };
        assert_eq!(released.event_version(), "1.1");
        let ended = PilotEvent::PilotShiftEnded {
            shift_id: Uuid::nil(),
            from_state: crate::pilot::ShiftStatus::OnShift,
            ended_at: chrono::DateTime::UNIX_EPOCH,
        };
        assert_eq!(ended.event_version(), "1.0");
        assert_eq!(current("PilotArchived"), "1.1");
        assert_eq!(current("PilotReservationExpired"), "1.1");
    }
}
