//! File stores end to end, against the local S3 server and sshd that
//! `.ci/test` starts: ListFiles paging while files arrive,
//! ValidateFileSelection's every violation, and file sets (CSV, JSON Lines,
//! Parquet, gzip) synced row for row, incrementally and across a SIGKILL.

use std::{io::Write, sync::Arc, time::Duration};

use serde_json::json;
use tonic::Code;
use tributary::pb::{self, FileKind, FileSelectionProblem, LoadMode, RunStatus};

use crate::{
    engine::run_to_end,
    file_peers::{Peer, file_sync},
    helpers::{
        Backend, TestApp, Worker, eventually, expect_code, expect_violation, spawn_app,
        spawn_app_with, spawn_executing,
    },
    pg_fixtures::{Cell, sqlite_cells},
};

async fn list(
    app: &TestApp,
    connection_id: &str,
    path: &str,
    page_token: &str,
    page_size: i32,
) -> Result<tonic::Response<pb::ListFilesResponse>, tonic::Status> {
    app.connections()
        .list_files(pb::ListFilesRequest {
            connection_id: connection_id.into(),
            path: path.into(),
            page_token: page_token.into(),
            page_size,
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_files_pages_through_a_folder_while_files_are_added() {
    for peer in Peer::all().await {
        let app = spawn_app(Backend::Sqlite).await.unwrap();
        let what = peer.provider();
        // Even numbers now; odd ones arrive between pages.
        let originals: Vec<String> = (0..250).map(|i| format!("in/f{:04}.csv", 2 * i)).collect();
        for (i, path) in originals.iter().enumerate() {
            peer.put(path, format!("id\n{i}\n")).await;
        }
        peer.put("in/sub/deeper/x.csv", "id\n1\n").await;
        peer.put("outside.csv", "id\n1\n").await;
        let conn = peer.connect(&app, json!({})).await;

        let mut seen: Vec<pb::FileItem> = Vec::new();
        let mut added_after = Vec::new();
        let mut token = String::new();
        loop {
            let page = list(&app, &conn.id, "/in/", &token, 100)
                .await
                .unwrap()
                .into_inner();
            assert_eq!(page.path, "in", "{what}");
            assert!(page.items.len() <= 100, "{what}");
            seen.extend(page.items);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
            // One file sorting before the token, one after it.
            let last = seen.len() as i64 - 1;
            let before = format!("in/f{:04}.csv", 1);
            let after = format!("in/f{:04}.csv", 2 * last + 101);
            peer.put(&before, "id\n1\n").await;
            peer.put(&after, "id\n1\n").await;
            added_after.push(after);
        }
        let ids: Vec<&str> = seen.iter().map(|i| i.id.as_str()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "{what}: sorted by name");
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "{what}: no item twice");
        for path in originals.iter().chain(&added_after) {
            assert!(ids.contains(&path.as_str()), "{what}: {path} missed");
        }
        assert!(ids.contains(&"in/sub"), "{what}: the nested folder");
        assert!(!ids.contains(&"outside.csv"), "{what}");

        let folder = seen.iter().find(|i| i.id == "in/sub").unwrap();
        assert_eq!(
            (folder.kind(), folder.name.as_str()),
            (FileKind::Folder, "sub")
        );
        let file = seen.iter().find(|i| i.id == "in/f0002.csv").unwrap();
        assert_eq!(file.kind(), FileKind::File, "{what}");
        assert_eq!((file.name.as_str(), file.size), ("f0002.csv", 5), "{what}");
        assert_eq!(file.mime_type, "text/csv");
        assert!(file.modified_at.is_some(), "{what}");

        // Nested: the folder's own listing, by the id ListFiles gave.
        let sub = list(&app, &conn.id, "in/sub", "", 0)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(sub.items.len(), 1, "{what}");
        assert_eq!(
            (sub.items[0].id.as_str(), sub.items[0].kind()),
            ("in/sub/deeper", FileKind::Folder)
        );
        let deeper = list(&app, &conn.id, "in/sub/deeper", "", 0)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(deeper.items[0].id, "in/sub/deeper/x.csv", "{what}");
        // The default page holds 50.
        let first = list(&app, &conn.id, "in", "", 0)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.items.len(), 50, "{what}");

        // Bad requests.
        expect_violation(list(&app, &conn.id, "in", "", 1001).await, "page_size");
        expect_violation(list(&app, &conn.id, "in", "", -1).await, "page_size");
        expect_violation(list(&app, &conn.id, "in/../../etc", "", 0).await, "path");
        expect_violation(
            list(&app, &conn.id, "in", "not-a-token", 0).await,
            "page_token",
        );
        // A token of another folder is refused, not misapplied.
        expect_violation(
            list(&app, &conn.id, "in/sub", &first.next_page_token, 0).await,
            "page_token",
        );
        expect_code(list(&app, &conn.id, "nope", "", 0).await, Code::NotFound);
        // Another workspace sees no such connection.
        let other = app.other_workspace("other").await;
        let err = app
            .connections_as(&other.key)
            .list_files(pb::ListFilesRequest {
                connection_id: conn.id.clone(),
                ..Default::default()
            })
            .await;
        expect_code(err, Code::NotFound);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_files_cannot_be_browsed() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let faker = app.faker_connection("faker").await;
    let err = list(&app, &faker.id, "", "", 0).await;
    expect_code(err, Code::FailedPrecondition);
}

async fn validate(
    app: &TestApp,
    connection_id: &str,
    root: &str,
    items: &[&str],
) -> Result<tonic::Response<pb::ValidateFileSelectionResponse>, tonic::Status> {
    app.connections()
        .validate_file_selection(pb::ValidateFileSelectionRequest {
            connection_id: connection_id.into(),
            root_path: root.into(),
            selected_items: items.iter().map(|s| s.to_string()).collect(),
        })
        .await
}

fn problems(r: &pb::ValidateFileSelectionResponse) -> Vec<(String, FileSelectionProblem)> {
    r.details
        .iter()
        .map(|d| (d.item.clone(), d.problem()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_file_selection_reports_every_problem() {
    for peer in Peer::all().await {
        let app = spawn_app(Backend::Sqlite).await.unwrap();
        let what = peer.provider();
        peer.put("data/a.csv", "0123456789").await; // 10 bytes
        peer.put("data/sub/b.csv", "01234").await; // 5, depth 1
        peer.put("data/sub/deep/c.csv", "012").await; // 3, depth 2
        peer.put("other/x.csv", "0").await;
        let conn = peer.connect(&app, json!({})).await;

        // A valid selection: a file and a folder (which holds the deeper
        // file too), each file counted once.
        let ok = validate(
            &app,
            &conn.id,
            "data",
            &["data/a.csv", "data/sub", "data/sub/b.csv"],
        )
        .await
        .unwrap()
        .into_inner();
        assert!(ok.valid, "{what}: {:?}", ok.violations);
        assert_eq!(
            (ok.total_items, ok.total_bytes, ok.max_depth),
            (3, 18, 2),
            "{what}"
        );

        let bad = validate(
            &app,
            &conn.id,
            "/data/",
            &[
                "data/a.csv",
                "data/missing.csv",
                "other/x.csv",
                "data/../../etc/passwd",
                "a\\b",
            ],
        )
        .await
        .unwrap()
        .into_inner();
        assert!(!bad.valid, "{what}");
        assert_eq!(
            problems(&bad),
            vec![
                ("data/missing.csv".into(), FileSelectionProblem::NotFound),
                ("other/x.csv".into(), FileSelectionProblem::OutsideRoot),
                (
                    "data/../../etc/passwd".into(),
                    FileSelectionProblem::EscapesRoot
                ),
                ("a\\b".into(), FileSelectionProblem::InvalidPath),
            ],
            "{what}"
        );
        assert_eq!(bad.violations.len(), 4, "{what}");
        assert!(
            bad.violations[0].contains("data/missing.csv"),
            "{what}: {:?}",
            bad.violations
        );
        assert_eq!((bad.total_items, bad.total_bytes), (1, 10), "{what}");

        // Limits from the connection's config.
        let tight = peer
            .connect(
                &app,
                json!({"max_selection_items": 2, "max_selection_bytes": 12, "max_selection_depth": 1}),
            )
            .await;
        let over = validate(&app, &tight.id, "data", &["data"])
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            problems(&over),
            vec![
                ("data".into(), FileSelectionProblem::TooDeep),
                (String::new(), FileSelectionProblem::TooManyItems),
                (String::new(), FileSelectionProblem::TooManyBytes),
            ],
            "{what}: {:?}",
            over.violations
        );
        // The root itself must exist; the request must select something.
        let no_root = validate(&app, &conn.id, "nowhere", &["nowhere/x"])
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            problems(&no_root),
            vec![(String::new(), FileSelectionProblem::NotFound)]
        );
        expect_violation(
            validate(&app, &conn.id, "data", &[]).await,
            "selected_items",
        );
        expect_violation(validate(&app, &conn.id, "../x", &["a"]).await, "root_path");
    }
}

const CSV: &str = "id,name,amount,active,day,at,note\n\
1,\"Smith, Jane\",12.50,true,2024-01-02,2024-01-02T03:04:05Z,\"said \"\"hi\"\"\"\n\
2,,-0.001,false,2024-02-29,2024-02-29T23:59:59Z,\\N\n\
3,\"multi\nline\",123456789012345678901234567890,TRUE,2024-03-01,2024-03-01T00:00:00Z,plain\n";

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

/// CSV's rows as the SQLite warehouse stores them, for the file `file`.
fn csv_rows(file: &str) -> Vec<Vec<Cell>> {
    let row = |id, name: Cell, amount, active, day, at, note: Cell, n| {
        vec![
            Cell::Int(id),
            name,
            text(amount),
            Cell::Int(active),
            text(day),
            text(at),
            note,
            text(file),
            Cell::Int(n),
        ]
    };
    vec![
        row(
            1,
            text("Smith, Jane"),
            "12.50",
            1,
            "2024-01-02",
            "2024-01-02T03:04:05Z",
            text("said \"hi\""),
            1,
        ),
        // '' and NULL stay apart: the null marker is \N.
        row(
            2,
            text(""),
            "-0.001",
            0,
            "2024-02-29",
            "2024-02-29T23:59:59Z",
            Cell::Null,
            2,
        ),
        row(
            3,
            text("multi\nline"),
            "123456789012345678901234567890",
            1,
            "2024-03-01",
            "2024-03-01T00:00:00Z",
            text("plain"),
            3,
        ),
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

async fn synced(app: &TestApp, req: pb::CreateSyncRequest) -> pb::Run {
    let sync = app.new_sync(req).await;
    let (run, _) = run_to_end(app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    run
}

async fn cells(app: &TestApp, table: &str, columns: &[&str]) -> Vec<Vec<Cell>> {
    sqlite_cells(
        &app.data_dir.path().join("warehouse.db"),
        table,
        columns,
        "_tributary_file, _tributary_row",
    )
    .await
}

const CSV_COLUMNS: &[&str] = &[
    "id",
    "name",
    "amount",
    "active",
    "day",
    "at",
    "note",
    "_tributary_file",
    "_tributary_row",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_file_sets_land_row_for_row_gzip_included() {
    for peer in Peer::all().await {
        let app = spawn_executing(Backend::Sqlite).await.unwrap();
        let what = peer.provider();
        peer.put("csv/a.csv", CSV).await;
        peer.put("csv/b.csv.gz", gzip(CSV.as_bytes())).await;
        peer.put("csv/skip.txt", "not csv").await;
        let conn = peer.connect(&app, json!({})).await;
        let set = json!({
            "root_path": "csv",
            "glob": "*.csv*",
            "format": {"type": "csv", "null_marker": "\\N"},
        });
        synced(
            &app,
            file_sync(&conn.id, "people", set, "people", LoadMode::Upsert, 2),
        )
        .await;
        let mut want = csv_rows("csv/a.csv");
        want.extend(csv_rows("csv/b.csv.gz"));
        assert_eq!(cells(&app, "people", CSV_COLUMNS).await, want, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_and_parquet_file_sets_land_row_for_row() {
    let Some(peer) = Peer::s3().await else {
        return;
    };
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    let lines = "{\"id\":1,\"name\":\"a\",\"tags\":[\"x\",\"y\"],\"meta\":{\"k\":1},\"score\":1.5}\n\
        {\"id\":2,\"name\":null,\"tags\":[],\"meta\":{},\"score\":2.25}\n\
        \n\
        {\"id\":3,\"name\":\"\",\"score\":null}\n";
    peer.put("events/1.jsonl", lines).await;
    peer.put("events/2.jsonl.gz", gzip(lines.as_bytes())).await;
    peer.put("pq/t.parquet", parquet_file()).await;
    let conn = peer.connect(&app, json!({})).await;

    synced(
        &app,
        file_sync(
            &conn.id,
            "events",
            json!({"root_path": "events"}),
            "events",
            LoadMode::Upsert,
            100,
        ),
    )
    .await;
    let row = |id, name: Cell, tags: Cell, meta: Cell, score: Cell, file: &str, n| {
        vec![
            Cell::Int(id),
            name,
            tags,
            meta,
            score,
            text(file),
            Cell::Int(n),
        ]
    };
    let rows_of = |file: &str| {
        vec![
            row(
                1,
                text("a"),
                text("[\"x\",\"y\"]"),
                text("{\"k\":1}"),
                Cell::Real(1.5),
                file,
                1,
            ),
            row(
                2,
                Cell::Null,
                text("[]"),
                text("{}"),
                Cell::Real(2.25),
                file,
                2,
            ),
            row(3, text(""), Cell::Null, Cell::Null, Cell::Null, file, 3),
        ]
    };
    let mut want = rows_of("events/1.jsonl");
    want.extend(rows_of("events/2.jsonl.gz"));
    let got = cells(
        &app,
        "events",
        &[
            "id",
            "name",
            "tags",
            "meta",
            "score",
            "_tributary_file",
            "_tributary_row",
        ],
    )
    .await;
    assert_eq!(got, want);

    synced(
        &app,
        file_sync(
            &conn.id,
            "pq",
            json!({"root_path": "pq", "format": {"type": "parquet"}}),
            "pq",
            LoadMode::Replace,
            7,
        ),
    )
    .await;
    let got = cells(&app, "pq", &["id", "v", "n", "at", "_tributary_row"]).await;
    let want: Vec<Vec<Cell>> = (1..=25)
        .map(|i| {
            vec![
                Cell::Int(i),
                match i % 3 {
                    0 => Cell::Null,
                    1 => text(""),
                    _ => text(&format!("v{i}")),
                },
                text(&format!("{}.{:02}", i, i % 100)),
                text(&format!("2024-01-01T00:00:{:02}Z", i)),
                Cell::Int(i),
            ]
        })
        .collect();
    assert_eq!(got, want);
}

/// 25 rows in row groups of 10: id, v (NULL, '' or text), n decimal(12,2),
/// at timestamptz.
fn parquet_file() -> Vec<u8> {
    use arrow_array::{
        Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Utf8, true),
        Field::new("n", DataType::Decimal128(12, 2), false),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]));
    let ids: Vec<i64> = (1..=25).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(StringArray::from(
                ids.iter()
                    .map(|i| match i % 3 {
                        0 => None,
                        1 => Some(String::new()),
                        _ => Some(format!("v{i}")),
                    })
                    .collect::<Vec<_>>(),
            )),
            Arc::new(
                Decimal128Array::from(
                    ids.iter()
                        .map(|i| i128::from(*i) * 100 + i128::from(i % 100))
                        .collect::<Vec<_>>(),
                )
                .with_precision_and_scale(12, 2)
                .unwrap(),
            ),
            Arc::new(
                TimestampMicrosecondArray::from(
                    ids.iter()
                        .map(|i| 1_704_067_200_000_000 + i * 1_000_000)
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
        ],
    )
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(10))
        .build();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

/// The modified time ListFiles shows for `path`.
async fn modified(app: &TestApp, conn: &str, folder: &str, path: &str) -> i64 {
    let page = list(app, conn, folder, "", 1000)
        .await
        .unwrap()
        .into_inner();
    let item = page.items.into_iter().find(|i| i.id == path).unwrap();
    let t = item.modified_at.unwrap();
    t.seconds * 1_000_000 + i64::from(t.nanos / 1000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_reads_new_and_rewritten_files_only() {
    for peer in Peer::all().await {
        let app = spawn_executing(Backend::Sqlite).await.unwrap();
        let what = peer.provider();
        peer.put("in/a.csv", "id,v\n1,a1\n2,a2\n3,a3\n").await;
        peer.put("in/b.csv", "id,v\n1,b1\n2,b2\n").await;
        let conn = peer.connect(&app, json!({})).await;
        // The template's defaults: UPSERT on (file, row) by modified time.
        let sync = app
            .new_sync(pb::CreateSyncRequest {
                name: "inc".into(),
                connection_id: conn.id.clone(),
                entities: vec!["rows".into()],
                source_config: Some(crate::helpers::json_struct(
                    json!({"file_sets": {"rows": {"root_path": "in", "format": {"type": "csv"}}}}),
                )),
                ..Default::default()
            })
            .await;
        let b = &sync.table_bindings[0];
        assert_eq!(b.load_mode(), LoadMode::Upsert, "{what}");
        assert_eq!(
            b.primary_key_columns,
            ["_tributary_file", "_tributary_row"],
            "{what}"
        );
        assert_eq!(b.cursor_field, "_tributary_modified", "{what}");
        let (first, _) = run_to_end(&app, &sync.id).await;
        assert_eq!(
            first.status(),
            RunStatus::Succeeded,
            "{what}: {:?}",
            first.error
        );
        assert_eq!(first.summary.unwrap().records_read, 5, "{what}");

        // b.csv rewritten in place (with a later modified time: stores keep
        // whole seconds, so write until the time moves), c.csv new.
        let before = modified(&app, &conn.id, "in", "in/b.csv").await;
        eventually(Duration::from_secs(10), || async {
            peer.put("in/b.csv", "id,v\n1,B1\n2,B2\n").await;
            (modified(&app, &conn.id, "in", "in/b.csv").await > before).then_some(())
        })
        .await;
        peer.put("in/c.csv", "id,v\n7,c1\n").await;
        let (second, _) = run_to_end(&app, &sync.id).await;
        assert_eq!(
            second.status(),
            RunStatus::Succeeded,
            "{what}: {:?}",
            second.error
        );
        assert_eq!(
            second.summary.as_ref().unwrap().records_read,
            3,
            "{what}: b's 2 rows and c's 1"
        );

        let got = cells(
            &app,
            "rows",
            &["id", "v", "_tributary_file", "_tributary_row"],
        )
        .await;
        let row = |id, v: &str, f: &str, n| vec![Cell::Int(id), text(v), text(f), Cell::Int(n)];
        assert_eq!(
            got,
            vec![
                row(1, "a1", "in/a.csv", 1),
                row(2, "a2", "in/a.csv", 2),
                row(3, "a3", "in/a.csv", 3),
                row(1, "B1", "in/b.csv", 1),
                row(2, "B2", "in/b.csv", 2),
                row(7, "c1", "in/c.csv", 1),
            ],
            "{what}"
        );
        // Nothing new: nothing read.
        let (third, _) = run_to_end(&app, &sync.id).await;
        assert_eq!(third.summary.unwrap().records_read, 0, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sets_are_validated_when_the_sync_is_created() {
    let Some(peer) = Peer::s3().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let conn = peer.connect(&app, json!({})).await;
    let create = |source_config: serde_json::Value, entities: Vec<&'static str>| {
        let app = &app;
        let conn = conn.id.clone();
        async move {
            app.syncs()
                .create_sync(pb::CreateSyncRequest {
                    name: "bad".into(),
                    connection_id: conn,
                    entities: entities.into_iter().map(String::from).collect(),
                    source_config: Some(crate::helpers::json_struct(source_config)),
                    ..Default::default()
                })
                .await
        }
    };
    expect_violation(create(json!({}), vec!["x"]).await, "entities[0]");
    expect_violation(
        create(
            json!({"file_sets": {"x": {"format": {"type": "xml"}}}}),
            vec!["x"],
        )
        .await,
        "source_config.file_sets.x.format.type",
    );
    expect_violation(
        create(
            json!({"file_sets": {"x": {"root_path": "../up"}}}),
            vec!["x"],
        )
        .await,
        "source_config.file_sets.x.root_path",
    );
    expect_violation(
        create(
            json!({"file_sets": {"x": {"glob": "a[", "format": {"type": "csv"}}}}),
            vec!["x"],
        )
        .await,
        "source_config.file_sets.x.glob",
    );
    expect_violation(
        create(json!({"file_sets": {"x": {}, "y": {}}}), vec!["x"]).await,
        "source_config.file_sets.y",
    );
    expect_violation(
        create(
            json!({"file_sets": {"x": {"format": {"type": "csv", "delimiter": ";;"}}}}),
            vec!["x"],
        )
        .await,
        "source_config.file_sets.x.format.delimiter",
    );
}

const BIG_ROWS: i64 = 200_000;

/// id, a text that is NULL, '' or a word, and an exact decimal.
fn big_csv() -> String {
    let mut s = String::from("id,v,n\n");
    for i in 1..=BIG_ROWS {
        let v = match i % 5 {
            0 => "\\N".to_string(),
            1 => "\"\"".to_string(),
            _ => format!("w{i}"),
        };
        s.push_str(&format!("{i},{v},{}.{:02}\n", i / 7, i % 100));
    }
    s
}

/// A worker's data dir holding the server's secret key: the connection's
/// credentials are sealed with it.
fn worker_dir(app: &TestApp, parent: &std::path::Path, name: &str) -> std::path::PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        app.data_dir.path().join("secret.key"),
        dir.join("secret.key"),
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_file_is_resumed_exactly_once() {
    let Some(peer) = Peer::s3().await else {
        return;
    };
    let Some(app) = spawn_app_with(Backend::Postgres, |a| {
        a.engine.heartbeat_interval = Duration::from_millis(200);
        a.engine.heartbeat_timeout = Duration::from_millis(1500);
    })
    .await
    else {
        return;
    };
    peer.put("big/one.csv", big_csv()).await;
    let conn = peer.connect(&app, json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warehouse.db");
    let warehouse = format!("sqlite://{}?mode=rwc", file.display());
    // APPEND_EVENT: a row read twice would be there twice.
    let set = json!({"root_path": "big", "format": {"type": "csv", "null_marker": "\\N"}});
    let sync = app
        .new_sync(file_sync(
            &conn.id,
            "big",
            set,
            "big",
            LoadMode::AppendEvent,
            1000,
        ))
        .await;
    let store = app.database_url.clone().unwrap();
    let first = Worker::spawn(&store, &warehouse, &worker_dir(&app, dir.path(), "w1"));
    let run = app.trigger(&sync.id).await;
    app.watch_until_written(&run.id, 10_000, Duration::from_secs(60))
        .await;
    first.kill();
    let _second = Worker::spawn(&store, &warehouse, &worker_dir(&app, dir.path(), "w2"));
    let next = app.resumed_attempt(&run.id).await;
    let read = next.summary.unwrap().records_read;
    assert!(read < BIG_ROWS, "resumed mid-file, yet read {read}");

    let got = sqlite_cells(
        &file,
        "big",
        &["_tributary_row", "id", "v", "n"],
        "_tributary_row, rowid",
    )
    .await;
    assert_eq!(got.len() as i64, BIG_ROWS, "every row exactly once");
    for (k, row) in got.iter().enumerate() {
        let i = k as i64 + 1;
        let want = vec![
            Cell::Int(i),
            Cell::Int(i),
            match i % 5 {
                0 => Cell::Null,
                1 => text(""),
                _ => text(&format!("w{i}")),
            },
            text(&format!("{}.{:02}", i / 7, i % 100)),
        ];
        assert_eq!(row, &want, "row {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_file_set_lands_typed_in_the_postgres_warehouse() {
    let Some(peer) = Peer::s3().await else {
        return;
    };
    let Some(app) = crate::pg_fixtures::spawn_with_pg_warehouse(Backend::Sqlite).await else {
        return;
    };
    peer.put("csv/a.csv", CSV).await;
    let conn = peer.connect(&app, json!({})).await;
    let set = json!({"root_path": "csv", "format": {"type": "csv", "null_marker": "\\N"}});
    synced(
        &app,
        file_sync(&conn.id, "people", set, "people", LoadMode::Upsert, 2),
    )
    .await;
    let schema = crate::pg_fixtures::workspace_schema(&app).await;
    let url = app.warehouse_url.clone().unwrap();
    let got = crate::pg_fixtures::pg_text_rows(
        &url,
        &format!(
            "SELECT id::text, name, amount::text, pg_typeof(amount)::text, active::text, day::text,
                to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), note,
                _tributary_file, _tributary_row::text
             FROM \"{schema}\".people ORDER BY _tributary_row"
        ),
    )
    .await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        got,
        vec![
            vec![
                s("1"),
                s("Smith, Jane"),
                s("12.50"),
                s("numeric"),
                s("true"),
                s("2024-01-02"),
                s("2024-01-02T03:04:05Z"),
                s("said \"hi\""),
                s("csv/a.csv"),
                s("1")
            ],
            vec![
                s("2"),
                s(""),
                s("-0.001"),
                s("numeric"),
                s("false"),
                s("2024-02-29"),
                s("2024-02-29T23:59:59Z"),
                None,
                s("csv/a.csv"),
                s("2")
            ],
            vec![
                s("3"),
                s("multi\nline"),
                s("123456789012345678901234567890"),
                s("numeric"),
                s("true"),
                s("2024-03-01"),
                s("2024-03-01T00:00:00Z"),
                s("plain"),
                s("csv/a.csv"),
                s("3")
            ],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_types_can_be_overridden() {
    let Some(peer) = Peer::sftp() else {
        return;
    };
    let app = spawn_executing(Backend::Sqlite).await.unwrap();
    peer.put("codes.csv", "code,amount\n007,1.5\n042,2\n").await;
    let conn = peer.connect(&app, json!({})).await;
    let set = json!({"format": {"type": "csv"}, "columns": {"code": "int64", "amount": "string"}});
    synced(
        &app,
        file_sync(&conn.id, "codes", set, "codes", LoadMode::Replace, 10),
    )
    .await;
    assert_eq!(
        cells(&app, "codes", &["code", "amount"]).await,
        vec![
            vec![Cell::Int(7), text("1.5")],
            vec![Cell::Int(42), text("2")]
        ]
    );
}
