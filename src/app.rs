//! Building and running the server: `App::build` opens the store, migrates,
//! bootstraps and binds (port 0 works); `App::run` serves until shutdown.
//! `main` and the tests share this path.

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, sync::watch};
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig, server::TcpIncoming};

use crate::{
    api::{self, admission::AdmissionLayer, auth_layer::AuthLayer, layers::CallLayer},
    auth::secrets::{self, SecretBox},
    config::{EngineArgs, LocalFilesArgs, ServeArgs, StoreArgs, WorkerArgs},
    connectors::LocalFiles,
    engine::{self, Engine},
    events,
    service::Services,
    store::{Store, workspaces},
    warehouse::Warehouse,
};

/// Stops a background task when the owner goes.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    /// Asks `engine`'s executor (this task) to stop, and waits until its
    /// runs in flight have ended (see `Engine::begin_shutdown`).
    async fn finish(&mut self, engine: &Engine) {
        engine.begin_shutdown();
        if let Some(h) = self.0.as_mut() {
            let _ = h.await;
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(h) = &self.0 {
            h.abort();
        }
    }
}

pub struct App {
    args: ServeArgs,
    listener: TcpListener,
    local_addr: SocketAddr,
    services: Services,
    engine: Arc<Engine>,
}

/// The warehouse named by the flags: SQLite `warehouse.db` in the data dir by
/// default, one namespace per workspace (see `warehouse::Warehouse`).
/// `default_workspace` keeps its default schema in that file itself. Its
/// namespace opens now, so a bad path or an unreachable PostgreSQL stops
/// the start.
async fn open_warehouse(
    url: Option<&str>,
    data_dir: &std::path::Path,
    default_workspace: Option<String>,
) -> anyhow::Result<Warehouse> {
    let url = url.map(str::to_string).unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("warehouse.db").display()
        )
    });
    let warehouse = Warehouse::new(&url, default_workspace.clone())
        .map_err(|e| anyhow::anyhow!("opening the warehouse: {e}"))?;
    // Open the file the warehouse URL names now, so that a bad path stops
    // the start rather than the first run.
    if let Some(id) = default_workspace {
        warehouse
            .namespace(&id, "")
            .await
            .map_err(|e| anyhow::anyhow!("opening the warehouse: {e}"))?;
    }
    Ok(warehouse)
}

/// Workspace `default`'s id. A worker may start before any `serve` has
/// bootstrapped the store: it waits, since no run exists before that (and
/// runs of workspace `default` must not land outside its file).
async fn wait_for_default_workspace(store: &Store) -> anyhow::Result<Option<String>> {
    let mut told = false;
    loop {
        if workspaces::any(&store.read).await? {
            return Ok(workspaces::default_id(&store.read).await?);
        }
        if !told {
            tracing::info!("waiting for `tributary serve` to create workspace default");
            told = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// What connectors may open: the allowed directories, never the data dir,
/// nor the control store's or the warehouse's SQLite files wherever their
/// URLs put them. Called once those exist, so their real paths are known.
fn local_files(
    args: &LocalFilesArgs,
    store: &StoreArgs,
    warehouse_url: Option<&str>,
) -> anyhow::Result<LocalFiles> {
    let mut own = vec![store.data_dir.clone()];
    own.extend(store.database_url.as_deref().and_then(sqlite_file));
    // The warehouse file and the directory of its other namespaces.
    if let Some(file) = warehouse_url.and_then(sqlite_file) {
        own.push(crate::warehouse::namespace_dir(&file));
        own.push(file);
    }
    LocalFiles::new(&args.allow, &own)
}

/// The database file a `sqlite:` URL names.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    use std::str::FromStr;
    if !url.starts_with("sqlite:") {
        return None;
    }
    let opts = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let file = opts.get_filename();
    (!file.as_os_str().is_empty()).then(|| file.to_path_buf())
}

/// The engine of this process.
fn engine(
    store: Store,
    secrets: SecretBox,
    warehouse: Warehouse,
    local_files: LocalFiles,
    args: &EngineArgs,
    concurrency: usize,
) -> Arc<Engine> {
    Arc::new(Engine {
        store,
        secrets,
        warehouse,
        local_files,
        executor_id: engine::executor_id(),
        heartbeat_interval: args.heartbeat_interval,
        heartbeat_timeout: args.heartbeat_timeout,
        concurrency,
        batch_size: engine::BATCH_SIZE,
        fan_out: engine::FAN_OUT,
        shutdown: watch::channel(false).0,
    })
}

/// On PostgreSQL: follows other processes' changes and run events (see `events`).
fn follow_changes(
    url: Option<String>,
    store: &Store,
    keys: Arc<crate::auth::cache::KeyCache>,
    name: String,
) -> AbortOnDrop {
    AbortOnDrop(url.filter(|_| store.is_postgres()).map(|url| {
        let followers = events::pg::Followers {
            keys,
            reads: store.cache.clone(),
            hub: store.hub.clone(),
        };
        tokio::spawn(events::pg::follow(url, name, followers))
    }))
}

/// rustls is built with two providers (ring, ours; aws-lc-rs, which
/// object_store's HTTP client brings), so whatever asks for the process
/// default (tonic's TLS) must find one installed. A second install is a
/// no-op.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `tributary worker`: the executor and the reaper, without the API,
/// until `shutdown` resolves.
pub async fn run_worker(
    args: WorkerArgs,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    install_crypto_provider();
    let store = open_store(&args.store).await?;
    let key = secrets::load_or_create(args.secret_key.as_deref(), &args.store.data_dir)?;
    let files = local_files(
        &args.local_files,
        &args.store,
        args.warehouse_url.as_deref(),
    )?;
    tokio::pin!(shutdown);
    let default_workspace = tokio::select! {
        id = wait_for_default_workspace(&store) => id?,
        () = &mut shutdown => return Ok(()),
    };
    let warehouse = open_warehouse(
        args.warehouse_url.as_deref(),
        &args.store.data_dir,
        default_workspace,
    )
    .await?;
    let engine = engine(
        store.clone(),
        SecretBox::new(key),
        warehouse,
        files,
        &args.engine,
        args.executor_concurrency,
    );
    let keys = Arc::new(crate::auth::cache::KeyCache::new(false));
    let name = engine.executor_id.clone();
    let _listener = follow_changes(args.store.database_url.clone(), &store, keys, name);
    let mut executor = AbortOnDrop(Some(tokio::spawn(engine.clone().run_executor())));
    let _reaper = AbortOnDrop(Some(tokio::spawn(engine.clone().run_reaper())));
    tracing::info!(executor = %engine.executor_id, "worker running");
    shutdown.await;
    // Past the heartbeat timeout the reaper would resume the runs anyway.
    let drained = tokio::time::timeout(engine.heartbeat_timeout, executor.finish(&engine)).await;
    if drained.is_err() {
        tracing::warn!("runs still in flight after the heartbeat timeout; aborting them");
    }
    Ok(())
}

/// One connection must not be able to take every request slot.
fn check_limits(args: &ServeArgs) -> anyhow::Result<()> {
    let (streams, slots) = (
        args.max_concurrent_streams as usize,
        args.max_concurrent_requests,
    );
    anyhow::ensure!(
        streams >= 1 && slots >= 2 && streams <= slots / 2,
        "--max-concurrent-streams ({streams}) must be between 1 and half of \
         --max-concurrent-requests ({slots}), so that one connection cannot take every slot"
    );
    Ok(())
}

/// Opens (and migrates) the control store named by the flags.
pub async fn open_store(args: &StoreArgs) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| Store::sqlite_url(&args.data_dir));
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    Ok(store)
}

impl App {
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        install_crypto_provider();
        check_limits(&args)?;
        let store = open_store(&args.store).await?;
        // Before the first start's bootstrap: a bad flag stops the server
        // before it hands out an admin key.
        let files = local_files(
            &args.local_files,
            &args.store,
            args.warehouse_url.as_deref(),
        )?;
        if !args.read_cache {
            store.cache.turn_off();
        }
        let key = secrets::load_or_create(args.secret_key.as_deref(), &args.store.data_dir)?;
        if let Some((ws, key)) = workspaces::bootstrap(&store.write).await? {
            let path = args.store.data_dir.join("admin.key");
            secrets::write_private(&path, &key)?;
            // Shown once, on the terminal of whoever started the server; never logged.
            eprintln!(
                "Created workspace '{}' and its admin API key (also in {}):\n\n    {key}\n",
                ws.slug,
                path.display()
            );
        }
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let local_addr = listener.local_addr()?;
        let default_workspace = workspaces::default_id(&store.write).await?;
        let warehouse = open_warehouse(
            args.warehouse_url.as_deref(),
            &args.store.data_dir,
            default_workspace,
        )
        .await?;
        let secrets = SecretBox::new(key);
        let engine = engine(
            store.clone(),
            secrets.clone(),
            warehouse,
            files.clone(),
            &args.engine,
            args.executor_concurrency,
        );
        Ok(Self {
            services: Services::new(store, secrets, files),
            args,
            listener,
            local_addr,
            engine,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn data_dir(&self) -> PathBuf {
        self.args.store.data_dir.clone()
    }

    /// Serves until `shutdown` resolves, then reports NOT_SERVING, stops
    /// accepting, and gives in-flight calls the grace period to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let reporter = tonic_health::server::HealthReporter::new();
        let health = api::health::server(&reporter, stop_rx.clone());
        api::set_health(&reporter, true).await;
        let limits = api::streams::StreamLimits {
            max_duration: self.args.max_stream_duration,
            shutdown: stop_rx.clone(),
        };
        let routes = api::routes(
            self.services.clone(),
            limits,
            self.args.engine.heartbeat_timeout,
            health,
        )?;

        let mut builder = Server::builder()
            .timeout(self.args.request_timeout)
            .max_concurrent_streams(self.args.max_concurrent_streams)
            .http2_keepalive_interval(Some(Duration::from_secs(30)));
        if let (Some(cert), Some(key)) = (&self.args.tls_cert, &self.args.tls_key) {
            let identity = Identity::from_pem(std::fs::read(cert)?, std::fs::read(key)?);
            let mut tls = ServerTlsConfig::new().identity(identity);
            if let Some(ca) = &self.args.tls_client_ca {
                tls = tls.client_ca_root(Certificate::from_pem(std::fs::read(ca)?));
            }
            builder = builder.tls_config(tls)?;
        }
        // The builder's TCP settings do not apply to an incoming stream we
        // bring ourselves: without NODELAY, small responses wait out the
        // peer's delayed ACK (~40 ms each).
        let incoming = TcpIncoming::from(self.listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(Duration::from_secs(60)));
        let server = builder
            .layer(CallLayer)
            .layer(AdmissionLayer::new(
                self.args.max_concurrent_requests,
                self.args.request_body_timeout,
            ))
            .layer(AuthLayer::new(
                self.services.store.clone(),
                self.services.keys.clone(),
            ))
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = stop_rx.changed().await;
            });
        let _listener = follow_changes(
            self.args.store.database_url.clone(),
            &self.services.store,
            self.services.keys.clone(),
            self.local_addr.to_string(),
        );
        let mut executor = AbortOnDrop(Some(tokio::spawn(self.engine.clone().run_executor())));
        let _reaper = AbortOnDrop(Some(tokio::spawn(self.engine.clone().run_reaper())));
        let scheduler = AbortOnDrop(
            self.args
                .scheduler
                .then(|| tokio::spawn(self.engine.clone().run_scheduler())),
        );
        // Time-driven like the scheduler, so it runs where the scheduler does.
        let _freshness = AbortOnDrop(self.args.scheduler.then(|| {
            let tick = self.args.freshness_tick;
            tokio::spawn(self.engine.clone().run_freshness_monitor(tick))
        }));
        tracing::info!(addr = %self.local_addr, "serving tributary.v1");
        tokio::pin!(server);
        tokio::select! {
            r = &mut server => return r.context("serving"),
            () = shutdown => {}
        }
        tracing::info!(grace = ?self.args.shutdown_grace, "shutting down: no new calls or runs; finishing in-flight ones");
        api::set_health(&reporter, false).await;
        let _ = stop_tx.send(true);
        drop(scheduler);
        // Runs in flight stop at their last committed batch and resume as
        // their next attempts, at once, on whichever executor claims them.
        let drain = async {
            let (served, ()) = tokio::join!(server, executor.finish(&self.engine));
            served
        };
        match tokio::time::timeout(self.args.shutdown_grace, drain).await {
            Ok(r) => r.context("serving")?,
            Err(_) => tracing::warn!("grace period over; dropping the calls and runs still open"),
        }
        Ok(())
    }
}
