//! One SSH session with its SFTP channel: the host key checked against the
//! pinned fingerprint, the user authenticated, the root resolved.

use std::{sync::Arc, time::Duration};

use russh::{
    client,
    keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate},
};
use russh_sftp::{
    client::{RawSftpSession, error::Error as SftpError},
    extensions,
    protocol::StatusCode,
};

use super::{errors::Describe, settings::SftpSettings};
use crate::connectors::ConnectorError;

/// Reaching the server, the handshake and logging in together.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest answer to one read that every server allows (draft-02
/// promises 32 KiB); OpenSSH announces more through `limits@openssh.com`.
const SAFE_READ_LEN: u32 = 32 * 1024;
/// Our cap on a read's length: the SFTP client's largest packet is 256 KiB.
const MAX_READ_LEN: u32 = 255 * 1024;

/// An open session. Dropping it closes the connection.
pub(super) struct Session {
    ssh: client::Handle<PinnedHostKey>,
    pub sftp: RawSftpSession,
    /// The root as the server resolves it: absolute, no trailing '/'
    /// except for "/" itself.
    pub root: String,
    /// Bytes asked for by one read request.
    pub read_len: u32,
}

impl Session {
    /// Whether the SSH connection is gone (the session is then opened anew).
    pub fn is_closed(&self) -> bool {
        self.ssh.is_closed()
    }
}

/// Accepts only the server whose host key has the pinned fingerprint.
struct PinnedHostKey {
    pinned: Option<String>,
}

/// Why the handshake stopped: our host-key check, or SSH itself.
#[derive(Debug)]
enum HandshakeError {
    HostKey { presented: String },
    Ssh(russh::Error),
}

impl From<russh::Error> for HandshakeError {
    fn from(e: russh::Error) -> Self {
        Self::Ssh(e)
    }
}

impl client::Handler for PinnedHostKey {
    type Error = HandshakeError;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let presented = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.fingerprint(HashAlg::Sha256),
            PublicKeyOrCertificate::Certificate(cert) => {
                cert.public_key().fingerprint(HashAlg::Sha256)
            }
        }
        .to_string();
        if self.pinned.as_deref() == Some(presented.as_str()) {
            Ok(true)
        } else {
            Err(HandshakeError::HostKey { presented })
        }
    }
}

/// The private key of the credentials, decrypted; None without one. Slow
/// for encrypted keys (bcrypt), so off the async workers.
pub(super) async fn private_key(s: &SftpSettings) -> Result<Option<PrivateKey>, ConnectorError> {
    let Some(text) = s.private_key.clone() else {
        return Ok(None);
    };
    let passphrase = s.passphrase.clone();
    let decoded = tokio::task::spawn_blocking(move || decode_key(&text, passphrase.as_deref()))
        .await
        .map_err(|_| ConnectorError::Failed("reading private_key failed".into()))?;
    decoded.map(Some)
}

/// Decodes without ever quoting the parser's error: it may show the key.
fn decode_key(text: &str, passphrase: Option<&str>) -> Result<PrivateKey, ConnectorError> {
    use russh::keys::{Error, decode_secret_key};
    let error = match decode_secret_key(text, passphrase) {
        Ok(key) => return Ok(key),
        Err(e) => e,
    };
    let encrypted = matches!(error, Error::KeyIsEncrypted)
        || matches!(decode_secret_key(text, None), Err(Error::KeyIsEncrypted))
        || text.contains("ENCRYPTED");
    Err(match (encrypted, passphrase) {
        (true, None) => ConnectorError::Config(
            "private_key is encrypted: give its passphrase in private_key_passphrase".into(),
        ),
        (true, Some(_)) => {
            ConnectorError::Auth("private_key_passphrase does not decrypt private_key".into())
        }
        (false, _) => ConnectorError::Config(
            "private_key is not a private key in OpenSSH, PEM (PKCS#1 or PKCS#8) or PuTTY format"
                .into(),
        ),
    })
}

/// Connects, checks the host key, logs in, opens SFTP and resolves the root.
pub(super) async fn open_session(
    s: &SftpSettings,
    key: Option<Arc<PrivateKey>>,
    d: &Describe<'_>,
) -> Result<Session, ConnectorError> {
    tokio::time::timeout(CONNECT_TIMEOUT, open_session_now(s, key, d))
        .await
        .unwrap_or_else(|_| {
            Err(d.transient(&format!(
                "timed out after {} s connecting and logging in to the SSH server",
                CONNECT_TIMEOUT.as_secs()
            )))
        })
}

async fn open_session_now(
    s: &SftpSettings,
    key: Option<Arc<PrivateKey>>,
    d: &Describe<'_>,
) -> Result<Session, ConnectorError> {
    let addresses: Vec<_> = tokio::net::lookup_host((s.host.as_str(), s.port))
        .await
        .map_err(|_| ConnectorError::Config(format!("host {} could not be resolved", s.host)))?
        .collect();
    let tcp = tokio::net::TcpStream::connect(&addresses[..])
        .await
        .map_err(|e| d.io(&e))?;
    tcp.set_nodelay(true).map_err(|e| d.io(&e))?;

    let config = Arc::new(client::Config {
        // A session stays open between requests: notice a dead peer.
        keepalive_interval: Some(Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    let handler = PinnedHostKey {
        pinned: s.fingerprint.clone(),
    };
    let mut ssh = client::connect_stream(config, tcp, handler)
        .await
        .map_err(|e| handshake_error(e, s, d))?;

    authenticate(&mut ssh, s, key, d).await?;

    let channel = ssh.channel_open_session().await.map_err(|e| d.ssh(&e))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| d.ssh(&e))?;
    let sftp = RawSftpSession::new(channel.into_stream());
    let version = sftp.init().await.map_err(|e| d.sftp("", &e))?;
    let read_len = if version
        .extensions
        .get(extensions::LIMITS)
        .is_some_and(|v| v == "1")
    {
        let limits = sftp.limits().await.map_err(|e| d.sftp("", &e))?;
        u32::try_from(limits.max_read_len)
            .unwrap_or(MAX_READ_LEN)
            .clamp(SAFE_READ_LEN, MAX_READ_LEN)
    } else {
        SAFE_READ_LEN
    };

    let root = resolve_root(&sftp, s, d).await?;
    Ok(Session {
        ssh,
        sftp,
        root,
        read_len,
    })
}

fn handshake_error(e: HandshakeError, s: &SftpSettings, d: &Describe<'_>) -> ConnectorError {
    match (e, &s.fingerprint) {
        (HandshakeError::HostKey { presented }, Some(pinned)) => ConnectorError::Config(format!(
            "the SSH server's host key does not match host_key_fingerprint: expected {pinned}, \
             the server presented {presented}; refusing to connect (if the server's key was \
             changed on purpose, pin the new one)"
        )),
        (HandshakeError::HostKey { presented }, None) => ConnectorError::Config(format!(
            "the SSH server presented the host key {presented}, and no host key is pinned: \
             check it with the server's administrator and pin it in host_key_fingerprint"
        )),
        (HandshakeError::Ssh(e), _) => d.ssh(&e),
    }
}

/// Logs in with the private key, then the password, whichever are given.
async fn authenticate(
    ssh: &mut client::Handle<PinnedHostKey>,
    s: &SftpSettings,
    key: Option<Arc<PrivateKey>>,
    d: &Describe<'_>,
) -> Result<(), ConnectorError> {
    let mut tried = Vec::new();
    if let Some(key) = key {
        // RSA keys sign with the best SHA-2 the server accepts.
        let hash = if key.algorithm().is_rsa() {
            ssh.best_supported_rsa_hash()
                .await
                .map_err(|e| d.ssh(&e))?
                .flatten()
        } else {
            None
        };
        let result = ssh
            .authenticate_publickey(&s.username, PrivateKeyWithHashAlg::new(key, hash))
            .await
            .map_err(|e| d.ssh(&e))?;
        if result.success() {
            return Ok(());
        }
        tried.push("the private key");
    }
    if let Some(password) = &s.password {
        let result = ssh
            .authenticate_password(&s.username, password)
            .await
            .map_err(|e| d.ssh(&e))?;
        if result.success() {
            return Ok(());
        }
        tried.push("the password");
    }
    Err(ConnectorError::Auth(format!(
        "the SSH server refused {} for user {}",
        tried.join(" and "),
        s.username
    )))
}

/// `root_path` as the server resolves it; it must be a folder.
async fn resolve_root(
    sftp: &RawSftpSession,
    s: &SftpSettings,
    d: &Describe<'_>,
) -> Result<String, ConnectorError> {
    let missing = || {
        ConnectorError::Config(format!(
            "root_path {} does not exist on the SFTP server",
            s.root_path
        ))
    };
    let resolved = match sftp.realpath(s.root_path.as_str()).await {
        Ok(name) => name.files.into_iter().next().map(|f| f.filename),
        Err(SftpError::Status(st)) if st.status_code == StatusCode::NoSuchFile => None,
        Err(e) => return Err(d.sftp("", &e)),
    }
    .ok_or_else(missing)?;
    match sftp.stat(resolved.as_str()).await {
        Ok(a) if a.attrs.is_dir() => Ok(resolved),
        Ok(_) => Err(ConnectorError::Config(format!(
            "root_path {} is a file, not a folder",
            s.root_path
        ))),
        Err(SftpError::Status(st)) if st.status_code == StatusCode::NoSuchFile => Err(missing()),
        Err(e) => Err(d.sftp("", &e)),
    }
}
