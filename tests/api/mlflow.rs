//! The mlflow provider against a real MLflow tracking server (PyPI's
//! `mlflow`, started by `.ci/mlflow`): experiments, runs, registered
//! models and model versions are seeded through MLflow's REST API, synced
//! through our gRPC API into the default SQLite warehouse, and compared
//! value for value with what MLflow's REST API answers for them.
//!
//! Tests share one server, so each makes experiments and models under
//! names of its own and compares only those rows.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU32, Ordering},
};

use sea_orm::sqlx;
use serde_json::{Value, json};
use tributary::pb::{self, ConnectionStatus};

use crate::{
    helpers::{Backend, TestApp, spawn_executing},
    http_peer::{connect, run_ok, sync_of, verify},
    pg_fixtures::{Cell, sqlite_cells},
};

const ENTITIES: &[&str] = &["experiments", "runs", "registered_models", "model_versions"];

/// The test server's URL (`http://127.0.0.1:PORT`), or None (skip).
fn mlflow_url() -> Option<String> {
    match std::env::var("TRIBUTARY_TEST_MLFLOW_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("TRIBUTARY_REQUIRE_MLFLOW").is_ok_and(|v| v == "1") => {
            panic!("TRIBUTARY_TEST_MLFLOW_URL is not set; run the suite with `bash .ci/test`")
        }
        _ => {
            eprintln!(
                "skipping the MLflow test: TRIBUTARY_TEST_MLFLOW_URL is not set (eval \"$(.ci/mlflow start)\")"
            );
            None
        }
    }
}

/// A name no other test (or earlier run against the same server) uses.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// MLflow's REST API 2.0, as a client of the tracking server sees it.
struct Mlflow {
    url: String,
    http: reqwest::Client,
}

impl Mlflow {
    fn new(url: String) -> Self {
        Mlflow {
            url,
            http: reqwest::Client::new(),
        }
    }

    async fn answer(what: &str, r: reqwest::RequestBuilder) -> Value {
        let response = r.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "{what}: {status} {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"))
    }

    async fn post(&self, method: &str, body: Value) -> Value {
        let url = format!("{}/api/2.0/mlflow/{method}", self.url);
        Self::answer(method, self.http.post(url).json(&body)).await
    }

    async fn get(&self, method: &str, query: &[(&str, &str)]) -> Value {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/2.0/mlflow/{method}", self.url),
            query,
        )
        .unwrap();
        Self::answer(method, self.http.get(url)).await
    }

    /// A new experiment with `tags`; its id.
    async fn experiment(&self, name: &str, tags: Value) -> String {
        let r = self
            .post("experiments/create", json!({"name": name, "tags": tags}))
            .await;
        r["experiment_id"].as_str().unwrap().to_string()
    }

    /// A new run of the experiment, with its params, metrics and tags
    /// logged in one batch, ended with `status` unless it is RUNNING.
    async fn run(
        &self,
        experiment_id: &str,
        name: &str,
        start: i64,
        log: Value,
        status: &str,
    ) -> String {
        let r = self
            .post(
                "runs/create",
                json!({"experiment_id": experiment_id, "run_name": name, "start_time": start}),
            )
            .await;
        let run_id = r["run"]["info"]["run_id"].as_str().unwrap().to_string();
        let mut batch = log;
        batch["run_id"] = json!(run_id);
        self.post("runs/log-batch", batch).await;
        if status != "RUNNING" {
            self.post(
                "runs/update",
                json!({"run_id": run_id, "status": status, "end_time": start + 60_000}),
            )
            .await;
        }
        run_id
    }

    /// Every page of a search, its records under `key`.
    async fn search_all(&self, method: &str, body: Value, key: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut b = body.clone();
            if let Some(t) = &token {
                b["page_token"] = json!(t);
            }
            let page = self.post(method, b).await;
            out.extend(page[key].as_array().cloned().unwrap_or_default());
            match page["next_page_token"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return out,
            }
        }
    }

    /// What MLflow answers for the experiment and everything seeded under
    /// it and under the registered model: (experiments, runs, registered
    /// models, model versions).
    async fn truth(&self, experiment_id: &str, model: &str) -> [Vec<Value>; 4] {
        let experiment = self
            .get("experiments/get", &[("experiment_id", experiment_id)])
            .await["experiment"]
            .clone();
        let runs = self
            .search_all(
                "runs/search",
                json!({"experiment_ids": [experiment_id], "max_results": 1000}),
                "runs",
            )
            .await;
        let filter = format!("name = '{model}'");
        let models = self
            .get("registered-models/search", &[("filter", &filter)])
            .await["registered_models"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let versions = self
            .get("model-versions/search", &[("filter", &filter)])
            .await["model_versions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        [vec![experiment], runs, models, versions]
    }
}

/// What a test seeded.
struct Seeded {
    experiment_id: String,
    model: String,
    run_ids: Vec<String>,
}

/// An experiment with three runs (params, metrics at several steps, tags;
/// finished, failed and still running), a registered model with tags and an
/// alias, and two versions of it: one from a run, one from a bare source.
async fn seed(m: &Mlflow) -> Seeded {
    let experiment_id = m
        .experiment(
            &unique("tributary-exp"),
            json!([{"key": "team", "value": "forecasting"}, {"key": "empty", "value": ""}]),
        )
        .await;
    let mut run_ids = Vec::new();
    let logs = [
        (
            "FINISHED",
            json!({
                "params": [{"key": "lr", "value": "0.01"}, {"key": "layers", "value": "3"}],
                "metrics": [
                    {"key": "rmse", "value": 0.1, "timestamp": 1_700_000_001_000_i64, "step": 0},
                    {"key": "rmse", "value": 0.07, "timestamp": 1_700_000_002_000_i64, "step": 1},
                    {"key": "r2", "value": 3.0, "timestamp": 1_700_000_002_000_i64, "step": 1}
                ],
                "tags": [{"key": "stage", "value": "train"}]
            }),
        ),
        (
            "FAILED",
            json!({
                "params": [{"key": "lr", "value": ""}],
                "metrics": [{"key": "loss", "value": -1.5e-7, "timestamp": 1_700_000_003_000_i64, "step": 2}],
                "tags": []
            }),
        ),
        (
            "RUNNING",
            json!({"params": [], "metrics": [], "tags": [{"key": "note", "value": "naïve – ✓"}]}),
        ),
    ];
    for (i, (status, log)) in logs.into_iter().enumerate() {
        let start = 1_700_000_000_000 + i as i64 * 1000;
        run_ids.push(
            m.run(&experiment_id, &format!("run-{i}"), start, log, status)
                .await,
        );
    }
    let model = unique("tributary-model");
    m.post(
        "registered-models/create",
        json!({"name": model, "description": "demand model", "tags": [{"key": "owner", "value": "ml"}]}),
    )
    .await;
    m.post(
        "model-versions/create",
        json!({
            "name": model,
            "source": format!("runs:/{}/model", run_ids[0]),
            "run_id": run_ids[0],
            "description": "first",
            "tags": [{"key": "validated", "value": "yes"}]
        }),
    )
    .await;
    // No description, no run: those fields are absent, not empty.
    m.post(
        "model-versions/create",
        json!({"name": model, "source": "s3://models/demand/2"}),
    )
    .await;
    m.post(
        "registered-models/alias",
        json!({"name": model, "alias": "champion", "version": "1"}),
    )
    .await;
    Seeded {
        experiment_id,
        model,
        run_ids,
    }
}

// === the warehouse, read back ===

/// Every row of `table` in the default SQLite warehouse, by column name.
async fn warehouse_rows(app: &TestApp, table: &str) -> Vec<BTreeMap<String, Cell>> {
    let file = app.data_dir.path().join("warehouse.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(!columns.is_empty(), "no table {table} in the warehouse");
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    sqlite_cells(&file, table, &names, "rowid")
        .await
        .into_iter()
        .map(|cells| columns.iter().cloned().zip(cells).collect())
        .collect()
}

/// A cell as the JSON value it holds: text that holds a JSON object or
/// array is that value (nested objects and arrays land as JSON text).
fn as_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(i) => json!(i),
        Cell::Real(r) => json!(r),
        Cell::Text(t) if t.starts_with(['{', '[']) => {
            serde_json::from_str(t).unwrap_or_else(|_| json!(t))
        }
        Cell::Text(t) => json!(t),
        Cell::Blob(b) => panic!("a BLOB in the warehouse: {b:?}"),
    }
}

/// Equal JSON values, numbers by value (an integer and a float of the
/// same value are equal; two floats must have the same bits).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `cell` holds exactly `want` (a field of an MLflow record):
/// strings as TEXT ('' is not NULL), integers as INTEGER, floats as REAL,
/// objects and arrays as their JSON text.
fn holds(cell: &Cell, want: &Value) -> bool {
    match (cell, want) {
        (Cell::Text(t), Value::String(s)) => t == s,
        (Cell::Int(i), Value::Number(n)) => n.as_i64() == Some(*i),
        (Cell::Real(r), Value::Number(n)) => n.as_f64().map(f64::to_bits) == Some(r.to_bits()),
        (Cell::Text(_), Value::Object(_) | Value::Array(_)) => same_json(&as_json(cell), want),
        _ => false,
    }
}

/// Asserts that the warehouse rows whose `key` is among the records' keys
/// hold the records field for field: every field of a record in its own
/// column with its value, every other column of the row NULL but the
/// ones the engine adds (`_…`).
#[track_caller]
fn same_records(
    what: &str,
    rows: &[BTreeMap<String, Cell>],
    records: &[Value],
    key: impl Fn(&Value) -> Value,
) {
    assert!(!records.is_empty(), "{what}: MLflow answered no records");
    let row_key = |row: &BTreeMap<String, Cell>| {
        let as_value: serde_json::Map<String, Value> =
            row.iter().map(|(k, c)| (k.clone(), as_json(c))).collect();
        key(&Value::Object(as_value))
    };
    for record in records {
        let k = key(record);
        let matching: Vec<_> = rows.iter().filter(|r| row_key(r) == k).collect();
        assert_eq!(matching.len(), 1, "{what} {k}: rows with this key");
        let row = matching[0];
        let fields = record.as_object().unwrap();
        for (field, want) in fields {
            let got = row
                .get(field)
                .unwrap_or_else(|| panic!("{what} {k}: no column {field}"));
            assert!(
                holds(got, want),
                "{what} {k}, column {field}: warehouse {got:?}, MLflow {want}"
            );
        }
        for (column, got) in row {
            if !fields.contains_key(column) && !column.starts_with('_') {
                assert_eq!(
                    got,
                    &Cell::Null,
                    "{what} {k}, column {column}: MLflow has no such field"
                );
            }
        }
    }
}

/// Asserts that the warehouse holds what MLflow answers for the seeded
/// experiment and model.
async fn lands_as_mlflow_answers(app: &TestApp, m: &Mlflow, s: &Seeded) {
    let [experiments, mut runs, models, versions] = m.truth(&s.experiment_id, &s.model).await;
    // The manifest lifts the nested run id into a column to key on.
    for r in &mut runs {
        r["run_id"] = r["info"]["run_id"].clone();
    }
    let by = |path: &'static [&'static str]| {
        move |v: &Value| {
            let mut at = v.clone();
            for p in path {
                at = at[p].clone();
            }
            at
        }
    };
    same_records(
        "experiments",
        &warehouse_rows(app, "experiments").await,
        &experiments,
        by(&["experiment_id"]),
    );
    assert_eq!(runs.len(), s.run_ids.len(), "runs MLflow answers");
    same_records(
        "runs",
        &warehouse_rows(app, "runs").await,
        &runs,
        by(&["info", "run_id"]),
    );
    same_records(
        "registered_models",
        &warehouse_rows(app, "registered_models").await,
        &models,
        by(&["name"]),
    );
    assert_eq!(versions.len(), 2, "model versions MLflow answers");
    same_records(
        "model_versions",
        &warehouse_rows(app, "model_versions").await,
        &versions,
        |v| json!([v["name"], v["version"]]),
    );
}

/// What a run did for `entity`.
fn entity<'a>(run: &'a pb::Run, entity: &str) -> &'a pb::EntitySummary {
    let summary = run.summary.as_ref().expect("a run summary");
    summary
        .entities
        .iter()
        .find(|e| e.entity_key == entity)
        .unwrap_or_else(|| panic!("no summary of {entity}: {summary:?}"))
}

/// The experiments' cursor (last_update_time, epoch ms) before and after
/// a run.
fn experiments_cursor(run: &pb::Run) -> (i64, i64) {
    let e = entity(run, "experiments");
    let ms = |c: &str| {
        c.parse::<i64>()
            .unwrap_or_else(|_| panic!("cursor {c:?} is not epoch ms"))
    };
    let before = if e.cursor_before.is_empty() {
        0
    } else {
        ms(&e.cursor_before)
    };
    (before, ms(&e.cursor_after))
}

async fn mlflow_connection(app: &TestApp, url: &str) -> pb::Connection {
    connect(app, "mlflow", json!({"base_url": url}), &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_server_verifies_active_and_a_dead_one_does_not() {
    let Some(url) = mlflow_url() else { return };
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let conn = mlflow_connection(&app, &url).await;
    let v = verify(&app, &conn.id).await;
    assert_eq!(
        v.status(),
        ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    assert!(v.verification_error.is_none());

    // Nothing listens on a port just bound and released.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let token = "tok-never-shown-4d1f";
    let conn = connect(
        &app,
        "mlflow",
        json!({"base_url": dead}),
        &[("token", token)],
    )
    .await;
    let v = verify(&app, &conn.id).await;
    assert_eq!(v.status(), ConnectionStatus::Error);
    let why = v.verification_error.unwrap();
    assert!(!why.is_empty());
    assert!(!why.contains(token), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experiments_runs_models_and_versions_land_as_mlflow_answers_them() {
    let Some(url) = mlflow_url() else { return };
    let m = Mlflow::new(url.clone());
    let seeded = seed(&m).await;
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let conn = mlflow_connection(&app, &url).await;
    let sync = sync_of(&app, &conn.id, ENTITIES).await;
    let run = run_ok(&app, &sync.id).await;
    lands_as_mlflow_answers(&app, &m, &seeded).await;
    // The experiments' cursor ends at the newest last_update_time read.
    let ours = m
        .get(
            "experiments/get",
            &[("experiment_id", &seeded.experiment_id)],
        )
        .await["experiment"]["last_update_time"]
        .as_i64()
        .unwrap();
    let (before, after) = experiments_cursor(&run);
    assert_eq!(before, 0, "a first read starts at the initial value");
    assert!(after >= ours, "cursor {after} < {ours}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_picks_up_a_new_run_and_a_changed_experiment() {
    let Some(url) = mlflow_url() else { return };
    let m = Mlflow::new(url.clone());
    let mut seeded = seed(&m).await;
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let conn = mlflow_connection(&app, &url).await;
    let sync = sync_of(&app, &conn.id, ENTITIES).await;
    let first = run_ok(&app, &sync.id).await;
    let first_cursor = experiments_cursor(&first).1;

    // A new run, and a new tag on the experiment (which moves its
    // last_update_time, the experiments' cursor).
    let new_run = m
        .run(
            &seeded.experiment_id,
            "late",
            1_700_000_100_000,
            json!({"params": [{"key": "lr", "value": "0.5"}], "metrics": [], "tags": []}),
            "FINISHED",
        )
        .await;
    seeded.run_ids.push(new_run.clone());
    m.post(
        "experiments/set-experiment-tag",
        json!({"experiment_id": seeded.experiment_id, "key": "team", "value": "pricing"}),
    )
    .await;
    let second = run_ok(&app, &sync.id).await;

    // Experiments were read from the first run's cursor on: the Default
    // experiment, made when the server started, was not read again.
    let (before, after) = experiments_cursor(&second);
    assert_eq!(
        before, first_cursor,
        "the second read starts at the first's end"
    );
    let changed = m
        .get(
            "experiments/get",
            &[("experiment_id", &seeded.experiment_id)],
        )
        .await["experiment"]["last_update_time"]
        .as_i64()
        .unwrap();
    assert!(after >= changed, "cursor {after} < {changed}");
    let read = entity(&second, "experiments").records_read;
    let on_server = m
        .search_all(
            "experiments/search",
            json!({"max_results": 1000, "view_type": "ACTIVE_ONLY"}),
            "experiments",
        )
        .await
        .len();
    assert!(
        (1..on_server as i64).contains(&read),
        "the second run read {read} of {on_server} experiments"
    );

    let runs = warehouse_rows(&app, "runs").await;
    assert!(
        runs.iter()
            .any(|r| { as_json(r.get("info").unwrap_or(&Cell::Null))["run_id"] == json!(new_run) }),
        "the new run is in the warehouse"
    );
    let experiments = warehouse_rows(&app, "experiments").await;
    let ours = experiments
        .iter()
        .find(|r| r.get("experiment_id") == Some(&Cell::Text(seeded.experiment_id.clone())))
        .expect("the experiment's row");
    let tags = as_json(&ours["tags"]);
    assert!(
        tags.as_array()
            .unwrap()
            .contains(&json!({"key": "team", "value": "pricing"})),
        "the experiment's new tag: {tags}"
    );
    assert_eq!(
        runs.iter()
            .filter(|r| {
                as_json(r.get("info").unwrap_or(&Cell::Null))["experiment_id"]
                    == json!(seeded.experiment_id)
            })
            .count(),
        4,
        "each run of the experiment once"
    );
    // And every value as MLflow now answers it.
    lands_as_mlflow_answers(&app, &m, &seeded).await;
}
