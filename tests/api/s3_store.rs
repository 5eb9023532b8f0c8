//! The s3 file store against a real S3-compatible server (moto, see
//! `.ci/s3`): directly through `FileStore`, and through the gRPC API's
//! VerifyConnection.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use tributary::{
    connectors::{
        ConnectorError, LocalFiles, Settings,
        files::{Entry, EntryKind, FileStore},
    },
    pb::{self, ConnectionStatus},
};

use crate::{
    helpers::{TestApp, expect_violation, json_struct, logs},
    s3_fixtures::{TestBucket, fresh_bucket, s3_checks_signatures, s3_endpoint},
};

async fn bucket() -> Option<TestBucket> {
    Some(fresh_bucket(&s3_endpoint()?).await)
}

/// Every page of `folder`, `limit` at a time, with `between(page number)`
/// run after each page.
async fn page_through<F, Fut>(
    store: &dyn FileStore,
    folder: &str,
    limit: usize,
    mut between: F,
) -> Vec<Entry>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut all: Vec<Entry> = Vec::new();
    let mut after: Option<String> = None;
    for n in 0.. {
        let page = store.list(folder, after.as_deref(), limit).await.unwrap();
        assert!(page.len() <= limit);
        let Some(last) = page.last() else { break };
        after = Some(last.name().to_string());
        all.extend(page);
        between(n).await;
        assert!(n < 10_000, "paging does not end");
    }
    all
}

fn names(entries: &[Entry]) -> Vec<(String, EntryKind)> {
    entries
        .iter()
        .map(|e| (e.name().to_string(), e.kind))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_by_100_misses_and_repeats_nothing_while_objects_are_added() {
    let Some(b) = bucket().await else { return };
    let mut original: Vec<String> = (0..250).map(|i| format!("f{i:03}.csv")).collect();
    // Sub-folders named as a beginning of a file's name sort before it by
    // name but after it by key ("f099" < "f099.csv" < "f099/").
    for i in [49, 99, 100, 199] {
        b.put(&format!("big/f{i:03}/inner.txt"), b"x").await;
        original.push(format!("f{i:03}"));
    }
    for name in original.iter().filter(|n| n.ends_with(".csv")) {
        b.put(&format!("big/{name}"), name.as_bytes()).await;
    }
    original.sort();
    let store = b.store("");
    let bucket = &b;
    let seen = page_through(store.as_ref(), "big", 100, |n| async move {
        // One before the cursor, one after it, one far ahead.
        bucket.put(&format!("big/a-new-{n}.csv"), b"new").await;
        bucket
            .put(&format!("big/f{:03}.5.csv", n * 100 + 160), b"new")
            .await;
        bucket.put(&format!("big/zz-new-{n}.csv"), b"new").await;
    })
    .await;
    let seen_names: Vec<String> = seen.iter().map(|e| e.name().to_string()).collect();
    for window in seen_names.windows(2) {
        assert!(
            window[0] < window[1],
            "out of order or repeated: {window:?}"
        );
    }
    for name in &original {
        assert_eq!(
            seen_names.iter().filter(|n| *n == name).count(),
            1,
            "{name} was not listed exactly once"
        );
    }
    // What was added ahead of the cursor is listed too.
    assert!(seen_names.contains(&"zz-new-0.csv".to_string()));
    assert!(seen_names.contains(&"f160.5.csv".to_string()));
    let f007 = seen.iter().find(|e| e.name() == "f007.csv").unwrap();
    assert_eq!(
        (f007.path.as_str(), f007.kind, f007.size),
        ("big/f007.csv", EntryKind::File, 8)
    );
    assert!(f007.modified_micros.is_some());
    let folder = seen.iter().find(|e| e.name() == "f099").unwrap();
    assert_eq!(
        (folder.path.as_str(), folder.kind),
        ("big/f099", EntryKind::Folder)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_any_size_follow_name_order_where_key_order_differs() {
    let Some(b) = bucket().await else { return };
    for key in [
        "d.csv",
        "data-2024.csv",
        "data-2024/q1.csv",
        "data.csv",
        "data/x.csv",
        "data",
        "data0.csv",
        "e/f/g.csv",
    ] {
        b.put(key, b"1").await;
    }
    let expected = vec![
        ("d.csv".to_string(), EntryKind::File),
        ("data".into(), EntryKind::File),
        ("data".into(), EntryKind::Folder),
        ("data-2024".into(), EntryKind::Folder),
        ("data-2024.csv".into(), EntryKind::File),
        ("data.csv".into(), EntryKind::File),
        ("data0.csv".into(), EntryKind::File),
        ("e".into(), EntryKind::Folder),
    ];
    let store = b.store("");
    assert_eq!(names(&store.list("", None, 1000).await.unwrap()), expected);
    // A file and a folder of one name share a page: a page that ended
    // between them would lose the second to `start_after`.
    for limit in [2, 3, 4, 5, 7] {
        let got = page_through(store.as_ref(), "", limit, |_| async {}).await;
        let mut got = names(&got);
        got.dedup();
        assert_eq!(got, expected, "pages of {limit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_folders_are_common_prefixes_and_walk_lists_every_file() {
    let Some(b) = bucket().await else { return };
    for key in ["top.csv", "a/two.csv", "a/b/one.csv", "a/b/c/deep.txt"] {
        b.put(key, key.as_bytes()).await;
    }
    // A console's empty-folder marker.
    b.put_folder_marker("a/empty").await;
    let store = b.store("");
    let root = store.list("", None, 50).await.unwrap();
    assert_eq!(
        root.iter()
            .map(|e| (e.path.as_str(), e.kind))
            .collect::<Vec<_>>(),
        [("a", EntryKind::Folder), ("top.csv", EntryKind::File)]
    );
    assert_eq!((root[0].size, root[0].modified_micros), (0, None));
    let a = store.list("a", None, 50).await.unwrap();
    assert_eq!(
        a.iter()
            .map(|e| (e.path.as_str(), e.kind, e.size))
            .collect::<Vec<_>>(),
        [
            ("a/b", EntryKind::Folder, 0),
            ("a/empty", EntryKind::Folder, 0),
            ("a/two.csv", EntryKind::File, 9)
        ]
    );
    assert_eq!(store.list("a/empty", None, 50).await.unwrap(), []);
    let deep = store.list("a/b/c", None, 50).await.unwrap();
    assert_eq!(names(&deep), [("deep.txt".to_string(), EntryKind::File)]);
    assert!(matches!(
        store.list("a/nope", None, 50).await,
        Err(ConnectorError::NotFound(w)) if w == "a/nope"
    ));

    let walked = store.walk("").await.unwrap();
    assert_eq!(
        walked.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        ["a/b/c/deep.txt", "a/b/one.csv", "a/two.csv", "top.csv"]
    );
    assert!(walked.iter().all(|e| e.kind == EntryKind::File));
    let walked = store.walk("a/b").await.unwrap();
    assert_eq!(
        walked.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        ["a/b/c/deep.txt", "a/b/one.csv"]
    );
    assert!(matches!(
        store.walk("zzz").await,
        Err(ConnectorError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stat_tells_files_folders_and_missing_items_apart() {
    let Some(b) = bucket().await else { return };
    b.put("dir/sub/file.csv", b"12345").await;
    let store = b.store("");
    let file = store.stat("dir/sub/file.csv").await.unwrap().unwrap();
    assert_eq!((file.kind, file.size), (EntryKind::File, 5));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let modified = file.modified_micros.unwrap();
    assert!((now - modified).abs() < 600_000_000, "{modified} vs {now}");
    for folder in ["dir", "dir/sub", ""] {
        let e = store.stat(folder).await.unwrap().unwrap();
        assert_eq!((e.path.as_str(), e.kind), (folder, EntryKind::Folder));
    }
    assert_eq!(store.stat("dir/su").await.unwrap(), None);
    assert_eq!(store.stat("dir/sub/file.cs").await.unwrap(), None);
    assert_eq!(store.stat("nothing").await.unwrap(), None);
    // Its only file gone, the folder is gone too.
    b.delete("dir/sub/file.csv").await;
    assert_eq!(store.stat("dir/sub/file.csv").await.unwrap(), None);
    assert_eq!(store.stat("dir").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_stream_a_large_object_and_ranges_are_exact() {
    let Some(b) = bucket().await else { return };
    // 6 MiB and a bit, every byte position distinct enough to catch a shift.
    let data: Vec<u8> = (0..6 * 1024 * 1024 + 4321u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    b.put("blob.bin", &data).await;
    let store = b.store("");
    let chunks: Vec<bytes::Bytes> = store
        .read("blob.bin")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        chunks.len() > 1,
        "the object came in one piece: it was buffered"
    );
    let read: Vec<u8> = chunks.concat();
    assert_eq!(read.len(), data.len());
    assert!(read == data, "the bytes read differ from those written");

    let range = store
        .read_range("blob.bin", 1_000_000..1_000_777)
        .await
        .unwrap();
    assert_eq!(&range[..], &data[1_000_000..1_000_777]);
    let tail = store
        .read_range("blob.bin", data.len() as u64 - 10..data.len() as u64)
        .await
        .unwrap();
    assert_eq!(&tail[..], &data[data.len() - 10..]);

    assert!(matches!(
        store.read("nope.bin").await.err(),
        Some(ConnectorError::NotFound(w)) if w == "nope.bin"
    ));
    assert!(matches!(
        store.read_range("nope.bin", 0..1).await,
        Err(ConnectorError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_prefix_is_visible() {
    let Some(b) = bucket().await else { return };
    b.put("in/x.csv", b"inside").await;
    b.put("in/deeper/y.csv", b"inside too").await;
    // Shares the prefix's letters, not its folder.
    b.put("inside/z.csv", b"outside").await;
    b.put("out.csv", b"outside").await;
    let store = b.store("/in/");
    store.check().await.unwrap();
    let root = store.list("", None, 50).await.unwrap();
    assert_eq!(
        root.iter()
            .map(|e| (e.path.as_str(), e.kind))
            .collect::<Vec<_>>(),
        [("deeper", EntryKind::Folder), ("x.csv", EntryKind::File)]
    );
    let walked = store.walk("").await.unwrap();
    assert_eq!(
        walked.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        ["deeper/y.csv", "x.csv"]
    );
    assert_eq!(store.stat("z.csv").await.unwrap(), None);
    assert_eq!(store.stat("inside").await.unwrap(), None);
    let x: Vec<bytes::Bytes> = store
        .read("x.csv")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(x.concat(), b"inside");
    assert!(store.read("out.csv").await.is_err());
    assert!(matches!(
        store.list("z", None, 10).await,
        Err(ConnectorError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_access_reads_a_public_bucket_unsigned() {
    let Some(b) = bucket().await else { return };
    b.put("pub/a.csv", b"hello").await;
    // The test server lets unsigned requests through (see .ci/s3).
    let store = tributary::connectors::files::s3::open(&Settings {
        provider: "s3",
        config: &b.config("pub"),
        credentials: &BTreeMap::new(),
        local_files: &LocalFiles::default(),
        context: None,
    })
    .unwrap();
    store.check().await.unwrap();
    assert_eq!(
        names(&store.list("", None, 10).await.unwrap()),
        [("a.csv".to_string(), EntryKind::File)]
    );
    // Objects are private until a bucket policy says otherwise.
    assert!(matches!(
        store.read("a.csv").await.err(),
        Some(ConnectorError::Auth(_))
    ));
    b.make_public().await;
    let got: Vec<bytes::Bytes> = store
        .read("a.csv")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.concat(), b"hello");
}

// === through the API ===

async fn create(
    app: &TestApp,
    config: serde_json::Map<String, serde_json::Value>,
    credentials: std::collections::HashMap<String, String>,
) -> Result<tonic::Response<pb::Connection>, tonic::Status> {
    app.connections()
        .create_connection(pb::CreateConnectionRequest {
            name: format!("S3 {}", uuid::Uuid::new_v4().simple()),
            provider: "s3".into(),
            config: Some(json_struct(serde_json::Value::Object(config))),
            credentials,
            ..Default::default()
        })
        .await
}

async fn verify(
    app: &TestApp,
    config: serde_json::Map<String, serde_json::Value>,
    credentials: std::collections::HashMap<String, String>,
) -> pb::Connection {
    let conn = create(app, config, credentials).await.unwrap().into_inner();
    app.connections()
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: conn.id,
            as_destination: false,
        })
        .await
        .unwrap()
        .into_inner()
}

async fn a_good_connection_becomes_active(app: TestApp) {
    let Some(b) = bucket().await else { return };
    b.put("exports/a.csv", b"id\n1\n").await;
    let v = verify(&app, b.config("exports"), b.credentials()).await;
    assert_eq!(
        v.status(),
        ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    assert!(v.verification_error.is_none());
    assert!(v.has_credentials);

    // No credentials at all: anonymous, as for a public bucket.
    let v = verify(&app, b.config("exports"), Default::default()).await;
    assert_eq!(
        v.status(),
        ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    assert!(!v.has_credentials);
}

async fn a_secret_without_its_key_is_refused(app: TestApp) {
    let Some(b) = bucket().await else { return };
    let mut credentials = b.credentials();
    credentials.remove("access_key_id");
    expect_violation(
        create(&app, b.config(""), credentials).await,
        "credentials.access_key_id",
    );
    let mut config = b.config("");
    config.insert("max_selection_depth".into(), 0.into());
    expect_violation(
        create(&app, config, b.credentials()).await,
        "config.max_selection_depth",
    );
}

async fn a_wrong_secret_is_an_error_that_keeps_the_secret(app: TestApp) {
    let Some(b) = bucket().await else { return };
    if !s3_checks_signatures() {
        assert!(
            std::env::var("TRIBUTARY_REQUIRE_S3").map_or(true, |v| v != "1"),
            "the test S3 server accepts any secret: start it with .ci/s3"
        );
        eprintln!("skipping: the test S3 server checks no signatures (start it with .ci/s3)");
        return;
    }
    let mut credentials = b.credentials();
    let secret = format!("Wr0ng{}", uuid::Uuid::new_v4().simple());
    credentials.insert("secret_access_key".into(), secret.clone());
    let v = verify(&app, b.config(""), credentials).await;
    assert_eq!(v.status(), ConnectionStatus::Error);
    let err = v.verification_error.unwrap();
    assert!(
        err.contains("refused the access key") && err.contains("SignatureDoesNotMatch"),
        "{err}"
    );
    assert!(
        !err.contains(&secret) && !err.contains(&secret[5..15]),
        "{err}"
    );
    assert!(!logs().contains(&secret), "the secret reached a log line");

    // An access key the server does not know.
    let mut credentials = b.credentials();
    credentials.insert("access_key_id".into(), "AKIANOSUCHKEY0000000".into());
    let v = verify(&app, b.config(""), credentials).await;
    assert_eq!(v.status(), ConnectionStatus::Error);
    let err = v.verification_error.unwrap();
    assert!(err.contains("InvalidAccessKeyId"), "{err}");
}

async fn a_missing_bucket_is_an_error_that_names_it(app: TestApp) {
    let Some(b) = bucket().await else { return };
    let mut config = b.config("");
    config.insert("bucket".into(), "no-such-bucket-here".into());
    let v = verify(&app, config, b.credentials()).await;
    assert_eq!(v.status(), ConnectionStatus::Error);
    let err = v.verification_error.unwrap();
    assert!(
        err.contains("bucket no-such-bucket-here does not exist"),
        "{err}"
    );
}

async fn an_unreachable_endpoint_is_an_error(app: TestApp) {
    let Some(b) = bucket().await else { return };
    let mut config = b.config("");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.insert(
        "endpoint_url".into(),
        format!("http://127.0.0.1:{port}").into(),
    );
    let v = verify(&app, config, b.credentials()).await;
    assert_eq!(v.status(), ConnectionStatus::Error);
    let err = v.verification_error.unwrap();
    assert!(err.contains("could not connect to the S3 server"), "{err}");
}

crate::both!(
    a_good_connection_becomes_active,
    a_secret_without_its_key_is_refused,
    a_wrong_secret_is_an_error_that_keeps_the_secret,
    a_missing_bucket_is_an_error_that_names_it,
    an_unreachable_endpoint_is_an_error,
);
