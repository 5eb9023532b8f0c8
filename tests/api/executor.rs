//! ExecutorService: external executors claim runs of EXTERNAL syncs under a
//! lease, heartbeat, report progress and cursors, append logs and end the
//! run; only the live lease holder may, and only executor (or admin) keys.

use std::{collections::HashMap, time::Duration};

use tonic::Code;
use tributary::pb::{
    self, ApiKeyRole, LogLevel, ResultClass, ResultReasonCode, RunStatus, TriggeredBy,
    executor_service_client::ExecutorServiceClient, run_event::Event,
};

use crate::{
    both,
    helpers::{
        Authed, Backend, TestApp, eventually, expect_code, expect_violation, json_struct, logs,
        next_event, reason, spawn_app_with,
    },
};

both!(
    an_external_executor_drives_a_run_to_the_end,
    a_second_executor_is_not_the_lease_holder,
    claim_takes_only_external_runs_of_its_workspace_and_syncs,
    only_executor_and_admin_keys_may_execute,
    a_cancel_reaches_the_executor,
    executor_calls_check_their_arguments,
    credentials_come_back_only_from_claim,
);

const WITHIN: Duration = Duration::from_secs(10);
const NOT_LEASE_HOLDER: &str = "NOT_LEASE_HOLDER";

type Client = ExecutorServiceClient<Authed>;

async fn executor(app: &TestApp) -> Client {
    let key = app.key_with_role(ApiKeyRole::Executor).await;
    app.executor_as(&key)
}

async fn external_sync(
    app: &TestApp,
    connection_id: &str,
    name: &str,
    entities: &[&str],
) -> pb::Sync {
    app.syncs()
        .create_sync(pb::CreateSyncRequest {
            name: name.into(),
            connection_id: connection_id.into(),
            entities: entities.iter().map(|e| e.to_string()).collect(),
            execution_backend: pb::ExecutionBackend::External.into(),
            // A schema of its own: table names are unique per destination.
            destination_config: Some(json_struct(
                serde_json::json!({"schema": name.to_lowercase().replace(' ', "_")}),
            )),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// A PENDING run of a new EXTERNAL faker sync of `entities`.
async fn pending_external(app: &TestApp, name: &str, entities: &[&str]) -> (pb::Sync, pb::Run) {
    let conn = app.faker_connection(&format!("{name} source")).await;
    let sync = external_sync(app, &conn.id, name, entities).await;
    let run = app.trigger(&sync.id).await;
    (sync, run)
}

fn claim_req(executor_id: &str, sync_ids: &[&str]) -> pb::ClaimRunRequest {
    pb::ClaimRunRequest {
        executor_id: executor_id.into(),
        sync_ids: sync_ids.iter().map(|s| s.to_string()).collect(),
    }
}

async fn claim(c: &mut Client, executor_id: &str, sync_ids: &[&str]) -> pb::ClaimRunResponse {
    c.claim_run(claim_req(executor_id, sync_ids))
        .await
        .unwrap()
        .into_inner()
}

fn beat(run_id: &str, executor_id: &str) -> pb::HeartbeatRequest {
    pb::HeartbeatRequest {
        run_id: run_id.into(),
        executor_id: executor_id.into(),
        ..Default::default()
    }
}

fn progress(run_id: &str, executor_id: &str, entity: &str, read: i64) -> pb::ReportProgressRequest {
    pb::ReportProgressRequest {
        run_id: run_id.into(),
        executor_id: executor_id.into(),
        progress: Some(pb::Progress {
            entity_key: entity.into(),
            records_read: read,
            records_written: read,
            bytes: read * 10,
        }),
        cursor: None,
    }
}

fn log_line(level: LogLevel, message: &str, entity: &str) -> pb::LogLine {
    pb::LogLine {
        level: level.into(),
        message: message.into(),
        entity_key: entity.into(),
    }
}

fn logs_req(run_id: &str, executor_id: &str, lines: Vec<pb::LogLine>) -> pb::AppendLogsRequest {
    pb::AppendLogsRequest {
        run_id: run_id.into(),
        executor_id: executor_id.into(),
        lines,
    }
}

fn complete(run_id: &str, executor_id: &str, status: RunStatus) -> pb::CompleteRunRequest {
    pb::CompleteRunRequest {
        run_id: run_id.into(),
        executor_id: executor_id.into(),
        status: status.into(),
        ..Default::default()
    }
}

fn micros(t: &Option<prost_types::Timestamp>) -> i64 {
    let t = t.as_ref().expect("a timestamp");
    t.seconds * 1_000_000 + i64::from(t.nanos) / 1000
}

#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<tonic::Response<T>, tonic::Status>) {
    let s = expect_code(r, Code::FailedPrecondition);
    assert_eq!(reason(&s), NOT_LEASE_HOLDER, "{s:?}");
}

async fn an_external_executor_drives_a_run_to_the_end(app: TestApp) {
    let (sync, run) = pending_external(&app, "Airflow users", &["users", "orders"]).await;
    let mut watch = app
        .runs()
        .watch_run(pb::WatchRunRequest {
            run_id: run.id.clone(),
            after_sequence: 0,
            follow_attempts: false,
        })
        .await
        .unwrap()
        .into_inner();
    // Snapshot and the replayed creation: from here on the watch is live.
    let snap = next_event(&mut watch).await.unwrap();
    assert!(matches!(snap.event, Some(Event::Snapshot(_))), "{snap:?}");
    let created = next_event(&mut watch).await.unwrap();
    assert_eq!(created.sequence, 1);

    let mut x = executor(&app).await;
    let c = claim(&mut x, "airflow-1", &[]).await;
    let claimed = c.run.expect("a run");
    assert_eq!(claimed.id, run.id);
    assert_eq!(claimed.status(), RunStatus::Running);
    assert_eq!(claimed.executor_id.as_deref(), Some("airflow-1"));
    assert!(claimed.last_heartbeat_at.is_some());
    assert_eq!(c.sync.expect("the sync").id, sync.id);
    assert_eq!(c.connection.expect("the connection").id, sync.connection_id);
    assert!(c.cursors.is_empty(), "{:?}", c.cursors);
    // The lease lasts the heartbeat timeout (30 s by default).
    let lease = micros(&c.lease_expires_at) - micros(&claimed.started_at);
    assert!(
        (29_000_000..=31_000_000).contains(&lease),
        "lease of {lease} µs"
    );
    // Nothing else is waiting.
    assert!(claim(&mut x, "airflow-1", &[]).await.run.is_none());

    let hb = x
        .heartbeat(pb::HeartbeatRequest {
            records_read: 7,
            records_written: 5,
            bytes: 70,
            backend_run_ref: Some("dag_run_42".into()),
            backend_run_url: Some("https://airflow.example/dags/x/runs/42".into()),
            backend_status: Some(json_struct(
                serde_json::json!({"state": "running", "try": 1}),
            )),
            ..beat(&run.id, "airflow-1")
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!hb.cancel_requested);
    assert!(micros(&hb.lease_expires_at) >= micros(&c.lease_expires_at));
    let seen = app.run(&run.id).await;
    assert_eq!(seen.backend_run_ref.as_deref(), Some("dag_run_42"));
    assert_eq!(
        seen.backend_run_url.as_deref(),
        Some("https://airflow.example/dags/x/runs/42")
    );
    assert_eq!(
        seen.backend_status,
        Some(json_struct(
            serde_json::json!({"state": "running", "try": 1})
        ))
    );
    assert!(seen.backend_heartbeat_at.is_some());

    let p = x
        .report_progress(pb::ReportProgressRequest {
            cursor: Some("2024-01-02T00:00:00Z".into()),
            ..progress(&run.id, "airflow-1", "users", 10)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!p.cancel_requested);
    x.report_progress(progress(&run.id, "airflow-1", "orders", 3))
        .await
        .unwrap();
    let appended = x
        .append_logs(logs_req(
            &run.id,
            "airflow-1",
            vec![
                log_line(LogLevel::Unspecified, "loading users", "users"),
                log_line(LogLevel::Warn, "slow page", "orders"),
            ],
        ))
        .await
        .unwrap()
        .into_inner();
    // 1 created, 2 running, 3 and 4 progress, 5 and 6 the lines.
    assert_eq!(appended.last_sequence, 6);
    let lines = app
        .runs()
        .list_run_logs(pb::ListRunLogsRequest {
            run_id: run.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let lines: Vec<(i64, LogLevel, String)> = lines
        .into_iter()
        .map(|e| {
            let l = e.line.unwrap();
            (e.sequence, l.level(), l.message)
        })
        .collect();
    assert_eq!(
        lines,
        [
            (5, LogLevel::Info, "loading users".to_string()),
            (6, LogLevel::Warn, "slow page".to_string()),
        ]
    );

    let done = x
        .complete_run(pb::CompleteRunRequest {
            summary: Some(pb::RunSummary {
                entities: vec![
                    pb::EntitySummary {
                        entity_key: "users".into(),
                        records_read: 10,
                        records_written: 10,
                        bytes: 100,
                        cursor_after: "2024-01-02T00:00:00Z".into(),
                        ..Default::default()
                    },
                    pb::EntitySummary {
                        entity_key: "orders".into(),
                        records_read: 3,
                        records_written: 3,
                        bytes: 30,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..complete(&run.id, "airflow-1", RunStatus::Succeeded)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status(), RunStatus::Succeeded);
    assert_eq!(done.result_class(), ResultClass::Success);
    assert_eq!(done.result_reason_code(), ResultReasonCode::Unspecified);
    assert!(done.completed_at.is_some());
    assert_eq!(done.last_event_sequence, 7);
    let stored = app.run(&run.id).await;
    assert_eq!(stored.status(), RunStatus::Succeeded);
    let summary = stored.summary.expect("a summary");
    assert_eq!(
        (summary.records_read, summary.records_written, summary.bytes),
        (13, 13, 130)
    );
    assert_eq!(summary.entities[0].cursor_after, "2024-01-02T00:00:00Z");

    // The watch saw every persisted event once, in order, the live heartbeat
    // with its totals, and ended after the terminal status change.
    let mut persisted = Vec::new();
    let mut heartbeats = Vec::new();
    let mut last = None;
    while let Some(e) = next_event(&mut watch).await {
        match &e.event {
            Some(Event::Heartbeat(h)) => heartbeats.push((e.sequence, h.clone())),
            Some(Event::Snapshot(_)) => panic!("an unexpected snapshot: {e:?}"),
            _ => persisted.push(e.sequence),
        }
        last = Some(e);
    }
    assert_eq!(persisted, (2..=7).collect::<Vec<i64>>());
    assert_eq!(heartbeats.len(), 1, "{heartbeats:?}");
    let (hb_seq, h) = &heartbeats[0];
    assert_eq!(*hb_seq, 2, "a heartbeat follows the last persisted event");
    assert_eq!(
        (
            h.executor_id.as_str(),
            h.records_read,
            h.records_written,
            h.bytes
        ),
        ("airflow-1", 7, 5, 70)
    );
    let last = last.expect("events");
    assert!(
        matches!(&last.event, Some(Event::StatusChanged(s))
            if s.from() == RunStatus::Running && s.to() == RunStatus::Succeeded),
        "{last:?}"
    );

    // The next run resumes from the committed cursors (entities with one only).
    let again = app.trigger(&sync.id).await;
    let c = claim(&mut x, "airflow-2", &[]).await;
    assert_eq!(c.run.expect("a run").id, again.id);
    assert_eq!(
        c.cursors,
        HashMap::from([("users".to_string(), "2024-01-02T00:00:00Z".to_string())])
    );
}

async fn a_second_executor_is_not_the_lease_holder(app: TestApp) {
    let (_, run) = pending_external(&app, "Leased", &["users"]).await;
    let mut x = executor(&app).await;
    // Before any claim, nobody holds the lease.
    refused(x.heartbeat(beat(&run.id, "a")).await);
    claim(&mut x, "a", &[]).await.run.expect("a run");
    let other = "b";
    refused(x.heartbeat(beat(&run.id, other)).await);
    refused(
        x.report_progress(progress(&run.id, other, "users", 1))
            .await,
    );
    refused(
        x.append_logs(logs_req(
            &run.id,
            other,
            vec![log_line(LogLevel::Info, "hi", "")],
        ))
        .await,
    );
    refused(
        x.complete_run(complete(&run.id, other, RunStatus::Succeeded))
            .await,
    );
    // None of it touched the run: still RUNNING under "a", nothing recorded.
    let seen = app.run(&run.id).await;
    assert_eq!(seen.status(), RunStatus::Running);
    assert_eq!(seen.executor_id.as_deref(), Some("a"));
    assert_eq!(seen.last_event_sequence, 2);
    // The holder goes on, and ends the run once.
    x.heartbeat(beat(&run.id, "a")).await.unwrap();
    x.complete_run(pb::CompleteRunRequest {
        error: Some("source went away".into()),
        ..complete(&run.id, "a", RunStatus::Failed)
    })
    .await
    .unwrap();
    refused(
        x.complete_run(complete(&run.id, "a", RunStatus::Succeeded))
            .await,
    );
    refused(x.heartbeat(beat(&run.id, "a")).await);
    let seen = app.run(&run.id).await;
    assert_eq!(seen.status(), RunStatus::Failed);
    // FAILED without a reason defaults to INTERNAL_ERROR.
    assert_eq!(seen.result_reason_code(), ResultReasonCode::InternalError);
    assert_eq!(seen.result_class(), ResultClass::Failure);
    assert_eq!(seen.error.as_deref(), Some("source went away"));
    // A run that does not exist is NOT_FOUND, whoever asks.
    let missing = uuid::Uuid::now_v7().to_string();
    expect_code(x.heartbeat(beat(&missing, "a")).await, Code::NotFound);
}

async fn claim_takes_only_external_runs_of_its_workspace_and_syncs(app: TestApp) {
    let mut x = executor(&app).await;
    // A NATIVE run is never handed to an external executor.
    let conn = app.faker_connection("Native source").await;
    let native_sync = app.faker_sync(&conn.id, "Native", &["users"]).await;
    let native = app.trigger(&native_sync.id).await;
    let none = claim(&mut x, "x", &[]).await;
    assert!(none.run.is_none() && none.sync.is_none() && none.lease_expires_at.is_none());
    // Another workspace's EXTERNAL run is not ours to claim.
    let other = app.other_workspace("Elsewhere").await;
    let foreign_conn = app
        .connections_as(&other.key)
        .create_connection(pb::CreateConnectionRequest {
            name: "Foreign".into(),
            provider: "faker".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let foreign_sync = app
        .syncs_as(&other.key)
        .create_sync(pb::CreateSyncRequest {
            name: "Foreign".into(),
            connection_id: foreign_conn.id.clone(),
            entities: vec!["users".into()],
            execution_backend: pb::ExecutionBackend::External.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let foreign = app
        .syncs_as(&other.key)
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: foreign_sync.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(claim(&mut x, "x", &[]).await.run.is_none());
    assert!(
        claim(&mut x, "x", &[&foreign_sync.id]).await.run.is_none(),
        "naming a foreign sync does not reach it"
    );

    let (_, run_a) = pending_external(&app, "Alpha", &["users"]).await;
    let (b, run_b) = pending_external(&app, "Beta", &["users", "orders"]).await;
    let (_, run_c) = pending_external(&app, "Gamma", &["events"]).await;
    // sync_ids narrows the claim; a sync with no waiting run yields nothing.
    let stranger = uuid::Uuid::now_v7().to_string();
    assert!(claim(&mut x, "x", &[&stranger]).await.run.is_none());
    let got = claim(&mut x, "x", &[&stranger, &b.id]).await;
    assert_eq!(got.run.unwrap().id, run_b.id);
    assert_eq!(got.sync.unwrap().id, b.id);
    // Without it: the oldest waiting run first. Two executors at once get
    // different runs.
    let mut y = x.clone();
    let (r1, r2) = tokio::join!(claim(&mut x, "x", &[]), claim(&mut y, "y", &[]));
    let mut got: Vec<String> = [r1, r2].into_iter().map(|r| r.run.unwrap().id).collect();
    got.sort();
    let mut want = vec![run_a.id.clone(), run_c.id.clone()];
    want.sort();
    assert_eq!(got, want);
    assert!(claim(&mut x, "x", &[]).await.run.is_none());
    // The native run still waits for the native executor; the foreign one for its own.
    assert_eq!(app.run(&native.id).await.status(), RunStatus::Pending);
    let mut theirs = app.executor_as(&other.key);
    // An admin key may execute, in its own workspace only.
    expect_code(theirs.heartbeat(beat(&run_a.id, "x")).await, Code::NotFound);
    let c = claim(&mut theirs, "z", &[]).await;
    assert_eq!(c.run.unwrap().id, foreign.id);
}

async fn only_executor_and_admin_keys_may_execute(app: TestApp) {
    let (_, run) = pending_external(&app, "Guarded", &["users"]).await;
    for role in [ApiKeyRole::Viewer, ApiKeyRole::Editor] {
        let key = app.key_with_role(role).await;
        let mut c = app.executor_as(&key);
        expect_code(
            c.claim_run(claim_req("sneaky", &[])).await,
            Code::PermissionDenied,
        );
        expect_code(
            c.heartbeat(beat(&run.id, "sneaky")).await,
            Code::PermissionDenied,
        );
        expect_code(
            c.complete_run(complete(&run.id, "sneaky", RunStatus::Succeeded))
                .await,
            Code::PermissionDenied,
        );
    }
    assert_eq!(app.run(&run.id).await.status(), RunStatus::Pending);
    // The admin key may.
    let mut admin = app.executor_as(&app.admin_key);
    assert_eq!(
        claim(&mut admin, "admin-run", &[]).await.run.unwrap().id,
        run.id
    );
}

async fn a_cancel_reaches_the_executor(app: TestApp) {
    let (_, run) = pending_external(&app, "Cancelled", &["users"]).await;
    let mut x = executor(&app).await;
    claim(&mut x, "w", &[]).await.run.unwrap();
    // CANCELLED only after a cancel request.
    let s = expect_code(
        x.complete_run(complete(&run.id, "w", RunStatus::Cancelled))
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CANCEL_NOT_REQUESTED");
    assert_eq!(app.run(&run.id).await.status(), RunStatus::Running);
    let hb = x.heartbeat(beat(&run.id, "w")).await.unwrap().into_inner();
    assert!(!hb.cancel_requested);

    let cancelling = app
        .runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: run.id.clone(),
            reason: "wrong day".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelling.status(), RunStatus::Cancelling);
    let hb = x.heartbeat(beat(&run.id, "w")).await.unwrap().into_inner();
    assert!(hb.cancel_requested);
    let p = x
        .report_progress(progress(&run.id, "w", "users", 4))
        .await
        .unwrap()
        .into_inner();
    assert!(p.cancel_requested);
    let done = x
        .complete_run(complete(&run.id, "w", RunStatus::Cancelled))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status(), RunStatus::Cancelled);
    assert_eq!(done.result_class(), ResultClass::Cancelled);
    assert_eq!(done.result_reason_code(), ResultReasonCode::UserCancelled);
    assert_eq!(done.cancel_reason.as_deref(), Some("wrong day"));
    refused(x.heartbeat(beat(&run.id, "w")).await);
}

async fn executor_calls_check_their_arguments(app: TestApp) {
    let (sync, run) = pending_external(&app, "Checked", &["users"]).await;
    let mut x = executor(&app).await;
    // ClaimRun.
    expect_violation(x.claim_run(claim_req("", &[])).await, "executor_id");
    expect_violation(
        x.claim_run(claim_req(&"w".repeat(201), &[])).await,
        "executor_id",
    );
    expect_violation(
        x.claim_run(claim_req("w", &[&sync.id, "not-a-uuid"])).await,
        "sync_ids[1]",
    );
    // Nothing was claimed by the refused calls.
    assert_eq!(app.run(&run.id).await.status(), RunStatus::Pending);
    claim(&mut x, "w", &[&sync.id]).await.run.unwrap();

    // Heartbeat.
    expect_violation(x.heartbeat(beat("nope", "w")).await, "run_id");
    expect_violation(x.heartbeat(beat(&run.id, "")).await, "executor_id");
    expect_violation(
        x.heartbeat(pb::HeartbeatRequest {
            records_read: -1,
            ..beat(&run.id, "w")
        })
        .await,
        "records_read",
    );
    // ReportProgress.
    expect_violation(
        x.report_progress(pb::ReportProgressRequest {
            progress: None,
            ..progress(&run.id, "w", "users", 1)
        })
        .await,
        "progress",
    );
    let s = expect_violation(
        x.report_progress(progress(&run.id, "w", "orders", 1)).await,
        "progress.entity_key",
    );
    assert!(s.message().contains("users"), "{}", s.message());
    let mut negative = progress(&run.id, "w", "users", 1);
    negative.progress.as_mut().unwrap().bytes = -5;
    expect_violation(x.report_progress(negative).await, "progress.bytes");
    // AppendLogs.
    expect_violation(x.append_logs(logs_req(&run.id, "w", vec![])).await, "lines");
    expect_violation(
        x.append_logs(logs_req(
            &run.id,
            "w",
            vec![log_line(LogLevel::Info, "x", ""); 1001],
        ))
        .await,
        "lines",
    );
    let s = expect_violation(
        x.append_logs(logs_req(
            &run.id,
            "w",
            vec![
                pb::LogLine {
                    level: 99,
                    message: "odd level".into(),
                    entity_key: String::new(),
                },
                log_line(LogLevel::Info, "", ""),
            ],
        ))
        .await,
        "lines[0].level",
    );
    assert!(
        crate::helpers::violations(&s).contains(&"lines[1].message".to_string()),
        "{s:?}"
    );
    // CompleteRun.
    expect_violation(
        x.complete_run(complete(&run.id, "w", RunStatus::Unspecified))
            .await,
        "status",
    );
    expect_violation(
        x.complete_run(complete(&run.id, "w", RunStatus::Running))
            .await,
        "status",
    );
    expect_violation(
        x.complete_run(pb::CompleteRunRequest {
            result_reason_code: 99,
            ..complete(&run.id, "w", RunStatus::Failed)
        })
        .await,
        "result_reason_code",
    );
    expect_violation(
        x.complete_run(pb::CompleteRunRequest {
            summary: Some(pb::RunSummary {
                entities: vec![pb::EntitySummary {
                    entity_key: "users".into(),
                    records_read: -1,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..complete(&run.id, "w", RunStatus::Succeeded)
        })
        .await,
        "summary.entities[0].records_read",
    );
    // None of the refused calls changed the run or recorded an event.
    let seen = app.run(&run.id).await;
    assert_eq!(seen.status(), RunStatus::Running);
    assert_eq!(seen.last_event_sequence, 2);
    // A reason code with the failure is kept.
    let done = x
        .complete_run(pb::CompleteRunRequest {
            result_reason_code: ResultReasonCode::RateLimited.into(),
            ..complete(&run.id, "w", RunStatus::Failed)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.result_reason_code(), ResultReasonCode::RateLimited);
}

async fn credentials_come_back_only_from_claim(app: TestApp) {
    let secret = format!("shpat_{}", uuid::Uuid::new_v4().simple());
    let conn = app
        .connections()
        .create_connection(pb::CreateConnectionRequest {
            name: "Shop".into(),
            provider: "shopify".into(),
            config: Some(json_struct(
                serde_json::json!({"shop_domain": "acme.myshopify.com"}),
            )),
            credentials: [("access_token".to_string(), secret.clone())].into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let sync = external_sync(&app, &conn.id, "Shop customers", &["customers"]).await;
    let run = app.trigger(&sync.id).await;
    let mut x = executor(&app).await;
    let c = claim(&mut x, "shop-worker", &[]).await;
    assert_eq!(c.run.as_ref().unwrap().id, run.id);
    assert_eq!(
        c.credentials,
        HashMap::from([("access_token".to_string(), secret.clone())])
    );
    let connection = c.connection.clone().unwrap();
    assert!(connection.has_credentials);
    assert!(!format!("{connection:?}").contains(&secret));
    // Nowhere else: not in the run, its heartbeat, the connection, the logs.
    let hb = x
        .heartbeat(beat(&run.id, "shop-worker"))
        .await
        .unwrap()
        .into_inner();
    let got = app
        .connections()
        .get_connection(pb::GetConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let done = x
        .complete_run(complete(&run.id, "shop-worker", RunStatus::Succeeded))
        .await
        .unwrap()
        .into_inner();
    for shown in [
        format!("{hb:?}"),
        format!("{got:?}"),
        format!("{done:?}"),
        format!("{:?}", app.run(&run.id).await),
    ] {
        assert!(!shown.contains(&secret), "{shown}");
    }
    assert!(!logs().contains(&secret), "a credential reached the logs");
}

// === the reaper and external leases ===

mod reaped {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_silent_executor_loses_its_run(super::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_silent_executor_loses_its_run(super::Backend::Postgres).await;
    }
}

/// An executor that stops heartbeating loses the run to the reaper: its
/// calls are refused from then on, and the next attempt (which anyone may
/// claim) resumes from the cursors it committed.
async fn a_silent_executor_loses_its_run(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |args| {
        args.engine.heartbeat_interval = Duration::from_millis(100);
        args.engine.heartbeat_timeout = Duration::from_millis(1200);
    })
    .await
    else {
        return;
    };
    let (sync, run) = pending_external(&app, "Silent", &["users"]).await;
    let mut x = executor(&app).await;
    let c = claim(&mut x, "silent", &[]).await;
    let lease = micros(&c.lease_expires_at) - micros(&c.run.unwrap().started_at);
    assert!(
        (1_100_000..=1_300_000).contains(&lease),
        "lease of {lease} µs"
    );
    x.report_progress(pb::ReportProgressRequest {
        cursor: Some("42".into()),
        ..progress(&run.id, "silent", "users", 42)
    })
    .await
    .unwrap();
    // Then silence.
    let failed = eventually(WITHIN, || {
        let app = &app;
        let id = run.id.clone();
        async move {
            let r = app.run(&id).await;
            (r.status() == RunStatus::Failed).then_some(r)
        }
    })
    .await;
    assert_eq!(
        failed.result_reason_code(),
        ResultReasonCode::HeartbeatTimeout
    );
    refused(x.heartbeat(beat(&run.id, "silent")).await);
    refused(
        x.report_progress(progress(&run.id, "silent", "users", 50))
            .await,
    );
    refused(
        x.complete_run(complete(&run.id, "silent", RunStatus::Succeeded))
            .await,
    );
    assert_eq!(app.run(&run.id).await.status(), RunStatus::Failed);
    // The next attempt waits for any executor, with the committed cursor.
    let next_id = failed.next_attempt_run_id.expect("a next attempt");
    let c = claim(&mut x, "rescuer", &[&sync.id]).await;
    let resumed = c.run.unwrap();
    assert_eq!(resumed.id, next_id);
    assert_eq!(resumed.triggered_by(), TriggeredBy::AutoResume);
    assert_eq!(c.cursors.get("users").map(String::as_str), Some("42"));
    x.complete_run(complete(&resumed.id, "rescuer", RunStatus::Succeeded))
        .await
        .unwrap();
}
