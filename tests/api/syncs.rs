//! SyncService: CreateSync validation (one test per rule), defaults, slugs,
//! updates and etags, delete, trigger, ON_CREATE, lists and state resets.

use tonic::Code;
use tributary::pb::{
    self, ExecutionBackend, ExecutionMode, LoadMode, RunMode, RunStatus, SyncStatus,
    TableNamingVersion, TimeUnit, TriggerMode, TriggeredBy, schedule::Spec,
};

use crate::{
    both,
    helpers::{TestApp, expect_code, expect_violation, json_struct, reason, violations},
};

fn create(connection_id: &str, name: &str, entities: &[&str]) -> pb::CreateSyncRequest {
    pb::CreateSyncRequest {
        name: name.into(),
        connection_id: connection_id.into(),
        entities: entities.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    }
}

fn binding(entity: &str) -> pb::TableBinding {
    pb::TableBinding {
        entity_key: entity.into(),
        ..Default::default()
    }
}

fn bound_to(entity: &str, table: &str) -> pb::TableBinding {
    pb::TableBinding {
        physical_table_name: table.into(),
        ..binding(entity)
    }
}

fn cron(expr: &str, timezone: &str) -> pb::Schedule {
    pb::Schedule {
        spec: Some(Spec::Cron(expr.into())),
        timezone: timezone.into(),
    }
}

/// A sqlite connection: its catalog has dynamic resources (any table name).
async fn sqlite_connection(app: &TestApp) -> pb::Connection {
    let path = app.files_dir().join("source.db");
    app.connections()
        .create_connection(pb::CreateConnectionRequest {
            name: "Local SQLite".into(),
            provider: "sqlite".into(),
            config: Some(json_struct(
                serde_json::json!({"path": path.display().to_string()}),
            )),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn get(app: &TestApp, id: &str) -> pb::Sync {
    app.syncs()
        .get_sync(pb::GetSyncRequest { sync_id: id.into() })
        .await
        .unwrap()
        .into_inner()
}

async fn cancel(app: &TestApp, run_id: &str) -> pb::Run {
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: run_id.into(),
            reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn set_status(app: &TestApp, sync_id: &str, status: SyncStatus) -> pb::Sync {
    app.syncs()
        .update_sync(pb::UpdateSyncRequest {
            sync_id: sync_id.into(),
            status: Some(status.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn sync_runs(app: &TestApp, req: pb::ListSyncRunsRequest) -> pb::ListSyncRunsResponse {
    app.syncs().list_sync_runs(req).await.unwrap().into_inner()
}

async fn total_syncs(app: &TestApp) -> i64 {
    app.syncs()
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .total
}

both!(
    create_fills_defaults_and_get_returns_it,
    create_needs_a_connection_of_the_callers_workspace,
    entities_must_be_resources_of_the_catalog,
    bindings_must_name_selected_entities,
    physical_table_names_must_be_identifiers,
    physical_table_names_are_unique_within_a_sync,
    physical_table_names_are_unique_across_the_workspaces_syncs,
    scheduled_syncs_need_a_valid_schedule,
    name_slug_sla_execution_config_and_status_rules,
    several_bad_fields_are_reported_at_once_and_nothing_is_written,
    derived_slugs_get_suffixes_and_explicit_collisions_fail,
    update_applies_present_fields_and_checks_etag,
    update_entities_adds_and_drops_bindings,
    users_cannot_set_status_error,
    delete_is_refused_while_a_run_is_pending,
    trigger_depends_on_the_sync_status,
    a_second_trigger_while_a_run_is_active_is_refused,
    on_create_starts_a_pending_run_at_once,
    list_sync_runs_pages_newest_first,
    reset_sync_state_forgets_all_or_some_entities,
);

// These use a sqlite connection: their servers need --allow-local-files.
both!(
    spawn = crate::helpers::spawn_with_local_files;
    dynamic_catalogs_accept_any_entity,
    upsert_needs_primary_key_columns,
    incremental_loads_need_a_cursor_field,
    list_syncs_filters_and_sorts,
);

async fn create_fills_defaults_and_get_returns_it(app: TestApp) {
    let conn = app.faker_connection("Demo").await;
    let sync = app
        .faker_sync(
            &conn.id,
            "Demo to warehouse",
            &["users", "orders", "events"],
        )
        .await;
    assert!(uuid::Uuid::parse_str(&sync.id).is_ok(), "{}", sync.id);
    assert_eq!(sync.slug, "demo-to-warehouse");
    assert_eq!(sync.connection_id, conn.id);
    assert_eq!(sync.provider_key, "faker");
    assert_eq!(sync.entities, ["users", "orders", "events"]);
    assert_eq!(sync.execution_backend(), ExecutionBackend::Native);
    assert_eq!(sync.execution_mode(), ExecutionMode::Sequential);
    assert_eq!(sync.trigger_mode(), TriggerMode::Manual);
    assert_eq!(sync.status(), SyncStatus::Draft);
    assert!(sync.schedule.is_none() && sync.freshness_sla_seconds.is_none());
    assert!(!sync.etag.is_empty() && !sync.created_by.is_empty());
    assert!(sync.created_at.is_some() && sync.last_success_at.is_none());

    // One binding per entity, with the catalog's load mode, key and cursor.
    let got: Vec<_> = sync
        .table_bindings
        .iter()
        .map(|b| {
            (
                b.entity_key.as_str(),
                b.physical_table_name.as_str(),
                b.load_mode(),
                b.primary_key_columns.clone(),
                b.cursor_field.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "users",
                "users",
                LoadMode::Upsert,
                vec!["id".to_string()],
                "updated_at"
            ),
            (
                "orders",
                "orders",
                LoadMode::Upsert,
                vec!["id".into()],
                "updated_at"
            ),
            (
                "events",
                "events",
                LoadMode::AppendEvent,
                vec!["id".into()],
                "updated_at"
            ),
        ]
    );
    for b in &sync.table_bindings {
        assert!(!b.id.is_empty() && b.created_at.is_some());
        assert_eq!(b.logical_table_name, b.entity_key);
        assert_eq!(b.table_naming_version(), TableNamingVersion::V2);
    }

    assert_eq!(get(&app, &sync.id).await, sync);
    let missing = expect_code(
        app.syncs()
            .get_sync(pb::GetSyncRequest {
                sync_id: uuid::Uuid::now_v7().to_string(),
            })
            .await,
        Code::NotFound,
    );
    assert_eq!(reason(&missing), "NOT_FOUND");
    expect_violation(
        app.syncs()
            .get_sync(pb::GetSyncRequest {
                sync_id: "not-a-uuid".into(),
            })
            .await,
        "sync_id",
    );

    // Another workspace neither sees nor touches it.
    let other = app.other_workspace("Other team").await;
    let mut theirs = app.syncs_as(&other.key);
    let id = || sync.id.clone();
    expect_code(
        theirs.get_sync(pb::GetSyncRequest { sync_id: id() }).await,
        Code::NotFound,
    );
    expect_code(
        theirs
            .update_sync(pb::UpdateSyncRequest {
                sync_id: id(),
                name: Some("Mine now".into()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        theirs
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: id(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        theirs
            .list_sync_runs(pb::ListSyncRunsRequest {
                sync_id: id(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        theirs
            .reset_sync_state(pb::ResetSyncStateRequest {
                sync_id: id(),
                entities: vec![],
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        theirs
            .delete_sync(pb::DeleteSyncRequest { sync_id: id() })
            .await,
        Code::NotFound,
    );
    let listed = theirs
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 0);
    assert_eq!(get(&app, &sync.id).await, sync, "untouched");
}

async fn create_needs_a_connection_of_the_callers_workspace(app: TestApp) {
    let mut s = app.syncs();
    let s1 = expect_violation(
        s.create_sync(create(&uuid::Uuid::now_v7().to_string(), "x", &["users"]))
            .await,
        "connection_id",
    );
    assert_eq!(violations(&s1), ["connection_id"]);
    expect_violation(
        s.create_sync(create("not-a-uuid", "x", &["users"])).await,
        "connection_id",
    );
    expect_violation(
        s.create_sync(create("", "x", &["users"])).await,
        "connection_id",
    );

    // A connection of another workspace is not the caller's.
    let other = app.other_workspace("Elsewhere").await;
    let theirs = app
        .connections_as(&other.key)
        .create_connection(pb::CreateConnectionRequest {
            name: "Theirs".into(),
            provider: "faker".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    expect_violation(
        s.create_sync(create(&theirs.id, "x", &["users"])).await,
        "connection_id",
    );
    // Its owner can use it.
    app.syncs_as(&other.key)
        .create_sync(create(&theirs.id, "x", &["users"]))
        .await
        .unwrap();
    assert_eq!(total_syncs(&app).await, 0);
}

async fn entities_must_be_resources_of_the_catalog(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let st = expect_violation(
        s.create_sync(create(&conn.id, "x", &["users", "nope"]))
            .await,
        "entities[1]",
    );
    assert_eq!(violations(&st), ["entities[1]"]);
    // A resource of another provider's catalog is not one of faker's.
    expect_violation(
        s.create_sync(create(&conn.id, "x", &["customers"])).await,
        "entities[0]",
    );
    expect_violation(
        s.create_sync(create(&conn.id, "x", &["users", "users"]))
            .await,
        "entities[1]",
    );
    // No entity at all takes the catalog's defaults (see `states`); an empty one is refused.
    expect_violation(
        s.create_sync(create(&conn.id, "x", &[""])).await,
        "entities[0]",
    );

    // Real catalogs hold real resources: shopify offers customers.
    let shop = app
        .connections()
        .create_connection(pb::CreateConnectionRequest {
            name: "Shop".into(),
            provider: "shopify".into(),
            config: Some(json_struct(
                serde_json::json!({"shop_domain": "acme.myshopify.com"}),
            )),
            credentials: [("access_token".to_string(), "shpat_test".to_string())].into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    expect_violation(
        s.create_sync(create(&shop.id, "x", &["customers", "users"]))
            .await,
        "entities[1]",
    );
    let ok = s
        .create_sync(create(&shop.id, "Shop customers", &["customers"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.entities, ["customers"]);
    assert_eq!(ok.table_bindings[0].cursor_field, "updated_at");
    assert_eq!(ok.table_bindings[0].load_mode(), LoadMode::Upsert);
}

async fn dynamic_catalogs_accept_any_entity(app: TestApp) {
    let conn = sqlite_connection(&app).await;
    let mut req = create(&conn.id, "Local customers", &["main.customers"]);
    req.table_bindings = vec![pb::TableBinding {
        load_mode: LoadMode::Replace.into(),
        ..binding("main.customers")
    }];
    let sync = app.syncs().create_sync(req).await.unwrap().into_inner();
    assert_eq!(sync.provider_key, "sqlite");
    assert_eq!(sync.entities, ["main.customers"]);
    let b = &sync.table_bindings[0];
    assert_eq!(b.entity_key, "main.customers");
    assert_eq!(b.load_mode(), LoadMode::Replace);
    assert_eq!(
        b.physical_table_name, "main_customers",
        "derived from the entity"
    );
    assert!(b.cursor_field.is_empty() && b.primary_key_columns.is_empty());

    // Without a binding, a dynamic entity is loaded with REPLACE.
    let other = app
        .syncs()
        .create_sync(create(&conn.id, "Local orders", &["public.orders"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(other.table_bindings[0].load_mode(), LoadMode::Replace);
    assert_eq!(other.table_bindings[0].physical_table_name, "public_orders");
}

async fn bindings_must_name_selected_entities(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut req = create(&conn.id, "x", &["users"]);
    req.table_bindings = vec![binding("users"), binding("orders")];
    let s = expect_violation(
        app.syncs().create_sync(req).await,
        "table_bindings[1].entity_key",
    );
    assert_eq!(violations(&s), ["table_bindings[1].entity_key"]);

    // Selecting the entity makes the same bindings valid.
    let mut req = create(&conn.id, "x", &["users", "orders"]);
    req.table_bindings = vec![binding("users"), binding("orders")];
    let sync = app.syncs().create_sync(req).await.unwrap().into_inner();
    assert_eq!(sync.table_bindings.len(), 2);
}

async fn physical_table_names_must_be_identifiers(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let too_long = "t".repeat(64);
    for bad in ["2bad", "has-dash", "has space", "x;drop", too_long.as_str()] {
        let mut req = create(&conn.id, "x", &["users"]);
        req.table_bindings = vec![bound_to("users", bad)];
        let st = expect_violation(
            s.create_sync(req).await,
            "table_bindings[0].physical_table_name",
        );
        assert_eq!(
            violations(&st),
            ["table_bindings[0].physical_table_name"],
            "{bad}"
        );
    }
    // The index names the offending binding.
    let mut req = create(&conn.id, "x", &["users", "orders"]);
    req.table_bindings = vec![
        bound_to("users", "ok_users"),
        bound_to("orders", "has-dash"),
    ];
    expect_violation(
        s.create_sync(req).await,
        "table_bindings[1].physical_table_name",
    );

    let mut req = create(&conn.id, "x", &["users"]);
    req.table_bindings = vec![bound_to("users", "_Users_2024")];
    let sync = s.create_sync(req).await.unwrap().into_inner();
    assert_eq!(sync.table_bindings[0].physical_table_name, "_Users_2024");
}

async fn physical_table_names_are_unique_within_a_sync(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let mut req = create(&conn.id, "x", &["users", "orders"]);
    req.table_bindings = vec![bound_to("users", "shared"), bound_to("orders", "shared")];
    let st = expect_violation(
        s.create_sync(req).await,
        "table_bindings[1].physical_table_name",
    );
    assert_eq!(violations(&st), ["table_bindings[1].physical_table_name"]);
    // Identifiers are compared without regard to case.
    let mut req = create(&conn.id, "x", &["users", "orders"]);
    req.table_bindings = vec![bound_to("users", "Shared"), bound_to("orders", "shared")];
    expect_violation(
        s.create_sync(req).await,
        "table_bindings[1].physical_table_name",
    );
    // A default table name collides with an explicit one too.
    let mut req = create(&conn.id, "x", &["users", "orders"]);
    req.table_bindings = vec![bound_to("users", "orders")];
    expect_violation(
        s.create_sync(req).await,
        "table_bindings[1].physical_table_name",
    );
    assert_eq!(total_syncs(&app).await, 0);
}

async fn physical_table_names_are_unique_across_the_workspaces_syncs(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let first = app.faker_sync(&conn.id, "First", &["users"]).await;
    let mut s = app.syncs();

    // A second sync binding `users` again, even from another connection.
    let conn2 = app.faker_connection("Faker 2").await;
    let st = expect_violation(
        s.create_sync(create(&conn2.id, "Second", &["users"])).await,
        "table_bindings[0].physical_table_name",
    );
    assert!(
        st.message().contains(&first.slug),
        "names the sync that binds it: {}",
        st.message()
    );
    let mut req = create(&conn2.id, "Second", &["orders", "events"]);
    req.table_bindings = vec![bound_to("orders", "ORDERS_X"), bound_to("events", "USERS")];
    expect_violation(
        s.create_sync(req).await,
        "table_bindings[1].physical_table_name",
    );

    // Concurrent creates binding one table: exactly one wins.
    let mut conns = Vec::new();
    for i in 0..6 {
        conns.push(app.faker_connection(&format!("Racer {i}")).await.id);
    }
    let calls = conns.into_iter().enumerate().map(|(i, c)| {
        let mut s = app.syncs();
        tokio::spawn(async move {
            s.create_sync(pb::CreateSyncRequest {
                table_bindings: vec![bound_to("events", "contested")],
                ..create(&c, &format!("Racer {i}"), &["events"])
            })
            .await
        })
    });
    let mut won = 0;
    for r in futures::future::join_all(calls).await {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(st) => assert_eq!(
                violations(&st),
                ["table_bindings[0].physical_table_name"],
                "{st:?}"
            ),
        }
    }
    assert_eq!(won, 1, "one sync per destination table");

    // Another destination schema is another destination.
    let mut req = create(&conn2.id, "Elsewhere", &["users"]);
    req.destination_config = Some(json_struct(serde_json::json!({"schema": "staging"})));
    s.create_sync(req).await.unwrap();

    // An ARCHIVED sync no longer blocks its tables.
    set_status(&app, &first.id, SyncStatus::Archived).await;
    let second = s
        .create_sync(create(&conn2.id, "Second", &["users"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.table_bindings[0].physical_table_name, "users");
    // ...and it cannot come back while another sync holds them.
    let st = expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: first.id.clone(),
            status: Some(SyncStatus::Active.into()),
            ..Default::default()
        })
        .await,
        "table_bindings[0].physical_table_name",
    );
    assert!(st.message().contains(&second.slug), "{}", st.message());
}

async fn upsert_needs_primary_key_columns(app: TestApp) {
    let conn = sqlite_connection(&app).await;
    let upsert = |pk: &[&str]| {
        let mut req = create(&conn.id, "Customers", &["main.customers"]);
        req.table_bindings = vec![pb::TableBinding {
            load_mode: LoadMode::Upsert.into(),
            cursor_field: "updated_at".into(),
            primary_key_columns: pk.iter().map(|c| c.to_string()).collect(),
            ..binding("main.customers")
        }];
        req
    };
    let st = expect_violation(
        app.syncs().create_sync(upsert(&[])).await,
        "table_bindings[0].primary_key_columns",
    );
    assert_eq!(violations(&st), ["table_bindings[0].primary_key_columns"]);
    expect_violation(
        app.syncs().create_sync(upsert(&["id", " "])).await,
        "table_bindings[0].primary_key_columns[1]",
    );
    let sync = app
        .syncs()
        .create_sync(upsert(&["id", "region"]))
        .await
        .unwrap()
        .into_inner();
    let b = &sync.table_bindings[0];
    assert_eq!(b.load_mode(), LoadMode::Upsert);
    assert_eq!(b.primary_key_columns, ["id", "region"]);
}

async fn incremental_loads_need_a_cursor_field(app: TestApp) {
    let conn = sqlite_connection(&app).await;
    let append = |entity: &str, cursor: &str| {
        let mut req = create(&conn.id, entity, &[entity]);
        req.table_bindings = vec![pb::TableBinding {
            load_mode: LoadMode::AppendEvent.into(),
            cursor_field: cursor.into(),
            ..binding(entity)
        }];
        req
    };
    let st = expect_violation(
        app.syncs().create_sync(append("main.events", "")).await,
        "table_bindings[0].cursor_field",
    );
    assert_eq!(violations(&st), ["table_bindings[0].cursor_field"]);
    // UPSERT reads incrementally too.
    let mut req = create(&conn.id, "x", &["main.customers"]);
    req.table_bindings = vec![pb::TableBinding {
        load_mode: LoadMode::Upsert.into(),
        primary_key_columns: vec!["id".into()],
        ..binding("main.customers")
    }];
    let st = expect_violation(
        app.syncs().create_sync(req).await,
        "table_bindings[0].cursor_field",
    );
    assert_eq!(violations(&st), ["table_bindings[0].cursor_field"]);

    let ok = app
        .syncs()
        .create_sync(append("main.events", "created_at"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.table_bindings[0].cursor_field, "created_at");
    assert_eq!(ok.table_bindings[0].load_mode(), LoadMode::AppendEvent);

    // Faker entities take the catalog's cursor, unless the binding overrides it.
    let faker = app.faker_connection("Faker").await;
    let mut req = create(&faker.id, "Faker", &["users", "orders"]);
    req.table_bindings = vec![
        pb::TableBinding {
            load_mode: LoadMode::AppendEvent.into(),
            ..binding("users")
        },
        pb::TableBinding {
            cursor_field: "created_at".into(),
            ..binding("orders")
        },
    ];
    let sync = app.syncs().create_sync(req).await.unwrap().into_inner();
    let got: Vec<_> = sync
        .table_bindings
        .iter()
        .map(|b| {
            (
                b.entity_key.as_str(),
                b.load_mode(),
                b.cursor_field.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("users", LoadMode::AppendEvent, "updated_at"),
            ("orders", LoadMode::Upsert, "created_at"),
        ]
    );
}

async fn scheduled_syncs_need_a_valid_schedule(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let scheduled = |entity: &str, schedule: Option<pb::Schedule>| pb::CreateSyncRequest {
        trigger_mode: TriggerMode::Scheduled.into(),
        schedule,
        ..create(&conn.id, entity, &[entity])
    };
    let st = expect_violation(s.create_sync(scheduled("users", None)).await, "schedule");
    assert_eq!(violations(&st), ["schedule"]);
    for bad in ["not a cron", "61 * * * *", "* * *"] {
        let st = expect_violation(
            s.create_sync(scheduled("users", Some(cron(bad, "UTC"))))
                .await,
            "schedule.cron",
        );
        assert_eq!(violations(&st), ["schedule.cron"], "{bad}");
    }
    let st = expect_violation(
        s.create_sync(scheduled(
            "users",
            Some(cron("*/15 * * * *", "Mars/Olympus")),
        ))
        .await,
        "schedule.timezone",
    );
    assert_eq!(violations(&st), ["schedule.timezone"]);
    let every = |units: i32, unit: TimeUnit| pb::Schedule {
        spec: Some(Spec::Every(pb::Interval {
            units,
            time_unit: unit.into(),
        })),
        timezone: String::new(),
    };
    let st = expect_violation(
        s.create_sync(scheduled("users", Some(every(0, TimeUnit::Hours))))
            .await,
        "schedule.every.units",
    );
    assert_eq!(violations(&st), ["schedule.every.units"]);
    expect_violation(
        s.create_sync(scheduled("users", Some(every(-3, TimeUnit::Days))))
            .await,
        "schedule.every.units",
    );
    // Neither cron nor interval.
    expect_violation(
        s.create_sync(scheduled(
            "users",
            Some(pb::Schedule {
                spec: None,
                timezone: "UTC".into(),
            }),
        ))
        .await,
        "schedule",
    );
    assert_eq!(total_syncs(&app).await, 0);

    // Good schedules round-trip.
    let berlin = s
        .create_sync(scheduled(
            "users",
            Some(cron("*/15 * * * *", "Europe/Berlin")),
        ))
        .await
        .unwrap()
        .into_inner();
    let got = get(&app, &berlin.id).await;
    assert_eq!(got.trigger_mode(), TriggerMode::Scheduled);
    assert_eq!(got.schedule, Some(cron("*/15 * * * *", "Europe/Berlin")));
    let hourly = s
        .create_sync(scheduled("events", Some(every(2, TimeUnit::Hours))))
        .await
        .unwrap()
        .into_inner();
    let got = get(&app, &hourly.id).await;
    assert_eq!(
        got.schedule,
        Some(pb::Schedule {
            timezone: "UTC".into(),
            ..every(2, TimeUnit::Hours)
        }),
        "the time zone defaults to UTC"
    );
}

async fn name_slug_sla_execution_config_and_status_rules(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let base = || create(&conn.id, "Valid", &["users"]);
    let only = |st: tonic::Status, field: &str| {
        assert_eq!(violations(&st), [field], "{}", st.message());
    };

    let long_name = "n".repeat(256);
    for name in ["", "   ", long_name.as_str()] {
        let st = expect_violation(
            s.create_sync(pb::CreateSyncRequest {
                name: name.to_string(),
                ..base()
            })
            .await,
            "name",
        );
        only(st, "name");
    }
    let long_slug = "s".repeat(64);
    for slug in [
        "Bad_Slug",
        "-leading",
        "trailing-",
        "has space",
        long_slug.as_str(),
    ] {
        let st = expect_violation(
            s.create_sync(pb::CreateSyncRequest {
                slug: slug.to_string(),
                ..base()
            })
            .await,
            "slug",
        );
        only(st, "slug");
    }
    for sla in [0, -60] {
        let st = expect_violation(
            s.create_sync(pb::CreateSyncRequest {
                freshness_sla_seconds: Some(sla),
                ..base()
            })
            .await,
            "freshness_sla_seconds",
        );
        only(st, "freshness_sla_seconds");
    }
    for attempts in [
        serde_json::json!(101),
        serde_json::json!(-1),
        serde_json::json!("three"),
        serde_json::json!(2.5),
    ] {
        let st = expect_violation(
            s.create_sync(pb::CreateSyncRequest {
                execution_config: Some(json_struct(
                    serde_json::json!({"max_auto_resume_attempts": attempts}),
                )),
                ..base()
            })
            .await,
            "execution_config.max_auto_resume_attempts",
        );
        only(st, "execution_config.max_auto_resume_attempts");
    }
    expect_violation(
        s.create_sync(pb::CreateSyncRequest {
            execution_config: Some(json_struct(serde_json::json!({"max_concurrency": 0}))),
            ..base()
        })
        .await,
        "execution_config.max_concurrency",
    );
    for status in [SyncStatus::Error, SyncStatus::Archived] {
        let st = expect_violation(
            s.create_sync(pb::CreateSyncRequest {
                status: status.into(),
                ..base()
            })
            .await,
            "status",
        );
        only(st, "status");
    }
    expect_violation(
        s.create_sync(pb::CreateSyncRequest {
            status: 99,
            ..base()
        })
        .await,
        "status",
    );
    assert_eq!(total_syncs(&app).await, 0);

    // The edges of each range are accepted.
    let edge = s
        .create_sync(pb::CreateSyncRequest {
            name: "n".repeat(255),
            slug: "s".repeat(63),
            freshness_sla_seconds: Some(1),
            execution_config: Some(json_struct(
                serde_json::json!({"max_auto_resume_attempts": 0}),
            )),
            ..base()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edge.freshness_sla_seconds, Some(1));
    assert_eq!(edge.slug, "s".repeat(63));
    let run = app.trigger(&edge.id).await;
    assert_eq!(
        run.max_auto_resume_attempts, 0,
        "runs take the sync's setting"
    );
    for (table, status) in [
        ("events_active", SyncStatus::Active),
        ("events_paused", SyncStatus::Paused),
    ] {
        let sync = s
            .create_sync(pb::CreateSyncRequest {
                status: status.into(),
                table_bindings: vec![bound_to("events", table)],
                ..create(&conn.id, table, &["events"])
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(sync.status(), status);
    }
}

async fn several_bad_fields_are_reported_at_once_and_nothing_is_written(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let st = expect_code(
        s.create_sync(pb::CreateSyncRequest {
            name: String::new(),
            slug: "Bad Slug".into(),
            connection_id: conn.id.clone(),
            entities: vec!["users".into(), "nope".into()],
            table_bindings: vec![bound_to("users", "2bad")],
            freshness_sla_seconds: Some(0),
            schedule: Some(cron("not a cron", "UTC")),
            trigger_mode: TriggerMode::Scheduled.into(),
            status: SyncStatus::Archived.into(),
            execution_config: Some(json_struct(
                serde_json::json!({"max_auto_resume_attempts": 1000}),
            )),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    let mut got = violations(&st);
    got.sort();
    assert_eq!(
        got,
        [
            "entities[1]",
            "execution_config.max_auto_resume_attempts",
            "freshness_sla_seconds",
            "name",
            "schedule.cron",
            "slug",
            "status",
            "table_bindings[0].physical_table_name",
        ]
    );

    // An unknown connection does not hide the other bad fields.
    let st = expect_code(
        s.create_sync(pb::CreateSyncRequest {
            name: String::new(),
            slug: "Bad Slug".into(),
            connection_id: uuid::Uuid::now_v7().to_string(),
            entities: vec!["users".into()],
            freshness_sla_seconds: Some(0),
            status: SyncStatus::Error.into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
    );
    let mut got = violations(&st);
    got.sort();
    assert_eq!(
        got,
        [
            "connection_id",
            "freshness_sla_seconds",
            "name",
            "slug",
            "status"
        ]
    );

    // An ON_CREATE sync that fails validation starts no run either.
    expect_violation(
        s.create_sync(pb::CreateSyncRequest {
            trigger_mode: TriggerMode::OnCreate.into(),
            ..create(&conn.id, "x", &["nope"])
        })
        .await,
        "entities[0]",
    );
    assert_eq!(total_syncs(&app).await, 0);
    let runs = app
        .runs()
        .list_runs(pb::ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(runs.total, 0);
}

async fn derived_slugs_get_suffixes_and_explicit_collisions_fail(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let mut slugs = Vec::new();
    for entity in ["users", "orders", "events"] {
        let mut req = create(&conn.id, "Nightly Load!", &[entity]);
        if entity == "orders" {
            // Orders depend on users, here bound apart from the first sync's.
            req.entities.insert(0, "users".into());
            req.table_bindings = vec![bound_to("users", "order_users")];
        }
        let sync = s.create_sync(req).await.unwrap().into_inner();
        slugs.push(sync.slug);
    }
    assert_eq!(slugs, ["nightly-load", "nightly-load-2", "nightly-load-3"]);

    let mut req = create(&conn.id, "Other", &["users"]);
    req.table_bindings = vec![bound_to("users", "users_copy")];
    req.slug = "nightly-load-2".into();
    let st = expect_code(s.create_sync(req.clone()).await, Code::AlreadyExists);
    assert_eq!(reason(&st), "ALREADY_EXISTS");
    let info = tonic_types::StatusExt::get_details_resource_info(&st).unwrap();
    assert_eq!(info.resource_name, "nightly-load-2");
    assert_eq!(total_syncs(&app).await, 3, "nothing was written");

    // A free explicit slug is kept as given.
    req.slug = "my-copy".into();
    let copy = s.create_sync(req).await.unwrap().into_inner();
    assert_eq!(copy.slug, "my-copy");

    // Renaming onto a taken slug is ALREADY_EXISTS and changes nothing.
    expect_code(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: copy.id.clone(),
            slug: Some("nightly-load".into()),
            ..Default::default()
        })
        .await,
        Code::AlreadyExists,
    );
    assert_eq!(get(&app, &copy.id).await, copy);
}

async fn update_applies_present_fields_and_checks_etag(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let created = s
        .create_sync(pb::CreateSyncRequest {
            freshness_sla_seconds: Some(3600),
            schedule: Some(cron("0 3 * * *", "Europe/Berlin")),
            trigger_mode: TriggerMode::Scheduled.into(),
            table_bindings: vec![pb::TableBinding {
                cursor_field: "created_at".into(),
                ..bound_to("users", "app_users")
            }],
            task_slug: "nightly".into(),
            ..create(&conn.id, "Before", &["users", "orders"])
        })
        .await
        .unwrap()
        .into_inner();

    let renamed = s
        .update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            name: Some("After".into()),
            etag: created.etag.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.name, "After");
    assert_ne!(renamed.etag, created.etag);
    // Everything absent from the request is as it was.
    let strip = |s: &pb::Sync| pb::Sync {
        name: String::new(),
        etag: String::new(),
        updated_at: None,
        updated_by: String::new(),
        table_bindings: s
            .table_bindings
            .iter()
            .map(|b| pb::TableBinding {
                updated_at: None,
                ..b.clone()
            })
            .collect(),
        ..s.clone()
    };
    assert_eq!(strip(&renamed), strip(&created));
    assert_eq!(get(&app, &created.id).await, renamed);

    // The first etag is stale now: ABORTED, and nothing changes.
    let st = expect_code(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            name: Some("Lost update".into()),
            etag: created.etag.clone(),
            ..Default::default()
        })
        .await,
        Code::Aborted,
    );
    assert_eq!(reason(&st), "ETAG_MISMATCH");
    assert_eq!(get(&app, &created.id).await, renamed);

    // Several fields at once, with the current etag.
    let changed = s
        .update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            slug: Some("renamed-sync".into()),
            freshness_sla_seconds: Some(60),
            schedule: Some(cron("*/5 * * * *", "UTC")),
            execution_mode: Some(ExecutionMode::FanOutEntity.into()),
            execution_config: Some(json_struct(serde_json::json!({"max_concurrency": 2}))),
            status: Some(SyncStatus::Active.into()),
            etag: renamed.etag.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.slug, "renamed-sync");
    assert_eq!(changed.name, "After");
    assert_eq!(changed.freshness_sla_seconds, Some(60));
    assert_eq!(changed.schedule, Some(cron("*/5 * * * *", "UTC")));
    assert_eq!(changed.execution_mode(), ExecutionMode::FanOutEntity);
    assert_eq!(changed.status(), SyncStatus::Active);
    assert_eq!(changed.task_slug, "nightly");
    assert_eq!(
        changed
            .table_bindings
            .iter()
            .map(|b| (
                b.id.as_str(),
                b.physical_table_name.as_str(),
                b.cursor_field.as_str()
            ))
            .collect::<Vec<_>>(),
        renamed
            .table_bindings
            .iter()
            .map(|b| (
                b.id.as_str(),
                b.physical_table_name.as_str(),
                b.cursor_field.as_str()
            ))
            .collect::<Vec<_>>(),
        "bindings survive an update that does not touch them"
    );

    // Clearing: the SLA, and the schedule once the sync is no longer SCHEDULED.
    expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            clear_schedule: true,
            ..Default::default()
        })
        .await,
        "schedule",
    );
    let cleared = s
        .update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            clear_schedule: true,
            clear_freshness_sla: true,
            trigger_mode: Some(TriggerMode::Manual.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(cleared.schedule.is_none() && cleared.freshness_sla_seconds.is_none());
    assert_eq!(cleared.trigger_mode(), TriggerMode::Manual);

    // An invalid patch writes nothing.
    for (req, field) in [
        (
            pb::UpdateSyncRequest {
                name: Some(String::new()),
                ..Default::default()
            },
            "name",
        ),
        (
            pb::UpdateSyncRequest {
                slug: Some(String::new()),
                ..Default::default()
            },
            "slug",
        ),
        (
            pb::UpdateSyncRequest {
                freshness_sla_seconds: Some(0),
                name: Some("Half applied".into()),
                ..Default::default()
            },
            "freshness_sla_seconds",
        ),
        (
            pb::UpdateSyncRequest {
                schedule: Some(cron("*/5 * * * *", "Nowhere/Town")),
                ..Default::default()
            },
            "schedule.timezone",
        ),
    ] {
        expect_violation(
            s.update_sync(pb::UpdateSyncRequest {
                sync_id: created.id.clone(),
                ..req
            })
            .await,
            field,
        );
    }
    assert_eq!(get(&app, &created.id).await, cleared);

    expect_code(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: uuid::Uuid::now_v7().to_string(),
            name: Some("x".into()),
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
}

async fn update_entities_adds_and_drops_bindings(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let mut s = app.syncs();
    let created = s
        .create_sync(pb::CreateSyncRequest {
            table_bindings: vec![bound_to("users", "app_users")],
            ..create(&conn.id, "Grows", &["users"])
        })
        .await
        .unwrap()
        .into_inner();
    let users_binding = created.table_bindings[0].clone();

    // A new entity gets a default binding; the existing one is kept.
    let grown = s
        .update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            entities: vec!["users".into(), "events".into()],
            update_entities: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(grown.entities, ["users", "events"]);
    assert_eq!(grown.table_bindings.len(), 2, "{:?}", grown.table_bindings);
    assert_eq!(grown.table_bindings[0].id, users_binding.id);
    assert_eq!(grown.table_bindings[0].physical_table_name, "app_users");
    let events = &grown.table_bindings[1];
    assert_eq!(events.entity_key, "events");
    assert_eq!(events.physical_table_name, "events");
    assert_eq!(events.load_mode(), LoadMode::AppendEvent);
    assert_eq!(events.primary_key_columns, ["id"]);
    assert_eq!(events.cursor_field, "updated_at");
    assert_eq!(get(&app, &created.id).await, grown);

    // A removed entity's binding goes with it.
    let shrunk = s
        .update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            entities: vec!["events".into()],
            update_entities: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shrunk.entities, ["events"]);
    assert_eq!(
        shrunk
            .table_bindings
            .iter()
            .map(|b| (b.id.as_str(), b.entity_key.as_str()))
            .collect::<Vec<_>>(),
        [(events.id.as_str(), "events")]
    );
    // ...which frees its table for other syncs.
    app.syncs()
        .create_sync(pb::CreateSyncRequest {
            table_bindings: vec![bound_to("users", "app_users")],
            ..create(&conn.id, "Takes the table", &["users"])
        })
        .await
        .unwrap();

    // The same rules as CreateSync apply.
    expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            entities: vec!["events".into(), "nope".into()],
            update_entities: true,
            ..Default::default()
        })
        .await,
        "entities[1]",
    );
    expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            entities: vec![],
            update_entities: true,
            ..Default::default()
        })
        .await,
        "entities",
    );
    expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            table_bindings: vec![binding("users")],
            update_table_bindings: true,
            ..Default::default()
        })
        .await,
        "table_bindings[0].entity_key",
    );
    // Entities absent from the request (update_entities unset) stay.
    let untouched = s
        .update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            entities: vec!["users".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(untouched.entities, ["events"]);

    // Replacing the bindings.
    let rebound = s
        .update_sync(pb::UpdateSyncRequest {
            sync_id: created.id.clone(),
            table_bindings: vec![pb::TableBinding {
                load_mode: LoadMode::Replace.into(),
                ..bound_to("events", "events_snapshot")
            }],
            update_table_bindings: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rebound.table_bindings.len(), 1);
    assert_eq!(
        rebound.table_bindings[0].physical_table_name,
        "events_snapshot"
    );
    assert_eq!(rebound.table_bindings[0].load_mode(), LoadMode::Replace);
    assert_eq!(get(&app, &created.id).await, rebound);
}

async fn users_cannot_set_status_error(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let mut s = app.syncs();
    let st = expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: sync.id.clone(),
            status: Some(SyncStatus::Error.into()),
            ..Default::default()
        })
        .await,
        "status",
    );
    assert_eq!(violations(&st), ["status"]);
    assert_eq!(get(&app, &sync.id).await, sync);
    // The user-settable statuses all work, ARCHIVED and back included.
    for status in [
        SyncStatus::Active,
        SyncStatus::Paused,
        SyncStatus::Archived,
        SyncStatus::Draft,
    ] {
        assert_eq!(set_status(&app, &sync.id, status).await.status(), status);
    }
}

async fn delete_is_refused_while_a_run_is_pending(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "Doomed", &["users"]).await;
    let run = app.trigger(&sync.id).await;
    let mut s = app.syncs();
    let st = expect_code(
        s.delete_sync(pb::DeleteSyncRequest {
            sync_id: sync.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    assert!(
        st.message().contains(&run.id),
        "names the run: {}",
        st.message()
    );
    assert_eq!(get(&app, &sync.id).await, sync, "still there");

    cancel(&app, &run.id).await;
    s.delete_sync(pb::DeleteSyncRequest {
        sync_id: sync.id.clone(),
    })
    .await
    .unwrap();
    expect_code(
        s.get_sync(pb::GetSyncRequest {
            sync_id: sync.id.clone(),
        })
        .await,
        Code::NotFound,
    );
    expect_code(
        s.delete_sync(pb::DeleteSyncRequest {
            sync_id: sync.id.clone(),
        })
        .await,
        Code::NotFound,
    );
    expect_violation(
        s.delete_sync(pb::DeleteSyncRequest {
            sync_id: "nope".into(),
        })
        .await,
        "sync_id",
    );
    // Its tables are free again.
    app.faker_sync(&conn.id, "Successor", &["users"]).await;
}

async fn trigger_depends_on_the_sync_status(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    assert_eq!(sync.status(), SyncStatus::Draft);

    let run = app.trigger(&sync.id).await;
    assert_eq!(run.sync_id, sync.id);
    assert_eq!(run.status(), RunStatus::Pending);
    assert_eq!(run.triggered_by(), TriggeredBy::Manual);
    assert_eq!(run.run_mode(), RunMode::Incremental, "the default mode");
    assert_eq!(run.attempt_number, 1);
    assert_eq!(run.attempt_root_run_id, run.id);
    assert!(run.previous_attempt_run_id.is_none() && run.next_attempt_run_id.is_none());
    cancel(&app, &run.id).await;

    set_status(&app, &sync.id, SyncStatus::Active).await;
    let run = app.trigger(&sync.id).await;
    assert_eq!(run.status(), RunStatus::Pending);
    cancel(&app, &run.id).await;

    for status in [SyncStatus::Paused, SyncStatus::Archived] {
        set_status(&app, &sync.id, status).await;
        let st = expect_code(
            app.syncs()
                .trigger_sync(pb::TriggerSyncRequest {
                    sync_id: sync.id.clone(),
                    ..Default::default()
                })
                .await,
            Code::FailedPrecondition,
        );
        assert_eq!(reason(&st), "SYNC_NOT_RUNNABLE", "{status:?}");
    }
    let runs = sync_runs(
        &app,
        pb::ListSyncRunsRequest {
            sync_id: sync.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(runs.total, 2, "refused triggers create no run");

    expect_code(
        app.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: uuid::Uuid::now_v7().to_string(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_violation(
        app.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: "nope".into(),
                ..Default::default()
            })
            .await,
        "sync_id",
    );
}

async fn a_second_trigger_while_a_run_is_active_is_refused(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let first = app.trigger(&sync.id).await;
    let st = expect_code(
        app.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: sync.id.clone(),
                run_mode: RunMode::FullRefresh.into(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&st), "RUN_ALREADY_ACTIVE");
    assert!(
        st.message().contains(&first.id),
        "names the run: {}",
        st.message()
    );

    // Concurrent triggers: exactly one wins.
    cancel(&app, &first.id).await;
    let calls = (0..6).map(|_| {
        let mut s = app.syncs();
        let id = sync.id.clone();
        tokio::spawn(async move {
            s.trigger_sync(pb::TriggerSyncRequest {
                sync_id: id,
                ..Default::default()
            })
            .await
        })
    });
    let results = futures::future::join_all(calls).await;
    let mut won = 0;
    for r in results {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(st) => {
                assert_eq!(st.code(), Code::FailedPrecondition, "{st:?}");
                assert_eq!(reason(&st), "RUN_ALREADY_ACTIVE");
            }
        }
    }
    assert_eq!(won, 1);
    let pending = sync_runs(
        &app,
        pb::ListSyncRunsRequest {
            sync_id: sync.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(pending.total, 2);
    assert_eq!(
        pending
            .runs
            .iter()
            .filter(|r| r.status() == RunStatus::Pending)
            .count(),
        1
    );
}

async fn on_create_starts_a_pending_run_at_once(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            trigger_mode: TriggerMode::OnCreate.into(),
            ..create(&conn.id, "Eager", &["users"])
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sync.trigger_mode(), TriggerMode::OnCreate);
    let runs = sync_runs(
        &app,
        pb::ListSyncRunsRequest {
            sync_id: sync.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(runs.total, 1);
    let run = &runs.runs[0];
    assert_eq!(run.status(), RunStatus::Pending);
    assert_eq!(run.triggered_by(), TriggeredBy::OnCreate);
    assert_eq!(run.run_mode(), RunMode::Incremental);
    assert_eq!(run.attempt_number, 1);
    assert_eq!(run.attempt_root_run_id, run.id);
    assert_eq!(run.sync_id, sync.id);

    // It is the sync's one active run.
    let st = expect_code(
        app.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: sync.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(st.message().contains(&run.id), "{}", st.message());

    // A disabled connection cannot start one: nothing is created.
    let off = app.faker_connection("Off").await;
    app.connections()
        .disable_connection(pb::DisableConnectionRequest {
            connection_id: off.id.clone(),
        })
        .await
        .unwrap();
    let st = expect_code(
        app.syncs()
            .create_sync(pb::CreateSyncRequest {
                trigger_mode: TriggerMode::OnCreate.into(),
                ..create(&off.id, "Blocked", &["events"])
            })
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&st), "CONNECTION_DISABLED");
    assert_eq!(total_syncs(&app).await, 1);

    // A MANUAL sync starts nothing.
    let manual = app.faker_sync(&conn.id, "Lazy", &["events"]).await;
    let runs = sync_runs(
        &app,
        pb::ListSyncRunsRequest {
            sync_id: manual.id,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(runs.total, 0);
}

async fn list_sync_runs_pages_newest_first(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "Busy", &["users"]).await;
    let other = app.faker_sync(&conn.id, "Quiet", &["events"]).await;
    app.trigger(&other.id).await;

    let mut ids = Vec::new();
    for i in 0..27 {
        let run = app.trigger(&sync.id).await;
        if i < 26 {
            cancel(&app, &run.id).await;
        }
        ids.push(run.id);
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    let page = sync_runs(
        &app,
        pb::ListSyncRunsRequest {
            sync_id: sync.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.limit, 25, "the default limit");
    assert_eq!(page.total, 27, "only this sync's runs");
    assert!(page.has_next);
    let got: Vec<String> = page.runs.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, newest_first[..25]);
    assert_eq!(page.runs[0].status(), RunStatus::Pending);
    assert!(page.runs.iter().all(|r| r.sync_id == sync.id));

    let rest = sync_runs(
        &app,
        pb::ListSyncRunsRequest {
            sync_id: sync.id.clone(),
            offset: Some(25),
            ..Default::default()
        },
    )
    .await;
    let got: Vec<String> = rest.runs.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, newest_first[25..]);
    assert!(!rest.has_next);

    // Keyset mode continues where the first page ended.
    let next = sync_runs(
        &app,
        pb::ListSyncRunsRequest {
            sync_id: sync.id.clone(),
            limit: Some(10),
            page_token: {
                let first = sync_runs(
                    &app,
                    pb::ListSyncRunsRequest {
                        sync_id: sync.id.clone(),
                        limit: Some(10),
                        ..Default::default()
                    },
                )
                .await;
                first.next_page_token
            },
            ..Default::default()
        },
    )
    .await;
    let got: Vec<String> = next.runs.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, newest_first[10..20]);

    let mut s = app.syncs();
    for bad in [0, 101] {
        expect_violation(
            s.list_sync_runs(pb::ListSyncRunsRequest {
                sync_id: sync.id.clone(),
                limit: Some(bad),
                ..Default::default()
            })
            .await,
            "limit",
        );
    }
    let st = expect_code(
        s.list_sync_runs(pb::ListSyncRunsRequest {
            sync_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
    assert_eq!(reason(&st), "NOT_FOUND");
    expect_violation(
        s.list_sync_runs(pb::ListSyncRunsRequest {
            sync_id: "nope".into(),
            ..Default::default()
        })
        .await,
        "sync_id",
    );
}

async fn list_syncs_filters_and_sorts(app: TestApp) {
    let a = app.faker_connection("Faker A").await;
    let b = app.faker_connection("Faker B").await;
    let local = sqlite_connection(&app).await;
    let mut s = app.syncs();
    let mut mk = async |conn: &str, name: &str, slug: &str, entity: &str, status: SyncStatus| {
        s.create_sync(pb::CreateSyncRequest {
            slug: slug.into(),
            status: status.into(),
            ..create(conn, name, &[entity])
        })
        .await
        .unwrap()
        .into_inner()
        .id
    };
    let alpha = mk(&a.id, "Alpha users", "", "users", SyncStatus::Draft).await;
    // Orders depend on users, here bound apart from Alpha's table.
    let beta = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            status: SyncStatus::Active.into(),
            table_bindings: vec![bound_to("users", "beta_users")],
            ..create(&a.id, "Beta orders", &["users", "orders"])
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let gamma = mk(&b.id, "Gamma", "zeta-sync", "events", SyncStatus::Paused).await;
    let delta = mk(
        &local.id,
        "Delta local",
        "",
        "main.customers",
        SyncStatus::Active,
    )
    .await;

    let list = async |req: pb::ListSyncsRequest| {
        let r = app.syncs().list_syncs(req).await.unwrap().into_inner();
        assert_eq!(r.total as usize, r.syncs.len());
        r.syncs.into_iter().map(|s| s.id).collect::<Vec<_>>()
    };
    let all = list(pb::ListSyncsRequest::default()).await;
    let full = app
        .syncs()
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner();
    for sync in &full.syncs {
        assert!(
            full.users.contains_key(&sync.created_by),
            "users names {}: {:?}",
            sync.created_by,
            full.users
        );
    }
    assert_eq!(
        all,
        [
            alpha.as_str(),
            beta.as_str(),
            delta.as_str(),
            gamma.as_str()
        ],
        "by name, ascending"
    );

    // q: a case-insensitive substring of name or slug.
    let q = |q: &str| pb::ListSyncsRequest {
        q: q.into(),
        ..Default::default()
    };
    assert_eq!(list(q("ALPHA")).await, [alpha.as_str()]);
    assert_eq!(list(q("zeta")).await, [gamma.as_str()], "matches the slug");
    assert_eq!(list(q("-orders")).await, [beta.as_str()]);
    assert!(list(q("%")).await.is_empty(), "wildcards are literal");
    assert!(list(q("_")).await.is_empty(), "wildcards are literal");

    // ORed within a field.
    let by_conn = |ids: &[&str]| pb::ListSyncsRequest {
        connection_ids: ids.iter().map(|i| i.to_string()).collect(),
        ..Default::default()
    };
    assert_eq!(
        list(by_conn(&[&a.id])).await,
        [alpha.as_str(), beta.as_str()]
    );
    assert_eq!(
        list(by_conn(&[a.id.as_str(), b.id.as_str()])).await,
        [alpha.as_str(), beta.as_str(), gamma.as_str()]
    );
    let by_status = |st: &[SyncStatus]| pb::ListSyncsRequest {
        statuses: st.iter().map(|s| (*s).into()).collect(),
        ..Default::default()
    };
    assert_eq!(
        list(by_status(&[SyncStatus::Active])).await,
        [beta.as_str(), delta.as_str()]
    );
    assert_eq!(
        list(by_status(&[SyncStatus::Active, SyncStatus::Paused])).await,
        [beta.as_str(), delta.as_str(), gamma.as_str()]
    );
    assert!(list(by_status(&[SyncStatus::Archived])).await.is_empty());
    let by_provider = |p: &[&str]| pb::ListSyncsRequest {
        provider_keys: p.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    assert_eq!(list(by_provider(&["sqlite"])).await, [delta.as_str()]);
    assert_eq!(
        list(by_provider(&["faker", "sqlite"])).await,
        [
            alpha.as_str(),
            beta.as_str(),
            delta.as_str(),
            gamma.as_str()
        ]
    );

    // ANDed across fields.
    assert_eq!(
        list(pb::ListSyncsRequest {
            statuses: vec![SyncStatus::Active.into()],
            ..by_conn(&[a.id.as_str(), b.id.as_str()])
        })
        .await,
        [beta.as_str()]
    );
    assert_eq!(
        list(pb::ListSyncsRequest {
            statuses: vec![SyncStatus::Active.into(), SyncStatus::Draft.into()],
            ..by_provider(&["faker"])
        })
        .await,
        [alpha.as_str(), beta.as_str()]
    );
    assert_eq!(
        list(pb::ListSyncsRequest {
            q: "a".into(),
            provider_keys: vec!["faker".into()],
            statuses: vec![SyncStatus::Paused.into()],
            connection_ids: vec![b.id.clone()],
            ..Default::default()
        })
        .await,
        [gamma.as_str()]
    );
    assert!(
        list(pb::ListSyncsRequest {
            q: "delta".into(),
            ..by_provider(&["faker"])
        })
        .await
        .is_empty()
    );

    // Sorting.
    let sorted = |by: &str, order: &str| pb::ListSyncsRequest {
        sort_by: by.into(),
        order: order.into(),
        ..Default::default()
    };
    assert_eq!(
        list(sorted("name", "desc")).await,
        [
            gamma.as_str(),
            delta.as_str(),
            beta.as_str(),
            alpha.as_str()
        ]
    );
    assert_eq!(
        list(sorted("created_at", "")).await,
        [
            alpha.as_str(),
            beta.as_str(),
            gamma.as_str(),
            delta.as_str()
        ]
    );
    assert_eq!(
        list(sorted("created_at", "desc")).await,
        [
            delta.as_str(),
            gamma.as_str(),
            beta.as_str(),
            alpha.as_str()
        ]
    );
    // active, active, draft, paused; ties by id.
    assert_eq!(
        list(sorted("status", "asc")).await,
        [
            beta.as_str(),
            delta.as_str(),
            alpha.as_str(),
            gamma.as_str()
        ]
    );
    // No sync succeeded yet: all tie, in id order.
    assert_eq!(
        list(sorted("last_success_at", "")).await,
        [
            alpha.as_str(),
            beta.as_str(),
            gamma.as_str(),
            delta.as_str()
        ]
    );
    set_status(&app, &alpha, SyncStatus::Paused).await;
    assert_eq!(list(sorted("updated_at", "desc")).await[0], alpha);

    let mut s = app.syncs();
    expect_violation(s.list_syncs(sorted("slug_length", "")).await, "sort_by");
    expect_violation(s.list_syncs(sorted("name", "sideways")).await, "order");
    // q is at most as long as a name, and plain text.
    assert!(list(q(&"x".repeat(255))).await.is_empty());
    for bad in ["x".repeat(256), "x".repeat(100_000), "a\0b".to_string()] {
        expect_violation(s.list_syncs(q(&bad)).await, "q");
    }
    expect_violation(
        s.list_syncs(pb::ListSyncsRequest {
            limit: Some(0),
            ..Default::default()
        })
        .await,
        "limit",
    );
    expect_violation(
        s.list_syncs(pb::ListSyncsRequest {
            statuses: vec![0],
            ..Default::default()
        })
        .await,
        "statuses[0]",
    );
    let page = s
        .list_syncs(pb::ListSyncsRequest {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((page.total, page.syncs.len(), page.has_next), (4, 2, true));
    assert_eq!(page.limit, 2);
    let default_limit = s
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .limit;
    assert_eq!(default_limit, 50);
}

async fn reset_sync_state_forgets_all_or_some_entities(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app
        .faker_sync(&conn.id, "Stateful", &["users", "orders", "events"])
        .await;
    let mut s = app.syncs();
    let reset = |entities: &[&str]| pb::ResetSyncStateRequest {
        sync_id: sync.id.clone(),
        entities: entities.iter().map(|e| e.to_string()).collect(),
    };

    let all = s.reset_sync_state(reset(&[])).await.unwrap().into_inner();
    assert_eq!(all.reset_entities, ["users", "orders", "events"]);
    assert_eq!(all.sync.unwrap().id, sync.id);
    let some = s
        .reset_sync_state(reset(&["orders"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(some.reset_entities, ["orders"]);
    // Again: a reset is repeatable.
    let again = s
        .reset_sync_state(reset(&["orders", "users"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.reset_entities, ["orders", "users"]);

    let st = expect_violation(s.reset_sync_state(reset(&["nope"])).await, "entities[0]");
    assert_eq!(violations(&st), ["entities[0]"]);
    expect_violation(
        s.reset_sync_state(reset(&["users", "customers"])).await,
        "entities[1]",
    );

    // Not while a run is active.
    let run = app.trigger(&sync.id).await;
    let st = expect_code(
        s.reset_sync_state(reset(&[])).await,
        Code::FailedPrecondition,
    );
    assert!(st.message().contains(&run.id), "{}", st.message());
    cancel(&app, &run.id).await;
    s.reset_sync_state(reset(&["events"])).await.unwrap();

    expect_code(
        s.reset_sync_state(pb::ResetSyncStateRequest {
            sync_id: uuid::Uuid::now_v7().to_string(),
            entities: vec![],
        })
        .await,
        Code::NotFound,
    );
}
