//! The one settings type: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sqlx::postgres::PgConnectOptions;

mod jobs;

pub use jobs::*;

#[derive(Parser)]
#[command(
    name = "operations",
    version,
    about = "Event-sourced operations service for a robot-delivery fleet"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub telemetry: TelemetrySettings,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the HTTP API.
    Serve(Box<ServeSettings>),
    /// Apply pending migrations, follow a move to another cluster, and exit.
    Migrate(MigrateSettings),
    /// Rebuild read models from the events (safe while the service runs).
    Replay(ReplaySettings),
    /// Write events to stdout as NDJSON or CSV, in feed order, in constant memory.
    Export(ExportSettings),
    /// Print an entity's status timeline as a table.
    Timeline(TimelineSettings),
    /// Print the OpenAPI document (as served at /openapi.json), for client generators.
    Openapi,
    /// Issue, list and revoke API keys.
    Keys(KeysSettings),
    /// Recompute every stream's hash chain (and check it against a digest); exits non-zero,
    /// naming each broken stream, unless all is intact.
    Verify(VerifySettings),
    /// Write a signed statement (Ed25519) of every stream's head, for auditors to keep.
    Digest(DigestSettings),
    /// List, retry and skip dead letters: events a projector or process could not apply.
    DeadLetters(DeadLettersSettings),
}

#[derive(Args, Clone)]
pub struct AuthSettings {
    /// The identity provider's JWKS: a file, or an https URL. Enables JWT bearer tokens.
    #[arg(long, env = "OPERATIONS_JWT_JWKS", requires_all = ["jwt_issuer", "jwt_audience"])]
    pub jwt_jwks: Option<String>,
    /// The `iss` the tokens must carry.
    #[arg(long, env = "OPERATIONS_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The `aud` the tokens must carry (this service's).
    #[arg(long, env = "OPERATIONS_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// The claim that names the roles: a string or an array of strings.
    #[arg(long, env = "OPERATIONS_JWT_ROLES_CLAIM", default_value = "roles")]
    pub jwt_roles_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[arg(long, env = "OPERATIONS_JWT_LEEWAY", default_value = "30s", value_parser = parse_duration)]
    pub jwt_leeway: Duration,
    /// The shortest time between two fetches of the JWKS (a token with an unknown `kid`
    /// fetches it again).
    #[arg(long, env = "OPERATIONS_JWT_REFETCH_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub jwt_refetch_interval: Duration,
}

impl Default for AuthSettings {
    /// The command line's defaults.
    fn default() -> Self {
        defaults()
    }
}

impl AuthSettings {
    pub fn jwt(&self) -> Option<crate::auth::jwt::JwtSettings> {
        Some(crate::auth::jwt::JwtSettings {
            jwks: self.jwt_jwks.clone()?,
            issuer: self.jwt_issuer.clone()?,
            audience: self.jwt_audience.clone()?,
            roles_claim: self.jwt_roles_claim.clone(),
            leeway: self.jwt_leeway,
            refetch_interval: self.jwt_refetch_interval,
        })
    }
}

#[derive(Args, Clone)]
pub struct DatabaseSettings {
    /// PostgreSQL connection URL.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true, value_parser = PgConnectOptions::from_str)]
    pub url: PgConnectOptions,
    /// Connections in the pool.
    #[arg(
        long = "database-max-connections",
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 20
    )]
    pub max_connections: u32,
    #[command(flatten)]
    pub timeouts: DatabaseTimeouts,
}

/// Timeouts on every connection, so that neither a hung peer nor a stuck session can hold
/// anything for long. The CLI's long jobs (replay, export, verify, digest) and the migrations
/// run without the statement and idle-in-transaction limits.
#[derive(Args, Clone, Copy, Debug)]
pub struct DatabaseTimeouts {
    /// How long opening a connection (or waiting for one from the pool) may take.
    #[arg(long = "database-connect-timeout", env = "DATABASE_CONNECT_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub connect: Duration,
    /// The longest a statement may run (PostgreSQL's `statement_timeout`; `0s`: none).
    #[arg(long = "database-statement-timeout", env = "DATABASE_STATEMENT_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub statement: Duration,
    /// The longest a session may sit idle inside a transaction before PostgreSQL ends it,
    /// freeing its locks and the horizon (`idle_in_transaction_session_timeout`; `0s`: none).
    #[arg(long = "database-idle-in-transaction-timeout", env = "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub idle_in_transaction: Duration,
    /// TCP keepalives on the server's side of every connection: idle time before the first
    /// probe (then every third of it, three times), so that PostgreSQL ends the session of a
    /// client that vanished (`tcp_keepalives_*`; `0s`: the system's).
    #[arg(long = "database-tcp-keepalive", env = "DATABASE_TCP_KEEPALIVE", default_value = "15s", value_parser = parse_duration)]
    pub tcp_keepalive: Duration,
}

impl Default for DatabaseTimeouts {
    /// The command line's defaults.
    fn default() -> Self {
        defaults()
    }
}

impl DatabaseTimeouts {
    /// For the CLI's long jobs: no statement or idle-in-transaction limit.
    pub fn unbounded(self) -> Self {
        Self {
            statement: Duration::ZERO,
            idle_in_transaction: Duration::ZERO,
            ..self
        }
    }
}

#[derive(Args, Clone)]
pub struct ServeSettings {
    /// Address to listen on.
    #[arg(long, env = "OPERATIONS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// How long an Idempotency-Key is remembered, e.g. `24h`, `90m`, `3600s`.
    #[arg(long, env = "OPERATIONS_IDEMPOTENCY_TTL", default_value = "24h", value_parser = parse_duration)]
    pub idempotency_ttl: Duration,
    /// How long a read naming a consistency token waits for the read models to include it.
    #[arg(long, env = "OPERATIONS_CONSISTENCY_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub consistency_timeout: Duration,
    /// How long an availability quote may be relied on (its `expires_at`; never past the end of
    /// its window).
    #[arg(long, env = "OPERATIONS_QUOTE_TTL", default_value = "1m", value_parser = parse_duration)]
    pub quote_ttl: Duration,
    /// A transaction open longer than this makes /readyz report the horizon as held back.
    #[arg(long, env = "OPERATIONS_LONG_TRANSACTION", default_value = "30s", value_parser = parse_duration)]
    pub long_transaction: Duration,
    /// Take the hubs, cities, robots, pilot centers and locations commands name as given, without checking
    /// that they exist and are in a state that allows the command: for importing history whose
    /// entities were never registered here. Checks are on unless this is set.
    #[arg(long = "no-reference-checks", env = "OPERATIONS_NO_REFERENCE_CHECKS",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub no_reference_checks: bool,
    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub projections: ProjectionSettings,
    #[command(flatten)]
    pub auth: AuthSettings,
    #[command(flatten)]
    pub limits: LimitSettings,
}

/// What one client may cost: time per request, connections, requests per second.
#[derive(Args, Clone)]
pub struct LimitSettings {
    /// The longest a client may take to send a request's headers (from connecting, and from
    /// the end of the previous response on a kept-alive connection).
    #[arg(long, env = "OPERATIONS_HEADER_READ_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// A kept-alive connection with no request for this long after its last one is closed.
    #[arg(long, env = "OPERATIONS_IDLE_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// The longest a client may take to send a request's body.
    #[arg(long, env = "OPERATIONS_REQUEST_BODY_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_body_timeout: Duration,
    /// The longest a request may take, end to end (408 past it); keep it above
    /// --consistency-timeout.
    #[arg(long, env = "OPERATIONS_REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Connections open at once; past it, new ones wait in the listen queue. Keep it below the
    /// process's open-file limit (`ulimit -n`).
    #[arg(long, env = "OPERATIONS_MAX_OPEN_CONNECTIONS", default_value_t = 4096)]
    pub max_open_connections: usize,
    /// Requests per second per principal, in bursts of as many (0: no limit).
    #[arg(long, env = "OPERATIONS_RATE_LIMIT", default_value_t = 5000)]
    pub rate_limit: u32,
    /// Requests per second per client address without a valid credential (0: no limit).
    #[arg(
        long,
        env = "OPERATIONS_RATE_LIMIT_UNAUTHENTICATED",
        default_value_t = 20
    )]
    pub rate_limit_unauthenticated: u32,
}

impl Default for LimitSettings {
    /// The command line's defaults.
    fn default() -> Self {
        defaults()
    }
}

#[derive(Args, Clone)]
pub struct ProjectionSettings {
    /// Events a projector applies per transaction.
    #[arg(
        long = "projection-batch-size",
        env = "OPERATIONS_PROJECTION_BATCH_SIZE",
        default_value_t = 1000
    )]
    pub batch_size: i64,
    /// How often projectors look for new events when no notification came.
    #[arg(long = "projection-poll-interval", env = "OPERATIONS_PROJECTION_POLL_INTERVAL", default_value = "500ms", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// How long a projector that passed over events of no interest to it (in memory, with no
    /// database work) waits for a batch of its own before it moves its checkpoint past them.
    #[arg(long = "checkpoint-interval", env = "OPERATIONS_CHECKPOINT_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub checkpoint_interval: Duration,
    /// How long a REQUESTED assignment waits for its pilot before it goes STALE.
    #[arg(long = "assignment-timeout", env = "OPERATIONS_ASSIGNMENT_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub assignment_timeout: Duration,
    /// How often due deadlines (stale assignments, expired reservations) are looked for.
    #[arg(long = "deadline-interval", env = "OPERATIONS_DEADLINE_INTERVAL", default_value = "250ms", value_parser = parse_duration)]
    pub deadline_interval: Duration,
    /// Do not run projectors, processes or deadlines in this instance (others run them).
    #[arg(long = "no-projections", env = "OPERATIONS_NO_PROJECTIONS",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub disabled: bool,
    /// Attempts at an event a projector cannot apply (with backoff: 0.25 s, 0.5 s, 1 s...)
    /// before its stream is parked behind a dead letter; a deadline, attempts at its ticks.
    #[arg(long = "park-after", env = "OPERATIONS_PARK_AFTER", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub park_after: u32,
    /// Projectors that stop at an event they cannot apply rather than park its stream
    /// (comma-separated names, as `GET /v1/projections` lists them).
    #[arg(
        long = "stop-on-failure",
        env = "OPERATIONS_STOP_ON_FAILURE",
        value_delimiter = ','
    )]
    pub stop_on_failure: Vec<String>,
    /// How long an instance's hold on its projectors lasts unless renewed (renewed every third
    /// of it): a hung instance loses them to another after this.
    #[arg(long = "lease-ttl", env = "OPERATIONS_LEASE_TTL", default_value = "10s", value_parser = parse_duration)]
    pub lease_ttl: Duration,
}

impl Default for ProjectionSettings {
    /// The command line's defaults.
    fn default() -> Self {
        defaults()
    }
}

#[derive(Args, Clone)]
pub struct TelemetrySettings {
    /// Log format: `text` for people, `json` for log pipelines. Levels come from RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A settings group as an empty command line gives it, without reading the environment: the
/// defaults are written once, in the `#[arg(default_value...)]` attributes.
fn defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None));
    let matches = command.get_matches_from(["defaults"]);
    T::from_arg_matches(&matches).expect("every setting has a default")
}

/// A duration with its unit (`250ms`, `30s`, `15m`, `24h`, `7d`, `1h 30m`), as humantime reads it.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("`{value}` is not a duration such as 30s, 15m, 24h or 7d ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_take_a_number_and_a_unit() {
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("24").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn the_defaults_are_the_command_lines_and_ignore_the_environment() {
        std::env::set_var("OPERATIONS_LEASE_TTL", "99s");
        let projection = ProjectionSettings::default();
        assert_eq!(projection.lease_ttl, Duration::from_secs(10));
        assert_eq!(projection.batch_size, 1000);
        assert!(!projection.disabled);
        assert_eq!(LimitSettings::default().rate_limit, 5000);
        assert_eq!(
            DatabaseTimeouts::default().statement,
            Duration::from_secs(30)
        );
        assert_eq!(AuthSettings::default().jwt_roles_claim, "roles");
        std::env::remove_var("OPERATIONS_LEASE_TTL");
    }

    #[test]
    fn a_boolean_setting_from_the_environment_takes_1_true_and_yes() {
        use clap::Parser;
        for (value, expected) in [
            ("1", true),
            ("true", true),
            ("yes", true),
            ("0", false),
            ("no", false),
        ] {
            std::env::set_var("OPERATIONS_NO_PROJECTIONS", value);
            let cli =
                Cli::try_parse_from(["operations", "serve", "--database-url", "postgres://x"])
                    .unwrap();
            let Command::Serve(serve) = cli.command else {
                panic!("serve")
            };
            assert_eq!(serve.projections.disabled, expected, "{value}");
        }
        std::env::set_var("OPERATIONS_NO_PROJECTIONS", "maybe");
        assert!(
            Cli::try_parse_from(["operations", "serve", "--database-url", "postgres://x"]).is_err()
        );
        std::env::remove_var("OPERATIONS_NO_PROJECTIONS");
    }
}
