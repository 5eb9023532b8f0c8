//! The native executor end to end: faker → SQLite warehouse in each load
//! mode, incremental runs, cancel, and the events a watcher sees.

use std::time::Duration;

use tokio_stream::StreamExt;
use tributary::pb::{self, LoadMode, RunStatus, run_event::Event};

use crate::{
    both,
    helpers::{TestApp, eventually, json_struct, spawn_executing},
    rows::{same_rows, source_rows, table_rows},
};

both!(
    each_load_mode_copies_the_source_exactly,
    incremental_runs_read_only_new_and_changed_rows,
    cancel_stops_a_running_run_promptly,
    run_logs_page_in_order,
);

/// Triggers a run and watches it to its end: the events must be numbered
/// 1, 2, 3 … without gaps, starting with the snapshot.
pub(crate) async fn run_to_end(app: &TestApp, sync_id: &str) -> (pb::Run, Vec<pb::RunEvent>) {
    let run = app.trigger(sync_id).await;
    let events = watch_to_end(app, &run.id).await;
    (app.run(&run.id).await, events)
}

pub(crate) async fn watch_to_end(app: &TestApp, run_id: &str) -> Vec<pb::RunEvent> {
    let mut s = app.watch(run_id).await;
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while let Some(e) = tokio::time::timeout_at(deadline, s.next())
        .await
        .expect("the run ends")
    {
        events.push(e.unwrap());
    }
    assert!(
        matches!(events[0].event, Some(Event::Snapshot(_))),
        "snapshot first"
    );
    let persisted: Vec<i64> = events[1..]
        .iter()
        .filter(|e| {
            !matches!(
                e.event,
                Some(Event::Heartbeat(_)) | Some(Event::Snapshot(_))
            )
        })
        .map(|e| e.sequence)
        .collect();
    let from = events[0].sequence.min(1);
    let expect: Vec<i64> = (from.max(1)..).take(persisted.len()).collect();
    assert_eq!(persisted, expect, "gap-free sequence");
    events
}

/// The default warehouse table's rows as JSON arrays of `columns`, by id.
pub(crate) async fn warehouse_rows(
    app: &TestApp,
    table: &str,
    columns: &[String],
) -> Vec<Vec<serde_json::Value>> {
    table_rows(&app.data_dir.path().join("warehouse.db"), table, columns).await
}

pub(crate) fn status_changes(events: &[pb::RunEvent]) -> Vec<RunStatus> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::StatusChanged(c)) => Some(c.to()),
            _ => None,
        })
        .collect()
}

async fn each_load_mode_copies_the_source_exactly(app: TestApp) {
    let Some(app) = spawn_executing(app.backend).await else {
        return;
    };
    let config = serde_json::json!({"row_count": 100_000, "seed": 7});
    let conn = app.faker_with("faker", config.clone()).await;
    let (columns, expected) = source_rows(config, "users").await;
    assert_eq!(expected.len(), 100_000);
    for mode in [LoadMode::AppendEvent, LoadMode::Upsert, LoadMode::Replace] {
        let table = format!("users_{}", mode.as_str_name().to_lowercase());
        let sync = app.bound_sync(&conn.id, "users", mode, &table).await;
        let (run, events) = run_to_end(&app, &sync.id).await;
        assert_eq!(
            run.status(),
            RunStatus::Succeeded,
            "{mode:?}: {:?}",
            run.error
        );
        assert_eq!(
            status_changes(&events),
            [RunStatus::Pending, RunStatus::Running, RunStatus::Succeeded],
            "{mode:?}"
        );
        let summary = run.summary.unwrap();
        assert_eq!(
            (summary.records_read, summary.records_written),
            (100_000, 100_000)
        );
        assert_eq!(summary.entities[0].cursor_after, "2026-01-02T03:46:39Z");
        same_rows(
            warehouse_rows(&app, &table, &columns).await,
            &expected,
            &format!("{mode:?}"),
        );
    }
}

async fn incremental_runs_read_only_new_and_changed_rows(app: TestApp) {
    let Some(app) = spawn_executing(app.backend).await else {
        return;
    };
    let conn = app
        .faker_with("faker", serde_json::json!({"row_count": 1000}))
        .await;
    let events_sync = app
        .bound_sync(&conn.id, "events", LoadMode::AppendEvent, "ev")
        .await;
    let users_sync = app
        .bound_sync(&conn.id, "users", LoadMode::Upsert, "us")
        .await;
    let read = |r: &pb::Run| r.summary.as_ref().unwrap().records_read;
    for s in [&events_sync, &users_sync] {
        assert_eq!(read(&run_to_end(&app, &s.id).await.0), 1000);
    }
    // 500 new rows, then a revision changing a tenth of them all.
    let reconfigure = |config: serde_json::Value| {
        let mut c = app.connections();
        let id = conn.id.clone();
        async move {
            c.update_connection(pb::UpdateConnectionRequest {
                connection_id: id.clone(),
                config: Some(json_struct(config)),
                ..Default::default()
            })
            .await
            .unwrap();
            // A config change asks for verification; the faker verifies offline.
            c.verify_connection(pb::VerifyConnectionRequest {
                connection_id: id,
                as_destination: false,
            })
            .await
            .unwrap();
        }
    };
    reconfigure(serde_json::json!({"row_count": 1500})).await;
    let (run, _) = run_to_end(&app, &events_sync.id).await;
    assert_eq!(read(&run), 500);
    let (cols, all) = source_rows(serde_json::json!({"row_count": 1500}), "events").await;
    same_rows(
        warehouse_rows(&app, "ev", &cols).await,
        &all,
        "appended, no duplicates",
    );

    reconfigure(serde_json::json!({"row_count": 1500, "revision": 1})).await;
    let (run, _) = run_to_end(&app, &users_sync.id).await;
    // 450 untouched new rows; the revision touched a tenth of all 1500 (50 of them new).
    assert_eq!(
        read(&run),
        450 + 150,
        "new rows and the changed tenth, each once"
    );
    let (cols, all) = source_rows(
        serde_json::json!({"row_count": 1500, "revision": 1}),
        "users",
    )
    .await;
    same_rows(
        warehouse_rows(&app, "us", &cols).await,
        &all,
        "merged on id",
    );
}

async fn cancel_stops_a_running_run_promptly(app: TestApp) {
    let Some(app) = spawn_executing(app.backend).await else {
        return;
    };
    let conn = app
        .faker_with(
            "faker",
            serde_json::json!({"row_count": 1_000_000, "rows_per_second": 20_000}),
        )
        .await;
    let sync = app
        .bound_sync(&conn.id, "users", LoadMode::Upsert, "users")
        .await;
    let run = app.trigger(&sync.id).await;
    // Wait until rows are flowing, then cancel.
    let mut s = app.watch(&run.id).await;
    loop {
        let e = tokio::time::timeout(Duration::from_secs(30), s.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if matches!(&e.event, Some(Event::Progress(p)) if p.records_written > 0) {
            break;
        }
    }
    let asked = std::time::Instant::now();
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: run.id.clone(),
            reason: "enough".into(),
        })
        .await
        .unwrap();
    let end = eventually(Duration::from_secs(10), || async {
        let r = app.run(&run.id).await;
        (r.status() == RunStatus::Cancelled).then_some(r)
    })
    .await;
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "cancelled in {:?}",
        asked.elapsed()
    );
    assert_eq!(
        end.result_reason_code(),
        pb::ResultReasonCode::UserCancelled
    );
    // What was committed is consistent: every written row is in the table.
    let written = end.summary.unwrap().records_written;
    assert!(written > 0 && written < 1_000_000, "{written}");
    let (cols, _) = (vec!["id".to_string()], ());
    assert_eq!(
        warehouse_rows(&app, "users", &cols).await.len() as i64,
        written
    );
}

async fn run_logs_page_in_order(app: TestApp) {
    let Some(app) = spawn_executing(app.backend).await else {
        return;
    };
    let conn = app
        .faker_with("faker", serde_json::json!({"row_count": 10}))
        .await;
    let sync = app
        .faker_sync(&conn.id, "Logs", &["users", "orders", "events"])
        .await;
    let (run, events) = run_to_end(&app, &sync.id).await;
    let logged: Vec<i64> = events
        .iter()
        .filter(|e| matches!(e.event, Some(Event::Log(_))))
        .map(|e| e.sequence)
        .collect();
    assert!(logged.len() >= 4, "{logged:?}");
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .runs()
            .list_run_logs(pb::ListRunLogsRequest {
                run_id: run.id.clone(),
                limit: Some(2),
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.entries.len() <= 2);
        paged.extend(page.entries.iter().map(|e| e.sequence));
        if !page.has_next {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, logged);
    let errors = app
        .runs()
        .list_run_logs(pb::ListRunLogsRequest {
            run_id: run.id.clone(),
            min_level: pb::LogLevel::Error.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(errors.entries.is_empty(), "a clean run logs no errors");
}
