//! The SFTP peer of the tests: the OpenSSH server `.ci/sshd` starts on a
//! loopback port. Each test works in a fresh folder of its own under the
//! server's data directory and uses it as the connection's root_path.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use serde_json::{Map, Value, json};

/// The running server and how to log in to it (see `.ci/sshd`).
#[derive(Debug, Clone)]
pub struct SftpPeer {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// An unencrypted private key `user` logs in with.
    pub private_key: String,
    /// Another key of `user`, encrypted with `passphrase`.
    pub encrypted_key: Option<(String, String)>,
    /// The host key's "SHA256:…" fingerprint.
    pub fingerprint: String,
    /// A folder `user` reads and writes.
    pub dir: PathBuf,
    /// A second user who logs in with a password (only when .ci/sshd ran
    /// as root).
    pub password_login: Option<(String, String)>,
    /// The listening sshd's pid file: a test cuts sessions by killing the
    /// processes sshd forked for them.
    pub pid_file: Option<PathBuf>,
}

/// The test server, or None (the test skips) when `.ci/sshd` was not run;
/// panics then when TRIBUTARY_REQUIRE_SFTP=1 (CI must not skip).
pub fn sftp_peer() -> Option<SftpPeer> {
    let var = |name: &str| std::env::var(format!("TRIBUTARY_TEST_SFTP_{name}")).ok();
    let Some(host) = var("HOST").filter(|h| !h.is_empty()) else {
        if std::env::var("TRIBUTARY_REQUIRE_SFTP").is_ok_and(|v| v == "1") {
            panic!("TRIBUTARY_TEST_SFTP_HOST is not set; run the suite with `bash .ci/test`");
        }
        eprintln!(
            "skipping the SFTP test: TRIBUTARY_TEST_SFTP_HOST is not set (eval \"$(.ci/sshd start)\")"
        );
        return None;
    };
    let required =
        |name: &str| var(name).unwrap_or_else(|| panic!("TRIBUTARY_TEST_SFTP_{name} is not set"));
    let read = |path: String| {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
    };
    Some(SftpPeer {
        host,
        port: required("PORT").parse().expect("TRIBUTARY_TEST_SFTP_PORT"),
        user: required("USER"),
        private_key: read(required("KEY")),
        encrypted_key: var("ENCRYPTED_KEY")
            .zip(var("KEY_PASSPHRASE"))
            .map(|(k, p)| (read(k), p)),
        fingerprint: required("FINGERPRINT"),
        dir: required("DIR").into(),
        password_login: var("PASSWORD_USER").zip(var("PASSWORD")),
        pid_file: var("PID_FILE").map(PathBuf::from),
    })
}

impl SftpPeer {
    /// A new, empty folder of this test's own, removed when dropped.
    pub fn fresh_root(&self) -> TestRoot {
        let path = self
            .dir
            .join(format!("t-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&path).expect("creating a test root");
        TestRoot {
            peer: self.clone(),
            path,
        }
    }
}

/// A folder on the SFTP server (the same machine: written directly).
pub struct TestRoot {
    peer: SftpPeer,
    path: PathBuf,
}

impl TestRoot {
    /// Its absolute path, the connection's root_path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` to `rel` below the root, making its folders.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let file = self.path.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("creating folders");
        }
        std::fs::write(&file, bytes).expect("writing a test file");
        file
    }

    /// Config for CreateConnection (provider "sftp"): this folder as
    /// root_path, the server's host key pinned.
    pub fn config(&self) -> Map<String, Value> {
        let config = json!({
            "host": self.peer.host,
            "port": self.peer.port,
            "username": self.peer.user,
            "root_path": self.path.to_str().expect("a UTF-8 path"),
            "host_key_fingerprint": self.peer.fingerprint,
        });
        config.as_object().cloned().unwrap_or_default()
    }

    /// Credentials for CreateConnection: the user's private key.
    pub fn credentials(&self) -> HashMap<String, String> {
        HashMap::from([("private_key".to_string(), self.peer.private_key.clone())])
    }
}

impl Drop for TestRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
