//! Warehouse namespaces and reserved names: every workspace writes into its
//! own namespace, `destination_config.schema` picks a schema inside it, and
//! names the warehouse keeps for itself are refused. Tables are read back
//! from the namespace files, row by row.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use sea_orm::sqlx::{self, Row};
use serde_json::{Value, json};
use tonic::Code;
use tributary::pb::{self, LoadMode, RunStatus};

use crate::{
    both,
    helpers::{
        Backend, TestApp, eventually, expect_violation, json_struct, spawn_app_with, violations,
    },
    rows::{source_rows, table_rows},
};

both!(
    workspaces_never_share_a_destination_table,
    each_schema_of_a_workspace_is_its_own_destination,
    bad_schema_names_are_refused,
    the_default_workspace_keeps_its_tables_in_the_warehouse_file,
    reserved_table_names_are_refused,
    a_reserved_table_stored_before_the_rule_fails_its_run_harmlessly,
);

const RESERVED: [&str; 6] = [
    "_tributary_positions",
    "_TRIBUTARY_STAGING_users",
    "sqlite_master",
    "SQLITE_SEQUENCE",
    "pg_class",
    "information_schema",
];

/// A server that executes runs, with `tweak` applied to its flags.
async fn executing(
    backend: Backend,
    tweak: impl FnOnce(&mut tributary::config::ServeArgs),
) -> Option<TestApp> {
    spawn_app_with(backend, |a| {
        a.executor_concurrency = 2;
        a.engine.heartbeat_interval = Duration::from_millis(200);
        tweak(a);
    })
    .await
}

/// A caller: an admin key and its workspace's id.
struct Caller {
    key: String,
    workspace_id: String,
}

impl Caller {
    /// The admin of the server's first workspace, `default`.
    async fn default(app: &TestApp) -> Self {
        let ws = app
            .workspaces()
            .get_workspace(pb::GetWorkspaceRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ws.slug, "default");
        Self {
            key: app.admin_key.clone(),
            workspace_id: ws.id,
        }
    }

    /// The admin of a new workspace.
    async fn new_workspace(app: &TestApp, name: &str) -> Self {
        let created = app.other_workspace(name).await;
        Self {
            key: created.key,
            workspace_id: created.workspace.unwrap().id,
        }
    }

    async fn faker(&self, app: &TestApp, config: Value) -> pb::Connection {
        app.connections_as(&self.key)
            .create_connection(pb::CreateConnectionRequest {
                name: format!("faker {config}"),
                provider: "faker".into(),
                config: Some(json_struct(config)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// CreateSync of users into `table` of `schema` ("" leaves the schema out).
    async fn create_sync(
        &self,
        app: &TestApp,
        connection_id: &str,
        name: &str,
        schema: Value,
        table: &str,
        mode: LoadMode,
    ) -> Result<tonic::Response<pb::Sync>, tonic::Status> {
        let destination_config =
            (schema != json!("")).then(|| json_struct(json!({ "schema": schema })));
        app.syncs_as(&self.key)
            .create_sync(pb::CreateSyncRequest {
                name: name.into(),
                connection_id: connection_id.into(),
                entities: vec!["users".into()],
                destination_config,
                table_bindings: vec![pb::TableBinding {
                    entity_key: "users".into(),
                    physical_table_name: table.into(),
                    load_mode: mode.into(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
    }

    /// Triggers a run of the sync and waits for its end, which must be a success.
    async fn run_to_success(&self, app: &TestApp, sync_id: &str) -> pb::Run {
        let end = self.run_to_end(app, sync_id).await;
        assert_eq!(end.status(), RunStatus::Succeeded, "{:?}", end.error);
        end
    }

    /// Triggers a run of the sync and waits for its end.
    async fn run_to_end(&self, app: &TestApp, sync_id: &str) -> pb::Run {
        let run = app
            .syncs_as(&self.key)
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: sync_id.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        eventually(Duration::from_secs(60), || async {
            let r = app
                .runs_as(&self.key)
                .get_run(pb::GetRunRequest {
                    run_id: run.id.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            matches!(
                r.status(),
                RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
            )
            .then_some(r)
        })
        .await
    }
}

/// Asserts that `file`'s `table` holds exactly the faker's users under `config`.
async fn holds_users(file: &Path, table: &str, config: Value) {
    let (columns, want) = source_rows(config.clone(), "users").await;
    let got = table_rows(file, table, &columns).await;
    assert_eq!(
        got.len(),
        want.len(),
        "{table} in {}: rows of {config}",
        file.display()
    );
    if let Some((g, w)) = got.iter().zip(&want).find(|(g, w)| g != w) {
        panic!(
            "{table} in {}: a row differs from the source {config}: {g:?} != {w:?}",
            file.display()
        );
    }
}

/// D of the default layout: `<data-dir>/warehouse/`.
fn namespaces_dir(app: &TestApp) -> PathBuf {
    app.data_dir.path().join("warehouse")
}

async fn workspaces_never_share_a_destination_table(app: TestApp) {
    let Some(app) = executing(app.backend, |_| {}).await else {
        return;
    };
    let a = Caller::default(&app).await;
    let b = Caller::new_workspace(&app, "Tenant B").await;
    let a_config = json!({"row_count": 100, "seed": 1});
    let b_config = json!({"row_count": 7, "seed": 2});

    let a_conn = a.faker(&app, a_config.clone()).await;
    let a_sync = a
        .create_sync(
            &app,
            &a_conn.id,
            "A shared",
            json!(""),
            "shared_t",
            LoadMode::Upsert,
        )
        .await
        .unwrap()
        .into_inner();
    a.run_to_success(&app, &a_sync.id).await;

    // Another workspace binding the same name is its own table, so it is accepted…
    let b_conn = b.faker(&app, b_config.clone()).await;
    let b_sync = b
        .create_sync(
            &app,
            &b_conn.id,
            "B shared",
            json!(""),
            "shared_t",
            LoadMode::Replace,
        )
        .await
        .unwrap()
        .into_inner();
    b.run_to_success(&app, &b_sync.id).await;

    // …and running it leaves A's table as A loaded it.
    holds_users(
        &app.data_dir.path().join("warehouse.db"),
        "shared_t",
        a_config,
    )
    .await;
    let b_file = namespaces_dir(&app).join(format!("{}.db", b.workspace_id));
    holds_users(&b_file, "shared_t", b_config).await;
}

async fn each_schema_of_a_workspace_is_its_own_destination(app: TestApp) {
    let Some(app) = executing(app.backend, |_| {}).await else {
        return;
    };
    let w = Caller::new_workspace(&app, "Schemas").await;
    let alpha_config = json!({"row_count": 20, "seed": 3});
    let beta_config = json!({"row_count": 30, "seed": 4});
    let alpha_conn = w.faker(&app, alpha_config.clone()).await;
    let beta_conn = w.faker(&app, beta_config.clone()).await;
    let alpha = w
        .create_sync(
            &app,
            &alpha_conn.id,
            "Alpha",
            json!("alpha"),
            "dup_schema_t",
            LoadMode::Replace,
        )
        .await
        .unwrap()
        .into_inner();
    let beta = w
        .create_sync(
            &app,
            &beta_conn.id,
            "Beta",
            json!("beta"),
            "dup_schema_t",
            LoadMode::Replace,
        )
        .await
        .unwrap()
        .into_inner();
    w.run_to_success(&app, &alpha.id).await;
    w.run_to_success(&app, &beta.id).await;

    let dir = namespaces_dir(&app).join(&w.workspace_id);
    holds_users(&dir.join("alpha.db"), "dup_schema_t", alpha_config).await;
    holds_users(&dir.join("beta.db"), "dup_schema_t", beta_config).await;
    assert!(
        !namespaces_dir(&app)
            .join(format!("{}.db", w.workspace_id))
            .exists(),
        "nothing was written into the workspace's default schema"
    );

    // The same table of the same schema is taken, whatever the case.
    let st = expect_violation(
        w.create_sync(
            &app,
            &alpha_conn.id,
            "Alpha again",
            json!("alpha"),
            "DUP_SCHEMA_T",
            LoadMode::Replace,
        )
        .await,
        "table_bindings[0].physical_table_name",
    );
    assert!(st.message().contains(&alpha.slug), "{}", st.message());
    // Moving beta into alpha would share it too.
    let st = expect_violation(
        app.syncs_as(&w.key)
            .update_sync(pb::UpdateSyncRequest {
                sync_id: beta.id.clone(),
                destination_config: Some(json_struct(json!({"schema": "alpha"}))),
                ..Default::default()
            })
            .await,
        "table_bindings[0].physical_table_name",
    );
    assert!(st.message().contains(&alpha.slug), "{}", st.message());
}

async fn bad_schema_names_are_refused(app: TestApp) {
    let w = Caller::default(&app).await;
    let conn = w.faker(&app, json!({"row_count": 5})).await;
    let fine = w
        .create_sync(
            &app,
            &conn.id,
            "Fine",
            json!("fine"),
            "fine_t",
            LoadMode::Replace,
        )
        .await
        .unwrap()
        .into_inner();
    let bad = [
        json!("Alpha"),
        json!("a-b"),
        json!("_tributary_x"),
        json!("pg_temp"),
        json!("a".repeat(64)),
        json!(5),
    ];
    for (i, schema) in bad.into_iter().enumerate() {
        let st = expect_violation(
            w.create_sync(
                &app,
                &conn.id,
                &format!("Bad {i}"),
                schema.clone(),
                &format!("bad_{i}"),
                LoadMode::Replace,
            )
            .await,
            "destination_config.schema",
        );
        assert_eq!(violations(&st), ["destination_config.schema"], "{schema}");
        if schema == json!("Alpha") {
            assert!(st.message().contains("lowercase"), "{}", st.message());
        }
        expect_violation(
            app.syncs_as(&w.key)
                .update_sync(pb::UpdateSyncRequest {
                    sync_id: fine.id.clone(),
                    destination_config: Some(json_struct(json!({ "schema": schema }))),
                    ..Default::default()
                })
                .await,
            "destination_config.schema",
        );
    }
    // Refused updates changed nothing.
    let stored = app
        .syncs_as(&w.key)
        .get_sync(pb::GetSyncRequest {
            sync_id: fine.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.etag, fine.etag);
    // The longest name is fine, and so is the default schema spelled "".
    let longest = "a".repeat(63);
    w.create_sync(
        &app,
        &conn.id,
        "Longest",
        json!(longest),
        "fine_t",
        LoadMode::Replace,
    )
    .await
    .unwrap();
    app.syncs_as(&w.key)
        .create_sync(pb::CreateSyncRequest {
            name: "Empty schema".into(),
            connection_id: conn.id.clone(),
            entities: vec!["users".into()],
            destination_config: Some(json_struct(json!({"schema": ""}))),
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn the_default_workspace_keeps_its_tables_in_the_warehouse_file(app: TestApp) {
    // A warehouse file from before namespaces, with a table of its own.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warehouse.db");
    let legacy: Vec<Vec<Value>> = (1..=3)
        .map(|i| vec![json!(i), json!(format!("kept {i}"))])
        .collect();
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE legacy_t (id INTEGER, name TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        for row in &legacy {
            sqlx::query("INSERT INTO legacy_t VALUES (?, ?)")
                .bind(row[0].as_i64())
                .bind(row[1].as_str())
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let Some(app) = executing(app.backend, |a| a.warehouse_url = Some(url)).await else {
        return;
    };
    let w = Caller::default(&app).await;
    let config = json!({"row_count": 50, "seed": 5});
    let conn = w.faker(&app, config.clone()).await;
    let sync = w
        .create_sync(
            &app,
            &conn.id,
            "Fresh",
            json!(""),
            "fresh_t",
            LoadMode::Upsert,
        )
        .await
        .unwrap()
        .into_inner();
    w.run_to_success(&app, &sync.id).await;

    holds_users(&file, "fresh_t", config).await;
    let columns = ["id".to_string(), "name".to_string()];
    assert_eq!(table_rows(&file, "legacy_t", &columns).await, legacy);
    assert!(
        !dir.path().join("warehouse").exists(),
        "the default workspace's default schema opened no other file"
    );
}

async fn reserved_table_names_are_refused(app: TestApp) {
    let w = Caller::default(&app).await;
    let conn = w.faker(&app, json!({"row_count": 5})).await;
    let fine = w
        .create_sync(
            &app,
            &conn.id,
            "Fine",
            json!(""),
            "fine_t",
            LoadMode::AppendEvent,
        )
        .await
        .unwrap()
        .into_inner();
    for name in RESERVED {
        let st = expect_violation(
            w.create_sync(&app, &conn.id, name, json!(""), name, LoadMode::AppendEvent)
                .await,
            "table_bindings[0].physical_table_name",
        );
        assert!(
            st.message().contains("reserved"),
            "{name}: {}",
            st.message()
        );
        let st = expect_violation(
            app.syncs_as(&w.key)
                .update_sync(pb::UpdateSyncRequest {
                    sync_id: fine.id.clone(),
                    update_table_bindings: true,
                    table_bindings: vec![pb::TableBinding {
                        entity_key: "users".into(),
                        physical_table_name: name.into(),
                        load_mode: LoadMode::AppendEvent.into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .await,
            "table_bindings[0].physical_table_name",
        );
        assert_eq!(st.code(), Code::InvalidArgument);
    }
    let stored = app
        .syncs_as(&w.key)
        .get_sync(pb::GetSyncRequest {
            sync_id: fine.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.table_bindings[0].physical_table_name, "fine_t");
}

async fn a_reserved_table_stored_before_the_rule_fails_its_run_harmlessly(app: TestApp) {
    let Some(app) = executing(app.backend, |_| {}).await else {
        return;
    };
    let w = Caller::default(&app).await;
    let conn = w.faker(&app, json!({"row_count": 5})).await;
    let sync = w
        .create_sync(
            &app,
            &conn.id,
            "Old",
            json!(""),
            "old_t",
            LoadMode::AppendEvent,
        )
        .await
        .unwrap()
        .into_inner();
    // The first run creates the positions table.
    w.run_to_success(&app, &sync.id).await;
    let file = app.data_dir.path().join("warehouse.db");
    let positions_columns = || async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
            .await
            .unwrap();
        let n: i64 = sqlx::query("SELECT count(*) FROM pragma_table_info('_tributary_positions')")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
        pool.close().await;
        n
    };
    let before = positions_columns().await;

    // As a sync stored before CreateSync refused reserved names would be.
    let store_url = app
        .database_url
        .clone()
        .unwrap_or_else(|| tributary::store::Store::sqlite_url(app.data_dir.path()));
    let db = sea_orm::Database::connect(&store_url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!(
            "UPDATE table_bindings SET physical_table_name = '_tributary_positions' WHERE sync_id = '{}'",
            sync.id
        ),
    )
    .await
    .unwrap();
    db.close().await.unwrap();

    let run = w.run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Failed);
    assert_eq!(
        run.result_reason_code(),
        pb::ResultReasonCode::DestinationError
    );
    assert!(
        run.error
            .as_deref()
            .unwrap_or_default()
            .contains("reserved"),
        "{:?}",
        run.error
    );
    assert_eq!(
        positions_columns().await,
        before,
        "the state table kept its columns"
    );
}
