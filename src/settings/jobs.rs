//! The settings of the CLI's jobs: migrate, replay, export, timeline, keys, dead letters,
//! verify, digest.

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::{parse_duration, DatabaseSettings};

#[derive(Args, Clone)]
pub struct MigrateSettings {
    /// The database was restored in a way the detection cannot see (a point-in-time restore
    /// into the same cluster): move the feed's clock past everything stored anyway.
    #[arg(long)]
    pub moved: bool,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(Args, Clone)]
pub struct DeadLettersSettings {
    #[command(subcommand)]
    pub action: DeadLettersAction,
    /// Who acts, recorded on a retry or skip (default: `cli:<login>`).
    #[arg(long, global = true)]
    pub actor: Option<String>,
    /// How long retry and skip wait for a running instance to do them.
    #[arg(long, global = true, default_value = "30s", value_parser = parse_duration)]
    pub wait: Duration,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(Subcommand, Clone)]
pub enum DeadLettersAction {
    /// The dead letters, newest first (parked ones only, unless --all).
    List {
        /// Only this projector's (or `deadlines`).
        #[arg(long)]
        projector: Option<String>,
        /// Resolved ones too.
        #[arg(long)]
        all: bool,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Re-apply the dead letter's event and the ones parked behind it, in order (after a fix).
    Retry { id: i64 },
    /// Never apply the dead letter's event; apply the ones parked behind it. Recorded with who
    /// and why, and shown in the entity's timeline.
    Skip {
        id: i64,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args, Clone)]
pub struct VerifySettings {
    /// Only this collection's stream `--id` (tasks, trips, pilots, fo-tasks, robots, pilot-centers, locations, cities, hubs, operators).
    #[arg(long, requires = "id")]
    pub collection: Option<String>,
    #[arg(long, requires = "collection")]
    pub id: Option<uuid::Uuid>,
    /// A digest written by `operations digest`: also catch a stream rewritten with recomputed
    /// hashes, or deleted whole.
    #[arg(long)]
    pub digest: Option<std::path::PathBuf>,
    /// The public key (base64) the digest must be signed with, as `digest` printed it.
    #[arg(long, env = "OPERATIONS_DIGEST_PUBLIC_KEY", requires = "digest")]
    pub public_key: Option<String>,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(Args, Clone)]
pub struct DigestSettings {
    /// The signing key (an Ed25519 key in PKCS#8, as --new-key makes it).
    #[arg(long, required_unless_present = "new_key")]
    pub key: Option<std::path::PathBuf>,
    /// Where to write the digest (standard output when omitted).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Make a new signing key in this file (mode 600) and print its public half.
    #[arg(long, conflicts_with = "key")]
    pub new_key: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(Args, Clone)]
pub struct KeysSettings {
    #[command(subcommand)]
    pub action: KeysAction,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(Subcommand, Clone)]
pub enum KeysAction {
    /// Issue a key; its secret is printed once, as the last line of standard output.
    Create {
        /// A name of its own, for good (events record `key:<name>` as their actor).
        #[arg(long)]
        name: String,
        /// service, analyst, auditor or admin.
        #[arg(long)]
        role: crate::auth::Role,
        /// For a service key: the collections it may send commands to (comma-separated;
        /// every collection when omitted).
        #[arg(long, value_delimiter = ',')]
        collections: Option<Vec<String>>,
        /// How long it is valid, e.g. 90d (for good when omitted).
        #[arg(long, value_parser = parse_duration)]
        expires: Option<Duration>,
    },
    /// List the keys: name, role, collections, created, expires, last used; never a secret.
    List {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key, on every instance at once.
    Revoke { name: String },
}

/// Who may call: API keys always; JWTs from an identity provider when a JWKS is given.
#[derive(Args, Clone)]
pub struct ExportSettings {
    /// `ndjson` (one JSON event per line) or `csv` (payload and metadata as JSON text).
    #[arg(long, default_value = "ndjson")]
    pub format: ExportFormat,
    /// Only this aggregate type (Task, Trip, Pilot, FoTask, Robot, Operator, Hub, City, PilotCenter, Location).
    #[arg(long)]
    pub aggregate_type: Option<String>,
    /// Only these event types (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub event_type: Option<Vec<String>>,
    /// Only events recorded at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events recorded before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Start after this feed token (a previous export's last `token`).
    #[arg(long)]
    pub after: Option<String>,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Ndjson,
    Csv,
}

#[derive(Args, Clone)]
pub struct TimelineSettings {
    /// tasks, trips, pilots, fo-tasks, robots, pilot-centers, locations, cities, hubs or operators.
    pub collection: String,
    /// The entity's id.
    pub id: uuid::Uuid,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(Args, Clone)]
pub struct ReplaySettings {
    /// The read model to rebuild (all of them when omitted).
    #[arg(long)]
    pub projection: Option<String>,
    /// Events per batch.
    #[arg(long, default_value_t = 20000)]
    pub batch_size: i64,
    /// Projectors whose replay fails at an event it cannot apply, rather than park its stream
    /// (as `serve --stop-on-failure`).
    #[arg(
        long = "stop-on-failure",
        env = "OPERATIONS_STOP_ON_FAILURE",
        value_delimiter = ','
    )]
    pub stop_on_failure: Vec<String>,
    #[command(flatten)]
    pub database: DatabaseSettings,
}
