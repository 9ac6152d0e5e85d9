//! The one settings type: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sqlx::postgres::PgConnectOptions;

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
    Serve(ServeSettings),
    /// Apply pending migrations and exit.
    Migrate(DatabaseSettings),
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
}

#[derive(Args, Clone)]
pub struct ServeSettings {
    /// Address to listen on.
    #[arg(long, env = "OPERATIONS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// How long an Idempotency-Key is remembered, e.g. `24h`, `90m`, `3600s`.
    #[arg(long, env = "OPERATIONS_IDEMPOTENCY_TTL", default_value = "24h", value_parser = parse_duration)]
    pub idempotency_ttl: Duration,
    #[command(flatten)]
    pub database: DatabaseSettings,
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

/// A duration as a whole number with a unit: `s`, `m`, `h` or `d`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{value}` is not a duration such as 30s, 15m, 24h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{value}` needs a unit: s, m, h or d")),
    };
    Ok(Duration::from_secs(number * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_number_and_a_unit() {
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("24").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5w").is_err());
    }
}
