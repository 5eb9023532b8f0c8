//! The control plane keeps its word under concurrency: derived slugs never
//! collide, a sync is never given a backend nothing executes, and a
//! disabled connection's runs end and never start.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use futures::future::join_all;
use tonic::Code;
use tributary::pb::{
    self, ApiKeyRole, ExecutionBackend, ResultClass, ResultReasonCode, RunStatus,
    executor_service_client::ExecutorServiceClient, run_event::Event,
};

use crate::{
    both,
    helpers::{
        Authed, Backend, TestApp, expect_code, json_struct, next_event, reason, spawn_app_with,
        spawn_replica_with,
    },
};

// === 1. derived slugs ===

both!(
    concurrent_connections_with_one_name_get_every_suffix,
    concurrent_syncs_with_one_name_get_every_suffix,
    concurrent_workspaces_with_one_name_get_every_suffix,
    explicit_slugs_still_collide_and_never_break_derived_ones,
);

/// Concurrent creates of one name in each slug test.
const BURST: usize = 200;

/// `base`, `base-2` … `base-{n}`.
fn every_suffix(base: &str, n: usize) -> HashSet<String> {
    (1..=n)
        .map(|i| {
            if i == 1 {
                base.to_string()
            } else {
                format!("{base}-{i}")
            }
        })
        .collect()
}

/// The slugs of `results`, which must all have succeeded, each once.
#[track_caller]
fn unique_slugs<T>(
    results: Vec<Result<Result<tonic::Response<T>, tonic::Status>, tokio::task::JoinError>>,
    slug: impl Fn(T) -> String,
) -> HashSet<String> {
    let mut out = HashSet::new();
    for r in results {
        let created = r
            .unwrap()
            .unwrap_or_else(|s| panic!("a create failed: {s:?}"));
        let s = slug(created.into_inner());
        assert!(out.insert(s.clone()), "slug {s} given twice");
    }
    out
}

fn create_connection(name: &str, slug: &str) -> pb::CreateConnectionRequest {
    pb::CreateConnectionRequest {
        name: name.into(),
        slug: slug.into(),
        provider: "faker".into(),
        config: Some(json_struct(serde_json::json!({"row_count": 10}))),
        ..Default::default()
    }
}

/// A faker sync of `users` into `table` (tables are unique per destination).
fn create_sync(connection_id: &str, name: &str, slug: &str, table: &str) -> pb::CreateSyncRequest {
    pb::CreateSyncRequest {
        name: name.into(),
        slug: slug.into(),
        connection_id: connection_id.into(),
        entities: vec!["users".into()],
        table_bindings: vec![pb::TableBinding {
            entity_key: "users".into(),
            physical_table_name: table.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn concurrent_connections_with_one_name_get_every_suffix(app: TestApp) {
    let calls = (0..BURST).map(|_| {
        let mut c = app.connections();
        tokio::spawn(async move {
            c.create_connection(create_connection("Acc Burst", ""))
                .await
        })
    });
    let slugs = unique_slugs(join_all(calls).await, |c| c.slug);
    assert_eq!(slugs, every_suffix("acc-burst", BURST));
}

async fn concurrent_syncs_with_one_name_get_every_suffix(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let calls = (0..BURST).map(|i| {
        let mut s = app.syncs();
        let req = create_sync(&conn.id, "Sync Burst", "", &format!("t{i}"));
        tokio::spawn(async move { s.create_sync(req).await })
    });
    let slugs = unique_slugs(join_all(calls).await, |s| s.slug);
    assert_eq!(slugs, every_suffix("sync-burst", BURST));
}

async fn concurrent_workspaces_with_one_name_get_every_suffix(app: TestApp) {
    let calls = (0..BURST).map(|_| {
        let mut w = app.workspaces();
        let req = pb::CreateWorkspaceRequest {
            name: "Team Burst".into(),
            slug: String::new(),
        };
        tokio::spawn(async move { w.create_workspace(req).await })
    });
    let slugs = unique_slugs(join_all(calls).await, |w| w.workspace.unwrap().slug);
    assert_eq!(slugs, every_suffix("team-burst", BURST));
}

async fn explicit_slugs_still_collide_and_never_break_derived_ones(app: TestApp) {
    // Explicit slugs that are taken are ALREADY_EXISTS, for every kind.
    let conn = app
        .connections()
        .create_connection(create_connection("Mix", "mix-taken"))
        .await
        .unwrap()
        .into_inner();
    let s = expect_code(
        app.connections()
            .create_connection(create_connection("Other", "mix-taken"))
            .await,
        Code::AlreadyExists,
    );
    assert!(s.message().contains("mix-taken"), "{}", s.message());
    let sync = app
        .syncs()
        .create_sync(create_sync(&conn.id, "Mix", "mix-taken", "t_taken"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sync.slug, "mix-taken");
    expect_code(
        app.syncs()
            .create_sync(create_sync(&conn.id, "Other", "mix-taken", "t_other"))
            .await,
        Code::AlreadyExists,
    );
    let ws = |slug: &str| pb::CreateWorkspaceRequest {
        name: "Mix".into(),
        slug: slug.into(),
    };
    app.workspaces()
        .create_workspace(ws("mix-taken"))
        .await
        .unwrap();
    expect_code(
        app.workspaces().create_workspace(ws("mix-taken")).await,
        Code::AlreadyExists,
    );

    // Derived creates racing explicit creates and a rename onto their
    // candidates: every derived one succeeds; an explicit one fails only
    // when its slug was already taken.
    let derived = (0..50).map(|_| {
        let mut c = app.connections();
        tokio::spawn(async move { c.create_connection(create_connection("Mix", "")).await })
    });
    let explicit = ["mix", "mix-5", "mix-20"].map(|slug| {
        let mut c = app.connections();
        tokio::spawn(async move { c.create_connection(create_connection("Mix", slug)).await })
    });
    let rename = {
        let mut c = app.connections();
        let id = conn.id.clone();
        tokio::spawn(async move {
            c.update_connection(pb::UpdateConnectionRequest {
                connection_id: id,
                slug: Some("mix-10".into()),
                ..Default::default()
            })
            .await
        })
    };
    let derived = unique_slugs(join_all(derived).await, |c| c.slug);
    assert_eq!(derived.len(), 50);
    let mut all = derived.clone();
    for r in join_all(explicit).await {
        match r.unwrap() {
            Ok(c) => assert!(
                all.insert(c.into_inner().slug),
                "an explicit slug given twice"
            ),
            Err(s) => assert_eq!(s.code(), Code::AlreadyExists, "{s:?}"),
        }
    }
    match rename.await.unwrap() {
        Ok(c) => assert!(
            all.insert(c.into_inner().slug),
            "the renamed slug given twice"
        ),
        Err(s) => assert_eq!(s.code(), Code::AlreadyExists, "{s:?}"),
    }
}

// === 2. execution backends ===

both!(backends_without_an_executor_are_refused_and_write_nothing);

async fn backends_without_an_executor_are_refused_and_write_nothing(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let syncs = || async {
        app.syncs()
            .list_syncs(pb::ListSyncsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .total
    };
    for backend in [ExecutionBackend::Prefect, ExecutionBackend::Temporal] {
        for trigger_mode in [pb::TriggerMode::Manual, pb::TriggerMode::OnCreate] {
            let req = pb::CreateSyncRequest {
                execution_backend: backend.into(),
                trigger_mode: trigger_mode.into(),
                request_id: uuid::Uuid::new_v4().to_string(),
                ..create_sync(&conn.id, "Elsewhere", "", "t_elsewhere")
            };
            let s = expect_code(app.syncs().create_sync(req).await, Code::FailedPrecondition);
            assert_eq!(reason(&s), "BACKEND_UNAVAILABLE");
            let name = backend
                .as_str_name()
                .trim_start_matches("EXECUTION_BACKEND_");
            assert!(s.message().contains(name), "{}", s.message());
        }
    }
    assert_eq!(syncs().await, 0, "no sync was written");
    let runs = app
        .runs()
        .list_runs(pb::ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(runs.runs.is_empty(), "no run was written");

    // NATIVE and EXTERNAL are accepted, on create and on update.
    let native = app
        .syncs()
        .create_sync(create_sync(&conn.id, "Native", "", "t_native"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(native.execution_backend(), ExecutionBackend::Native);
    let external = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            execution_backend: ExecutionBackend::External.into(),
            ..create_sync(&conn.id, "External", "", "t_external")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(external.execution_backend(), ExecutionBackend::External);
    let update = |id: &str, backend: ExecutionBackend| pb::UpdateSyncRequest {
        sync_id: id.into(),
        execution_backend: Some(backend.into()),
        ..Default::default()
    };
    for backend in [ExecutionBackend::Prefect, ExecutionBackend::Temporal] {
        for sync in [&native, &external] {
            let s = expect_code(
                app.syncs().update_sync(update(&sync.id, backend)).await,
                Code::FailedPrecondition,
            );
            assert_eq!(reason(&s), "BACKEND_UNAVAILABLE");
            let now = app
                .syncs()
                .get_sync(pb::GetSyncRequest {
                    sync_id: sync.id.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(now.etag, sync.etag, "the refused update wrote nothing");
            assert_eq!(now.execution_backend, sync.execution_backend);
        }
    }
    let moved = app
        .syncs()
        .update_sync(update(&native.id, ExecutionBackend::External))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.execution_backend(), ExecutionBackend::External);
    let back = app
        .syncs()
        .update_sync(update(&native.id, ExecutionBackend::Native))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(back.execution_backend(), ExecutionBackend::Native);
    assert_eq!(app.trigger(&native.id).await.status(), RunStatus::Pending);
}

// === 3. disabled connections ===

both!(
    disabling_a_connection_cancels_its_pending_runs,
    disabling_a_connection_cancels_its_external_runs,
    a_claim_racing_a_disable_never_starts_the_run,
    a_claim_never_starts_a_run_of_a_disabled_connection,
);

both!(
    spawn = super::executing;
    disabling_a_connection_stops_its_running_native_run,
);

/// A server whose native executor runs two runs at once, beating often.
async fn executing(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |a| {
        a.executor_concurrency = 2;
        a.engine.heartbeat_interval = Duration::from_millis(200);
    })
    .await
}

async fn disable(app: &TestApp, connection_id: &str) -> pb::Connection {
    app.connections()
        .disable_connection(pb::DisableConnectionRequest {
            connection_id: connection_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// The next StatusChanged of the stream (skipping other events).
async fn next_status_change(s: &mut tonic::Streaming<pb::RunEvent>) -> pb::StatusChanged {
    loop {
        let e = next_event(s).await.expect("the stream ended early");
        if let Some(Event::StatusChanged(c)) = e.event {
            return c;
        }
    }
}

/// Every persisted StatusChanged of a run, in order (the stream replays them).
async fn status_history(app: &TestApp, run_id: &str) -> Vec<pb::StatusChanged> {
    let mut s = app.watch(run_id).await;
    let mut out = Vec::new();
    while let Some(e) = next_event(&mut s).await {
        if let Some(Event::StatusChanged(c)) = e.event {
            out.push(c);
        }
    }
    out
}

/// Asserts that `run` ended CANCELLED because `conn` was disabled.
#[track_caller]
fn ended_by_disable(run: &pb::Run, conn: &pb::Connection) {
    assert_eq!(run.status(), RunStatus::Cancelled, "{run:?}");
    assert_eq!(run.result_class(), ResultClass::Cancelled);
    assert_eq!(run.result_reason_code(), ResultReasonCode::ConfigError);
    let why = run.cancel_reason.clone().unwrap_or_default();
    assert!(
        why.contains(&conn.name) || why.contains(&conn.slug),
        "cancel_reason names the connection: {why:?}"
    );
    assert!(run.completed_at.is_some());
}

type Executor = ExecutorServiceClient<Authed>;

async fn executor(app: &TestApp) -> Executor {
    let key = app.key_with_role(ApiKeyRole::Executor).await;
    app.executor_as(&key)
}

/// A PENDING run of a new EXTERNAL faker sync of connection `conn`.
async fn pending_external(app: &TestApp, conn: &pb::Connection, name: &str) -> (pb::Sync, pb::Run) {
    let sync = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            execution_backend: ExecutionBackend::External.into(),
            ..create_sync(&conn.id, name, "", &name.to_lowercase().replace(' ', "_"))
        })
        .await
        .unwrap()
        .into_inner();
    let run = app.trigger(&sync.id).await;
    (sync, run)
}

async fn claim(x: &mut Executor, sync_id: &str) -> Option<pb::Run> {
    x.claim_run(pb::ClaimRunRequest {
        executor_id: "w".into(),
        sync_ids: vec![sync_id.into()],
    })
    .await
    .unwrap()
    .into_inner()
    .run
}

async fn heartbeat(x: &mut Executor, run_id: &str) -> pb::HeartbeatResponse {
    x.heartbeat(pb::HeartbeatRequest {
        run_id: run_id.into(),
        executor_id: "w".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

async fn complete_cancelled(x: &mut Executor, run_id: &str) -> pb::Run {
    x.complete_run(pb::CompleteRunRequest {
        run_id: run_id.into(),
        executor_id: "w".into(),
        status: RunStatus::Cancelled.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

/// Disables the connection in the store itself, as a disable whose sweep
/// missed a run would leave it: what a claim must catch on its own.
async fn disable_in_the_store(app: &TestApp, connection_id: &str) {
    use sea_orm::ConnectionTrait;
    let url = app
        .database_url
        .clone()
        .unwrap_or_else(|| tributary::store::Store::sqlite_url(app.data_dir.path()));
    let db = sea_orm::Database::connect(url).await.unwrap();
    db.execute_unprepared(&format!(
        "UPDATE connections SET status = 'disabled' WHERE id = '{connection_id}'"
    ))
    .await
    .unwrap();
    db.close().await.unwrap();
}

/// A second server on `app`'s control store whose native executor runs.
async fn executing_peer(app: &TestApp) -> TestApp {
    let tweak = |a: &mut tributary::config::ServeArgs| {
        a.executor_concurrency = 2;
        a.engine.heartbeat_interval = Duration::from_millis(200);
    };
    match app.backend {
        Backend::Postgres => spawn_replica_with(app, tweak).await,
        Backend::Sqlite => {
            let url = tributary::store::Store::sqlite_url(app.data_dir.path());
            let mut peer = spawn_app_with(Backend::Sqlite, |a| {
                a.store.database_url = Some(url);
                tweak(a);
            })
            .await
            .unwrap();
            peer.admin_key = app.admin_key.clone();
            peer
        }
    }
}

async fn disabling_a_connection_cancels_its_pending_runs(app: TestApp) {
    let conn = app.faker_connection("Shop Feed").await;
    let a = app.faker_sync(&conn.id, "A", &["users"]).await;
    let b = app.faker_sync(&conn.id, "B", &["events"]).await;
    let (run_a, run_b) = (app.trigger(&a.id).await, app.trigger(&b.id).await);
    // Another connection's run is left alone.
    let other = app.faker_connection("Other").await;
    let c = app
        .bound_sync(&other.id, "events", pb::LoadMode::Replace, "other_events")
        .await;
    let run_c = app.trigger(&c.id).await;

    let mut s = app.watch(&run_a.id).await;
    assert!(matches!(
        next_event(&mut s).await.unwrap().event,
        Some(Event::Snapshot(_))
    ));
    assert_eq!(next_status_change(&mut s).await.to(), RunStatus::Pending);

    let disabled = disable(&app, &conn.id).await;
    assert_eq!(disabled.status(), pb::ConnectionStatus::Disabled);
    // Watchers see the cancel as they see any cancel, and the stream ends.
    let change = next_status_change(&mut s).await;
    assert_eq!(
        (change.from(), change.to(), change.result_reason_code()),
        (
            RunStatus::Pending,
            RunStatus::Cancelled,
            ResultReasonCode::ConfigError
        )
    );
    assert!(next_event(&mut s).await.is_none());
    for run in [&run_a, &run_b] {
        let run = app.run(&run.id).await;
        ended_by_disable(&run, &disabled);
        assert!(run.started_at.is_none(), "never started");
    }
    assert_eq!(app.run(&run_c.id).await.status(), RunStatus::Pending);

    // The syncs cannot run until the connection is reactivated.
    let s = expect_code(
        app.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: a.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CONNECTION_DISABLED");
    app.connections()
        .reactivate_connection(pb::ReactivateConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(app.trigger(&a.id).await.status(), RunStatus::Pending);
}

async fn disabling_a_connection_stops_its_running_native_run(app: TestApp) {
    let conn = app
        .faker_with(
            "Slow Feed",
            serde_json::json!({"row_count": 1_000_000, "rows_per_second": 20_000}),
        )
        .await;
    let sync = app
        .bound_sync(&conn.id, "events", pb::LoadMode::Upsert, "events_upserted")
        .await;
    let run = app.trigger(&sync.id).await;
    let mut s = app.watch(&run.id).await;
    while next_status_change(&mut s).await.to() != RunStatus::Running {}

    let asked = Instant::now();
    let disabled = disable(&app, &conn.id).await;
    let change = next_status_change(&mut s).await;
    assert_eq!(
        (change.from(), change.to()),
        (RunStatus::Running, RunStatus::Cancelling)
    );
    let change = next_status_change(&mut s).await;
    assert_eq!(
        (change.from(), change.to(), change.result_reason_code()),
        (
            RunStatus::Cancelling,
            RunStatus::Cancelled,
            ResultReasonCode::ConfigError
        )
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "the run stopped {:?} after the disable",
        asked.elapsed()
    );
    let end = app.run(&run.id).await;
    ended_by_disable(&end, &disabled);
    let written = end.summary.unwrap().records_written;
    assert!(written < 1_000_000, "stopped before the end: {written}");
}

async fn disabling_a_connection_cancels_its_external_runs(app: TestApp) {
    let conn = app.faker_connection("Remote Feed").await;
    let (sync, run) = pending_external(&app, &conn, "Remote").await;
    let mut x = executor(&app).await;
    assert_eq!(claim(&mut x, &sync.id).await.unwrap().id, run.id);
    assert!(!heartbeat(&mut x, &run.id).await.cancel_requested);

    let disabled = disable(&app, &conn.id).await;
    let now = app.run(&run.id).await;
    assert_eq!(now.status(), RunStatus::Cancelling);
    // The executor learns it at its next call, as it learns of a CancelRun.
    assert!(heartbeat(&mut x, &run.id).await.cancel_requested);
    let progress = x
        .report_progress(pb::ReportProgressRequest {
            run_id: run.id.clone(),
            executor_id: "w".into(),
            progress: Some(pb::Progress {
                entity_key: "users".into(),
                records_read: 1,
                records_written: 1,
                bytes: 10,
            }),
            cursor: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(progress.cancel_requested);
    let done = complete_cancelled(&mut x, &run.id).await;
    ended_by_disable(&done, &disabled);
    let history: Vec<_> = status_history(&app, &run.id)
        .await
        .iter()
        .map(|c| c.to())
        .collect();
    assert_eq!(
        history,
        [
            RunStatus::Pending,
            RunStatus::Running,
            RunStatus::Cancelling,
            RunStatus::Cancelled
        ]
    );
}

async fn a_claim_racing_a_disable_never_starts_the_run(app: TestApp) {
    let mut x = executor(&app).await;
    for i in 0..8 {
        let conn = app.faker_connection(&format!("Race {i}")).await;
        let (sync, run) = pending_external(&app, &conn, &format!("Race {i}")).await;
        let claiming = {
            let mut x = x.clone();
            let sync_id = sync.id.clone();
            tokio::spawn(async move { claim(&mut x, &sync_id).await })
        };
        let disabling = {
            let mut c = app.connections();
            let id = conn.id.clone();
            tokio::spawn(async move {
                c.disable_connection(pb::DisableConnectionRequest { connection_id: id })
                    .await
            })
        };
        let claimed = claiming.await.unwrap();
        let disabled = disabling.await.unwrap().unwrap().into_inner();
        match claimed {
            // The claim came first: the disable then asked the run to stop.
            Some(r) => {
                assert_eq!(r.id, run.id);
                assert!(heartbeat(&mut x, &run.id).await.cancel_requested);
                ended_by_disable(&complete_cancelled(&mut x, &run.id).await, &disabled);
            }
            // The disable came first: the run ended without ever starting.
            None => {
                let r = app.run(&run.id).await;
                ended_by_disable(&r, &disabled);
                assert!(r.started_at.is_none() && r.executor_id.is_none(), "{r:?}");
                let history = status_history(&app, &run.id).await;
                assert!(
                    history.iter().all(|c| c.to() != RunStatus::Running),
                    "{history:?}"
                );
            }
        }
        assert!(claim(&mut x, &sync.id).await.is_none());
    }
}

async fn a_claim_never_starts_a_run_of_a_disabled_connection(app: TestApp) {
    // ExecutorService.ClaimRun.
    let conn = app.faker_connection("Remote Feed").await;
    let (sync, run) = pending_external(&app, &conn, "Remote").await;
    disable_in_the_store(&app, &conn.id).await;
    let mut x = executor(&app).await;
    assert!(claim(&mut x, &sync.id).await.is_none());
    let ended = app.run(&run.id).await;
    ended_by_disable(&ended, &conn);
    assert!(ended.started_at.is_none() && ended.executor_id.is_none());
    let history: Vec<_> = status_history(&app, &run.id)
        .await
        .iter()
        .map(|c| (c.to(), c.result_reason_code()))
        .collect();
    assert_eq!(
        history,
        [
            (RunStatus::Pending, ResultReasonCode::Unspecified),
            (RunStatus::Cancelled, ResultReasonCode::ConfigError)
        ]
    );

    // The native executor (of a second server: this one executes nothing).
    let conn = app.faker_connection("Local Feed").await;
    let sync = app.faker_sync(&conn.id, "Local", &["users"]).await;
    let run = app.trigger(&sync.id).await;
    disable_in_the_store(&app, &conn.id).await;
    let peer = executing_peer(&app).await;
    let mut s = peer.watch(&run.id).await;
    let change = next_status_change(&mut s).await;
    let change = if change.to() == RunStatus::Pending {
        next_status_change(&mut s).await
    } else {
        change
    };
    assert_eq!(
        (change.from(), change.to(), change.result_reason_code()),
        (
            RunStatus::Pending,
            RunStatus::Cancelled,
            ResultReasonCode::ConfigError
        )
    );
    let ended = peer.run(&run.id).await;
    ended_by_disable(&ended, &conn);
    assert!(ended.started_at.is_none() && ended.executor_id.is_none());
}
