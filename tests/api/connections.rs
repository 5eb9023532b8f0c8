//! ConnectionService: CRUD, slugs, etags, status verbs, defaults, verification.

use tonic::Code;
use tributary::pb::{self, ConnectionStatus};

use crate::{
    both,
    helpers::{TestApp, expect_code, expect_violation, json_struct, reason},
};

fn create(name: &str, provider: &str, config: serde_json::Value) -> pb::CreateConnectionRequest {
    pb::CreateConnectionRequest {
        name: name.into(),
        provider: provider.into(),
        config: Some(json_struct(config)),
        ..Default::default()
    }
}

both!(
    create_get_and_get_by_slug,
    derived_slugs_get_suffixes_and_explicit_collisions_fail,
    create_validates_every_field,
    update_applies_present_fields_and_checks_etag,
    delete_is_refused_while_syncs_use_the_connection,
    disable_and_reactivate,
    verify_postgres_for_real,
    concurrent_set_default_leaves_one_default,
);

// These create sqlite connections: their servers need --allow-local-files.
both!(
    spawn = crate::helpers::spawn_with_local_files;
    verify_sqlite_for_real,
    set_default_swaps_atomically,
);

async fn create_get_and_get_by_slug(app: TestApp) {
    let mut c = app.connections();
    let mut req = create(
        "Shop EU",
        "shopify",
        serde_json::json!({"shop_domain": "acme-eu.myshopify.com"}),
    );
    req.credentials
        .insert("access_token".into(), "shpat_test_123".into());
    let created = c.create_connection(req).await.unwrap().into_inner();
    assert_eq!(created.slug, "shop-eu");
    assert_eq!(created.status(), ConnectionStatus::NeedsVerification);
    assert!(created.has_credentials);
    assert!(!created.etag.is_empty());
    assert!(created.created_at.is_some() && created.last_verified_at.is_none());
    // Catalog defaults fill config fields left out.
    let cfg = created.config.clone().unwrap();
    assert!(
        cfg.fields.contains_key("api_version"),
        "defaults applied: {cfg:?}"
    );

    let got = c
        .get_connection(pb::GetConnectionRequest {
            connection_id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, created);
    let by_slug = c
        .get_connection_by_slug(pb::GetConnectionBySlugRequest {
            slug: "shop-eu".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_slug.id, created.id);

    let missing = expect_code(
        c.get_connection(pb::GetConnectionRequest {
            connection_id: uuid::Uuid::now_v7().to_string(),
        })
        .await,
        Code::NotFound,
    );
    assert_eq!(reason(&missing), "NOT_FOUND");
    expect_violation(
        c.get_connection(pb::GetConnectionRequest {
            connection_id: "not-a-uuid".into(),
        })
        .await,
        "connection_id",
    );
    expect_code(
        c.get_connection_by_slug(pb::GetConnectionBySlugRequest {
            slug: "nope".into(),
        })
        .await,
        Code::NotFound,
    );
}

async fn derived_slugs_get_suffixes_and_explicit_collisions_fail(app: TestApp) {
    let mut c = app.connections();
    let mut slugs = Vec::new();
    for _ in 0..3 {
        let r = c
            .create_connection(create("Demo Data!", "faker", serde_json::json!({})))
            .await
            .unwrap()
            .into_inner();
        slugs.push(r.slug);
    }
    assert_eq!(slugs, ["demo-data", "demo-data-2", "demo-data-3"]);

    let mut explicit = create("Other", "faker", serde_json::json!({}));
    explicit.slug = "demo-data-2".into();
    let s = expect_code(c.create_connection(explicit).await, Code::AlreadyExists);
    assert_eq!(reason(&s), "ALREADY_EXISTS");
    let info = tonic_types::StatusExt::get_details_resource_info(&s).unwrap();
    assert_eq!(info.resource_name, "demo-data-2");

    let mut bad = create("Other", "faker", serde_json::json!({}));
    bad.slug = "Not_A_Slug".into();
    expect_violation(c.create_connection(bad).await, "slug");

    // Renaming onto a taken slug is ALREADY_EXISTS too, and changes nothing.
    let last = c
        .get_connection_by_slug(pb::GetConnectionBySlugRequest {
            slug: "demo-data-3".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let r = c
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: last.id.clone(),
            slug: Some("demo-data".into()),
            ..Default::default()
        })
        .await;
    expect_code(r, Code::AlreadyExists);
    let after = c
        .get_connection(pb::GetConnectionRequest {
            connection_id: last.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after, last);
}

async fn create_validates_every_field(app: TestApp) {
    let mut c = app.connections();
    expect_violation(
        c.create_connection(create("", "faker", serde_json::json!({})))
            .await,
        "name",
    );
    expect_violation(
        c.create_connection(create(&"x".repeat(256), "faker", serde_json::json!({})))
            .await,
        "name",
    );
    expect_violation(
        c.create_connection(create("x", "", serde_json::json!({})))
            .await,
        "provider",
    );
    expect_violation(
        c.create_connection(create("x", "oracle", serde_json::json!({})))
            .await,
        "provider",
    );
    // Config against the provider's JSON Schema: missing, mistyped and unknown fields.
    let s = expect_violation(
        c.create_connection(create(
            "x",
            "postgres",
            serde_json::json!({"host": "h", "port": "five", "bogus": 1}),
        ))
        .await,
        "config.port",
    );
    let v = crate::helpers::violations(&s);
    for f in ["config.database", "config.username", "config.bogus"] {
        assert!(v.contains(&f.to_string()), "{f} missing from {v:?}");
    }
    expect_violation(
        c.create_connection(create("x", "faker", serde_json::json!({"row_count": -1})))
            .await,
        "config.row_count",
    );
    // Credentials against the credentials schema.
    let mut req = create("x", "faker", serde_json::json!({}));
    req.credentials.insert("token".into(), "whatever".into());
    expect_violation(c.create_connection(req).await, "credentials.token");
    let mut req = create("x", "faker", serde_json::json!({}));
    req.request_id = "not-a-uuid".into();
    expect_violation(c.create_connection(req).await, "request_id");
    // Nothing was written.
    let list = c
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.total, 0);
}

async fn update_applies_present_fields_and_checks_etag(app: TestApp) {
    let mut c = app.connections();
    let conn = app.faker_connection("Before").await;
    let renamed = c
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            name: Some("After".into()),
            etag: conn.etag.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.name, "After");
    assert_eq!(renamed.slug, conn.slug, "absent fields stay as they are");
    assert_eq!(renamed.config, conn.config);
    assert_ne!(renamed.etag, conn.etag);

    // The first etag is stale now.
    let s = expect_code(
        c.update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            name: Some("Lost update".into()),
            etag: conn.etag.clone(),
            ..Default::default()
        })
        .await,
        Code::Aborted,
    );
    assert_eq!(reason(&s), "ETAG_MISMATCH");

    // Verify, then change config: back to NEEDS_VERIFICATION.
    let verified = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: conn.id.clone(),
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(verified.status(), ConnectionStatus::Active);
    let changed = c
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            config: Some(json_struct(serde_json::json!({"row_count": 5}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.status(), ConnectionStatus::NeedsVerification);
    assert_eq!(
        changed.config.unwrap().fields["row_count"].kind,
        Some(prost_types::value::Kind::NumberValue(5.0))
    );

    // An invalid patch writes nothing.
    expect_violation(
        c.update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            name: Some(String::new()),
            ..Default::default()
        })
        .await,
        "name",
    );
    let now = c
        .get_connection(pb::GetConnectionRequest {
            connection_id: conn.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now.name, "After");
}

async fn delete_is_refused_while_syncs_use_the_connection(app: TestApp) {
    let mut c = app.connections();
    let conn = app.faker_connection("Used").await;
    let sync = app.faker_sync(&conn.id, "Uses it", &["users"]).await;
    let s = expect_code(
        c.delete_connection(pb::DeleteConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CONNECTION_IN_USE");
    assert!(
        s.message().contains(&sync.slug),
        "names the sync: {}",
        s.message()
    );

    // Archived syncs do not block.
    app.syncs()
        .update_sync(pb::UpdateSyncRequest {
            sync_id: sync.id,
            status: Some(pb::SyncStatus::Archived.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    c.delete_connection(pb::DeleteConnectionRequest {
        connection_id: conn.id.clone(),
    })
    .await
    .unwrap();
    expect_code(
        c.get_connection(pb::GetConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await,
        Code::NotFound,
    );
    expect_code(
        c.delete_connection(pb::DeleteConnectionRequest {
            connection_id: conn.id,
        })
        .await,
        Code::NotFound,
    );
}

async fn disable_and_reactivate(app: TestApp) {
    let mut c = app.connections();
    let conn = app.faker_connection("Switch").await;
    let sync = app.faker_sync(&conn.id, "Blocked", &["users"]).await;
    let disabled = c
        .disable_connection(pb::DisableConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(disabled.status(), ConnectionStatus::Disabled);

    // A disabled connection's syncs cannot run, and it cannot be verified.
    let s = expect_code(
        app.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: sync.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CONNECTION_DISABLED");
    expect_code(
        c.verify_connection(pb::VerifyConnectionRequest {
            connection_id: conn.id.clone(),
            as_destination: false,
        })
        .await,
        Code::FailedPrecondition,
    );

    let back = c
        .reactivate_connection(pb::ReactivateConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(back.status(), ConnectionStatus::NeedsVerification);
    let s = expect_code(
        c.reactivate_connection(pb::ReactivateConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&s), "CONNECTION_NOT_DISABLED");
    app.syncs()
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: sync.id,
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn verify_sqlite_for_real(app: TestApp) {
    let mut c = app.connections();
    let path = app.files_dir().join("source.db");
    {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        db.execute_unprepared(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, note TEXT)",
        )
        .await
        .unwrap();
        db.close().await.unwrap();
    }
    let good = c
        .create_connection(create(
            "Local",
            "sqlite",
            serde_json::json!({"path": path.display().to_string()}),
        ))
        .await
        .unwrap()
        .into_inner();
    let v = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: good.id.clone(),
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status(), ConnectionStatus::Active);
    assert!(v.last_verified_at.is_some() && v.verification_error.is_none());

    let tables = c
        .list_schema_tables(pb::ListSchemaTablesRequest {
            connection_id: good.id.clone(),
            include_system: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        tables
            .tables
            .iter()
            .map(|t| t.spec.as_str())
            .collect::<Vec<_>>(),
        ["main.customers"]
    );
    let cols = c
        .list_schema_columns(pb::ListSchemaColumnsRequest {
            connection_id: good.id.clone(),
            schema: "main".into(),
            table: "customers".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let got: Vec<(String, bool)> = cols
        .columns
        .into_iter()
        .map(|c| (c.name, c.nullable))
        .collect();
    assert_eq!(
        got,
        [
            ("id".to_string(), false), // INTEGER PRIMARY KEY: the rowid, never NULL
            ("email".into(), false),
            ("note".into(), true)
        ]
    );

    let missing = app.files_dir().join("nope.db");
    let bad = c
        .create_connection(create(
            "Gone",
            "sqlite",
            serde_json::json!({"path": missing.display().to_string()}),
        ))
        .await
        .unwrap()
        .into_inner();
    let v = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: bad.id,
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status(), ConnectionStatus::Error);
    // Refused like any path it may not open (see local_files.rs).
    let err = v.verification_error.unwrap();
    assert!(
        err.contains("--allow-local-files") && !err.contains("nope"),
        "{err}"
    );
    assert!(!missing.exists(), "verification must not create the file");
}

async fn verify_postgres_for_real(app: TestApp) {
    // The test cluster when there is one; otherwise a closed port still gives a real refusal.
    let url = std::env::var("TRIBUTARY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:1/postgres".into());
    let after_at = url
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or("127.0.0.1:1/postgres");
    let (hostport, _) = after_at.split_once('/').unwrap_or((after_at, ""));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    let port: u16 = port.parse().unwrap();
    let secret = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let mut c = app.connections();
    let mk = |database: &str| {
        let mut r = create(
            &format!("PG {database}"),
            "postgres",
            serde_json::json!({"host": host, "port": port, "database": database, "username": "postgres", "sslmode": "disable"}),
        );
        r.credentials.insert("password".into(), secret.clone());
        r
    };
    if std::env::var("TRIBUTARY_TEST_POSTGRES_URL").is_ok() {
        let good = c
            .create_connection(mk("postgres"))
            .await
            .unwrap()
            .into_inner();
        let v = c
            .verify_connection(pb::VerifyConnectionRequest {
                connection_id: good.id.clone(),
                as_destination: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            v.status(),
            ConnectionStatus::Active,
            "{:?}",
            v.verification_error
        );
        let tables = c
            .list_schema_tables(pb::ListSchemaTablesRequest {
                connection_id: good.id,
                include_system: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            tables
                .tables
                .iter()
                .any(|t| t.schema == "information_schema")
        );
    }
    let bad = c
        .create_connection(mk("no_such_database"))
        .await
        .unwrap()
        .into_inner();
    let v = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: bad.id,
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status(), ConnectionStatus::Error);
    let err = v.verification_error.unwrap();
    assert!(!err.is_empty() && !err.contains(&secret), "{err}");
    assert!(
        !crate::helpers::logs().contains(&secret),
        "the password reached a log line"
    );
}

async fn set_default_swaps_atomically(app: TestApp) {
    let mut c = app.connections();
    let mut first = create("A", "faker", serde_json::json!({}));
    first.is_default = true;
    let a = c.create_connection(first).await.unwrap().into_inner();
    assert!(a.is_default);
    let b = app.faker_connection("B").await;
    let b = c
        .set_default_connection(pb::SetDefaultConnectionRequest {
            connection_id: b.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(b.is_default);
    let a = c
        .get_connection(pb::GetConnectionRequest {
            connection_id: a.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!a.is_default, "the old default was cleared");
    // Another provider's default is independent.
    let mut other = create("S", "sqlite", serde_json::json!({"path": "/tmp/x.db"}));
    other.is_default = true;
    assert!(
        c.create_connection(other)
            .await
            .unwrap()
            .into_inner()
            .is_default
    );
    let b = c
        .get_connection(pb::GetConnectionRequest {
            connection_id: b.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(b.is_default);
}

async fn concurrent_set_default_leaves_one_default(app: TestApp) {
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(app.faker_connection(&format!("C{i}")).await.id);
    }
    for _round in 0..3 {
        let calls = ids.iter().map(|id| {
            let mut c = app.connections();
            let id = id.clone();
            tokio::spawn(async move {
                c.set_default_connection(pb::SetDefaultConnectionRequest { connection_id: id })
                    .await
            })
        });
        for r in futures::future::join_all(calls).await {
            assert!(r.unwrap().is_ok(), "every SetDefault succeeds");
        }
        let list = app
            .connections()
            .list_connections(pb::ListConnectionsRequest {
                providers: vec!["faker".into()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            list.connections.iter().filter(|c| c.is_default).count(),
            1,
            "exactly one default"
        );
    }
}
