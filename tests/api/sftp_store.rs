//! The sftp file store against a real OpenSSH server (`.ci/sshd`): the
//! store itself (paging, folders, reads, the root's walls), and
//! VerifyConnection through the server (host key pinning, key logins).

use std::{collections::BTreeMap, os::unix::fs::symlink, sync::Arc, time::Duration};

use futures::StreamExt;
use tributary::{
    connectors::{
        ConnectorError, LocalFiles, Settings,
        files::{Entry, EntryKind, FileStore, sftp},
    },
    pb::{self, ConnectionStatus},
};

use crate::{
    helpers::{Backend, TestApp, eventually, json_struct, spawn_app},
    sftp_fixtures::{TestRoot, sftp_peer},
};

/// The store of a connection with `config` and `credentials`.
fn store_with(
    config: &serde_json::Map<String, serde_json::Value>,
    credentials: impl IntoIterator<Item = (String, String)>,
) -> Arc<dyn FileStore> {
    let credentials: BTreeMap<_, _> = credentials.into_iter().collect();
    sftp::open(&Settings {
        provider: "sftp",
        config,
        credentials: &credentials,
        local_files: &LocalFiles::default(),
        context: None,
    })
    .unwrap_or_else(|e| panic!("opening the store: {e}"))
}

fn store(root: &TestRoot) -> Arc<dyn FileStore> {
    store_with(&root.config(), root.credentials())
}

fn names(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.path.as_str()).collect()
}

/// Deterministic bytes that no chunking coincidence can fake.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_a_growing_folder_miss_and_repeat_nothing() {
    let Some(peer) = sftp_peer() else { return };
    let root = peer.fresh_root();
    let originals: Vec<String> = (0..250).map(|i| format!("big/f{i:03}.csv")).collect();
    for name in &originals {
        root.write(name, name.as_bytes());
    }
    let store = store(&root);

    let mut seen: Vec<Entry> = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.list("big", after.as_deref(), 100).await.unwrap();
        assert!(page.len() <= 100);
        let Some(last) = page.last() else { break };
        after = Some(last.name().to_string());
        seen.extend(page);
        pages += 1;
        // Files added between pages, before and after the position reached.
        root.write(&format!("big/a-early-{pages}.csv"), "x");
        root.write(&format!("big/f149-late-{pages}.csv"), "x");
        root.write(&format!("big/zz-late-{pages}.csv"), "x");
    }

    let seen_names = names(&seen);
    let mut sorted = seen_names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen_names, "pages are in order, nothing repeated");
    for name in &originals {
        assert_eq!(
            seen_names.iter().filter(|n| **n == name.as_str()).count(),
            1,
            "{name} listed exactly once"
        );
    }
    // Files added beyond the position reached are listed when their page comes.
    assert!(
        seen_names.contains(&"big/f149-late-1.csv"),
        "{seen_names:?}"
    );
    assert!(seen_names.contains(&"big/zz-late-1.csv"), "{seen_names:?}");
    assert!(!seen_names.contains(&"big/a-early-1.csv"));
    assert!(pages >= 3, "{pages} pages");
    let one = seen.iter().find(|e| e.path == "big/f007.csv").unwrap();
    assert_eq!((one.kind, one.size), (EntryKind::File, 12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_folders_are_listed_walked_and_stated() {
    let Some(peer) = sftp_peer() else { return };
    let root = peer.fresh_root();
    root.write("top.txt", "hello");
    root.write("a/y.csv", "1,2\n");
    let deep = root.write("a/b/c/x.csv", "a,b,c\n");
    std::fs::create_dir_all(root.path().join("empty")).unwrap();
    let store = store(&root);

    store.check().await.unwrap();
    let top = store.list("", None, 50).await.unwrap();
    assert_eq!(names(&top), ["a", "empty", "top.txt"]);
    assert_eq!(
        top.iter().map(|e| (e.kind, e.size)).collect::<Vec<_>>(),
        [
            (EntryKind::Folder, 0),
            (EntryKind::Folder, 0),
            (EntryKind::File, 5)
        ]
    );
    assert_eq!(
        names(&store.list("/a/", None, 50).await.unwrap()),
        ["a/b", "a/y.csv"]
    );
    assert_eq!(
        names(&store.list("a", Some("b"), 50).await.unwrap()),
        ["a/y.csv"]
    );
    assert_eq!(names(&store.list("a", None, 1).await.unwrap()), ["a/b"]);
    assert!(store.list("empty", None, 50).await.unwrap().is_empty());

    let files = store.walk("").await.unwrap();
    assert_eq!(names(&files), ["a/b/c/x.csv", "a/y.csv", "top.txt"]);
    assert_eq!(names(&store.walk("a/b").await.unwrap()), ["a/b/c/x.csv"]);

    let file = store.stat("a/b/c/x.csv").await.unwrap().unwrap();
    let mtime = std::fs::metadata(&deep)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(
        file,
        Entry {
            path: "a/b/c/x.csv".into(),
            kind: EntryKind::File,
            size: 6,
            modified_micros: Some(mtime * 1_000_000),
        }
    );
    let folder = store.stat("a/b").await.unwrap().unwrap();
    assert_eq!(
        (folder.kind, folder.path.as_str()),
        (EntryKind::Folder, "a/b")
    );
    assert_eq!(
        store.stat("").await.unwrap().unwrap().kind,
        EntryKind::Folder
    );
    assert_eq!(store.stat("a/nope.csv").await.unwrap(), None);

    match store.list("missing", None, 50).await {
        Err(ConnectorError::NotFound(what)) => assert!(what.contains("missing"), "{what}"),
        other => panic!("listing a missing folder: {other:?}"),
    }
    assert!(matches!(
        store.list("top.txt", None, 50).await,
        Err(ConnectorError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_stream_in_bounded_chunks_and_ranges_read_exactly() {
    let Some(peer) = sftp_peer() else { return };
    let root = peer.fresh_root();
    let bytes = noise(6 * 1024 * 1024 + 12345);
    root.write("data/big.bin", &bytes);
    root.write("data/empty.bin", "");
    let store = store(&root);

    let mut stream = store.read("data/big.bin").await.unwrap();
    let mut got = Vec::with_capacity(bytes.len());
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert!(
            chunk.len() <= 256 * 1024,
            "a chunk of {} bytes",
            chunk.len()
        );
        got.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert!(chunks > 1);
    assert!(
        got == bytes,
        "streamed {} bytes of {}",
        got.len(),
        bytes.len()
    );

    let mut empty = store.read("data/empty.bin").await.unwrap();
    assert!(empty.next().await.is_none());

    for range in [0..10, 1000..300_000, 5_000_000..(bytes.len() as u64)] {
        let part = store
            .read_range("data/big.bin", range.clone())
            .await
            .unwrap();
        assert!(
            part[..] == bytes[range.start as usize..range.end as usize],
            "range {range:?}"
        );
    }
    // Past the end: what there is.
    let end = bytes.len() as u64;
    let tail = store
        .read_range("data/big.bin", end - 5..end + 100)
        .await
        .unwrap();
    assert_eq!(&tail[..], &bytes[bytes.len() - 5..]);

    assert!(matches!(
        store.read("data/nope.bin").await.err(),
        Some(ConnectorError::NotFound(_))
    ));
    assert!(matches!(
        store.read("data").await.err(),
        Some(ConnectorError::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_root_is_reachable() {
    let Some(peer) = sftp_peer() else { return };
    let root = peer.fresh_root();
    root.write("data.txt", "inside");
    root.write("sub/inner.txt", "inner");
    symlink("/etc", root.path().join("etc")).unwrap();
    symlink("/etc/passwd", root.path().join("passwd")).unwrap();
    symlink("data.txt", root.path().join("alias.txt")).unwrap();
    symlink("..", root.path().join("sub/up")).unwrap();
    symlink(root.path().join("sub"), root.path().join("sub/loop")).unwrap();
    // The root's sibling shares its name as a prefix.
    let sibling = format!("{}-sibling", root.path().display());
    std::fs::create_dir_all(&sibling).unwrap();
    std::fs::write(format!("{sibling}/secret.txt"), "outside").unwrap();
    symlink(
        format!("{sibling}/secret.txt"),
        root.path().join("sibling.txt"),
    )
    .unwrap();
    let store = store(&root);

    // Symlinks inside the root are what they point to; those outside are absent.
    let listed = store.list("", None, 50).await.unwrap();
    assert_eq!(names(&listed), ["alias.txt", "data.txt", "sub"]);
    assert_eq!(listed[0].size, 6);
    let mut alias = store.read("alias.txt").await.unwrap();
    assert_eq!(&alias.next().await.unwrap().unwrap()[..], b"inside");

    for outside in [
        "passwd",
        "etc",
        "etc/passwd",
        "sibling.txt",
        "sub/up/../etc",
    ] {
        assert_eq!(store.stat(outside).await.unwrap(), None, "{outside}");
        match store.read(outside).await.err() {
            Some(ConnectorError::NotFound(what)) => {
                assert!(
                    !what.contains("/etc/passwd") || outside.contains("etc"),
                    "{what}"
                );
                assert!(
                    !what.contains("sibling") || outside.contains("sibling"),
                    "{what}"
                );
            }
            other => panic!("reading {outside}: {other:?}"),
        }
        assert!(store.read_range(outside, 0..10).await.is_err(), "{outside}");
    }
    assert!(matches!(
        store.list("etc", None, 50).await,
        Err(ConnectorError::NotFound(_))
    ));
    // "sub/up" is the root itself: inside, listed as a folder.
    assert_eq!(
        names(&store.list("sub", None, 50).await.unwrap()),
        ["sub/inner.txt", "sub/loop", "sub/up"]
    );
    for climbing in ["../etc/passwd", "sub/../../etc/passwd", ".."] {
        assert!(store.read(climbing).await.is_err(), "{climbing}");
        assert!(store.stat(climbing).await.is_err(), "{climbing}");
        assert!(store.list(climbing, None, 50).await.is_err(), "{climbing}");
    }
    // Symlinks back up do not make the walk endless.
    assert_eq!(
        names(&store.walk("").await.unwrap()),
        ["alias.txt", "data.txt", "sub/inner.txt"]
    );
    std::fs::remove_dir_all(&sibling).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_say_what_went_wrong() {
    let Some(peer) = sftp_peer() else { return };
    let root = peer.fresh_root();

    // Nothing listens on port 1: may pass, so it is transient.
    let mut closed = root.config();
    closed.insert("port".into(), 1.into());
    match store_with(&closed, root.credentials()).check().await {
        Err(ConnectorError::Transient(m)) => assert!(m.contains("refused"), "{m}"),
        other => panic!("a closed port: {other:?}"),
    }

    let mut missing = root.config();
    let gone = format!("{}/not-there", root.path().display());
    missing.insert("root_path".into(), gone.clone().into());
    match store_with(&missing, root.credentials()).check().await {
        Err(ConnectorError::Config(m)) => {
            assert!(m.contains(&gone) && m.contains("does not exist"), "{m}")
        }
        other => panic!("a missing root: {other:?}"),
    }

    // Many first requests at once share the one session they open.
    root.write("a.txt", "a");
    let store = store(&root);
    let stats = futures::future::join_all((0..12).map(|_| store.stat("a.txt"))).await;
    for s in stats {
        assert_eq!(s.unwrap().map(|e| e.size), Some(1));
    }
}

// === VerifyConnection through the server ===

async fn verify(
    app: &TestApp,
    config: serde_json::Map<String, serde_json::Value>,
    credentials: impl IntoIterator<Item = (String, String)>,
) -> pb::Connection {
    let mut c = app.connections();
    let created = c
        .create_connection(pb::CreateConnectionRequest {
            name: format!("sftp {}", uuid::Uuid::new_v4().simple()),
            provider: "sftp".into(),
            config: Some(json_struct(serde_json::Value::Object(config))),
            credentials: credentials.into_iter().collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    c.verify_connection(pb::VerifyConnectionRequest {
        connection_id: created.id,
        as_destination: false,
    })
    .await
    .unwrap()
    .into_inner()
}

/// A new ed25519 private key the server does not know.
fn stranger_key() -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stranger");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_pins_the_host_key_and_logs_in_with_keys() {
    let Some(peer) = sftp_peer() else { return };
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let root = peer.fresh_root();

    let good = verify(&app, root.config(), root.credentials()).await;
    assert_eq!(
        good.status(),
        ConnectionStatus::Active,
        "{:?}",
        good.verification_error
    );

    // Another host key pinned: refused, naming both.
    let pinned = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";
    let mut wrong_pin = root.config();
    wrong_pin.insert("host_key_fingerprint".into(), pinned.into());
    let mismatch = verify(&app, wrong_pin, root.credentials()).await;
    assert_eq!(mismatch.status(), ConnectionStatus::Error);
    let m = mismatch.verification_error.unwrap();
    assert!(m.contains(pinned) && m.contains(&peer.fingerprint), "{m}");

    // None pinned: refused too, showing the key to pin.
    let mut unpinned = root.config();
    unpinned.remove("host_key_fingerprint");
    let unknown = verify(&app, unpinned, root.credentials()).await;
    assert_eq!(unknown.status(), ConnectionStatus::Error);
    let m = unknown.verification_error.unwrap();
    assert!(
        m.contains(&peer.fingerprint) && m.contains("host_key_fingerprint"),
        "{m}"
    );

    // A key the server does not know: refused, and nothing of it shown.
    let stranger = stranger_key();
    let refused = verify(
        &app,
        root.config(),
        [("private_key".to_string(), stranger.clone())],
    )
    .await;
    assert_eq!(refused.status(), ConnectionStatus::Error);
    let m = refused.verification_error.unwrap();
    assert!(m.contains("refused") && m.contains(&peer.user), "{m}");
    assert!(!m.contains("PRIVATE KEY"), "{m}");
    for line in stranger.lines().filter(|l| l.len() > 8) {
        assert!(!m.contains(line), "{m}");
    }

    // An encrypted key with its passphrase logs in; with another, it does not.
    if let Some((key, passphrase)) = peer.encrypted_key.clone() {
        let creds = |p: &str| {
            [
                ("private_key".to_string(), key.clone()),
                ("private_key_passphrase".to_string(), p.to_string()),
            ]
        };
        let ok = verify(&app, root.config(), creds(&passphrase)).await;
        assert_eq!(
            ok.status(),
            ConnectionStatus::Active,
            "{:?}",
            ok.verification_error
        );
        let bad = verify(&app, root.config(), creds("not the passphrase")).await;
        assert_eq!(bad.status(), ConnectionStatus::Error);
        let m = bad.verification_error.unwrap();
        assert!(m.contains("private_key_passphrase"), "{m}");
        assert!(
            !m.contains("not the passphrase") && !m.contains(&passphrase),
            "{m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_logs_in_with_a_password() {
    let Some(peer) = sftp_peer() else { return };
    let Some((user, password)) = peer.password_login.clone() else {
        eprintln!("skipping: .ci/sshd made no password user (not run as root)");
        return;
    };
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let root = peer.fresh_root();
    let mut config = root.config();
    config.insert("username".into(), user.clone().into());

    let ok = verify(
        &app,
        config.clone(),
        [("password".to_string(), password.clone())],
    )
    .await;
    assert_eq!(
        ok.status(),
        ConnectionStatus::Active,
        "{:?}",
        ok.verification_error
    );
    let wrong = "wrong-password-123";
    let refused = verify(
        &app,
        config.clone(),
        [("password".to_string(), wrong.to_string())],
    )
    .await;
    assert_eq!(refused.status(), ConnectionStatus::Error);
    let m = refused.verification_error.unwrap();
    assert!(
        m.contains("refused the password") && m.contains(&user),
        "{m}"
    );
    assert!(!m.contains(wrong), "{m}");

    // This user's sessions are this test's alone: cut the store's, and it
    // opens a new one.
    let Some(listener) = peer
        .pid_file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
    else {
        return;
    };
    root.write("kept.txt", "kept");
    let store = store_with(&config, [("password".to_string(), password)]);
    assert!(store.stat("kept.txt").await.unwrap().is_some());
    let sessions = sessions_of(listener.trim(), &user);
    assert!(!sessions.is_empty(), "no sshd process serves {user}");
    for pid in sessions {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
    }
    let found = eventually(Duration::from_secs(20), || async {
        match store.stat("kept.txt").await {
            Ok(found) => Some(found),
            Err(ConnectorError::Transient(_)) => None,
            Err(e) => panic!("after the session was cut: {e:?}"),
        }
    })
    .await;
    assert_eq!(found.map(|e| e.size), Some(4));

    // A store dropped closes its session: none lingers on the server.
    drop(store);
    eventually(Duration::from_secs(20), || async {
        sessions_of(listener.trim(), &user).is_empty().then_some(())
    })
    .await;
}

/// The pids of the processes the sshd `listener` forked for `user`'s
/// sessions ("sshd: user [priv]").
fn sessions_of(listener: &str, user: &str) -> Vec<String> {
    let ps = std::process::Command::new("ps")
        .args(["-eo", "pid=,ppid=,args="])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (pid, ppid) = (f.next()?, f.next()?);
            let args: Vec<&str> = f.collect();
            (ppid == listener && args.first() == Some(&"sshd:") && args.get(1)?.starts_with(user))
                .then(|| pid.to_string())
        })
        .collect()
}
