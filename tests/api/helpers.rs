//! The test harness: a real `tributary serve` per test on an ephemeral port
//! (fresh SQLite file or fresh PostgreSQL database), real tonic clients,
//! and the server's log lines captured for secret checks.
//!
//! PostgreSQL runs need TRIBUTARY_TEST_POSTGRES_URL (an admin URL; `.ci/test`
//! starts a private cluster and sets it). Without it they are skipped with a
//! notice, unless TRIBUTARY_REQUIRE_POSTGRES=1, which turns that into a failure.

#![allow(dead_code)]

use std::{
    future::Future,
    io::{BufRead, Write},
    net::SocketAddr,
    path::Path,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{
    Code, Request, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};
use tonic_types::StatusExt;
use tributary::{
    app::App,
    config::ServeArgs,
    pb::{
        self, catalog_service_client::CatalogServiceClient,
        connection_service_client::ConnectionServiceClient, run_service_client::RunServiceClient,
        sync_service_client::SyncServiceClient, workspace_service_client::WorkspaceServiceClient,
    },
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `<name>::sqlite` and `<name>::postgres` tests from `async fn <name>(app: TestApp)`.
/// `both!(spawn = PATH; names…)` starts each server with `PATH(backend)`
/// instead of `spawn_app` (a path that resolves from inside a child module,
/// such as `crate::helpers::spawn_with_local_files` or `super::my_spawn`).
#[macro_export]
macro_rules! both {
    (spawn = $spawn:path; $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $spawn($crate::helpers::Backend::Sqlite).await {
                    super::$name(app).await
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $spawn($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await
                }
            }
        }
    )+};
    ($($name:ident),+ $(,)?) => {
        $crate::both!(spawn = $crate::helpers::spawn_app; $($name),+);
    };
}

// === captured logs ===

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,sqlx=warn,sea_orm=warn,h2=info,hyper=info,tower=info",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buf
    });
}

/// Everything every test server has logged so far.
pub fn logs() -> String {
    init_logs();
    String::from_utf8_lossy(&LOGS.get().unwrap().lock().unwrap()).into_owned()
}

// === the app ===

pub struct TestApp {
    pub backend: Backend,
    pub addr: SocketAddr,
    pub admin_key: String,
    pub channel: Channel,
    pub database_url: Option<String>,
    /// `--warehouse-url`, when the test gave one (None: the SQLite
    /// `warehouse.db` in the data dir).
    pub warehouse_url: Option<String>,
    pub data_dir: TempDir,
    /// The directory the server may open local files in, when it may (see
    /// `spawn_with_local_files`).
    pub files: Option<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The test PostgreSQL cluster's admin URL, or None (skip) when there is
/// none; TRIBUTARY_REQUIRE_POSTGRES=1 turns a missing one into a failure.
pub fn test_postgres() -> Option<String> {
    match std::env::var("TRIBUTARY_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("TRIBUTARY_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("TRIBUTARY_TEST_POSTGRES_URL is not set; run the suite with `bash .ci/test`")
        }
        _ => {
            eprintln!(
                "skipping the PostgreSQL run: TRIBUTARY_TEST_POSTGRES_URL is not set (use `bash .ci/test`)"
            );
            None
        }
    }
}

/// The port of the test cluster, where role `tributary_scram` (created here
/// if missing) logs in over SCRAM from 127.0.0.1 (see .ci/postgres), or None
/// (skip) when there is no cluster.
pub async fn scram_role_port() -> Option<u16> {
    let admin = test_postgres()?;
    // Tests on both stores may create it at once.
    let db = Database::connect(&admin).await.unwrap();
    db.execute_unprepared(
        "DO $$ BEGIN CREATE ROLE tributary_scram LOGIN PASSWORD 'x'; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let port = admin
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("a port in TRIBUTARY_TEST_POSTGRES_URL");
    Some(port)
}

/// A fresh database on the test PostgreSQL cluster, or None (skip) when there is none.
pub async fn fresh_postgres() -> Option<String> {
    let admin = test_postgres()?;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let db = Database::connect(&admin)
        .await
        .expect("connecting to the test PostgreSQL");
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating a test database");
    let _ = db.close().await;
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin);
    Some(format!("{base}/{name}"))
}

const INHERITED_KEY: &str = "__TRIBUTARY_TEST_NO_KEY";

/// A second `serve` process on the same PostgreSQL database as `app` (a replica).
pub async fn spawn_replica(app: &TestApp) -> TestApp {
    spawn_replica_with(app, |_| {}).await
}

/// A replica of `app` with `tweak` applied to its flags.
pub async fn spawn_replica_with(app: &TestApp, tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let url = app
        .database_url
        .clone()
        .expect("replicas share a PostgreSQL store");
    let mut replica = spawn_app_with(Backend::Sqlite, |args| {
        args.store.database_url = Some(url.clone());
        tweak(args);
    })
    .await
    .unwrap();
    replica.backend = Backend::Postgres;
    replica.database_url = Some(url);
    replica.admin_key = app.admin_key.clone();
    replica
}

/// Waits until `replica` follows the other replicas' changes (its caches are
/// live): from then on only notifications keep them fresh.
pub async fn wait_until_following(replica: &TestApp) {
    let live = format!(
        "caches live: following other replicas' changes server={}",
        replica.addr
    );
    eventually(Duration::from_secs(10), || async {
        logs().contains(&live).then_some(())
    })
    .await;
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Starts a server that executes runs (two at a time, beating every 200 ms).
pub async fn spawn_executing(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |a| {
        a.executor_concurrency = 2;
        a.engine.heartbeat_interval = Duration::from_millis(200);
    })
    .await
}

/// As `spawn_with_local_files`, and executing runs.
pub async fn spawn_executing_with_files(backend: Backend) -> Option<TestApp> {
    let files = tempfile::tempdir().unwrap();
    let dir = files.path().to_path_buf();
    let mut app = spawn_app_with(backend, |a| {
        a.local_files.allow = vec![dir];
        a.executor_concurrency = 2;
    })
    .await?;
    app.files = Some(files);
    Some(app)
}

/// The config of a `postgres` connection to the test cluster's database at
/// `url` (`postgres://user@host:port/db`, trust auth).
pub fn postgres_config(url: &str) -> serde_json::Value {
    let rest = url.strip_prefix("postgres://").unwrap();
    let (user, rest) = rest.split_once('@').unwrap();
    let (hostport, database) = rest.split_once('/').unwrap();
    let (host, port) = hostport.split_once(':').unwrap();
    serde_json::json!({
        "host": host, "port": port.parse::<u16>().unwrap(), "database": database,
        "username": user, "sslmode": "disable"
    })
}

/// A sync named `table` of `entity` into `table` by `mode`, read by
/// `cursor` in batches of `batch_size`.
pub fn cursor_sync(
    connection_id: &str,
    entity: &str,
    table: &str,
    mode: pb::LoadMode,
    cursor: &str,
    batch_size: u64,
) -> pb::CreateSyncRequest {
    pb::CreateSyncRequest {
        name: table.into(),
        connection_id: connection_id.into(),
        entities: vec![entity.into()],
        table_bindings: vec![pb::TableBinding {
            entity_key: entity.into(),
            physical_table_name: table.into(),
            load_mode: mode.into(),
            cursor_field: cursor.into(),
            ..Default::default()
        }],
        execution_config: Some(json_struct(serde_json::json!({ "batch_size": batch_size }))),
        ..Default::default()
    }
}

/// Starts a server that may open local files in a fresh directory of its own
/// (`TestApp::files_dir`): `--allow-local-files` names only that.
pub async fn spawn_with_local_files(backend: Backend) -> Option<TestApp> {
    let files = tempfile::tempdir().unwrap();
    let dir = files.path().to_path_buf();
    let mut app = spawn_app_with(backend, |a| a.local_files.allow = vec![dir]).await?;
    app.files = Some(files);
    Some(app)
}

/// Starts a server with `tweak` applied to its flags.
pub async fn spawn_app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut ServeArgs),
) -> Option<TestApp> {
    init_logs();
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(fresh_postgres().await?),
    };
    let mut args = ServeArgs::embedded(data_dir.path().to_path_buf());
    args.store.database_url = database_url.clone();
    args.secret_key = None;
    // Runs stay PENDING, and none is scheduled, unless a test asks for an
    // executor or the scheduler (see `engine.rs`).
    args.executor_concurrency = 0;
    args.scheduler = false;
    tweak(&mut args);
    let warehouse_url = args.warehouse_url.clone();
    let follows = args
        .store
        .database_url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"));
    let app = App::build(args).await.expect("building the app");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        app.run(async {
            let _ = stopped.await;
        })
        .await
        .expect("serving");
    });
    // A replica of an existing store finds no new admin key: it inherits one.
    let admin_key = match std::fs::read_to_string(data_dir.path().join("admin.key")) {
        Ok(k) => k.trim().to_string(),
        Err(_) => std::env::var(INHERITED_KEY).unwrap_or_default(),
    };
    // The listener is bound already: connecting succeeds at once.
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let app = TestApp {
        backend,
        addr,
        admin_key,
        channel,
        database_url,
        warehouse_url,
        data_dir,
        files: None,
        stop: Some(stop),
        handle: Some(handle),
    };
    // On PostgreSQL the server hears of changes through a listener it starts
    // in the background; going live resynchronises every watcher. Tests
    // start once it is live, so that resync is not mistaken for theirs.
    if follows {
        wait_until_following(&app).await;
    }
    Some(app)
}

/// Sends an API key (or none, when empty) with every call.
#[derive(Clone)]
pub struct Key(Option<AsciiMetadataValue>);

impl Interceptor for Key {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(k) = &self.0 {
            req.metadata_mut().insert("x-api-key", k.clone());
        }
        Ok(req)
    }
}

pub type Authed = InterceptedService<Channel, Key>;

impl TestApp {
    /// A new connection of `provider` named `name`, with `config`.
    pub async fn connection(
        &self,
        name: &str,
        provider: &str,
        config: serde_json::Value,
    ) -> pb::Connection {
        self.connections()
            .create_connection(pb::CreateConnectionRequest {
                name: name.into(),
                provider: provider.into(),
                config: Some(json_struct(config)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// Watches run `run_id` and its later attempts until a progress event
    /// reports at least `records` written, each event within `within`;
    /// returns the stream there.
    pub async fn watch_until_written(
        &self,
        run_id: &str,
        records: i64,
        within: Duration,
    ) -> tonic::Streaming<pb::RunEvent> {
        let mut watch = self
            .runs()
            .watch_run(pb::WatchRunRequest {
                run_id: run_id.into(),
                follow_attempts: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        loop {
            let e = tokio::time::timeout(within, futures::StreamExt::next(&mut watch))
                .await
                .expect("progress in time")
                .expect("the run goes on")
                .unwrap();
            if matches!(&e.event, Some(pb::run_event::Event::Progress(p)) if p.records_written >= records)
            {
                return watch;
            }
        }
    }

    /// Creates the sync `req` asks for.
    pub async fn new_sync(&self, req: pb::CreateSyncRequest) -> pb::Sync {
        self.syncs().create_sync(req).await.unwrap().into_inner()
    }

    /// The directory `spawn_with_local_files` allowed.
    pub fn files_dir(&self) -> &std::path::Path {
        self.files
            .as_ref()
            .expect("a server started by spawn_with_local_files")
            .path()
    }

    fn key(key: &str) -> Key {
        Key((!key.is_empty()).then(|| MetadataValue::try_from(key).unwrap()))
    }

    pub fn connections(&self) -> ConnectionServiceClient<Authed> {
        self.connections_as(&self.admin_key)
    }
    pub fn connections_as(&self, key: &str) -> ConnectionServiceClient<Authed> {
        ConnectionServiceClient::with_interceptor(self.channel.clone(), Self::key(key))
    }
    pub fn syncs(&self) -> SyncServiceClient<Authed> {
        self.syncs_as(&self.admin_key)
    }
    pub fn syncs_as(&self, key: &str) -> SyncServiceClient<Authed> {
        SyncServiceClient::with_interceptor(self.channel.clone(), Self::key(key))
    }
    pub fn runs(&self) -> RunServiceClient<Authed> {
        self.runs_as(&self.admin_key)
    }
    pub fn runs_as(&self, key: &str) -> RunServiceClient<Authed> {
        RunServiceClient::with_interceptor(self.channel.clone(), Self::key(key))
    }
    pub fn catalog(&self) -> CatalogServiceClient<Authed> {
        CatalogServiceClient::with_interceptor(self.channel.clone(), Self::key(&self.admin_key))
    }
    pub fn workspaces(&self) -> WorkspaceServiceClient<Authed> {
        self.workspaces_as(&self.admin_key)
    }
    pub fn workspaces_as(&self, key: &str) -> WorkspaceServiceClient<Authed> {
        WorkspaceServiceClient::with_interceptor(self.channel.clone(), Self::key(key))
    }

    /// A new workspace named `name`, with its admin key.
    pub async fn other_workspace(&self, name: &str) -> pb::CreateWorkspaceResponse {
        self.workspaces()
            .create_workspace(pb::CreateWorkspaceRequest {
                name: name.into(),
                slug: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// A new key of `role` in the admin's workspace.
    pub async fn key_with_role(&self, role: pb::ApiKeyRole) -> String {
        self.workspaces()
            .create_api_key(pb::CreateApiKeyRequest {
                name: format!("{role:?} key"),
                role: role.into(),
                ttl_seconds: 0,
            })
            .await
            .unwrap()
            .into_inner()
            .key
    }

    /// Runs `sql` on the server's own control store, behind its back (to
    /// plant what no RPC can write).
    pub async fn store_sql(&self, sql: &str) {
        let url = self.database_url.clone().unwrap_or_else(|| {
            let db = self.data_dir.path().join("tributary.db");
            format!("sqlite://{}?mode=rw", db.display())
        });
        let db = Database::connect(url).await.unwrap();
        db.execute_unprepared(sql).await.unwrap();
        db.close().await.unwrap();
    }

    /// Every log line of the run, in order.
    pub async fn log_lines(&self, run_id: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .runs()
                .list_run_logs(pb::ListRunLogsRequest {
                    run_id: run_id.into(),
                    limit: Some(1000),
                    page_token: token.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            lines.extend(
                page.entries
                    .into_iter()
                    .filter_map(|e| e.line.map(|l| l.message)),
            );
            if !page.has_next {
                return lines;
            }
            token = page.next_page_token;
        }
    }

    /// A faker connection (no external system needed).
    pub async fn faker_connection(&self, name: &str) -> pb::Connection {
        self.faker_with(name, serde_json::json!({"row_count": 100}))
            .await
    }

    /// A faker connection with `config`.
    pub async fn faker_with(&self, name: &str, config: serde_json::Value) -> pb::Connection {
        self.connections()
            .create_connection(pb::CreateConnectionRequest {
                name: name.into(),
                provider: "faker".into(),
                config: Some(json_struct(config)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// A sync of one entity into `table` in load mode `mode`.
    pub async fn bound_sync(
        &self,
        connection_id: &str,
        entity: &str,
        mode: pb::LoadMode,
        table: &str,
    ) -> pb::Sync {
        self.syncs()
            .create_sync(pb::CreateSyncRequest {
                name: table.into(),
                connection_id: connection_id.into(),
                entities: vec![entity.into()],
                table_bindings: vec![pb::TableBinding {
                    entity_key: entity.into(),
                    physical_table_name: table.into(),
                    load_mode: mode.into(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// Starts a run of the sync.
    pub async fn trigger(&self, sync_id: &str) -> pb::Run {
        self.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: sync_id.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// WatchRun on `run_id` from its start.
    pub async fn watch(&self, run_id: &str) -> tonic::Streaming<pb::RunEvent> {
        self.runs()
            .watch_run(pb::WatchRunRequest {
                run_id: run_id.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }

    pub async fn run(&self, run_id: &str) -> pb::Run {
        self.runs()
            .get_run(pb::GetRunRequest {
                run_id: run_id.into(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// The AUTO_RESUME attempt of run `run_id`, whose worker was killed:
    /// waits until the reaper fails the run, then until its next attempt
    /// ends, and checks it succeeded.
    pub async fn resumed_attempt(&self, run_id: &str) -> pb::Run {
        let failed = eventually(Duration::from_secs(60), || async {
            let r = self.run(run_id).await;
            (r.status() == pb::RunStatus::Failed).then_some(r)
        })
        .await;
        assert_eq!(
            failed.result_reason_code(),
            pb::ResultReasonCode::HeartbeatTimeout
        );
        let next_id = failed
            .next_attempt_run_id
            .clone()
            .expect("an AUTO_RESUME attempt");
        let next = eventually(Duration::from_secs(120), || async {
            let r = self.run(&next_id).await;
            matches!(
                r.status(),
                pb::RunStatus::Succeeded | pb::RunStatus::Failed | pb::RunStatus::Cancelled
            )
            .then_some(r)
        })
        .await;
        assert_eq!(next.status(), pb::RunStatus::Succeeded, "{:?}", next.error);
        assert_eq!(next.triggered_by(), pb::TriggeredBy::AutoResume);
        next
    }

    /// A faker sync of `entities` with default bindings.
    pub async fn faker_sync(&self, connection_id: &str, name: &str, entities: &[&str]) -> pb::Sync {
        self.syncs()
            .create_sync(pb::CreateSyncRequest {
                name: name.into(),
                connection_id: connection_id.into(),
                entities: entities.iter().map(|e| e.to_string()).collect(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }
}

// === worker processes ===

/// A worker process, killed when dropped.
pub struct Worker(
    std::process::Child,
    Option<tokio::sync::oneshot::Receiver<()>>,
);

impl Worker {
    /// `tributary worker` on the control store `database_url`, writing into
    /// `warehouse_url`, with its data dir `dir`; beats every 200 ms and
    /// counts another worker silent after 1.5 s.
    pub fn spawn(database_url: &str, warehouse_url: &str, dir: &Path) -> Self {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["worker", "--database-url", database_url])
            .args(["--warehouse-url", warehouse_url])
            .arg("--data-dir")
            .arg(dir)
            .args([
                "--heartbeat-interval",
                "200ms",
                "--heartbeat-timeout",
                "1500ms",
            ])
            .env("TRIBUTARY_LOG", "warn,tributary::app=info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starting tributary worker");
        // Passes the worker's log on, noting when it runs.
        let stderr = child.stderr.take().unwrap();
        let (running, ready) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut running = Some(running);
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("worker running") {
                    running.take().map(|tx| tx.send(()));
                }
                eprintln!("{line}");
            }
        });
        Self(child, Some(ready))
    }

    /// Waits until the worker has started executing (bounded).
    pub async fn running(&mut self) {
        let ready = self.1.take().expect("waited for once");
        tokio::time::timeout(Duration::from_secs(60), ready)
            .await
            .expect("the worker started within 60 s")
            .expect("the worker logged that it runs");
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// === assertions ===

pub fn json_struct(v: serde_json::Value) -> prost_types::Struct {
    tributary::api::convert::json_to_struct(v.as_object().unwrap())
}

/// The status of a call that must fail with `code`.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(
    r: Result<tonic::Response<T>, Status>,
    code: Code,
) -> Status {
    match r {
        Ok(resp) => panic!("expected {code:?}, got OK: {:?}", resp.into_inner()),
        Err(s) => {
            assert_eq!(s.code(), code, "unexpected status: {s:?}");
            s
        }
    }
}

/// The field paths of a status's BadRequest violations.
pub fn violations(s: &Status) -> Vec<String> {
    s.get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The ErrorInfo reason of a status.
pub fn reason(s: &Status) -> String {
    s.get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

/// Asserts an INVALID_ARGUMENT that names exactly `field` among its violations.
#[track_caller]
pub fn expect_violation<T: std::fmt::Debug>(
    r: Result<tonic::Response<T>, Status>,
    field: &str,
) -> Status {
    let s = expect_code(r, Code::InvalidArgument);
    let v = violations(&s);
    assert!(
        v.iter().any(|f| f == field),
        "expected a violation of {field}, got {v:?} ({})",
        s.message()
    );
    s
}

/// Polls `check` until it returns Some or the deadline passes.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await; // poll interval, bounded by the deadline above
    }
}

// === more clients and checks (auth, errors, catalog tests) ===

impl TestApp {
    pub fn catalog_as(&self, key: &str) -> CatalogServiceClient<Authed> {
        CatalogServiceClient::with_interceptor(self.channel.clone(), Self::key(key))
    }
    pub fn executor_as(
        &self,
        key: &str,
    ) -> pb::executor_service_client::ExecutorServiceClient<Authed> {
        pb::executor_service_client::ExecutorServiceClient::with_interceptor(
            self.channel.clone(),
            Self::key(key),
        )
    }
}

/// The ErrorInfo domain of a status ("" when it has none).
pub fn domain(s: &Status) -> String {
    s.get_details_error_info()
        .map(|i| i.domain)
        .unwrap_or_default()
}

/// The stream's next event within 10 s; None once it has ended.
pub async fn next_event(s: &mut tonic::Streaming<pb::RunEvent>) -> Option<pb::RunEvent> {
    tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(s))
        .await
        .expect("an event within 10s")
        .map(|r| r.expect("a good event"))
}

impl TestApp {
    /// Begins shutdown and waits until the server has stopped; how long that took.
    pub async fn shut_down(&mut self) -> Duration {
        let start = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap();
        }
        start.elapsed()
    }
}
