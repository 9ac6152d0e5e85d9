use clap::Parser;

use operations::settings::{Cli, Command};
use operations::startup::{self, Application};
use operations::{cli, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // verify and digest read the whole events table in one statement, on purpose.
    let levels = match cli.command {
        Command::Verify(_) | Command::Digest(_) => {
            "info,sqlx::query=error,sqlx::postgres::notice=warn"
        }
        _ => "info,sqlx::postgres::notice=warn",
    };
    telemetry::init_subscriber(telemetry::get_subscriber(
        levels,
        cli.telemetry.log_format,
        std::io::stderr,
    ));
    match cli.command {
        Command::Serve(settings) => {
            Application::build(*settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate(settings) => {
            let pool = startup::connect(&settings.database).await?;
            let mut followed = startup::migrate(&pool).await?;
            if settings.moved && followed.moved.is_none() {
                followed = operations::store::moves::declare_move(&pool).await?;
            }
            let store = operations::store::EventStore::new(pool.clone(), Default::default());
            for report in operations::upgrade::run(&store, true).await? {
                report.log();
            }
            match followed.moved {
                Some(moved) => tracing::info!(
                    reason = %moved.reason,
                    offset = moved.new_offset,
                    "migrations applied; the database had moved to another cluster and the feed's clock now follows it"
                ),
                None => tracing::info!("migrations applied"),
            }
            Ok(())
        }
        Command::Replay(settings) => cli::replay(settings).await,
        Command::Export(settings) => cli::export(settings).await,
        Command::Timeline(settings) => cli::timeline(settings).await,
        Command::Keys(settings) => cli::keys(settings).await,
        Command::Verify(settings) => cli::verify(settings).await,
        Command::Digest(settings) => cli::digest(settings).await,
        Command::DeadLetters(settings) => cli::dead_letters(settings).await,
        Command::Openapi => {
            use std::io::Write;
            let printed = writeln!(
                std::io::stdout(),
                "{:#}",
                operations::http::openapi_document()
            );
            match printed {
                // `operations openapi | head`: the reader has all it wanted.
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => Ok(other?),
            }
        }
    }
}
