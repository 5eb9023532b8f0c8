//! Names the warehouse keeps for itself (`_tributary_*`, `sqlite_*`, `pg_*`,
//! `information_schema`) are refused as destination tables, and a sync
//! stored before that rule cannot damage the warehouse's state table.

use std::time::Duration;

use sea_orm::sqlx::{self, Row};
use serde_json::{Value, json};
use tonic::Code;
use tributary::pb::{self, LoadMode, RunStatus};

use crate::{
    both,
    helpers::{Backend, TestApp, eventually, expect_violation, json_struct, spawn_app_with},
};

both!(
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

/// A caller: an admin key.
struct Caller {
    key: String,
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
