//! The states the engine moves and the knobs it honours: a sync whose runs
//! fail for their configuration or credentials goes ERROR (and back to
//! ACTIVE with the next success), runs prove their connection (or refute
//! its credentials), a graceful shutdown hands the runs in flight to their
//! next attempts, and execution_config, default resources and depends_on
//! shape how runs load.

use std::time::Duration;

use tokio_stream::StreamExt;
use tributary::pb::{
    self, ConnectionStatus, ExecutionMode, LoadMode, ResultClass, ResultReasonCode, RunMode,
    RunStatus, SyncStatus, TriggerMode, TriggeredBy, run_event::Event, schedule::Spec,
};

use crate::{
    both,
    engine::{run_to_end, warehouse_rows},
    helpers::{
        Backend, TestApp, eventually, expect_violation, json_struct, scram_role_port,
        spawn_app_with,
    },
    rows::{same_rows, source_rows},
};

both!(
    spawn = super::spawn_scheduling;
    a_config_error_stops_the_sync_until_a_run_succeeds,
);

both!(
    spawn = crate::helpers::spawn_executing;
    an_auth_error_puts_the_connection_and_the_sync_in_error,
    a_graceful_shutdown_hands_the_run_to_its_next_attempt,
    batch_size_sets_the_records_per_commit,
    fan_out_entity_loads_every_entity_parents_first_and_honours_max_concurrency,
    fan_out_window_loads_window_count_windows_and_resumes_after_a_shutdown,
    depends_on_is_validated_and_parents_load_first,
    reset_makes_the_next_incremental_run_read_in_full,
);

both!(create_sync_without_entities_takes_the_catalogs_defaults);

/// A server that schedules and executes runs.
async fn spawn_scheduling(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |a| {
        a.scheduler = true;
        a.executor_concurrency = 2;
        a.engine.heartbeat_interval = Duration::from_millis(200);
    })
    .await
}

/// A new executing server on `app`'s control store and data dir (so on its
/// warehouse and secret key), once `app` has shut down.
async fn restart(app: &TestApp) -> TestApp {
    let dir = app.data_dir.path().to_path_buf();
    let url = app.database_url.clone();
    let mut next = spawn_app_with(Backend::Sqlite, |a| {
        a.store.data_dir = dir;
        a.store.database_url = url;
        a.executor_concurrency = 2;
        a.engine.heartbeat_interval = Duration::from_millis(200);
    })
    .await
    .unwrap();
    next.backend = app.backend;
    next.database_url = app.database_url.clone();
    next.admin_key = app.admin_key.clone();
    next
}

fn micros(t: &Option<prost_types::Timestamp>) -> i64 {
    let t = t.as_ref().expect("a timestamp");
    t.seconds * 1_000_000 + i64::from(t.nanos) / 1000
}

async fn get_sync(app: &TestApp, id: &str) -> pb::Sync {
    app.syncs()
        .get_sync(pb::GetSyncRequest { sync_id: id.into() })
        .await
        .unwrap()
        .into_inner()
}

async fn get_connection(app: &TestApp, id: &str) -> pb::Connection {
    app.connections()
        .get_connection(pb::GetConnectionRequest {
            connection_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn runs_of(app: &TestApp, sync_id: &str) -> Vec<pb::Run> {
    app.runs()
        .list_runs(pb::ListRunsRequest {
            sync_id: sync_id.into(),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .runs
}

/// The run once it has ended (within 90 s).
async fn ended(app: &TestApp, run_id: &str) -> pb::Run {
    eventually(Duration::from_secs(90), || async {
        let r = app.run(run_id).await;
        matches!(
            r.status(),
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
        .then_some(r)
    })
    .await
}

#[track_caller]
fn assert_logged(lines: &[String], what: &str) {
    assert!(
        lines.iter().any(|l| l.contains(what)),
        "no log line contains {what:?}: {lines:#?}"
    );
}

/// Waits until the run has committed rows (a Progress event with rows written).
async fn wait_for_rows(app: &TestApp, run_id: &str) {
    let mut s = app.watch(run_id).await;
    loop {
        let e = tokio::time::timeout(Duration::from_secs(60), s.next())
            .await
            .expect("rows within 60 s")
            .expect("the run is still going")
            .unwrap();
        if matches!(&e.event, Some(Event::Progress(p)) if p.records_written > 0) {
            return;
        }
    }
}

fn binding(entity: &str, table: &str, mode: LoadMode, cursor: &str) -> pb::TableBinding {
    pb::TableBinding {
        entity_key: entity.into(),
        physical_table_name: table.into(),
        load_mode: mode.into(),
        cursor_field: cursor.into(),
        ..Default::default()
    }
}

fn summary_of<'a>(run: &'a pb::Run, entity: &str) -> &'a pb::EntitySummary {
    run.summary
        .as_ref()
        .expect("a summary")
        .entities
        .iter()
        .find(|e| e.entity_key == entity)
        .unwrap_or_else(|| panic!("{entity} is in the summary: {:?}", run.summary))
}

// === item 4: states that move ===

fn every_second() -> Option<pb::Schedule> {
    Some(pb::Schedule {
        spec: Some(Spec::Cron("* * * * * *".into())),
        timezone: "UTC".into(),
    })
}

/// A scheduled sync whose run fails for its configuration (the faker orders
/// records by updated_at only, and the binding asks for created_at) goes
/// ERROR: the scheduler stops firing it while it fires others. Fixed and
/// triggered, its success returns it to ACTIVE, proves its connection, and
/// the scheduler fires it again. last_error and last_success_at follow.
async fn a_config_error_stops_the_sync_until_a_run_succeeds(app: TestApp) {
    let conn = app
        .faker_with("broken", serde_json::json!({"row_count": 50}))
        .await;
    assert_eq!(conn.status(), ConnectionStatus::NeedsVerification);
    let scheduled =
        |name: &str, connection_id: &str, table: &str, cursor: &str| pb::CreateSyncRequest {
            name: name.into(),
            connection_id: connection_id.into(),
            entities: vec!["users".into()],
            table_bindings: vec![binding("users", table, LoadMode::Upsert, cursor)],
            status: SyncStatus::Active.into(),
            trigger_mode: TriggerMode::Scheduled.into(),
            schedule: every_second(),
            ..Default::default()
        };
    let sync = app
        .syncs()
        .create_sync(scheduled("Broken", &conn.id, "users", "created_at"))
        .await
        .unwrap()
        .into_inner();
    let failed = eventually(Duration::from_secs(60), || async {
        let runs = runs_of(&app, &sync.id).await;
        runs.into_iter().find(|r| r.status() == RunStatus::Failed)
    })
    .await;
    assert_eq!(failed.result_reason_code(), ResultReasonCode::ConfigError);
    let error = failed.error.clone().unwrap();
    assert!(error.contains("updated_at"), "{error}");
    let s = get_sync(&app, &sync.id).await;
    assert_eq!(s.status(), SyncStatus::Error);
    assert_eq!(s.last_error.as_deref(), Some(error.as_str()));
    assert!(s.last_success_at.is_none());
    // The run used the connection, but a configuration error proves
    // nothing about it.
    let c = get_connection(&app, &conn.id).await;
    assert_eq!(c.status(), ConnectionStatus::NeedsVerification);
    assert_eq!(micros(&c.last_used_at), micros(&failed.completed_at));
    assert!(c.last_verified_at.is_none());

    // Another sync keeps firing every second; the ERROR one does not.
    let witness_conn = app
        .faker_with("witness", serde_json::json!({"row_count": 5}))
        .await;
    let witness = app
        .syncs()
        .create_sync(scheduled("Witness", &witness_conn.id, "witness", ""))
        .await
        .unwrap()
        .into_inner();
    eventually(Duration::from_secs(60), || async {
        (runs_of(&app, &witness.id).await.len() >= 3).then_some(())
    })
    .await;
    assert_eq!(
        runs_of(&app, &sync.id).await.len(),
        1,
        "no firing while ERROR"
    );

    // Fixed (the cursor field defaults to the catalog's), the sync stays
    // ERROR until a run succeeds; TriggerSync accepts it.
    let fixed = app
        .syncs()
        .update_sync(pb::UpdateSyncRequest {
            sync_id: sync.id.clone(),
            table_bindings: vec![binding("users", "users", LoadMode::Upsert, "")],
            update_table_bindings: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fixed.status(), SyncStatus::Error);
    let run = ended(&app, &app.trigger(&sync.id).await.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let s = get_sync(&app, &sync.id).await;
    assert_eq!(s.status(), SyncStatus::Active);
    assert_eq!(s.last_error, None);
    assert_eq!(micros(&s.last_success_at), micros(&run.completed_at));
    assert_ne!(
        s.etag, fixed.etag,
        "an engine status change is a new version"
    );
    let c = get_connection(&app, &conn.id).await;
    assert_eq!(c.status(), ConnectionStatus::Active);
    assert_eq!(c.verification_error, None);
    assert_eq!(micros(&c.last_verified_at), micros(&run.completed_at));
    assert_eq!(micros(&c.last_used_at), micros(&run.completed_at));

    // ACTIVE again: the scheduler fires it again.
    eventually(Duration::from_secs(60), || async {
        runs_of(&app, &sync.id)
            .await
            .iter()
            .any(|r| {
                r.triggered_by() == TriggeredBy::Schedule
                    && micros(&r.created_at) > micros(&run.completed_at)
            })
            .then_some(())
    })
    .await;
}

/// A PostgreSQL source that refuses the connection's password: the run
/// fails with AUTH_ERROR, the sync goes ERROR and the connection ERROR with
/// the run's error (quoting no secret); a verification also records that
/// it used the connection.
async fn an_auth_error_puts_the_connection_and_the_sync_in_error(app: TestApp) {
    let Some(port) = scram_role_port().await else {
        return;
    };
    let password = "Wr0ng-Qx7-Vyzj-states";
    let mut req = pb::CreateConnectionRequest {
        name: "Refusing".into(),
        provider: "postgres".into(),
        config: Some(json_struct(serde_json::json!({
            "host": "127.0.0.1", "port": port, "database": "postgres",
            "username": "tributary_scram", "sslmode": "disable",
        }))),
        ..Default::default()
    };
    req.credentials.insert("password".into(), password.into());
    let conn = app
        .connections()
        .create_connection(req)
        .await
        .unwrap()
        .into_inner();
    let sync = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            name: "Accounts".into(),
            connection_id: conn.id.clone(),
            entities: vec!["public.accounts".into()],
            status: SyncStatus::Active.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let run = ended(&app, &app.trigger(&sync.id).await.id).await;
    assert_eq!(run.status(), RunStatus::Failed);
    assert_eq!(run.result_reason_code(), ResultReasonCode::AuthError);
    let error = run.error.clone().unwrap();
    assert!(error.contains("password authentication failed"), "{error}");
    assert!(!error.contains(password), "{error}");

    let s = get_sync(&app, &sync.id).await;
    assert_eq!(s.status(), SyncStatus::Error);
    assert_eq!(s.last_error.as_deref(), Some(error.as_str()));
    let c = get_connection(&app, &conn.id).await;
    assert_eq!(c.status(), ConnectionStatus::Error);
    assert_eq!(c.verification_error.as_deref(), Some(error.as_str()));
    assert_eq!(micros(&c.last_used_at), micros(&run.completed_at));
    assert!(c.last_verified_at.is_none());

    let v = app
        .connections()
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: conn.id.clone(),
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status(), ConnectionStatus::Error);
    assert!(micros(&v.last_used_at) > micros(&run.completed_at));
    assert_eq!(
        micros(&get_connection(&app, &conn.id).await.last_used_at),
        micros(&v.last_used_at)
    );
}

/// A graceful shutdown ends the run in flight at its last committed batch
/// with SERVER_SHUTDOWN and creates its next attempt at once; the next
/// server resumes it from the committed position, and the destination
/// (append-only, so a duplicate would show) ends equal to the source.
async fn a_graceful_shutdown_hands_the_run_to_its_next_attempt(mut app: TestApp) {
    let data = serde_json::json!({"row_count": 30_000, "seed": 11});
    let mut config = data.clone();
    config["rows_per_second"] = 5_000.into();
    let conn = app.faker_with("slow", config).await;
    let sync = app
        .bound_sync(&conn.id, "events", LoadMode::AppendEvent, "events")
        .await;
    let run = app.trigger(&sync.id).await;
    wait_for_rows(&app, &run.id).await;
    let took = app.shut_down().await;
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");

    let next = restart(&app).await;
    let first = next.run(&run.id).await;
    assert_eq!(first.status(), RunStatus::Failed, "{:?}", first.error);
    assert_eq!(first.result_class(), ResultClass::Failure);
    assert_eq!(first.result_reason_code(), ResultReasonCode::ServerShutdown);
    let written = first.summary.as_ref().unwrap().records_written;
    assert!(written > 0 && written < 30_000, "{written}");
    let attempt_id = first.next_attempt_run_id.clone().expect("a next attempt");
    let attempt = ended(&next, &attempt_id).await;
    assert_eq!(
        attempt.status(),
        RunStatus::Succeeded,
        "{:?}",
        attempt.error
    );
    assert_eq!(attempt.triggered_by(), TriggeredBy::AutoResume);
    assert_eq!(attempt.attempt_number, 2);
    assert_eq!(
        attempt.previous_attempt_run_id.as_deref(),
        Some(run.id.as_str())
    );
    // Created with the end of the first run, not a heartbeat timeout later.
    let gap = micros(&attempt.created_at) - micros(&first.completed_at);
    assert!((0..1_000_000).contains(&gap), "created {gap}µs after");
    // Resumed after the committed rows: none read twice.
    let events = summary_of(&attempt, "events");
    assert_eq!(events.records_read, 30_000 - written);
    assert!(!events.cursor_before.is_empty());
    let (cols, rows) = source_rows(data, "events").await;
    same_rows(
        warehouse_rows(&app, "events", &cols).await,
        &rows,
        "resumed",
    );
    // The sync is not in error: the chain succeeded.
    let s = get_sync(&next, &sync.id).await;
    assert_ne!(s.status(), SyncStatus::Error);
    assert_eq!(s.last_error, None);
}

// === item 5: knobs that work ===

/// execution_config.batch_size sets the records per source batch and per
/// destination commit; without it a batch holds up to 1000.
async fn batch_size_sets_the_records_per_commit(app: TestApp) {
    let conn = app
        .faker_with("faker", serde_json::json!({"row_count": 1000}))
        .await;
    let small = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            name: "Small batches".into(),
            connection_id: conn.id.clone(),
            entities: vec!["users".into()],
            table_bindings: vec![binding("users", "users_250", LoadMode::Upsert, "")],
            execution_config: Some(json_struct(serde_json::json!({"batch_size": 250}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (run, _) = run_to_end(&app, &small.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let lines = app.log_lines(&run.id).await;
    assert_logged(&lines, "batches of 250 records");
    assert_logged(
        &lines,
        "users: 1000 records read, 1000 written in 4 batches of at most 250",
    );

    let default = app
        .bound_sync(&conn.id, "users", LoadMode::Upsert, "users_default")
        .await;
    let (run, _) = run_to_end(&app, &default.id).await;
    assert_logged(
        &app.log_lines(&run.id).await,
        "users: 1000 records read, 1000 written in 1 batch of at most 1000",
    );
}

/// FAN_OUT_ENTITY copies every entity exactly, loads a parent (users)
/// before its child (orders), and with max_concurrency 1 one entity at a
/// time.
async fn fan_out_entity_loads_every_entity_parents_first_and_honours_max_concurrency(app: TestApp) {
    let config = serde_json::json!({"row_count": 2000, "seed": 3});
    let conn = app.faker_with("faker", config.clone()).await;
    let entities = ["users", "orders", "events"];
    let fan_out =
        |name: &str, conn: &str, prefix: &str, cfg: serde_json::Value| pb::CreateSyncRequest {
            name: name.into(),
            connection_id: conn.into(),
            entities: entities.iter().map(|e| e.to_string()).collect(),
            table_bindings: entities
                .iter()
                .map(|e| binding(e, &format!("{prefix}{e}"), LoadMode::Upsert, ""))
                .collect(),
            execution_mode: ExecutionMode::FanOutEntity.into(),
            execution_config: Some(json_struct(cfg)),
            ..Default::default()
        };
    let wide = app
        .syncs()
        .create_sync(fan_out("Wide", &conn.id, "", serde_json::json!({})))
        .await
        .unwrap()
        .into_inner();
    let (run, _) = run_to_end(&app, &wide.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.execution_mode(), ExecutionMode::FanOutEntity);
    for e in entities {
        let (cols, rows) = source_rows(config.clone(), e).await;
        same_rows(warehouse_rows(&app, e, &cols).await, &rows, e);
    }
    let (users, orders) = (summary_of(&run, "users"), summary_of(&run, "orders"));
    assert!(
        micros(&orders.started_at) >= micros(&users.completed_at),
        "orders depend on users: {:?}",
        run.summary
    );
    assert_logged(&app.log_lines(&run.id).await, "at most 4 entities at once");

    // Slow entities, one at a time: no two overlap.
    let slow = app
        .faker_with(
            "slow",
            serde_json::json!({"row_count": 600, "rows_per_second": 3000}),
        )
        .await;
    let narrow = app
        .syncs()
        .create_sync(fan_out(
            "Narrow",
            &slow.id,
            "narrow_",
            serde_json::json!({"max_concurrency": 1}),
        ))
        .await
        .unwrap()
        .into_inner();
    let (run, _) = run_to_end(&app, &narrow.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let mut spans: Vec<(i64, i64)> = entities
        .iter()
        .map(|e| {
            let s = summary_of(&run, e);
            (micros(&s.started_at), micros(&s.completed_at))
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "entities overlap: {:?}", run.summary);
    }
    assert_logged(&app.log_lines(&run.id).await, "at most 1 entities at once");
}

/// FAN_OUT_WINDOW with window_count 3 splits the entity into 3 windows;
/// stopped by a shutdown, the next attempt resumes each window where it
/// stopped, and the destination ends equal to the source.
async fn fan_out_window_loads_window_count_windows_and_resumes_after_a_shutdown(mut app: TestApp) {
    let data = serde_json::json!({"row_count": 9000, "seed": 5});
    let mut config = data.clone();
    config["rows_per_second"] = 2000.into();
    let conn = app.faker_with("slow", config).await;
    let sync = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            name: "Windows".into(),
            connection_id: conn.id.clone(),
            entities: vec!["users".into()],
            table_bindings: vec![binding("users", "users", LoadMode::Upsert, "")],
            execution_mode: ExecutionMode::FanOutWindow.into(),
            execution_config: Some(json_struct(serde_json::json!({"window_count": 3}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let run = app.trigger(&sync.id).await;
    wait_for_rows(&app, &run.id).await;
    app.shut_down().await;

    let next = restart(&app).await;
    let first = next.run(&run.id).await;
    assert_eq!(first.result_reason_code(), ResultReasonCode::ServerShutdown);
    let written = first.summary.as_ref().unwrap().records_written;
    assert!(written > 0 && written < 9000, "{written}");
    assert_logged(&next.log_lines(&run.id).await, "reading users in 3 windows");
    let attempt = ended(&next, &first.next_attempt_run_id.unwrap()).await;
    assert_eq!(
        attempt.status(),
        RunStatus::Succeeded,
        "{:?}",
        attempt.error
    );
    assert_logged(
        &next.log_lines(&attempt.id).await,
        "reading users in 3 windows",
    );
    assert_eq!(summary_of(&attempt, "users").records_read, 9000 - written);
    let (cols, rows) = source_rows(data, "users").await;
    same_rows(warehouse_rows(&app, "users", &cols).await, &rows, "windows");
}

/// A CreateSync that names no entity takes the catalog's default
/// resources; a provider without defaults still needs entities named.
async fn create_sync_without_entities_takes_the_catalogs_defaults(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "Defaults", &[]).await;
    assert_eq!(sync.entities, ["users", "orders", "events"]);
    let bound: Vec<&str> = sync
        .table_bindings
        .iter()
        .map(|b| b.entity_key.as_str())
        .collect();
    assert_eq!(bound, ["users", "orders", "events"]);

    let pg = app
        .connections()
        .create_connection(pb::CreateConnectionRequest {
            name: "Database".into(),
            provider: "postgres".into(),
            config: Some(json_struct(serde_json::json!({
                "host": "127.0.0.1", "database": "app", "username": "app",
            }))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let s = expect_violation(
        app.syncs()
            .create_sync(pb::CreateSyncRequest {
                name: "Nothing".into(),
                connection_id: pg.id,
                ..Default::default()
            })
            .await,
        "entities",
    );
    assert!(s.message().contains("at least one entity"), "{s:?}");
}

/// Selecting a child entity (orders) without its parent (users) is
/// INVALID_ARGUMENT naming both, on create and update; a SEQUENTIAL run
/// loads the parent first whatever the selection order.
async fn depends_on_is_validated_and_parents_load_first(app: TestApp) {
    let config = serde_json::json!({"row_count": 300});
    let conn = app.faker_with("faker", config.clone()).await;
    let create = |entities: &[&str]| pb::CreateSyncRequest {
        name: "Orders".into(),
        connection_id: conn.id.clone(),
        entities: entities.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    };
    let s = expect_violation(
        app.syncs().create_sync(create(&["events", "orders"])).await,
        "entities[1]",
    );
    let text = format!("{s:?}");
    assert!(
        text.contains("'orders' depends on 'users'"),
        "names both: {text}"
    );

    let sync = app
        .syncs()
        .create_sync(create(&["orders", "users"]))
        .await
        .unwrap()
        .into_inner();
    expect_violation(
        app.syncs()
            .update_sync(pb::UpdateSyncRequest {
                sync_id: sync.id.clone(),
                entities: vec!["orders".into()],
                update_entities: true,
                ..Default::default()
            })
            .await,
        "entities[0]",
    );
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let order: Vec<&str> = run
        .summary
        .as_ref()
        .unwrap()
        .entities
        .iter()
        .map(|e| e.entity_key.as_str())
        .collect();
    assert_eq!(order, ["users", "orders"]);
    let (users, orders) = (summary_of(&run, "users"), summary_of(&run, "orders"));
    assert!(micros(&orders.started_at) >= micros(&users.completed_at));
    assert_logged(&app.log_lines(&run.id).await, "in order users, then orders");
}

/// ResetSyncState after incremental runs: the next INCREMENTAL run reads
/// the entity in full, from no cursor.
async fn reset_makes_the_next_incremental_run_read_in_full(app: TestApp) {
    let conn = app
        .faker_with("faker", serde_json::json!({"row_count": 1000}))
        .await;
    let sync = app
        .bound_sync(&conn.id, "users", LoadMode::Upsert, "users")
        .await;
    let (first, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(summary_of(&first, "users").records_read, 1000);
    let more = serde_json::json!({"row_count": 1500});
    let mut c = app.connections();
    c.update_connection(pb::UpdateConnectionRequest {
        connection_id: conn.id.clone(),
        config: Some(json_struct(more.clone())),
        ..Default::default()
    })
    .await
    .unwrap();
    let (second, _) = run_to_end(&app, &sync.id).await;
    let users = summary_of(&second, "users");
    assert_eq!(users.records_read, 500, "incremental");
    assert_eq!(
        users.cursor_before,
        summary_of(&first, "users").cursor_after
    );

    let reset = app
        .syncs()
        .reset_sync_state(pb::ResetSyncStateRequest {
            sync_id: sync.id.clone(),
            entities: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reset.reset_entities, ["users"]);
    let (third, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(third.run_mode(), RunMode::Incremental);
    let users = summary_of(&third, "users");
    assert_eq!(users.records_read, 1500, "in full after the reset");
    assert_eq!(users.cursor_before, "");
    let (cols, rows) = source_rows(more, "users").await;
    same_rows(warehouse_rows(&app, "users", &cols).await, &rows, "reset");
}
