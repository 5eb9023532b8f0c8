//! The `tributary` command: serve | worker | migrate.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::{EnvFilter, fmt};
use tributary::{
    app::{App, open_store},
    config::{Cli, Command, LogFormat},
};

/// glibc's allocator spends much of a busy server's time on arena locks and
/// consolidation; mimalloc does not. Its `override` feature makes it C's
/// `malloc` as well, so SQLite allocates from it too: from glibc's per-thread
/// arenas, memory SQLite had freed was not given back to the system, and a
/// server kept more after every round of `bench/soak`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// sysexits' EX_USAGE and EX_SOFTWARE.
const EX_USAGE: u8 = 64;
const EX_SOFTWARE: u8 = 70;

fn init_logs(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("TRIBUTARY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

/// Resolves on SIGINT or SIGTERM, logging which arrived.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
                "SIGTERM"
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<&str>();
    let which = tokio::select! { s = ctrl_c => s, s = term => s };
    tracing::info!(signal = which, "received shutdown signal");
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            init_logs(args.log_format);
            let app = App::build(args).await?;
            app.run(shutdown_signal()).await
        }
        Command::Migrate(args) => {
            init_logs(LogFormat::Text);
            open_store(&args).await?;
            tracing::info!("the control store is up to date");
            Ok(())
        }
        Command::Worker(args) => {
            init_logs(LogFormat::Text);
            tributary::app::run_worker(args, shutdown_signal()).await
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EX_SOFTWARE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EX_USAGE)
        }
    }
}
