//! The read side of operations: the views the API answers with, and (next) the projectors that
//! keep the read-model tables in step with the event store.

pub mod task;
