use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    AssistanceKind, AssistanceOutcome, AssistanceStatus, TripCommand, TripError, TripEvent,
    TripStatus, TripType,
};
use crate::task::CancellationReason;
use crate::{CommandNames, Location};

/// A trip's stream folded into its current state; `None` until `TripPlanned`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trip(pub Option<TripState>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TripState {
    pub status: TripStatus,
    pub task_id: Uuid,
    pub robot_id: Uuid,
    pub trip_type: TripType,
    pub origin: Location,
    pub destination: Location,
    /// The location reported by the latest `ArriveAtStop`; `None` before the first arrival or
    /// when the latest arrival reported none.
    pub current_location: Option<Location>,
    /// How many times the trip arrived at a stop.
    pub stops: u32,
    pub routes: Vec<Route>,
    pub assistance: Vec<AssistanceRequest>,
    pub cancellation_reason: Option<CancellationReason>,
    pub cancellation_note: Option<String>,
}

/// A route computed for the trip, in the order recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Route {
    pub route_id: Uuid,
    pub distance_m: f64,
    pub duration_s: f64,
    pub polyline: Option<String>,
}

impl Route {
    /// The longest polyline a route may carry, in characters.
    pub const MAX_POLYLINE_CHARS: usize = 100_000;
}

/// A request for a field operator's help, in the order requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssistanceRequest {
    pub request_id: Uuid,
    pub kind: AssistanceKind,
    pub status: AssistanceStatus,
    pub note: Option<String>,
    pub fo_id: Option<Uuid>,
    pub outcome: Option<AssistanceOutcome>,
    pub resolution_note: Option<String>,
}

impl Trip {
    pub fn state(&self) -> Option<&TripState> {
        self.0.as_ref()
    }

    /// Decides what `command` does to this trip. Pure: no I/O and no clock.
    pub fn decide(&self, command: TripCommand) -> Result<Vec<TripEvent>, TripError> {
        let Some(trip) = &self.0 else {
            return match command {
                TripCommand::PlanTrip {
                    task_id,
                    robot_id,
                    trip_type,
                    origin,
                    destination,
                } => {
                    // One spot, or one known location (whatever coordinates each copy gives).
                    let same_spot = origin.lat == destination.lat && origin.lng == destination.lng;
                    let same_location = origin.location_id.is_some()
                        && origin.location_id == destination.location_id;
                    if same_spot || same_location {
                        return Err(TripError::SameOriginAndDestination);
                    }
                    Ok(vec![TripEvent::TripPlanned {
                        task_id,
                        robot_id,
                        trip_type,
                        origin,
                        destination,
                    }])
                }
                _ => Err(TripError::NotFound),
            };
        };
        trip.decide(command)
    }
}

impl TripState {
    fn decide(&self, command: TripCommand) -> Result<Vec<TripEvent>, TripError> {
        use TripStatus::*;
        let from_status = self.status;
        let event = match command {
            TripCommand::PlanTrip { .. } => return Err(TripError::AlreadyExists),
            TripCommand::MarkReadyToDepart {} => {
                self.require(&[AtStop], &command)?;
                TripEvent::TripReadyToDepart { from_status }
            }
            TripCommand::DepartTrip {} => {
                self.require(&[ReadyToDepart], &command)?;
                TripEvent::TripDeparted { from_status }
            }
            TripCommand::ArriveAtStop { ref location } => {
                self.require(&[InTransit], &command)?;
                TripEvent::TripArrivedAtStop {
                    from_status,
                    location: location.clone(),
                }
            }
            TripCommand::CompleteTrip {} => {
                self.require(&[AtStop, InTransit], &command)?;
                TripEvent::TripCompleted { from_status }
            }
            TripCommand::CancelTrip { reason, note } => {
                self.require_open()?;
                if reason == CancellationReason::Other && note.is_none() {
                    return Err(TripError::NoteRequired);
                }
                TripEvent::TripCancelled {
                    from_status,
                    reason,
                    note: note.map(String::from),
                }
            }
            TripCommand::RecordRoute {
                route_id,
                distance_m,
                duration_s,
                polyline,
            } => {
                self.require_open()?;
                check_route(distance_m, duration_s, polyline.as_deref())?;
                if self.routes.iter().any(|r| r.route_id == route_id) {
                    return Err(TripError::RouteAlreadyRecorded { route_id });
                }
                TripEvent::TripRouteRecorded {
                    route_id,
                    distance_m,
                    duration_s,
                    polyline,
                }
            }
            TripCommand::RequestFoAssistance {
                request_id,
                kind,
                note,
            } => {
                self.require_open()?;
                if self.request(request_id).is_some() {
                    return Err(TripError::AssistanceAlreadyRequested { request_id });
                }
                TripEvent::FoAssistanceRequested {
                    request_id,
                    kind,
                    note: note.map(String::from),
                }
            }
            // A field operator still closes a request after the trip ended, so the two commands
            // below do not check the trip's status.
            TripCommand::AcknowledgeFoAssistance { request_id, fo_id } => {
                self.require_request(request_id, &[AssistanceStatus::Requested])?;
                TripEvent::FoAssistanceAcknowledged { request_id, fo_id }
            }
            TripCommand::ResolveFoAssistance {
                request_id,
                outcome,
                note,
            } => {
                let from_status = self.require_request(
                    request_id,
                    &[AssistanceStatus::Requested, AssistanceStatus::Acknowledged],
                )?;
                TripEvent::FoAssistanceResolved {
                    request_id,
                    outcome,
                    note: note.map(String::from),
                    from_status,
                }
            }
        };
        Ok(vec![event])
    }

    /// COMPLETED and CANCELLED are final: status changes, routes and new assistance requests
    /// are refused.
    fn require_open(&self) -> Result<(), TripError> {
        if self.status.is_terminal() {
            Err(TripError::Ended {
                status: self.status,
            })
        } else {
            Ok(())
        }
    }

    fn require(&self, allowed: &[TripStatus], command: &TripCommand) -> Result<(), TripError> {
        self.require_open()?;
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(TripError::InvalidTransition {
                command: command.name(),
                status: self.status,
            })
        }
    }

    fn request(&self, request_id: Uuid) -> Option<&AssistanceRequest> {
        self.assistance.iter().find(|r| r.request_id == request_id)
    }

    fn request_mut(&mut self, request_id: Uuid) -> Option<&mut AssistanceRequest> {
        self.assistance
            .iter_mut()
            .find(|r| r.request_id == request_id)
    }

    /// The request's current status, if it is one of `allowed`.
    fn require_request(
        &self,
        request_id: Uuid,
        allowed: &[AssistanceStatus],
    ) -> Result<AssistanceStatus, TripError> {
        let request = self
            .request(request_id)
            .ok_or(TripError::AssistanceNotFound { request_id })?;
        if allowed.contains(&request.status) {
            Ok(request.status)
        } else {
            Err(TripError::AssistanceNotOpen {
                request_id,
                status: request.status,
            })
        }
    }
}

/// Distances and durations are finite and not negative; a polyline is not blank and at most
/// `Route::MAX_POLYLINE_CHARS` characters.
fn check_route(distance_m: f64, duration_s: f64, polyline: Option<&str>) -> Result<(), TripError> {
    let invalid = |reason: String| Err(TripError::InvalidRoute { reason });
    if !distance_m.is_finite() || distance_m < 0.0 {
        return invalid(format!(
            "distance_m must be a finite number of 0 or more, got {distance_m}"
        ));
    }
    if !duration_s.is_finite() || duration_s < 0.0 {
        return invalid(format!(
            "duration_s must be a finite number of 0 or more, got {duration_s}"
        ));
    }
    if let Some(polyline) = polyline {
        if polyline.trim().is_empty() {
            return invalid("polyline must not be blank".to_string());
        }
        if crate::text::has_control_characters(polyline) {
            return invalid("polyline must not contain control characters".to_string());
        }
        let len = polyline.chars().count();
        if len > Route::MAX_POLYLINE_CHARS {
            return invalid(format!(
                "polyline must be at most {} characters, got {len}",
                Route::MAX_POLYLINE_CHARS
            ));
        }
    }
    Ok(())
}

crate::aggregate!(
    Trip: TripCommand => TripEvent, TripError, (),
    |trip, command, _| trip.decide(command)
);

impl Trip {
    /// What `event` changes (`Aggregate::apply`): assignments only, every decision is taken.
    pub(crate) fn evolve(&mut self, event: TripEvent) {
        if let TripEvent::TripPlanned {
            task_id,
            robot_id,
            trip_type,
            origin,
            destination,
        } = event
        {
            self.0 = Some(TripState {
                status: TripStatus::AtStop,
                task_id,
                robot_id,
                trip_type,
                origin,
                destination,
                current_location: None,
                stops: 0,
                routes: Vec::new(),
                assistance: Vec::new(),
                cancellation_reason: None,
                cancellation_note: None,
            });
            return;
        }
        let Some(trip) = self.0.as_mut() else {
            return;
        };
        if let Some(status) = event.new_status() {
            trip.status = status;
        }
        match event {
            TripEvent::TripArrivedAtStop { location, .. } => {
                trip.current_location = location;
                trip.stops += 1;
            }
            TripEvent::TripCancelled { reason, note, .. } => {
                trip.cancellation_reason = Some(reason);
                trip.cancellation_note = note;
            }
            TripEvent::TripRouteRecorded {
                route_id,
                distance_m,
                duration_s,
                polyline,
            } => trip.routes.push(Route {
                route_id,
                distance_m,
                duration_s,
                polyline,
            }),
            TripEvent::FoAssistanceRequested {
                request_id,
                kind,
                note,
            } => trip.assistance.push(AssistanceRequest {
                request_id,
                kind,
                status: AssistanceStatus::Requested,
                note,
                fo_id: None,
                outcome: None,
                resolution_note: None,
            }),
            TripEvent::FoAssistanceAcknowledged { request_id, fo_id } => {
                if let Some(request) = trip.request_mut(request_id) {
                    request.status = AssistanceStatus::Acknowledged;
                    request.fo_id = fo_id;
                }
            }
            TripEvent::FoAssistanceResolved {
                request_id,
                outcome,
                note,
                ..
            } => {
                if let Some(request) = trip.request_mut(request_id) {
                    request.status = AssistanceStatus::Resolved;
                    request.outcome = Some(outcome);
                    request.resolution_note = note;
                }
            }
            _ => {}
        }
    }
}
