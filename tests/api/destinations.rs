//! Destinations per sync (issue 11, item 5): a sync naming a destination
//! connection writes there — a PostgreSQL database in the connection's
//! schema or the one destination_config names, or a SQLite file inside the
//! allowed directory — and nowhere else; tables are unique per actual
//! destination table; the connection is validated, guarded like a source
//! connection, and verified for the right to create tables.

use sea_orm::{
    ConnectionTrait, Database,
    sqlx::{self, Connection},
};
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;
use tributary::pb::{self, ConnectionStatus, LoadMode, RunStatus};

use crate::{
    both,
    engine::run_to_end,
    helpers::{
        TestApp, expect_code, expect_violation, fresh_postgres, json_struct, postgres_config,
        reason,
    },
    pg_fixtures::pg_source,
    pg_source::pg_rows,
    rows::table_rows,
};

both!(
    spawn = crate::helpers::spawn_executing;
    a_sync_lands_in_its_postgres_destination_connection_and_nowhere_else,
);

both!(
    spawn = crate::helpers::spawn_executing_with_files;
    a_sync_writes_a_new_sqlite_file_inside_the_allowed_directory_only,
    destination_connections_are_validated,
);

both!(
    spawn = crate::helpers::spawn_app;
    verifying_a_destination_checks_that_it_may_create_tables,
);

/// A `postgres` connection to the database at `url` as `user`, in `schema`
/// when not empty.
async fn pg_connection(
    app: &TestApp,
    name: &str,
    url: &str,
    user: &str,
    schema: &str,
) -> pb::Connection {
    let mut config = postgres_config(url);
    config["username"] = json!(user);
    if !schema.is_empty() {
        config["schema"] = json!(schema);
    }
    app.connection(name, "postgres", config).await
}

/// A sync of `entity` into `table` of `destination` (None: the default
/// warehouse), in `schema` when not empty.
fn sync_request(
    source: &str,
    entity: &str,
    table: &str,
    destination: Option<&str>,
    schema: &str,
) -> pb::CreateSyncRequest {
    pb::CreateSyncRequest {
        name: format!("{table} {schema}"),
        connection_id: source.into(),
        entities: vec![entity.into()],
        destination_connection_id: destination.map(str::to_string),
        destination_config: (!schema.is_empty()).then(|| json_struct(json!({"schema": schema}))),
        table_bindings: vec![pb::TableBinding {
            entity_key: entity.into(),
            physical_table_name: table.into(),
            load_mode: LoadMode::Replace.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn create(app: &TestApp, req: pb::CreateSyncRequest) -> pb::Sync {
    app.syncs().create_sync(req).await.unwrap().into_inner()
}

async fn a_sync_lands_in_its_postgres_destination_connection_and_nowhere_else(app: TestApp) {
    let Some((src, _)) = pg_source(
        &app,
        "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), note text, doc jsonb);
         INSERT INTO orders VALUES (1, 10.50, '', '{\"a\": [1]}'), (2, -0.01, NULL, NULL);",
    )
    .await
    else {
        return;
    };
    let Some(dst_url) = fresh_postgres().await else {
        return;
    };
    let dst = pg_connection(&app, "warehouse db", &dst_url, "postgres", "analytics").await;

    // Into the connection's own schema, then into the one destination_config names.
    let in_own = create(
        &app,
        sync_request(&src.id, "public.orders", "orders", Some(&dst.id), ""),
    )
    .await;
    assert_eq!(
        in_own.destination_connection_id.as_deref(),
        Some(dst.id.as_str())
    );
    let in_mart = create(
        &app,
        sync_request(&src.id, "public.orders", "orders", Some(&dst.id), "mart"),
    )
    .await;
    // The same table name in the default warehouse is another table.
    let in_default = create(
        &app,
        sync_request(&src.id, "public.orders", "orders", None, ""),
    )
    .await;
    assert_eq!(in_default.destination_connection_id, None);

    for (sync, schema) in [(&in_own, "analytics"), (&in_mart, "mart")] {
        let (run, _) = run_to_end(&app, &sync.id).await;
        assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
        let table = &run.summary.as_ref().unwrap().entities[0].destination_table;
        assert!(
            table.starts_with(&format!("\"{schema}\".\"orders\" in postgres://postgres@")),
            "the summary says where the rows are: {table}"
        );
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            pg_rows(&dst_url, schema, "orders", &["id", "amount", "note", "doc"]).await,
            vec![
                vec![s("1"), s("10.50"), s(""), s("{\"a\": [1]}")],
                vec![s("2"), s("-0.01"), None, None],
            ],
            "{schema}"
        );
    }
    // Nothing of theirs reached the default warehouse.
    let default_file = app.data_dir.path().join("warehouse.db");
    if default_file.exists() {
        let pool =
            sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", default_file.display()))
                .await
                .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'orders'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 0, "the default warehouse has no orders table");
        pool.close().await;
    }

    // Same destination, same schema, same table: taken — whether the schema
    // is named or the connection's own.
    for schema in ["", "analytics", "ANALYTICS"] {
        let e = app
            .syncs()
            .create_sync(sync_request(
                &src.id,
                "public.orders",
                "orders",
                Some(&dst.id),
                schema,
            ))
            .await;
        expect_violation(e, "table_bindings[0].physical_table_name");
    }
    // Moving the default-warehouse sync onto that table is refused too;
    // onto another table of the destination it is not.
    let e = app
        .syncs()
        .update_sync(pb::UpdateSyncRequest {
            sync_id: in_default.id.clone(),
            destination_connection_id: Some(dst.id.clone()),
            ..Default::default()
        })
        .await;
    expect_violation(e, "table_bindings[0].physical_table_name");
    let moved = app
        .syncs()
        .update_sync(pb::UpdateSyncRequest {
            sync_id: in_default.id.clone(),
            destination_connection_id: Some(dst.id.clone()),
            destination_config: Some(json_struct(json!({"schema": "other"}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        moved.destination_connection_id.as_deref(),
        Some(dst.id.as_str())
    );
    // "" moves it back to the default warehouse.
    let back = app
        .syncs()
        .update_sync(pb::UpdateSyncRequest {
            sync_id: in_default.id.clone(),
            destination_connection_id: Some(String::new()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(back.destination_connection_id, None);

    // A connection syncs write into cannot be deleted; disabled, it stops
    // their runs from starting.
    let e = app
        .connections()
        .delete_connection(pb::DeleteConnectionRequest {
            connection_id: dst.id.clone(),
        })
        .await;
    let s = expect_code(e, Code::FailedPrecondition);
    assert_eq!(reason(&s), "CONNECTION_IN_USE");
    app.connections()
        .disable_connection(pb::DisableConnectionRequest {
            connection_id: dst.id.clone(),
        })
        .await
        .unwrap();
    let e = app
        .syncs()
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: in_own.id.clone(),
            ..Default::default()
        })
        .await;
    let s = expect_code(e, Code::FailedPrecondition);
    assert_eq!(reason(&s), "CONNECTION_DISABLED");
    assert!(
        s.message().contains("destination connection"),
        "{}",
        s.message()
    );
}

async fn a_sync_writes_a_new_sqlite_file_inside_the_allowed_directory_only(app: TestApp) {
    let faker = app
        .connection("demo", "faker", json!({"row_count": 3}))
        .await;
    let file = app.files_dir().join("mart.db");
    let mart = app
        .connection("mart", "sqlite", json!({ "path": file }))
        .await;
    let sync = create(
        &app,
        sync_request(&faker.id, "users", "users", Some(&mart.id), ""),
    )
    .await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let ids = table_rows(&file, "users", &["id".to_string()]).await;
    assert_eq!(ids, vec![vec![json!(1)], vec![json!(2)], vec![json!(3)]]);

    // A file outside the allowed directory is never created.
    let outside = tempfile::tempdir().unwrap();
    let escape = outside.path().join("escape.db");
    let bad = app
        .connection("escape", "sqlite", json!({ "path": escape }))
        .await;
    let sync = create(
        &app,
        sync_request(&faker.id, "users", "users", Some(&bad.id), ""),
    )
    .await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Failed);
    assert_eq!(run.result_reason_code(), pb::ResultReasonCode::ConfigError);
    assert!(
        run.error
            .as_deref()
            .unwrap_or_default()
            .contains("path refused"),
        "{:?}",
        run.error
    );
    assert!(
        !escape.exists(),
        "nothing written outside the allowed directory"
    );
}

async fn destination_connections_are_validated(app: TestApp) {
    let faker = app
        .connection("demo", "faker", json!({"row_count": 3}))
        .await;
    let file = app.files_dir().join("mart.db");
    let sqlite = app
        .connection("mart", "sqlite", json!({ "path": file }))
        .await;
    let other = app.other_workspace("Other").await;
    let theirs = app
        .connections_as(&other.key)
        .create_connection(pb::CreateConnectionRequest {
            name: "theirs".into(),
            provider: "sqlite".into(),
            config: Some(json_struct(json!({ "path": file.display().to_string() }))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    let field = "destination_connection_id";
    for (destination, schema, expected_field, says) in [
        ("not-a-uuid", "", field, "UUID"),
        (
            "00000000-0000-4000-8000-000000000000",
            "",
            field,
            "no connection",
        ),
        (theirs.id.as_str(), "", field, "no connection"),
        (faker.id.as_str(), "", field, "cannot be a destination"),
        (
            sqlite.id.as_str(),
            "mart",
            "destination_config.schema",
            "no schemas",
        ),
    ] {
        let e = app
            .syncs()
            .create_sync(sync_request(
                &faker.id,
                "users",
                "users",
                Some(destination),
                schema,
            ))
            .await;
        let s = expect_violation(e, expected_field);
        let described = s
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .any(|v| v.field == expected_field && v.description.contains(says));
        assert!(described, "{destination}: {}", s.message());
    }
    // Nothing was written.
    let listed = app
        .syncs()
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.syncs.is_empty(), "{:?}", listed.syncs);
    // "" on create is the default warehouse.
    let s = create(
        &app,
        sync_request(&faker.id, "users", "users", Some(""), ""),
    )
    .await;
    assert_eq!(s.destination_connection_id, None);
}

async fn verifying_a_destination_checks_that_it_may_create_tables(app: TestApp) {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let db = Database::connect(&url).await.unwrap();
    // A reader: it may read `public`, but create nothing there.
    let role = format!("reader_{}", uuid::Uuid::new_v4().simple());
    db.execute_unprepared(&format!(
        "CREATE ROLE {role} LOGIN;
         REVOKE CREATE ON SCHEMA public FROM PUBLIC;
         GRANT USAGE ON SCHEMA public TO {role};
         CREATE TABLE t (id int); GRANT SELECT ON t TO {role};"
    ))
    .await
    .unwrap();
    db.close().await.unwrap();
    let reader = pg_connection(&app, "reader", &url, &role, "").await;
    let verify = |id: String, as_destination: bool| {
        let app = &app;
        async move {
            app.connections()
                .verify_connection(pb::VerifyConnectionRequest {
                    connection_id: id,
                    as_destination,
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    // As a source it is fine.
    let c = verify(reader.id.clone(), false).await;
    assert_eq!(
        c.status(),
        ConnectionStatus::Active,
        "{:?}",
        c.verification_error
    );
    // As a destination it is not, and says why.
    let c = verify(reader.id.clone(), true).await;
    assert_eq!(c.status(), ConnectionStatus::Error);
    let why = c.verification_error.unwrap_or_default();
    assert!(why.contains("permission denied"), "{why}");
    // The owner may create tables; the probe left none behind.
    let owner = pg_connection(&app, "owner", &url, "postgres", "").await;
    let c = verify(owner.id.clone(), true).await;
    assert_eq!(
        c.status(),
        ConnectionStatus::Active,
        "{:?}",
        c.verification_error
    );
    let probes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = '_tributary_probe'")
            .fetch_one(&mut sqlx::PgConnection::connect(&url).await.unwrap())
            .await
            .unwrap();
    assert_eq!(probes, 0, "the probe table was rolled back");
}
