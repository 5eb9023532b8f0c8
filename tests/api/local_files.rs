//! What connectors may reach and say (issue 9, items 3 and 9): SQLite files
//! open only inside the directories `--allow-local-files` names, never the
//! server's own files, and every refused path reads the same; messages built
//! from a driver's errors quote no part of a credential.

use std::{path::Path, time::Duration};

use sea_orm::{ConnectionTrait, Database};
use tonic::Code;
use tributary::{
    config::ServeArgs,
    pb::{self, ConnectionStatus, LoadMode, ResultReasonCode, RunStatus},
    store::Store,
};

use crate::{
    both,
    helpers::{
        Backend, TestApp, eventually, expect_code, json_struct, logs, reason, scram_role_port,
        spawn_app_with,
    },
};

both!(
    spawn = crate::helpers::spawn_with_local_files;
    the_servers_own_files_are_refused_like_any_other_path,
    a_sqlite_file_in_an_allowed_dir_verifies_and_browses,
);

both!(
    spawn = super::spawn_allowing_the_data_dirs_parent;
    an_allowed_dir_holding_the_data_dir_still_refuses_its_files,
);

both!(
    spawn = crate::helpers::spawn_executing;
    without_the_flag_nothing_opens_a_local_file,
);

both!(driver_errors_quote_no_part_of_a_password);

// === helpers ===

/// A server whose one allowed directory holds its data dir.
async fn spawn_allowing_the_data_dirs_parent(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |a| {
        let parent = a.store.data_dir.parent().unwrap().to_path_buf();
        a.local_files.allow = vec![parent];
    })
    .await
}

/// Another server on `app`'s control store and credential key, with `tweak`.
async fn same_store(app: &TestApp, tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let url = app
        .database_url
        .clone()
        .unwrap_or_else(|| Store::sqlite_url(app.data_dir.path()));
    let key = std::fs::read_to_string(app.data_dir.path().join("secret.key")).unwrap();
    let mut other = spawn_app_with(Backend::Sqlite, |a| {
        a.store.database_url = Some(url);
        a.secret_key = Some(key.trim().to_string());
        tweak(a);
    })
    .await
    .unwrap();
    other.admin_key = app.admin_key.clone();
    other
}

fn sqlite(path: &str) -> pb::CreateConnectionRequest {
    pb::CreateConnectionRequest {
        name: format!("local {}", uuid::Uuid::new_v4().simple()),
        provider: "sqlite".into(),
        config: Some(json_struct(serde_json::json!({ "path": path }))),
        ..Default::default()
    }
}

/// A SQLite database at `path` with one table, `customers`.
async fn make_db(path: &Path) {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    db.execute_unprepared("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        .await
        .unwrap();
    db.close().await.unwrap();
}

fn text(p: &Path) -> String {
    p.display().to_string()
}

/// `to` reached from `from` through `..`: `<from>/../../<to>`.
fn via_dot_dot(from: &Path, to: &Path) -> String {
    let ups = "../".repeat(from.components().count() - 1);
    format!(
        "{}/{ups}{}",
        from.display(),
        to.strip_prefix("/").unwrap().display()
    )
}

/// What each route that opens the file answers for a sqlite connection to
/// `path`: VerifyConnection's verification_error, then the messages of
/// ListSchemaTables and ListSchemaColumns. None of them may succeed.
async fn answers(app: &TestApp, path: &str) -> [String; 3] {
    let mut c = app.connections();
    let id = c
        .create_connection(sqlite(path))
        .await
        .unwrap()
        .into_inner()
        .id;
    let v = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: id.clone(),
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status(), ConnectionStatus::Error, "{path}");
    let tables = expect_code(
        c.list_schema_tables(pb::ListSchemaTablesRequest {
            connection_id: id.clone(),
            include_system: true,
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
    );
    let columns = expect_code(
        c.list_schema_columns(pb::ListSchemaColumnsRequest {
            connection_id: id,
            schema: "main".into(),
            table: "api_keys".into(),
        })
        .await,
        Code::FailedPrecondition,
    );
    [
        v.verification_error.unwrap_or_default(),
        tables.message().to_string(),
        columns.message().to_string(),
    ]
}

/// Asserts that every path of `paths` is refused on every route with the
/// message /etc/shadow gets, a message that names the flag and no file.
async fn all_refused_alike(app: &TestApp, paths: &[String]) {
    let refusal = answers(app, "/etc/shadow").await[0].clone();
    assert!(refusal.contains("--allow-local-files"), "{refusal}");
    for path in paths {
        for answer in answers(app, path).await {
            assert_eq!(answer, refusal, "{path}");
        }
    }
    for word in [
        "shadow",
        "tributary.db",
        "warehouse",
        "secret",
        "No such",
        "database",
    ] {
        assert!(
            !refusal.contains(word),
            "the refusal says {word:?}: {refusal}"
        );
    }
}

// === item 3: local files ===

async fn the_servers_own_files_are_refused_like_any_other_path(app: TestApp) {
    let data = app.data_dir.path();
    let files = app.files_dir();
    let mut paths = Vec::new();
    for name in ["tributary.db", "warehouse.db", "secret.key"] {
        let own = data.join(name);
        let link = files.join(format!("link-to-{name}"));
        std::os::unix::fs::symlink(&own, &link).unwrap();
        paths.extend([text(&own), via_dot_dot(files, &own), text(&link)]);
    }
    // Neither whether a path exists nor what it is shows.
    std::fs::create_dir(files.join("dir")).unwrap();
    let escape = files.join("link-to-passwd");
    std::os::unix::fs::symlink("/etc/passwd", &escape).unwrap();
    paths.extend([
        text(&files.join("nope.db")),
        text(&files.join("dir")),
        text(files),
        text(&escape),
        text(data),
        "tributary.db".into(),
    ]);
    all_refused_alike(&app, &paths).await;
}

async fn an_allowed_dir_holding_the_data_dir_still_refuses_its_files(app: TestApp) {
    let data = app.data_dir.path();
    let allowed = data.parent().unwrap();
    // Next to the data dir, inside the allowed directory: opens.
    let mine = tempfile::tempdir_in(allowed).unwrap();
    let db = mine.path().join("source.db");
    make_db(&db).await;
    let mut c = app.connections();
    let good = c
        .create_connection(sqlite(&text(&db)))
        .await
        .unwrap()
        .into_inner();
    let v = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: good.id,
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

    let mut paths = vec![text(data), text(&mine.path().join("nope.db"))];
    for name in ["tributary.db", "warehouse.db", "secret.key", "admin.key"] {
        let own = data.join(name);
        let link = mine.path().join(format!("link-to-{name}"));
        std::os::unix::fs::symlink(&own, &link).unwrap();
        paths.extend([text(&own), via_dot_dot(mine.path(), &own), text(&link)]);
    }
    all_refused_alike(&app, &paths).await;
}

async fn a_sqlite_file_in_an_allowed_dir_verifies_and_browses(app: TestApp) {
    let files = app.files_dir();
    std::fs::create_dir(files.join("sub")).unwrap();
    let db = files.join("sub/source.db");
    make_db(&db).await;
    let link = files.join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let mut c = app.connections();
    // Directly, through `..` and through a symlink that stays inside.
    for path in [
        text(&db),
        format!("{}/sub/../sub/source.db", files.display()),
        text(&link),
    ] {
        let conn = c
            .create_connection(sqlite(&path))
            .await
            .unwrap()
            .into_inner();
        let v = c
            .verify_connection(pb::VerifyConnectionRequest {
                connection_id: conn.id.clone(),
                as_destination: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            v.status(),
            ConnectionStatus::Active,
            "{path}: {:?}",
            v.verification_error
        );
        let tables = c
            .list_schema_tables(pb::ListSchemaTablesRequest {
                connection_id: conn.id.clone(),
                include_system: false,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let specs: Vec<_> = tables.tables.iter().map(|t| t.spec.as_str()).collect();
        assert_eq!(specs, ["main.customers"], "{path}");
        let cols = c
            .list_schema_columns(pb::ListSchemaColumnsRequest {
                connection_id: conn.id,
                schema: "main".into(),
                table: "customers".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let names: Vec<_> = cols.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "email"], "{path}");
    }

    // A file of an allowed directory that is no database may say so.
    let notes = files.join("notes.txt");
    std::fs::write(
        &notes,
        "not a database, but long enough to have a header page\n".repeat(8),
    )
    .unwrap();
    let conn = c
        .create_connection(sqlite(&text(&notes)))
        .await
        .unwrap()
        .into_inner();
    let v = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: conn.id,
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status(), ConnectionStatus::Error);
    let err = v.verification_error.unwrap();
    assert!(err.contains("not a readable SQLite database"), "{err}");
}

async fn without_the_flag_nothing_opens_a_local_file(app: TestApp) {
    let no_flag = |s: &tonic::Status| {
        assert_eq!(reason(s), "LOCAL_FILES_NOT_ALLOWED", "{s:?}");
        assert!(s.message().contains("--allow-local-files"), "{s:?}");
    };
    let mut c = app.connections();
    // Refused up front: nothing is written.
    let own = text(&app.data_dir.path().join("tributary.db"));
    no_flag(&expect_code(
        c.create_connection(sqlite(&own)).await,
        Code::FailedPrecondition,
    ));
    let listed = c
        .list_connections(pb::ListConnectionsRequest {
            providers: vec!["sqlite".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 0);

    // A connection stored while another server allowed its file (or
    // before this one's restart without the flag).
    let files = tempfile::tempdir().unwrap();
    let db = files.path().join("source.db");
    make_db(&db).await;
    let dir = files.path().to_path_buf();
    let allowing = same_store(&app, |a| a.local_files.allow = vec![dir]).await;
    let conn = allowing
        .connections()
        .create_connection(sqlite(&text(&db)))
        .await
        .unwrap()
        .into_inner();
    let v = allowing
        .connections()
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: conn.id.clone(),
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.status(), ConnectionStatus::Active);
    let mut req = pb::CreateSyncRequest {
        name: "Local customers".into(),
        connection_id: conn.id.clone(),
        entities: vec!["main.customers".into()],
        ..Default::default()
    };
    req.table_bindings = vec![pb::TableBinding {
        entity_key: "main.customers".into(),
        load_mode: LoadMode::Replace.into(),
        ..Default::default()
    }];
    let sync = allowing
        .syncs()
        .create_sync(req)
        .await
        .unwrap()
        .into_inner();

    // This server opens it nowhere: not to verify, browse or run it, nor
    // to point it at another file.
    no_flag(&expect_code(
        c.verify_connection(pb::VerifyConnectionRequest {
            connection_id: conn.id.clone(),
            as_destination: false,
        })
        .await,
        Code::FailedPrecondition,
    ));
    no_flag(&expect_code(
        c.list_schema_tables(pb::ListSchemaTablesRequest {
            connection_id: conn.id.clone(),
            include_system: false,
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
    ));
    no_flag(&expect_code(
        c.list_schema_columns(pb::ListSchemaColumnsRequest {
            connection_id: conn.id.clone(),
            schema: "main".into(),
            table: "customers".into(),
        })
        .await,
        Code::FailedPrecondition,
    ));
    no_flag(&expect_code(
        c.update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            config: Some(json_struct(serde_json::json!({ "path": own }))),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
    ));
    // A rename opens nothing.
    let renamed = c
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            name: Some("Renamed".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.status(), ConnectionStatus::Active);

    let run = app.trigger(&sync.id).await;
    let done = eventually(Duration::from_secs(20), || async {
        let r = app.run(&run.id).await;
        (r.status() == RunStatus::Failed).then_some(r)
    })
    .await;
    assert_eq!(done.result_reason_code(), ResultReasonCode::ConfigError);
    let error = done.error.unwrap_or_default();
    assert!(error.contains("--allow-local-files"), "{error}");
}

// === item 9: driver errors ===

/// Panics when `text` holds a non-ASCII character of `secret` or any run of
/// `n` of its characters (and so any longer part of it).
#[track_caller]
fn assert_quotes_none(text: &str, secret: &str, n: usize, what: &str) {
    for ch in secret.chars().filter(|c| !c.is_ascii()) {
        assert!(!text.contains(ch), "{what} quotes {ch:?}");
    }
    let chars: Vec<char> = secret.chars().collect();
    for w in chars.windows(n) {
        let part: String = w.iter().collect();
        assert!(!text.contains(&part), "{what} quotes {part:?}");
    }
}

async fn driver_errors_quote_no_part_of_a_password(app: TestApp) {
    let Some(port) = scram_role_port().await else {
        return;
    };

    // SASLprep refuses the first before it is sent; the server refuses the second.
    let passwords = ["pa\u{1F511}ss-w0rd-Zebra", "Wr0ng-Qx7-Vyzj"];
    let mut c = app.connections();
    for password in passwords {
        let mut req = pb::CreateConnectionRequest {
            name: format!("scram {}", uuid::Uuid::new_v4().simple()),
            provider: "postgres".into(),
            config: Some(json_struct(serde_json::json!({
                "host": "127.0.0.1", "port": port, "database": "postgres",
                "username": "tributary_scram", "sslmode": "disable",
            }))),
            ..Default::default()
        };
        req.credentials.insert("password".into(), password.into());
        let conn = c.create_connection(req).await.unwrap().into_inner();
        let v = c
            .verify_connection(pb::VerifyConnectionRequest {
                connection_id: conn.id.clone(),
                as_destination: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(v.status(), ConnectionStatus::Error);
        let err = v.verification_error.unwrap();
        assert_quotes_none(&err, password, 3, &format!("verification_error {err:?}"));
        assert!(!err.to_lowercase().contains("saslprep"), "{err}");
        if password.is_ascii() {
            assert!(err.contains("password authentication failed"), "{err}");
        }
        let browse = expect_code(
            c.list_schema_tables(pb::ListSchemaTablesRequest {
                connection_id: conn.id,
                include_system: false,
                ..Default::default()
            })
            .await,
            Code::FailedPrecondition,
        );
        assert_quotes_none(browse.message(), password, 3, "ListSchemaTables");
    }
    // Every test's lines are in there: runs of 4 characters, as shorter
    // ones may occur in unrelated words.
    let logs = logs();
    for password in passwords {
        assert_quotes_none(&logs, password, 4, "the server's logs");
    }
}

// === the flag itself ===

#[tokio::test]
async fn serve_and_worker_refuse_to_start_on_a_missing_allowed_dir() {
    for command in ["serve", "worker"] {
        let data = tempfile::tempdir().unwrap();
        let allowed = tempfile::tempdir().unwrap();
        let missing = data.path().join("missing");
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
        cmd.arg(command)
            .arg("--data-dir")
            .arg(data.path().join("data"));
        if command == "serve" {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        // The environment variable takes a comma-separated list.
        let out = cmd
            .env(
                "TRIBUTARY_ALLOW_LOCAL_FILES",
                format!("{},{}", allowed.path().display(), missing.display()),
            )
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!("--allow-local-files {}", missing.display())),
            "{command}: {stderr}"
        );
        assert!(
            !data.path().join("data/admin.key").exists(),
            "{command} handed out a key"
        );
    }
}
