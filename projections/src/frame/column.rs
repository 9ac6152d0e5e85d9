//! How a field of a row is stored in its column: the type it binds and reads as.

use chrono::{DateTime, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::PgHasArrayType;
use sqlx::{Decode, Encode, Postgres, Type};
use uuid::Uuid;

/// A field's value as its column holds it. Plain values are stored as they are; a seed enum as
/// its text; an unsigned count as a signed integer. A table's upsert binds each column as an
/// array of `Stored`, so `Stored` must have a PostgreSQL array type.
pub trait Column: Sized {
    type Stored: for<'q> Encode<'q, Postgres>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + PgHasArrayType
        + Send
        + 'static;

    fn store(&self) -> Self::Stored;
    fn restore(stored: Self::Stored) -> Result<Self, BoxDynError>;
}

macro_rules! as_is {
    ($($ty:ty),+) => {$(
        impl Column for $ty {
            type Stored = $ty;
            fn store(&self) -> $ty {
                self.clone()
            }
            fn restore(stored: $ty) -> Result<Self, BoxDynError> {
                Ok(stored)
            }
        }
    )+};
}

as_is!(Uuid, i64, i32, f64, bool, String, DateTime<Utc>);

impl<T: Column> Column for Option<T>
where
    Option<T::Stored>: for<'q> Encode<'q, Postgres> + for<'r> Decode<'r, Postgres>,
{
    type Stored = Option<T::Stored>;
    fn store(&self) -> Self::Stored {
        self.as_ref().map(T::store)
    }
    fn restore(stored: Self::Stored) -> Result<Self, BoxDynError> {
        stored.map(T::restore).transpose()
    }
}

macro_rules! unsigned {
    ($($ty:ty => $stored:ty),+) => {$(
        impl Column for $ty {
            type Stored = $stored;
            fn store(&self) -> $stored {
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
            fn store(&self) -> String {
                <&'static str>::from(*self).to_owned()
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
);
