//! Command line flags. Every flag also reads `TRIBUTARY_<FLAG>` from the environment.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tributary",
    version,
    about = "Control plane for data syncs, served over gRPC"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gRPC API, with the scheduler, the reaper and a native executor.
    Serve(ServeArgs),
    /// Run a native executor only, against a shared PostgreSQL store.
    Worker(WorkerArgs),
    /// Apply pending schema migrations to the control store and exit.
    Migrate(StoreArgs),
}

/// Where the control store lives.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the embedded SQLite stores, the admin key and the secret key.
    #[arg(long, env = "TRIBUTARY_DATA_DIR", default_value = "./tributary-data")]
    pub data_dir: PathBuf,
    /// Control store URL (postgres://… or sqlite://…). Default: SQLite in --data-dir.
    #[arg(long, env = "TRIBUTARY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// What connectors may open on this machine.
#[derive(Debug, Clone, Default, Args)]
pub struct LocalFilesArgs {
    /// A directory whose files connections may open (SQLite sources).
    /// Repeatable; the environment variable takes a comma-separated list.
    /// Paths are resolved after `..` and symlinks and must lie inside one of
    /// these (each must exist); the data dir, the control store and the
    /// warehouse stay off limits whatever is allowed. Default: none, so no
    /// connection may open a local file.
    #[arg(
        long = "allow-local-files",
        env = "TRIBUTARY_ALLOW_LOCAL_FILES",
        value_name = "DIR",
        value_delimiter = ','
    )]
    pub allow: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TRIBUTARY_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Destination warehouse URL: `sqlite://PATH`, or `postgres://…` (one
    /// database, a schema per workspace namespace). Default: SQLite
    /// `warehouse.db` in --data-dir.
    #[arg(long, env = "TRIBUTARY_WAREHOUSE_URL", hide_env_values = true)]
    pub warehouse_url: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub local_files: LocalFilesArgs,
    /// Runs this process executes at once; 0 executes nothing.
    #[arg(long, env = "TRIBUTARY_EXECUTOR_CONCURRENCY", default_value_t = 4)]
    pub executor_concurrency: usize,
    /// Fire scheduled syncs, and record freshness SLA breaches and
    /// recoveries, from this process (any number of replicas may).
    #[arg(long, env = "TRIBUTARY_SCHEDULER", default_value_t = true, action = clap::ArgAction::Set)]
    pub scheduler: bool,
    /// How often the freshness monitor looks for breaches and recoveries.
    /// Not a flag: tests shorten it.
    #[arg(skip = Duration::from_secs(1))]
    pub freshness_tick: Duration,
    /// Longest life of a server stream; it then ends with UNAVAILABLE (0: unlimited).
    #[arg(long, env = "TRIBUTARY_MAX_STREAM_DURATION", value_parser = parse_duration, default_value = "0s")]
    pub max_stream_duration: Duration,
    /// Deadline of a unary call when the client sends none.
    #[arg(long, env = "TRIBUTARY_REQUEST_TIMEOUT", value_parser = parse_duration, default_value = "30s")]
    pub request_timeout: Duration,
    /// API calls served at once across all connections; more wait their
    /// turn. A call takes its slot only once its request has arrived;
    /// health and reflection never wait for one.
    #[arg(
        long,
        env = "TRIBUTARY_MAX_CONCURRENT_REQUESTS",
        default_value_t = 1024
    )]
    pub max_concurrent_requests: usize,
    /// HTTP/2 streams one client connection may open at once (watches
    /// included); at most half of --max-concurrent-requests, so that no
    /// connection can take every slot.
    #[arg(long, env = "TRIBUTARY_MAX_CONCURRENT_STREAMS", default_value_t = 128)]
    pub max_concurrent_streams: u32,
    /// How long a call's request message may take to arrive; a call whose
    /// body is later ends with DEADLINE_EXCEEDED without taking a slot.
    #[arg(long, env = "TRIBUTARY_REQUEST_BODY_TIMEOUT", value_parser = parse_duration, default_value = "10s")]
    pub request_body_timeout: Duration,
    /// Serve Get/List of connections from a cache that every write retires.
    /// Replicas on PostgreSQL then see each other's writes once the change
    /// notification lands (milliseconds); `false` reads the store every time.
    #[arg(long, env = "TRIBUTARY_READ_CACHE", default_value_t = true, action = clap::ArgAction::Set)]
    pub read_cache: bool,
    /// How long shutdown waits for in-flight calls.
    #[arg(long, env = "TRIBUTARY_SHUTDOWN_GRACE", value_parser = parse_duration, default_value = "10s")]
    pub shutdown_grace: Duration,
    #[arg(long, env = "TRIBUTARY_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// PEM certificate chain; enables TLS together with --tls-key.
    #[arg(long, env = "TRIBUTARY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, env = "TRIBUTARY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA bundle; clients must then present a certificate it signed (mutual TLS).
    #[arg(long, env = "TRIBUTARY_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// 32-byte key (hex or base64) encrypting credentials. Default: `secret.key` in --data-dir.
    #[arg(long, env = "TRIBUTARY_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

/// Settings shared by every process that executes runs.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    #[arg(long, env = "TRIBUTARY_HEARTBEAT_INTERVAL", value_parser = parse_duration, default_value = "5s")]
    pub heartbeat_interval: Duration,
    #[arg(long, env = "TRIBUTARY_HEARTBEAT_TIMEOUT", value_parser = parse_duration, default_value = "30s")]
    pub heartbeat_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, env = "TRIBUTARY_WAREHOUSE_URL", hide_env_values = true)]
    pub warehouse_url: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub local_files: LocalFilesArgs,
    #[arg(long, env = "TRIBUTARY_EXECUTOR_CONCURRENCY", default_value_t = 4)]
    pub executor_concurrency: usize,
    #[arg(long, env = "TRIBUTARY_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

/// Durations as `500ms`, `5s`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write durations like 500ms, 5s, 2m)"))
}

impl ServeArgs {
    /// Defaults for an embedded server in `data_dir` on an ephemeral port (tests, benches).
    pub fn embedded(data_dir: PathBuf) -> Self {
        let cli = Cli::parse_from([
            "tributary".into(),
            "serve".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            data_dir.into_os_string(),
        ]);
        match cli.command {
            Command::Serve(args) => args,
            _ => unreachable!("parsed a serve command"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_local_files_repeats_and_splits_on_commas() {
        let cli = Cli::parse_from([
            "tributary",
            "worker",
            "--allow-local-files",
            "/srv/a,/srv/b",
            "--allow-local-files",
            "/srv/c",
        ]);
        let Command::Worker(args) = cli.command else {
            panic!("parsed a worker command")
        };
        let want: Vec<PathBuf> = ["/srv/a", "/srv/b", "/srv/c"].map(PathBuf::from).into();
        assert_eq!(args.local_files.allow, want);
    }
}
