//! One round of the soak benchmark of `bench/soak`, against a server it is
//! given (address, admin key, server pid for its memory):
//!
//! - `mixed SECS WATCHERS WORKERS`: WATCHERS watch streams and WORKERS unary
//!   workers for SECS seconds, each call picked at random: 2% creates (a
//!   sync of two faker entities into tables of its own, on a new faker
//!   connection one time in five), 13% triggers, 40% gets and 45% lists
//!   (connections, syncs and runs alike);
//! - `read SECS WATCHERS WORKERS`: the same watches, workers only get and
//!   list (in the same proportions);
//! - `settle SECS` (no PID): waits, at most SECS, until no run is pending
//!   or running.
//!
//! A fifth of the watch streams are WatchRuns (the workspace, or one sync);
//! the rest follow runs one after another with WatchRun, the newest
//! triggered first, each to its end. Prints the calls made and the server's
//! RSS at the start, at its peak and at the end of the round.

#[path = "common.rs"]
mod common;

use common::{Authed, Err, Key, rss_kib};

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use tokio_stream::StreamExt;
use tonic::{
    Code, Status,
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
use tributary::pb::{
    self, connection_service_client::ConnectionServiceClient, run_service_client::RunServiceClient,
    sync_service_client::SyncServiceClient,
};

/// Streams per client connection at most: the server allows 128.
const STREAMS_PER_CONNECTION: usize = 64;
/// Rows of every faker connection the round creates.
const ROWS: f64 = 1000.0;
/// Run ids the followers pick from, newest first.
const RECENT_RUNS: usize = 256;

#[derive(Clone)]
struct Api {
    channels: Arc<Vec<Channel>>,
    key: Key,
}

impl Api {
    fn ch(&self, i: usize) -> Channel {
        self.channels[i % self.channels.len()].clone()
    }
    fn connections(&self, i: usize) -> ConnectionServiceClient<Authed> {
        ConnectionServiceClient::with_interceptor(self.ch(i), self.key.clone())
    }
    fn syncs(&self, i: usize) -> SyncServiceClient<Authed> {
        SyncServiceClient::with_interceptor(self.ch(i), self.key.clone())
    }
    fn runs(&self, i: usize) -> RunServiceClient<Authed> {
        RunServiceClient::with_interceptor(self.ch(i), self.key.clone())
    }
}

/// Ids the workers and watchers pick from.
#[derive(Default)]
struct Known {
    connections: Vec<String>,
    syncs: Vec<String>,
    /// Newest last.
    runs: Vec<String>,
}

#[derive(Default)]
struct Tally {
    calls: Mutex<BTreeMap<&'static str, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    events: AtomicU64,
    watches: AtomicU64,
}

impl Tally {
    fn count(&self, what: &'static str) {
        *self
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(what)
            .or_default() += 1;
    }
    fn error(&self, what: &str, s: &Status) {
        *self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(format!("{what}: {:?}", s.code()))
            .or_default() += 1;
    }
}

struct Round {
    api: Api,
    known: Mutex<Known>,
    tally: Tally,
    writes: bool,
    until: Instant,
}

impl Round {
    fn over(&self) -> bool {
        Instant::now() >= self.until
    }
    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn pick(&self, rng: &mut StdRng, f: impl Fn(&Known) -> &Vec<String>) -> Option<String> {
        f(&self.known()).choose(rng).cloned()
    }
    /// A run to follow: one of the newest most of the time.
    fn run_to_watch(&self, rng: &mut StdRng) -> Option<String> {
        let k = self.known();
        let n = k.runs.len();
        if n == 0 {
            return None;
        }
        let back = if rng.gen_bool(0.8) {
            rng.gen_range(0..n.min(16))
        } else {
            rng.gen_range(0..n)
        };
        Some(k.runs[n - 1 - back].clone())
    }
    fn ran(&self, run_id: String) {
        let mut k = self.known();
        k.runs.push(run_id);
        if k.runs.len() > RECENT_RUNS {
            k.runs.remove(0);
        }
    }
}

fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{micros}_{}", N.fetch_add(1, Ordering::Relaxed))
}

fn number(n: f64) -> prost_types::Value {
    prost_types::Value {
        kind: Some(prost_types::value::Kind::NumberValue(n)),
    }
}

async fn create_connection(api: &Api, i: usize) -> Result<String, Status> {
    let fields = [("row_count".to_string(), number(ROWS))].into();
    Ok(api
        .connections(i)
        .create_connection(pb::CreateConnectionRequest {
            name: format!("soak {}", unique()),
            provider: "faker".into(),
            config: Some(prost_types::Struct { fields }),
            ..Default::default()
        })
        .await?
        .into_inner()
        .id)
}

/// A sync of two entities into tables of its own.
async fn create_sync(api: &Api, i: usize, connection_id: String) -> Result<String, Status> {
    let u = unique();
    let binding = |entity: &str| pb::TableBinding {
        entity_key: entity.into(),
        physical_table_name: format!("{entity}_{u}"),
        ..Default::default()
    };
    Ok(api
        .syncs(i)
        .create_sync(pb::CreateSyncRequest {
            name: format!("soak {u}"),
            connection_id,
            entities: vec!["users".into(), "orders".into()],
            table_bindings: vec![binding("users"), binding("orders")],
            ..Default::default()
        })
        .await?
        .into_inner()
        .id)
}

/// Fills `known` from the server (earlier rounds' data), creating a
/// connection and a few syncs if there is nothing yet and the round writes.
async fn seed(r: &Round) -> Result<(), Err> {
    let api = &r.api;
    let (mut connections, mut syncs, mut runs) = (Vec::new(), Vec::new(), Vec::new());
    let mut token = String::new();
    loop {
        let page = api
            .connections(0)
            .list_connections(pb::ListConnectionsRequest {
                limit: Some(100),
                page_token: token,
                ..Default::default()
            })
            .await?
            .into_inner();
        connections.extend(page.connections.into_iter().map(|c| c.id));
        token = page.next_page_token;
        if token.is_empty() || connections.len() >= 1000 {
            break;
        }
    }
    let mut token = String::new();
    loop {
        let page = api
            .syncs(0)
            .list_syncs(pb::ListSyncsRequest {
                limit: Some(100),
                page_token: token,
                ..Default::default()
            })
            .await?
            .into_inner();
        syncs.extend(page.syncs.into_iter().map(|s| s.id));
        token = page.next_page_token;
        if token.is_empty() || syncs.len() >= 1000 {
            break;
        }
    }
    let page = api
        .runs(0)
        .list_runs(pb::ListRunsRequest {
            limit: Some(100),
            ..Default::default()
        })
        .await?
        .into_inner();
    // Newest last.
    runs.extend(page.runs.into_iter().rev().map(|r| r.id));
    if connections.is_empty() && r.writes {
        connections.push(create_connection(api, 0).await?);
    }
    if syncs.len() < 4 && r.writes {
        for _ in syncs.len()..4 {
            syncs.push(create_sync(api, 0, connections[0].clone()).await?);
        }
    }
    let mut k = r.known();
    k.connections = connections;
    k.syncs = syncs;
    k.runs = runs;
    Ok(())
}

/// One unary call, picked at random; writes only in a mixed round.
async fn one_call(r: &Round, rng: &mut StdRng, i: usize) -> Result<&'static str, Status> {
    let api = &r.api;
    let roll = if r.writes {
        rng.gen_range(0..100)
    } else {
        rng.gen_range(15..100)
    };
    let missing = || Status::failed_precondition("nothing to pick");
    match roll {
        0..2 => {
            let conn = if rng.gen_bool(0.2) {
                let id = create_connection(api, i).await?;
                r.known().connections.push(id.clone());
                id
            } else {
                r.pick(rng, |k| &k.connections).ok_or_else(missing)?
            };
            let id = create_sync(api, i, conn).await?;
            r.known().syncs.push(id);
            Ok("create")
        }
        2..15 => {
            let sync_id = r.pick(rng, |k| &k.syncs).ok_or_else(missing)?;
            match api
                .syncs(i)
                .trigger_sync(pb::TriggerSyncRequest {
                    sync_id,
                    ..Default::default()
                })
                .await
            {
                Ok(run) => {
                    r.ran(run.into_inner().id);
                    Ok("trigger")
                }
                // The sync has a run in progress.
                Err(s) if s.code() == Code::FailedPrecondition => Ok("trigger (busy)"),
                Err(s) => Err(s),
            }
        }
        15..55 => match rng.gen_range(0..3) {
            0 => {
                let connection_id = r.pick(rng, |k| &k.connections).ok_or_else(missing)?;
                api.connections(i)
                    .get_connection(pb::GetConnectionRequest { connection_id })
                    .await?;
                Ok("get connection")
            }
            1 => {
                let sync_id = r.pick(rng, |k| &k.syncs).ok_or_else(missing)?;
                api.syncs(i)
                    .get_sync(pb::GetSyncRequest { sync_id })
                    .await?;
                Ok("get sync")
            }
            _ => {
                let run_id = r.run_to_watch(rng).ok_or_else(missing)?;
                api.runs(i).get_run(pb::GetRunRequest { run_id }).await?;
                Ok("get run")
            }
        },
        _ => {
            let offset = Some(rng.gen_range(0..4) * 50);
            match rng.gen_range(0..3) {
                0 => {
                    api.connections(i)
                        .list_connections(pb::ListConnectionsRequest {
                            limit: Some(50),
                            offset,
                            ..Default::default()
                        })
                        .await?;
                    Ok("list connections")
                }
                1 => {
                    api.syncs(i)
                        .list_syncs(pb::ListSyncsRequest {
                            limit: Some(50),
                            offset,
                            ..Default::default()
                        })
                        .await?;
                    Ok("list syncs")
                }
                _ => {
                    api.runs(i)
                        .list_runs(pb::ListRunsRequest {
                            limit: Some(50),
                            offset,
                            ..Default::default()
                        })
                        .await?;
                    Ok("list runs")
                }
            }
        }
    }
}

async fn worker(r: Arc<Round>, i: usize) {
    let mut rng = StdRng::from_entropy();
    while !r.over() {
        match one_call(&r, &mut rng, i).await {
            Ok(what) => r.tally.count(what),
            Err(s) => r.tally.error("unary", &s),
        }
    }
}

/// Reads `stream` until it ends or the round is over.
async fn drain(
    r: &Round,
    stream: &mut tonic::Streaming<pb::RunEvent>,
    what: &'static str,
) -> Result<(), Status> {
    loop {
        let left = r.until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Err(_) => return Ok(()), // the round is over
            Ok(None) => return Ok(()),
            Ok(Some(Ok(_))) => {
                r.tally.events.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Some(Err(s))) => {
                r.tally.error(what, &s);
                return Err(s);
            }
        }
    }
}

async fn watcher(r: Arc<Round>, i: usize) {
    let mut rng = StdRng::from_entropy();
    let mut client = r.api.runs(i);
    while !r.over() {
        if i.is_multiple_of(5) {
            // WatchRuns: every run of the workspace, or of one sync.
            let sync_id = if i.is_multiple_of(10) {
                r.pick(&mut rng, |k| &k.syncs).unwrap_or_default()
            } else {
                String::new()
            };
            r.tally.watches.fetch_add(1, Ordering::Relaxed);
            match client
                .watch_runs(pb::WatchRunsRequest {
                    sync_id,
                    ..Default::default()
                })
                .await
            {
                Ok(s) => {
                    let _ = drain(&r, &mut s.into_inner(), "WatchRuns").await;
                }
                Err(s) => r.tally.error("WatchRuns", &s),
            }
        } else if let Some(run_id) = r.run_to_watch(&mut rng) {
            r.tally.watches.fetch_add(1, Ordering::Relaxed);
            match client
                .watch_run(pb::WatchRunRequest {
                    run_id,
                    ..Default::default()
                })
                .await
            {
                Ok(s) => {
                    let _ = drain(&r, &mut s.into_inner(), "WatchRun").await;
                }
                Err(s) => r.tally.error("WatchRun", &s),
            }
        }
        // A dashboard moves on to the next run, not at once.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn round(
    addr: &str,
    key: &str,
    pid: u32,
    writes: bool,
    secs: u64,
    watchers: usize,
    workers: usize,
) -> Result<(), Err> {
    let mut channels = Vec::new();
    for _ in 0..(watchers + workers).div_ceil(STREAMS_PER_CONNECTION).max(1) {
        channels.push(
            Endpoint::from_shared(format!("http://{addr}"))?
                .connect()
                .await?,
        );
    }
    let api = Api {
        channels: Arc::new(channels),
        key: Key(MetadataValue::try_from(key)?),
    };
    let start_rss = rss_kib(pid);
    let mut r = Round {
        api,
        known: Mutex::default(),
        tally: Tally::default(),
        writes,
        until: Instant::now(),
    };
    seed(&r).await?;
    r.until = Instant::now() + Duration::from_secs(secs);
    let r = Arc::new(r);
    let peak = tokio::spawn({
        let r = r.clone();
        async move {
            let mut peak = 0;
            while !r.over() {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            peak
        }
    });
    let mut tasks = Vec::new();
    for i in 0..watchers {
        tasks.push(tokio::spawn(watcher(r.clone(), i)));
    }
    for i in 0..workers {
        tasks.push(tokio::spawn(worker(r.clone(), watchers + i)));
    }
    for t in tasks {
        t.await?;
    }
    let peak = peak.await?.max(rss_kib(pid));
    let end_rss = rss_kib(pid);

    let active = active_runs(&r.api).await?;
    let calls = r.tally.calls.lock().map_err(|_| "poisoned")?.clone();
    let total: u64 = calls.values().sum();
    let per: Vec<String> = calls.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "calls        {total} in {secs} s ({:.0}/s): {}",
        total as f64 / secs as f64,
        per.join(", ")
    );
    println!(
        "watches      {} streams opened, {} events received",
        r.tally.watches.load(Ordering::Relaxed),
        r.tally.events.load(Ordering::Relaxed)
    );
    let errors = r.tally.errors.lock().map_err(|_| "poisoned")?.clone();
    if !errors.is_empty() {
        let e: Vec<String> = errors.iter().map(|(k, v)| format!("{k} × {v}")).collect();
        println!("errors       {}", e.join(", "));
    }
    println!("runs active  {active} pending or running as the clients leave");
    println!("server RSS   start {start_rss} KiB, peak {peak} KiB, end of load {end_rss} KiB");
    Ok(())
}

/// The runs pending or running.
async fn active_runs(api: &Api) -> Result<i64, Err> {
    Ok(api
        .runs(0)
        .list_runs(pb::ListRunsRequest {
            statuses: vec![pb::RunStatus::Pending.into(), pb::RunStatus::Running.into()],
            limit: Some(1),
            ..Default::default()
        })
        .await?
        .into_inner()
        .total)
}

/// Waits, at most SECS, until no run is pending or running: the runs the
/// round triggered are the server's work, not the clients'.
async fn settle(addr: &str, key: &str, secs: u64) -> Result<(), Err> {
    let api = Api {
        channels: Arc::new(vec![
            Endpoint::from_shared(format!("http://{addr}"))?
                .connect()
                .await?,
        ]),
        key: Key(MetadataValue::try_from(key)?),
    };
    let started = Instant::now();
    let mut left = active_runs(&api).await?;
    while left > 0 && started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        left = active_runs(&api).await?;
    }
    println!(
        "runs settled {left} pending or running after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Err> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_soak ADDR KEY PID (mixed | read) SECS WATCHERS WORKERS | bench_soak ADDR KEY settle SECS";
    if let [_, addr, key, mode, secs] = args.as_slice()
        && mode == "settle"
    {
        return settle(addr, key, secs.parse()?).await;
    }
    let [_, addr, key, pid, mode, secs, watchers, workers] = args.as_slice() else {
        return Err(usage.into());
    };
    let writes = match mode.as_str() {
        "mixed" => true,
        "read" => false,
        _ => return Err(usage.into()),
    };
    round(
        addr,
        key,
        pid.parse()?,
        writes,
        secs.parse()?,
        watchers.parse()?,
        workers.parse()?,
    )
    .await
}
