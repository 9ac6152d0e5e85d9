//! How a field of a row is stored in its column: the type it binds as and reads back as.

use chrono::{DateTime, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::PgHasArrayType;
use sqlx::{Decode, Encode, Postgres, Type};
use uuid::Uuid;

/// A field's value as its column holds it. Plain values are stored as they are; text by
/// reference; a seed enum as its text; an unsigned count as a signed integer. A table's upsert
/// binds each column as an array of `Bind` (borrowed from the rows: no copy of their text), so
/// `Bind` must have a PostgreSQL array type.
pub trait Column: Sized {
    /// What a load reads the column as.
    type Stored: for<'r> Decode<'r, Postgres> + Type<Postgres> + Send + 'static;
    /// What an upsert binds, borrowed from the row.
    type Bind<'a>: Encode<'a, Postgres> + Type<Postgres> + PgHasArrayType + Send + 'a
    where
        Self: 'a;

    fn bind(&self) -> Self::Bind<'_>;
    fn restore(stored: Self::Stored) -> Result<Self, BoxDynError>;
}

macro_rules! copied {
    ($($ty:ty),+) => {$(
        impl Column for $ty {
            type Stored = $ty;
            type Bind<'a> = $ty;
            fn bind(&self) -> $ty {
                *self
            }
            fn restore(stored: $ty) -> Result<Self, BoxDynError> {
                Ok(stored)
            }
        }
    )+};
}

copied!(Uuid, i64, i32, f64, bool, DateTime<Utc>);

impl Column for String {
    type Stored = String;
    type Bind<'a> = &'a str;
    fn bind(&self) -> &str {
        self
    }
    fn restore(stored: String) -> Result<Self, BoxDynError> {
        Ok(stored)
    }
}

impl<T: Column> Column for Option<T>
where
    Option<T::Stored>: for<'r> Decode<'r, Postgres>,
    for<'a> Option<T::Bind<'a>>: Encode<'a, Postgres>,
{
    type Stored = Option<T::Stored>;
    type Bind<'a>
        = Option<T::Bind<'a>>
    where
        T: 'a;
    fn bind(&self) -> Self::Bind<'_> {
        self.as_ref().map(T::bind)
    }
    fn restore(stored: Self::Stored) -> Result<Self, BoxDynError> {
        stored.map(T::restore).transpose()
    }
}

macro_rules! unsigned {
    ($($ty:ty => $stored:ty),+) => {$(
        impl Column for $ty {
            type Stored = $stored;
            type Bind<'a> = $stored;
            fn bind(&self) -> $stored {
                *self as $stored
            }
            fn restore(stored: $stored) -> Result<Self, BoxDynError> {
                Ok(<$ty>::try_from(stored)?)
            }
        }
    )+};
}

unsigned!(u64 => i64, u32 => i32);

/// Seed enums are stored as the text their `strum` derive gives them (the API's spelling).
macro_rules! text {
    ($($ty:ty),+ $(,)?) => {$(
        impl Column for $ty {
            type Stored = String;
            type Bind<'a> = &'static str;
            fn bind(&self) -> &'static str {
                <&'static str>::from(*self)
            }
            fn restore(stored: String) -> Result<Self, BoxDynError> {
                stored.parse::<$ty>().map_err(|_| {
                    format!("`{stored}` is not a {}", stringify!($ty)).into()
                })
            }
        }
    )+};
}
text!(
    aggregates::task::TaskStatus,
    aggregates::task::TaskType,
    aggregates::task::CancellationReason,
    aggregates::trip::TripStatus,
    aggregates::trip::TripType,
    aggregates::trip::AssistanceKind,
    aggregates::trip::AssistanceOutcome,
    aggregates::trip::AssistanceStatus,
    aggregates::pilot::PilotLocation,
    aggregates::pilot::ShiftStatus,
    aggregates::pilot::PilotAssignmentStatus,
    aggregates::pilot::ReservationStatus,
    aggregates::fo_task::FoTaskStatus,
    aggregates::fo_task::SubtaskStatus,
    aggregates::fo_task::FoTaskKind,
    aggregates::fo_task::FoAction,
    aggregates::fo_task::SubtaskKind,
    aggregates::robot::RobotStatus,
    aggregates::robot::GroundingReason,
    aggregates::pilot_center::PilotCenterStatus,
    aggregates::site::LocationKind,
    aggregates::site::LocationStatus,
    aggregates::hub::HubStatus,
    aggregates::hub::PartnerKind,
    aggregates::operator::OperatorRole,
    aggregates::operator::OperatorStatus,
    aggregates::operator::DevicePlatform,
);

/// Values kept whole in a `jsonb` column: an availability quote's answer.
macro_rules! json {
    ($($ty:ty),+ $(,)?) => {$(
        impl Column for $ty {
            type Stored = sqlx::types::Json<$ty>;
            type Bind<'a> = sqlx::types::Json<&'a $ty>;
            fn bind(&self) -> Self::Bind<'_> {
                sqlx::types::Json(self)
            }
            fn restore(stored: Self::Stored) -> Result<Self, BoxDynError> {
                Ok(stored.0)
            }
        }
    )+};
}
json!(
    Vec<aggregates::availability_quote::QuotedRobot>,
    Vec<aggregates::availability_quote::QuotedPilot>,
    Vec<aggregates::availability_quote::QuotedOperator>,
    aggregates::availability_quote::Capacity,
    aggregates::availability_quote::Freshness,
);
