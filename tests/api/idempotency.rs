//! request_id (DESIGN §3): CreateConnection, CreateSync, TriggerSync and
//! RetryRun repeated with the same request_id and caller return the first
//! result and act once — sequentially and when racing; another caller's
//! request_id is another request; a request_id must be a UUID.

use tonic::Code;
use tributary::pb::{self, ApiKeyRole};

use crate::{
    both,
    helpers::{TestApp, expect_code, expect_violation, json_struct, reason},
};

both!(
    create_connection_repeats_return_the_first_result,
    create_connection_racing_repeats_create_one,
    create_sync_repeats_return_the_first_result,
    create_sync_racing_repeats_create_one,
    trigger_sync_repeats_return_the_first_run,
    trigger_sync_racing_repeats_start_one_run,
    retry_run_repeats_return_the_first_retry,
    retry_run_racing_repeats_retry_once,
    request_ids_are_per_caller_and_per_method,
    request_id_must_be_a_uuid,
);

const RACERS: usize = 16;

fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn faker_connection_req(name: &str, request_id: &str) -> pb::CreateConnectionRequest {
    pb::CreateConnectionRequest {
        name: name.into(),
        provider: "faker".into(),
        config: Some(json_struct(serde_json::json!({"row_count": 10}))),
        request_id: request_id.into(),
        ..Default::default()
    }
}

fn sync_req(
    connection_id: &str,
    name: &str,
    entity: &str,
    request_id: &str,
) -> pb::CreateSyncRequest {
    pb::CreateSyncRequest {
        name: name.into(),
        connection_id: connection_id.into(),
        entities: vec![entity.into()],
        request_id: request_id.into(),
        ..Default::default()
    }
}

/// A sync of orders, which depend on users: it selects both, into tables
/// named after the sync.
fn orders_req(connection_id: &str, name: &str, request_id: &str) -> pb::CreateSyncRequest {
    let prefix = name.to_lowercase().replace(' ', "_");
    pb::CreateSyncRequest {
        entities: vec!["users".into(), "orders".into()],
        table_bindings: ["users", "orders"]
            .map(|e| pb::TableBinding {
                entity_key: e.into(),
                physical_table_name: format!("{prefix}_{e}"),
                ..Default::default()
            })
            .into(),
        ..sync_req(connection_id, name, "orders", request_id)
    }
}

async fn connection_ids(app: &TestApp) -> (i64, Vec<String>) {
    let l = app
        .connections()
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    (l.total, l.connections.into_iter().map(|c| c.id).collect())
}

async fn sync_ids(app: &TestApp) -> (i64, Vec<String>) {
    let l = app
        .syncs()
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner();
    (l.total, l.syncs.into_iter().map(|s| s.id).collect())
}

async fn runs_of(app: &TestApp, sync_id: &str) -> (i64, Vec<pb::Run>) {
    let l = app
        .runs()
        .list_runs(pb::ListRunsRequest {
            sync_id: sync_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (l.total, l.runs)
}

/// A CANCELLED run of a new faker sync: something RetryRun accepts.
async fn cancelled_run(app: &TestApp, name: &str, entity: &str) -> pb::Run {
    let conn = app.faker_connection(name).await;
    let sync = app.faker_sync(&conn.id, name, &[entity]).await;
    let run = app.trigger(&sync.id).await;
    let run = app
        .runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: run.id,
            reason: "to retry it".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(run.status(), pb::RunStatus::Cancelled);
    run
}

/// Asserts that every racer succeeded with the same id, and returns it.
#[track_caller]
fn one_id<T: std::fmt::Debug>(
    results: Vec<Result<Result<tonic::Response<T>, tonic::Status>, tokio::task::JoinError>>,
    id: impl Fn(&T) -> String,
) -> String {
    let mut ids = Vec::new();
    for r in results {
        match r.unwrap() {
            Ok(resp) => ids.push(id(resp.get_ref())),
            Err(s) => panic!("a racing repeat failed: {s:?}"),
        }
    }
    assert_eq!(ids.len(), RACERS);
    assert!(
        ids.iter().all(|i| i == &ids[0]),
        "racers got different ids: {ids:?}"
    );
    ids.swap_remove(0)
}

async fn create_connection_repeats_return_the_first_result(app: TestApp) {
    let mut c = app.connections();
    let request_id = rid();
    let first = c
        .create_connection(faker_connection_req("Once", &request_id))
        .await
        .unwrap()
        .into_inner();
    let again = c
        .create_connection(faker_connection_req("Once", &request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first, "the repeat returns the first result");
    // Even with another body: the request_id names the request.
    let changed = c
        .create_connection(faker_connection_req("Something else", &request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.id, first.id);
    assert_eq!(changed.name, "Once");
    assert_eq!(connection_ids(&app).await, (1, vec![first.id.clone()]));

    // After a change, the repeat returns the resource as it is now — still the one.
    let renamed = c
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: first.id.clone(),
            name: Some("Renamed".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let after = c
        .create_connection(faker_connection_req("Once", &request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after, renamed);

    // Without a request_id, or with another one, each call acts.
    let other = c
        .create_connection(faker_connection_req("Once", &rid()))
        .await
        .unwrap()
        .into_inner();
    let plain = c
        .create_connection(faker_connection_req("Once", ""))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(other.id, first.id);
    assert_ne!(plain.id, other.id);
    assert_eq!(connection_ids(&app).await.0, 3);
}

async fn create_connection_racing_repeats_create_one(app: TestApp) {
    let request_id = rid();
    let calls = (0..RACERS).map(|_| {
        let mut c = app.connections();
        let req = faker_connection_req("Raced", &request_id);
        tokio::spawn(async move { c.create_connection(req).await })
    });
    let id = one_id(futures::future::join_all(calls).await, |c| c.id.clone());
    assert_eq!(connection_ids(&app).await, (1, vec![id.clone()]));
    let got = app
        .connections()
        .get_connection(pb::GetConnectionRequest { connection_id: id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.slug, "raced", "one insert, so no derived -2 slug");
}

async fn create_sync_repeats_return_the_first_result(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let mut s = app.syncs();
    let request_id = rid();
    let first = s
        .create_sync(sync_req(&conn.id, "Users", "users", &request_id))
        .await
        .unwrap()
        .into_inner();
    let again = s
        .create_sync(sync_req(&conn.id, "Users", "users", &request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);
    assert_eq!(sync_ids(&app).await, (1, vec![first.id.clone()]));

    // ON_CREATE: the repeat neither creates a second sync nor starts a second run.
    let on_create_id = rid();
    let mut req = orders_req(&conn.id, "Orders", &on_create_id);
    req.trigger_mode = pb::TriggerMode::OnCreate.into();
    let started = s.create_sync(req.clone()).await.unwrap().into_inner();
    let repeated = s.create_sync(req).await.unwrap().into_inner();
    assert_eq!(repeated.id, started.id);
    let (total, runs) = runs_of(&app, &started.id).await;
    assert_eq!(total, 1, "one ON_CREATE run: {runs:?}");
    assert_eq!(runs[0].triggered_by(), pb::TriggeredBy::OnCreate);
    assert_eq!(sync_ids(&app).await.0, 2);

    // Another request_id is another sync.
    let other = s
        .create_sync(sync_req(&conn.id, "Events", "events", &rid()))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(other.id, first.id);
    assert_eq!(sync_ids(&app).await.0, 3);
}

async fn create_sync_racing_repeats_create_one(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let request_id = rid();
    let calls = (0..RACERS).map(|_| {
        let mut s = app.syncs();
        let req = sync_req(&conn.id, "Raced", "users", &request_id);
        tokio::spawn(async move { s.create_sync(req).await })
    });
    let id = one_id(futures::future::join_all(calls).await, |s| s.id.clone());
    assert_eq!(sync_ids(&app).await, (1, vec![id]));
}

async fn trigger_sync_repeats_return_the_first_run(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let sync = app.faker_sync(&conn.id, "Triggered", &["users"]).await;
    let mut s = app.syncs();
    let request_id = rid();
    let trigger = |request_id: &str| pb::TriggerSyncRequest {
        sync_id: sync.id.clone(),
        request_id: request_id.into(),
        ..Default::default()
    };
    let first = s
        .trigger_sync(trigger(&request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.status(), pb::RunStatus::Pending);
    // The repeat is not refused for the run in progress: it is that run.
    let again = s
        .trigger_sync(trigger(&request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);
    let (total, runs) = runs_of(&app, &sync.id).await;
    assert_eq!((total, runs[0].id.clone()), (1, first.id.clone()));
    // A new request while it runs is refused, naming the run.
    let s2 = expect_code(
        s.trigger_sync(trigger(&rid())).await,
        Code::FailedPrecondition,
    );
    assert!(s2.message().contains(&first.id), "{s2:?}");

    // Once the run is over, the repeat still returns it (as it is now) and starts nothing.
    let cancelled = app
        .runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: first.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let after = s
        .trigger_sync(trigger(&request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after, cancelled);
    assert_eq!(runs_of(&app, &sync.id).await.0, 1);
    // A new request_id does start a new run.
    let second = s.trigger_sync(trigger(&rid())).await.unwrap().into_inner();
    assert_ne!(second.id, first.id);
    assert_eq!(runs_of(&app, &sync.id).await.0, 2);
}

async fn trigger_sync_racing_repeats_start_one_run(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let sync = app.faker_sync(&conn.id, "Raced", &["users"]).await;
    let request_id = rid();
    let calls = (0..RACERS).map(|_| {
        let mut s = app.syncs();
        let req = pb::TriggerSyncRequest {
            sync_id: sync.id.clone(),
            request_id: request_id.clone(),
            ..Default::default()
        };
        tokio::spawn(async move { s.trigger_sync(req).await })
    });
    // one_id fails on any error, FAILED_PRECONDITION included.
    let id = one_id(futures::future::join_all(calls).await, |r| r.id.clone());
    let (total, runs) = runs_of(&app, &sync.id).await;
    assert_eq!(total, 1, "{runs:?}");
    assert_eq!(runs[0].id, id);
}

async fn retry_run_repeats_return_the_first_retry(app: TestApp) {
    let run = cancelled_run(&app, "Retried", "users").await;
    let mut r = app.runs();
    let request_id = rid();
    let retry = |request_id: &str| pb::RetryRunRequest {
        run_id: run.id.clone(),
        request_id: request_id.into(),
        ..Default::default()
    };
    let first = r.retry_run(retry(&request_id)).await.unwrap().into_inner();
    assert_eq!(first.attempt_number, 2);
    assert_eq!(
        first.previous_attempt_run_id.as_deref(),
        Some(run.id.as_str())
    );
    assert_eq!(first.triggered_by(), pb::TriggeredBy::Retry);
    let again = r.retry_run(retry(&request_id)).await.unwrap().into_inner();
    assert_eq!(again, first);
    let (total, runs) = runs_of(&app, &run.sync_id).await;
    assert_eq!(total, 2, "the run and one retry: {runs:?}");
    // A new request is refused: the run was retried already.
    let s = expect_code(r.retry_run(retry(&rid())).await, Code::FailedPrecondition);
    assert_eq!(reason(&s), "RUN_ALREADY_RETRIED");
    let original = r
        .get_run(pb::GetRunRequest {
            run_id: run.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        original.next_attempt_run_id.as_deref(),
        Some(first.id.as_str())
    );
}

async fn retry_run_racing_repeats_retry_once(app: TestApp) {
    let run = cancelled_run(&app, "Raced", "users").await;
    let request_id = rid();
    let calls = (0..RACERS).map(|_| {
        let mut r = app.runs();
        let req = pb::RetryRunRequest {
            run_id: run.id.clone(),
            request_id: request_id.clone(),
            ..Default::default()
        };
        tokio::spawn(async move { r.retry_run(req).await })
    });
    let id = one_id(futures::future::join_all(calls).await, |r| r.id.clone());
    let (total, runs) = runs_of(&app, &run.sync_id).await;
    assert_eq!(total, 2, "the run and one retry: {runs:?}");
    assert!(runs.iter().any(|r| r.id == id));
}

async fn request_ids_are_per_caller_and_per_method(app: TestApp) {
    let other = app.key_with_role(ApiKeyRole::Editor).await;
    let request_id = rid();

    // CreateConnection: another key with the same request_id creates another connection.
    let mine = app
        .connections()
        .create_connection(faker_connection_req("Mine", &request_id))
        .await
        .unwrap()
        .into_inner();
    let theirs = app
        .connections_as(&other)
        .create_connection(faker_connection_req("Theirs", &request_id))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(theirs.id, mine.id);
    assert_eq!(theirs.name, "Theirs");
    // Each caller's repeat returns its own first result.
    let theirs_again = app
        .connections_as(&other)
        .create_connection(faker_connection_req("Theirs", &request_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(theirs_again.id, theirs.id);
    assert_eq!(connection_ids(&app).await.0, 2);

    // CreateSync: the same request_id, on another method, is another request too.
    let my_sync = app
        .syncs()
        .create_sync(sync_req(&mine.id, "My sync", "users", &request_id))
        .await
        .unwrap()
        .into_inner();
    let their_sync = app
        .syncs_as(&other)
        .create_sync(orders_req(&theirs.id, "Their sync", &request_id))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(their_sync.id, my_sync.id);
    assert_eq!(their_sync.connection_id, theirs.id);
    assert_eq!(sync_ids(&app).await.0, 2);

    // TriggerSync: the other caller's trigger of the same sync with the same
    // request_id is a new request, refused while the first run is in progress.
    let trigger = |request_id: &str| pb::TriggerSyncRequest {
        sync_id: my_sync.id.clone(),
        request_id: request_id.into(),
        ..Default::default()
    };
    let my_run = app
        .syncs()
        .trigger_sync(trigger(&request_id))
        .await
        .unwrap()
        .into_inner();
    let s = expect_code(
        app.syncs_as(&other)
            .trigger_sync(trigger(&request_id))
            .await,
        Code::FailedPrecondition,
    );
    assert!(s.message().contains(&my_run.id), "{s:?}");
    // Once it is over, the other caller's request starts a run of its own.
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: my_run.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let their_run = app
        .syncs_as(&other)
        .trigger_sync(trigger(&request_id))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(their_run.id, my_run.id);
    assert_eq!(runs_of(&app, &my_sync.id).await.0, 2);

    // RetryRun: my retry of my (cancelled) run; the other caller's retry of
    // that run with the same request_id is a new request, refused because the
    // run was retried already; its retry of another run acts.
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: their_run.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let cancelled_mine = my_run.id.clone();
    let my_retry = app
        .runs()
        .retry_run(pb::RetryRunRequest {
            run_id: cancelled_mine.clone(),
            request_id: request_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let s = expect_code(
        app.runs_as(&other)
            .retry_run(pb::RetryRunRequest {
                run_id: cancelled_mine.clone(),
                request_id: request_id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "RUN_ALREADY_RETRIED");
    let other_run = cancelled_run(&app, "Other source", "events").await;
    let their_retry = app
        .runs_as(&other)
        .retry_run(pb::RetryRunRequest {
            run_id: other_run.id.clone(),
            request_id: request_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(their_retry.id, my_retry.id);
    assert_eq!(
        their_retry.previous_attempt_run_id.as_deref(),
        Some(other_run.id.as_str())
    );
    assert_eq!(
        my_retry.previous_attempt_run_id.as_deref(),
        Some(cancelled_mine.as_str())
    );
}

async fn request_id_must_be_a_uuid(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let sync = app.faker_sync(&conn.id, "Synced", &["users"]).await;
    let run = cancelled_run(&app, "Retry me", "events").await;
    for bad in [
        "not-a-uuid",
        "12345",
        "0195f7a0-0000-7000-8000-00000000000g",
        " ",
    ] {
        expect_violation(
            app.connections()
                .create_connection(faker_connection_req("Bad", bad))
                .await,
            "request_id",
        );
        expect_violation(
            app.syncs()
                .create_sync(sync_req(&conn.id, "Bad", "events", bad))
                .await,
            "request_id",
        );
        expect_violation(
            app.syncs()
                .trigger_sync(pb::TriggerSyncRequest {
                    sync_id: sync.id.clone(),
                    request_id: bad.into(),
                    ..Default::default()
                })
                .await,
            "request_id",
        );
        expect_violation(
            app.runs()
                .retry_run(pb::RetryRunRequest {
                    run_id: run.id.clone(),
                    request_id: bad.into(),
                    ..Default::default()
                })
                .await,
            "request_id",
        );
    }
    // Nothing was written: the fixtures only.
    assert_eq!(connection_ids(&app).await.0, 2);
    assert_eq!(sync_ids(&app).await.0, 2);
    assert_eq!(runs_of(&app, &sync.id).await.0, 0);
    assert_eq!(runs_of(&app, &run.sync_id).await.0, 1);
}
