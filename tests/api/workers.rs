//! `tributary worker` processes on one PostgreSQL: a worker killed with
//! SIGKILL mid-run costs neither data nor duplicates, and two workers never
//! execute the same run.

use std::{path::Path, time::Duration};

use tokio_stream::StreamExt;
use tributary::pb::{self, LoadMode, ResultReasonCode, RunStatus, TriggeredBy};

use crate::helpers::{Backend, TestApp, Worker, eventually, spawn_app_with};

/// The API server: no executor of its own, but it reaps.
async fn control_plane() -> Option<TestApp> {
    spawn_app_with(Backend::Postgres, |a| {
        a.engine.heartbeat_interval = Duration::from_millis(200);
        a.engine.heartbeat_timeout = Duration::from_millis(1500);
    })
    .await
}

async fn faker_sync(
    app: &TestApp,
    config: serde_json::Value,
    table: &str,
    mode: LoadMode,
) -> pb::Sync {
    let conn = app.faker_with(&format!("faker for {table}"), config).await;
    app.bound_sync(&conn.id, "users", mode, table).await
}

/// `--warehouse-url` of the SQLite file `path`.
fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

async fn table_ids(warehouse: &Path, table: &str) -> Vec<i64> {
    use sea_orm::sqlx::{self, Row};
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", warehouse.display()))
        .await
        .unwrap();
    let sql = format!("SELECT id FROM \"{table}\" ORDER BY id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_resumed_by_another_without_loss_or_duplicates() {
    let Some(app) = control_plane().await else {
        return;
    };
    let url = app.database_url.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("warehouse.db");
    // APPEND_EVENT: a row loaded twice would show as a duplicate id.
    let rows = 200_000;
    let sync = faker_sync(
        &app,
        serde_json::json!({"row_count": rows, "rows_per_second": 40_000}),
        "users",
        LoadMode::AppendEvent,
    )
    .await;
    let first_worker = Worker::spawn(&url, &sqlite_url(&warehouse), &dir.path().join("w1"));
    let run = app.trigger(&sync.id).await;
    // Kill it once rows are flowing.
    let mut watch = app
        .watch_until_written(&run.id, 20_000, Duration::from_secs(30))
        .await;
    first_worker.kill();
    let _second_worker = Worker::spawn(&url, &sqlite_url(&warehouse), &dir.path().join("w2"));
    // The reaper fails the silent run; its AUTO_RESUME attempt finishes.
    let failed = eventually(Duration::from_secs(20), || async {
        let r = app.run(&run.id).await;
        (r.status() == RunStatus::Failed).then_some(r)
    })
    .await;
    assert_eq!(
        failed.result_reason_code(),
        ResultReasonCode::HeartbeatTimeout
    );
    let next_id = failed
        .next_attempt_run_id
        .clone()
        .expect("an AUTO_RESUME attempt");
    let next = eventually(Duration::from_secs(60), || async {
        let r = app.run(&next_id).await;
        r.status().ended().then_some(r)
    })
    .await;
    assert_eq!(next.status(), RunStatus::Succeeded, "{:?}", next.error);
    assert_eq!(next.triggered_by(), TriggeredBy::AutoResume);
    assert_eq!(
        next.previous_attempt_run_id.as_deref(),
        Some(run.id.as_str())
    );
    assert_eq!(
        (next.attempt_number, next.attempt_root_run_id.as_str()),
        (2, run.id.as_str())
    );
    // The resume read only what was not committed.
    let resumed = next.summary.unwrap().records_read;
    assert!(
        resumed < rows,
        "resumed from the committed cursor: read {resumed}"
    );
    let ids = table_ids(&warehouse, "users").await;
    assert_eq!(
        ids,
        (1..=rows).collect::<Vec<i64>>(),
        "every row exactly once"
    );
    // The watcher followed the chain to the resumed attempt's end.
    let mut seen_next = false;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(30), watch.next()).await {
        let e = e.unwrap();
        seen_next |= e.run_id == next_id;
    }
    assert!(seen_next, "follow_attempts continued with the next attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_execute_the_same_run() {
    let Some(app) = control_plane().await else {
        return;
    };
    let url = app.database_url.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("warehouse.db");
    // Both run before the first run exists, so both can take some.
    let mut w1 = Worker::spawn(&url, &sqlite_url(&warehouse), &dir.path().join("w1"));
    let mut w2 = Worker::spawn(&url, &sqlite_url(&warehouse), &dir.path().join("w2"));
    w1.running().await;
    w2.running().await;
    let mut runs = Vec::new();
    for i in 0..100 {
        let sync = faker_sync(
            &app,
            serde_json::json!({"row_count": 10}),
            &format!("t{i}"),
            LoadMode::AppendEvent,
        )
        .await;
        runs.push(app.trigger(&sync.id).await.id);
    }
    let done = eventually(Duration::from_secs(120), || async {
        let mut done = Vec::new();
        for id in &runs {
            let r = app.run(id).await;
            if !r.status().ended() {
                return None;
            }
            done.push(r);
        }
        Some(done)
    })
    .await;
    let mut executors = std::collections::HashSet::new();
    for (i, r) in done.iter().enumerate() {
        assert_eq!(r.status(), RunStatus::Succeeded, "{:?}", r.error);
        assert_eq!(r.attempt_number, 1, "no run was retried");
        executors.insert(r.executor_id.clone().unwrap());
        // Executed twice, an APPEND_EVENT table would hold its rows twice.
        assert_eq!(
            table_ids(&warehouse, &format!("t{i}")).await,
            (1..=10).collect::<Vec<i64>>()
        );
    }
    assert_eq!(executors.len(), 2, "both workers took runs");
}

trait Terminal {
    fn ended(self) -> bool;
}

impl Terminal for RunStatus {
    fn ended(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}
