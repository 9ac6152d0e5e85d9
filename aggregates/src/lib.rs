//! The operations domain: commands, events and aggregates for the robot-delivery fleet.
//!
//! No I/O lives here: no SQL, no HTTP, no clock. Every decision is taken in an aggregate's
//! `handle`, `apply` only assigns, and everything a decision needs arrives with the command.

/// A seed enumeration: its values spelt SCREAMING_SNAKE_CASE alike by serde (the API) and by
/// strum (the read models' text columns, `Label::as_str`), listed by `VariantArray`, with its
/// schema. The one place the derives are written.
macro_rules! seed_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            strum::IntoStaticStr,
            strum::Display,
            strum::EnumString,
            strum::VariantArray,
        )]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        #[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }
    };
}

/// An aggregate's event enum: its variants' names are its event types (strum: `TYPES`, `name`),
/// stored as JSON (serde) and described in the OpenAPI document (utoipa). The one place the
/// derives are written.
macro_rules! event_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            strum::IntoStaticStr,
            strum::VariantNames,
        )]
        $vis enum $name { $($body)* }
    };
}

/// Makes `$aggregate` a cqrs-es `Aggregate`, its `TYPE` the type's name (or the one after `as`): `handle` records what
/// the decision (the closure, given the state, the command and the services) answers, and
/// `apply` is the aggregate's `evolve`. So `handle` and `apply` are written once, and an
/// aggregate is its decisions and its evolution, both plain functions with no I/O. Its event
/// gets its names from its variants (`TYPES`, `name`, strum's) and its cqrs-es `DomainEvent`
/// (type and version) from them.
macro_rules! aggregate {
    ($aggregate:ident as $type:literal: $($rest:tt)*) => {
        $crate::aggregate!(@impl $aggregate, $type, $($rest)*);
    };
    ($aggregate:ident: $($rest:tt)*) => {
        $crate::aggregate!(@impl $aggregate, stringify!($aggregate), $($rest)*);
    };
    (@impl $aggregate:ident, $type:expr, $command:ty => $event:ty, $error:ty, $services:ty,
     |$state:ident, $cmd:ident, $svc:pat_param| $decide:expr) => {
        impl cqrs_es::Aggregate for $aggregate {
            const TYPE: &'static str = $type;
            type Command = $command;
            type Event = $event;
            type Error = $error;
            type Services = $services;

            async fn handle(
                &mut self,
                command: $command,
                services: &$services,
                sink: &cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), $error> {
                let events = {
                    let ($state, $cmd, $svc) = (&*self, command, services);
                    $decide
                }?;
                for event in events {
                    sink.write(event, self).await;
                }
                Ok(())
            }

            fn apply(&mut self, event: $event) {
                self.evolve(event)
            }
        }

        impl $event {
            /// The event type names, as stored in the `event_type` column.
            pub const TYPES: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;

            pub fn name(&self) -> &'static str {
                self.into()
            }
        }

        impl cqrs_es::DomainEvent for $event {
            fn event_type(&self) -> String {
                self.name().to_string()
            }

            fn event_version(&self) -> String {
                $crate::versions::current(self.name()).to_string()
            }
        }
    };
}
pub(crate) use aggregate;

pub mod availability_quote;
pub mod city;
pub mod fo_task;
pub mod hub;
mod location;
pub mod operator;
pub mod pilot;
pub mod pilot_center;
mod region;
pub mod robot;
pub mod site;
pub mod task;
mod text;
pub mod trip;
pub mod versions;

pub use location::{Latitude, Location, LocationError, Longitude};
pub use region::{CountryCode, RegionError, TimeZone};
/// The names of an enum's variants (commands, events), as strum derives them.
pub use strum::VariantNames;
pub use text::{ExternalRef, Name, Note, TextError};

/// What a caller needs to know about a refusal, whatever the aggregate: a stable code and
/// whether the refusal means "no such entity" rather than "a rule said no".
pub trait DomainError: std::error::Error {
    /// A stable, machine-readable code (`invalid_transition`, `not_found`...).
    fn code(&self) -> &'static str;
    /// True when the command named an entity that does not exist.
    fn is_not_found(&self) -> bool {
        false
    }
}

/// The names of an aggregate's commands, as they appear in the HTTP body's `"type"`: the
/// variants' names (`strum::VariantNames`).
pub trait CommandNames: strum::VariantNames {
    /// How many variants, at the end of the enum, are issued by processes rather than clients
    /// (serde skips them).
    const INTERNAL: usize = 0;
    /// Every command a client may send, in catalogue order.
    const PUBLIC: &'static [&'static str] = Self::VARIANTS
        .split_at(Self::VARIANTS.len() - Self::INTERNAL)
        .0;
    /// This command's name.
    fn name(&self) -> &'static str;
    /// True for the command that creates the stream.
    fn creates_stream(&self) -> bool;
}

/// The text of a seed enum's value, as the API writes it and the read models store it (the
/// `strum` derive of each enum, which names its values as its serde derive does).
pub trait Label: Copy + Into<&'static str> {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

impl<T: Copy + Into<&'static str>> Label for T {}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::str::FromStr;

    use serde::{de::DeserializeOwned, Serialize};
    use strum::VariantArray;

    use super::{fo_task, hub, pilot, pilot_center, robot, site, task, trip, Label};

    /// The read models store a value as its `strum` text and the API writes it with serde: the
    /// two derives must spell every value alike, and the text must read back.
    fn spelt_alike<T>()
    where
        T: VariantArray + Label + Serialize + DeserializeOwned + FromStr + PartialEq + Debug,
    {
        for &value in T::VARIANTS {
            let text = value.as_str();
            assert_eq!(serde_json::to_value(value).unwrap(), text, "{value:?}");
            assert_eq!(T::from_str(text).ok(), Some(value), "{text}");
            assert_eq!(serde_json::from_value::<T>(text.into()).unwrap(), value);
        }
    }

    #[test]
    fn every_seed_enum_is_spelt_alike_by_serde_and_by_strum() {
        spelt_alike::<task::TaskStatus>();
        spelt_alike::<task::TaskType>();
        spelt_alike::<task::CancellationReason>();
        spelt_alike::<trip::TripStatus>();
        spelt_alike::<trip::TripType>();
        spelt_alike::<trip::AssistanceKind>();
        spelt_alike::<trip::AssistanceOutcome>();
        spelt_alike::<trip::AssistanceStatus>();
        spelt_alike::<pilot::PilotLocation>();
        spelt_alike::<pilot::ShiftStatus>();
        spelt_alike::<pilot::PilotAssignmentStatus>();
        spelt_alike::<pilot::ReservationStatus>();
        spelt_alike::<fo_task::FoTaskStatus>();
        spelt_alike::<fo_task::SubtaskStatus>();
        spelt_alike::<fo_task::FoTaskKind>();
        spelt_alike::<fo_task::FoAction>();
        spelt_alike::<robot::RobotStatus>();
        spelt_alike::<robot::GroundingReason>();
        spelt_alike::<pilot_center::PilotCenterStatus>();
        spelt_alike::<site::LocationKind>();
        spelt_alike::<site::LocationStatus>();
        spelt_alike::<hub::HubStatus>();
        spelt_alike::<hub::PartnerKind>();
    }
}
