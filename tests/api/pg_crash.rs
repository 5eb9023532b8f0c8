//! A `tributary worker` SIGKILLed while it COPYs a PostgreSQL source into a
//! PostgreSQL warehouse (control store, source and warehouse: three
//! databases): the reaper fails the silent run, another worker's
//! AUTO_RESUME attempt continues from the committed position, and the
//! destination ends equal to the source row for row — nothing lost,
//! nothing twice — for an UPSERT incremental load and for a REPLACE (staged
//! full) load.

use std::time::Duration;

use tributary::pb::LoadMode;

use crate::{
    helpers::{Backend, TestApp, Worker, cursor_sync, eventually, fresh_postgres, spawn_app_with},
    pg_fixtures::{Cell, execute, pg_source, pg_text_rows, sqlite_cells, workspace_schema},
};

const ROWS: i64 = 200_000;

/// 200k rows whose cursor values repeat (seven rows a second), so the
/// resume point falls among rows that share one.
const BIG: &str = "CREATE TABLE big (id bigint PRIMARY KEY, v text, n numeric(12,2),
        at timestamptz NOT NULL);
    INSERT INTO big SELECT i, CASE WHEN i % 5 = 0 THEN NULL WHEN i % 7 = 0 THEN '' ELSE md5(i::text) END,
        i / 100.0, '2024-01-01 00:00:00+00'::timestamptz + (i / 7) * interval '1 second'
    FROM generate_series(1, 200000) i;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_copy_of_an_upsert_is_resumed_without_loss_or_duplicates() {
    killed_mid_copy(LoadMode::Upsert, Target::Postgres, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_copy_of_a_replace_is_resumed_without_loss_or_duplicates() {
    killed_mid_copy(LoadMode::Replace, Target::Postgres, false).await;
}

/// The source gains a column while the full load is interrupted: the
/// staging table lacks it, so the resumed load starts over (and the
/// column is there for every row).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_full_load_whose_source_gained_a_column_starts_over_in_postgres() {
    killed_mid_copy(LoadMode::Replace, Target::Postgres, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_full_load_whose_source_gained_a_column_starts_over_in_sqlite() {
    killed_mid_copy(LoadMode::Replace, Target::Sqlite, true).await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Postgres,
    Sqlite,
}

/// The API server on a PostgreSQL store: no executor of its own, but it
/// reaps silent runs.
async fn control_plane() -> Option<TestApp> {
    spawn_app_with(Backend::Postgres, |a| {
        a.engine.heartbeat_interval = Duration::from_millis(200);
        a.engine.heartbeat_timeout = Duration::from_millis(1500);
    })
    .await
}

async fn killed_mid_copy(mode: LoadMode, target: Target, add_column: bool) {
    let Some(app) = control_plane().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_file = dir.path().join("warehouse.db");
    let warehouse = match target {
        Target::Postgres => {
            let Some(url) = fresh_postgres().await else {
                return;
            };
            url
        }
        Target::Sqlite => format!("sqlite://{}?mode=rwc", sqlite_file.display()),
    };
    let Some((conn, source)) = pg_source(&app, BIG).await else {
        return;
    };
    let store = app.database_url.clone().unwrap();
    let mut req = cursor_sync(&conn.id, "public.big", "big", mode, "at", 1000);
    req.table_bindings[0].primary_key_columns = vec!["id".into()];
    let sync = app.new_sync(req).await;
    let first = Worker::spawn(&store, &warehouse, &dir.path().join("w1"));
    let run = app.trigger(&sync.id).await;
    // Rows are flowing once some are committed…
    app.watch_until_written(&run.id, 10_000, Duration::from_secs(60))
        .await;
    // …and the kill lands while the worker's COPY into the warehouse is
    // open (its backend is busy with it).
    if target == Target::Postgres {
        let copying = "SELECT count(*)::text FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %'";
        eventually(Duration::from_secs(30), || async {
            let n = pg_text_rows(&warehouse, copying).await;
            (n[0][0].as_deref() != Some("0")).then_some(())
        })
        .await;
    }
    first.kill();
    if add_column {
        execute(
            &source,
            "ALTER TABLE big ADD COLUMN extra text DEFAULT 'new'; UPDATE big SET extra = NULL WHERE id % 3 = 0;",
        )
        .await;
    }
    let _second = Worker::spawn(&store, &warehouse, &dir.path().join("w2"));

    let next = app.resumed_attempt(&run.id).await;
    let read = next.summary.unwrap().records_read;
    if add_column {
        assert_eq!(read, ROWS, "{mode:?}: started over");
    } else {
        assert!(
            read < ROWS,
            "{mode:?}: resumed from the committed position, yet read {read}"
        );
    }

    // Row for row, every value.
    let extra = if add_column { ", extra" } else { "" };
    let (want, got) = match target {
        Target::Postgres => {
            let schema = workspace_schema(&app).await;
            let select = |table: &str| {
                format!(
                    "SELECT id::text, v, n::text, at::text{extra} FROM {table} ORDER BY id, at, v, n"
                )
            };
            let want = pg_text_rows(&source, &select("big")).await;
            let got = pg_text_rows(&warehouse, &select(&format!("\"{schema}\".big"))).await;
            (want, got)
        }
        Target::Sqlite => {
            // As the SQLite warehouse stores them: numeric as its exact
            // text, timestamptz as ISO 8601 in UTC.
            let want = pg_text_rows(
                &source,
                &format!(
                    "SELECT id::text, v, n::text,
                        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'){extra}
                     FROM big ORDER BY big.id"
                ),
            )
            .await;
            let mut columns = vec!["id", "v", "n", "at"];
            if add_column {
                columns.push("extra");
            }
            let got = sqlite_cells(&sqlite_file, "big", &columns, "id, rowid")
                .await
                .into_iter()
                .map(|row| row.into_iter().map(text_of).collect())
                .collect();
            (want, got)
        }
    };
    assert_eq!(want.len() as i64, ROWS);
    if let Some(i) = (0..want.len().max(got.len())).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "{mode:?}: {} rows at the destination for {} at the source; first difference at {i}: \
             destination {:?}, source {:?}",
            got.len(),
            want.len(),
            got.get(i),
            want.get(i)
        );
    }
}

/// A SQLite value as text (integers in decimal), NULL as None.
fn text_of(cell: Cell) -> Option<String> {
    match cell {
        Cell::Null => None,
        Cell::Int(v) => Some(v.to_string()),
        Cell::Text(s) => Some(s),
        other => panic!("unexpected {other:?}"),
    }
}
