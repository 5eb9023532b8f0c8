//! The run engine benchmarks of `bench/engine`, against a server it is
//! given (address, admin key, server pid for its memory):
//!
//! - `watchers N EVENTS`: N WatchRun subscribers on one run whose (external)
//!   executor reports EVENTS progress events; every subscriber must receive
//!   every event. Prints events/s delivered, p50/p99 latency from each
//!   event's emitted_at to its receipt, and the server's RSS before and
//!   after subscribing.
//! - `throughput ROWS`: a faker → SQLite warehouse run of ROWS users rows on
//!   the server's native executor; prints rows/s.

#[path = "common.rs"]
mod common;

use common::{Authed, Err, Key, rss_kib};

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio_stream::StreamExt;
use tonic::{
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
use tributary::pb::{
    self, connection_service_client::ConnectionServiceClient,
    executor_service_client::ExecutorServiceClient, run_event::Event,
    run_service_client::RunServiceClient, sync_service_client::SyncServiceClient,
    workspace_service_client::WorkspaceServiceClient,
};

struct Api {
    channels: Vec<Channel>,
    admin: Key,
}

impl Api {
    fn key(k: &str) -> Result<Key, Err> {
        Ok(Key(MetadataValue::try_from(k)?))
    }
    fn ch(&self, i: usize) -> Channel {
        self.channels[i % self.channels.len()].clone()
    }
    fn connections(&self) -> ConnectionServiceClient<Authed> {
        ConnectionServiceClient::with_interceptor(self.ch(0), self.admin.clone())
    }
    fn syncs(&self) -> SyncServiceClient<Authed> {
        SyncServiceClient::with_interceptor(self.ch(0), self.admin.clone())
    }
    fn runs(&self, i: usize) -> RunServiceClient<Authed> {
        RunServiceClient::with_interceptor(self.ch(i), self.admin.clone())
    }
}

/// Watchers subscribed at once (BENCH_WAVE, default 100).
static WAVE: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    std::env::var("BENCH_WAVE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
});

fn micros(t: &prost_types::Timestamp) -> i64 {
    t.seconds * 1_000_000 + i64::from(t.nanos) / 1000
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

async fn sync(
    api: &Api,
    config: serde_json::Value,
    backend: pb::ExecutionBackend,
) -> Result<pb::Sync, Err> {
    let fields = match config {
        serde_json::Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| {
                let n = v.as_f64().unwrap_or(0.0);
                (
                    k,
                    prost_types::Value {
                        kind: Some(prost_types::value::Kind::NumberValue(n)),
                    },
                )
            })
            .collect(),
        _ => Default::default(),
    };
    let conn = api
        .connections()
        .create_connection(pb::CreateConnectionRequest {
            name: format!("bench {}", now_micros()),
            provider: "faker".into(),
            config: Some(prost_types::Struct { fields }),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(api
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            name: format!("bench {}", now_micros()),
            connection_id: conn.id,
            entities: vec!["users".into()],
            execution_backend: backend.into(),
            table_bindings: vec![pb::TableBinding {
                entity_key: "users".into(),
                physical_table_name: format!("bench_users_{}", now_micros()),
                load_mode: pb::LoadMode::AppendEvent.into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await?
        .into_inner())
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn watchers(api: Api, pid: u32, n: usize, events: usize) -> Result<(), Err> {
    let exec_key = WorkspaceServiceClient::with_interceptor(api.ch(0), api.admin.clone())
        .create_api_key(pb::CreateApiKeyRequest {
            name: "bench executor".into(),
            role: pb::ApiKeyRole::Executor.into(),
            ttl_seconds: 0,
        })
        .await?
        .into_inner()
        .key;
    let mut exec = ExecutorServiceClient::with_interceptor(api.ch(0), Api::key(&exec_key)?);
    let s = sync(
        &api,
        serde_json::json!({"row_count": 10}),
        pb::ExecutionBackend::External,
    )
    .await?;
    api.syncs()
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: s.id.clone(),
            ..Default::default()
        })
        .await?;
    let claimed = exec
        .claim_run(pb::ClaimRunRequest {
            executor_id: "bench".into(),
            sync_ids: vec![s.id.clone()],
        })
        .await?
        .into_inner();
    let run_id = claimed.run.ok_or("nothing to claim")?.id;

    let before = rss_kib(pid);
    // Subscribe; each watcher records the latency of every progress event.
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(n * events)));
    let ready = Arc::new(tokio::sync::Barrier::new(n + 1));
    // Subscribed in waves, as clients arrive: a thousand subscriptions at
    // the same instant would measure their transient work, not idle watchers.
    let subscribed = Arc::new(tokio::sync::Semaphore::new(0));
    let mut tasks = Vec::new();
    // RSS once the first wave is in: the rest shows what one more watcher
    // costs, without the one-time growth the first subscriptions cause.
    let mut first_wave = None;
    for i in 0..n {
        if i > 0 && i % *WAVE == 0 {
            let _ = subscribed.acquire_many(*WAVE as u32).await?;
            first_wave.get_or_insert_with(|| rss_kib(pid));
        }
        let subscribed = subscribed.clone();
        let mut client = api.runs(i);
        let (run_id, latencies, ready) = (run_id.clone(), latencies.clone(), ready.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = client
                .watch_run(pb::WatchRunRequest {
                    run_id,
                    ..Default::default()
                })
                .await?
                .into_inner();
            // The snapshot and the replay (creation, RUNNING) come first.
            for _ in 0..3 {
                stream.next().await.ok_or("stream ended early")??;
            }
            subscribed.add_permits(1);
            ready.wait().await;
            let mut got = 0usize;
            let mut mine = Vec::with_capacity(events);
            while let Some(e) = stream.next().await {
                let e = e?;
                match &e.event {
                    Some(Event::Progress(_)) => {
                        got += 1;
                        mine.push(now_micros() - e.emitted_at.as_ref().map_or(0, micros));
                    }
                    Some(Event::Snapshot(_)) => {
                        return Err::<usize, Err>("lagged: resynchronised".into());
                    }
                    _ => {}
                }
            }
            latencies.lock().map_err(|_| "poisoned")?.extend(mine);
            Ok(got)
        }));
    }
    ready.wait().await;
    // Let the server settle, then measure the idle watchers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    println!("server RSS before     {before} KiB");
    println!("server RSS idle       {after} KiB with {n} watchers");
    println!(
        "per idle watcher      {:.1} KiB (all growth / watchers)",
        after.saturating_sub(before) as f64 / n as f64
    );
    if let Some(first) = first_wave.filter(|_| n > *WAVE) {
        let wave = *WAVE;
        println!("server RSS            {first} KiB after the first {wave} watchers");
        println!(
            "marginal per watcher  {:.1} KiB (growth from watcher {wave} to {n})",
            after.saturating_sub(first) as f64 / (n - *WAVE) as f64
        );
    }

    let started = Instant::now();
    let mut last_beat = Instant::now();
    for k in 0..events {
        exec.report_progress(pb::ReportProgressRequest {
            run_id: run_id.clone(),
            executor_id: "bench".into(),
            progress: Some(pb::Progress {
                entity_key: "users".into(),
                records_read: k as i64 + 1,
                records_written: k as i64 + 1,
                bytes: 100 * (k as i64 + 1),
            }),
            cursor: None,
        })
        .await?;
        if last_beat.elapsed() > Duration::from_secs(2) {
            last_beat = Instant::now();
            exec.heartbeat(pb::HeartbeatRequest {
                run_id: run_id.clone(),
                executor_id: "bench".into(),
                ..Default::default()
            })
            .await?;
        }
    }
    exec.complete_run(pb::CompleteRunRequest {
        run_id: run_id.clone(),
        executor_id: "bench".into(),
        status: pb::RunStatus::Succeeded.into(),
        ..Default::default()
    })
    .await?;
    let mut complete = 0;
    for t in tasks {
        if t.await?? == events {
            complete += 1;
        }
    }
    let elapsed = started.elapsed();
    let mut lat = latencies.lock().map_err(|_| "poisoned")?.clone();
    lat.sort_unstable();
    let delivered = lat.len();
    println!("watchers              {n}");
    println!("progress events       {events} (each to every watcher)");
    println!("watchers complete     {complete}/{n} received all {events}");
    println!(
        "events delivered/s    {:.0}",
        delivered as f64 / elapsed.as_secs_f64()
    );
    println!(
        "emit rate (events/s)  {:.0}",
        events as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50 / p99     {:.2} ms / {:.2} ms",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    if complete != n {
        return Err("some watchers missed events".into());
    }
    Ok(())
}

async fn throughput(api: Api, rows: u64) -> Result<(), Err> {
    let s = sync(
        &api,
        serde_json::json!({"row_count": rows}),
        pb::ExecutionBackend::Native,
    )
    .await?;
    let run = api
        .syncs()
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: s.id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut stream = api
        .runs(0)
        .watch_run(pb::WatchRunRequest {
            run_id: run.id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    while stream.next().await.transpose()?.is_some() {}
    let r = api
        .runs(0)
        .get_run(pb::GetRunRequest { run_id: run.id })
        .await?
        .into_inner();
    if r.status() != pb::RunStatus::Succeeded {
        return Err(format!("the run ended {:?}: {:?}", r.status(), r.error).into());
    }
    let secs = (micros(r.completed_at.as_ref().ok_or("no end")?)
        - micros(r.started_at.as_ref().ok_or("no start")?)) as f64
        / 1e6;
    let written = r.summary.map_or(0, |s| s.records_written);
    println!(
        "faker -> SQLite warehouse: {written} rows in {secs:.2} s = {:.0} rows/s",
        written as f64 / secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Err> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_runs ADDR KEY PID (watchers N EVENTS | throughput ROWS)";
    let [_, addr, key, pid, mode, rest @ ..] = args.as_slice() else {
        return Err(usage.into());
    };
    let mut channels = Vec::new();
    // The server allows 128 streams per connection (--max-concurrent-streams):
    // spread the watchers, 64 to a connection at most for the default 1,000.
    for _ in 0..16 {
        channels.push(
            Endpoint::from_shared(format!("http://{addr}"))?
                .connect()
                .await?,
        );
    }
    let api = Api {
        channels,
        admin: Api::key(key)?,
    };
    let pid: u32 = pid.parse()?;
    match (mode.as_str(), rest) {
        ("watchers", [n, events]) => watchers(api, pid, n.parse()?, events.parse()?).await,
        ("throughput", [rows]) => throughput(api, rows.parse()?).await,
        _ => Err(usage.into()),
    }
}
