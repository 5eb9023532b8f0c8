//! The control plane keeps its word under concurrency: derived slugs never
//! collide, and a sync is never given a backend nothing executes.

use std::collections::HashSet;

use futures::future::join_all;
use tonic::Code;
use tributary::pb::{self, ExecutionBackend, RunStatus};

use crate::{
    both,
    helpers::{TestApp, expect_code, json_struct, reason},
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
