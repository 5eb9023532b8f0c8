//! What the sftp store says about SSH and SFTP failures. Messages are built
//! from an error's kind, never its text (a key parser's text may quote the
//! key), and scrubbed of every credential as a second defence.

use std::collections::BTreeMap;

use russh_sftp::{client::error::Error as SftpError, protocol::StatusCode};

use crate::connectors::{ConnectorError, scrub};

/// Says things about one connection: where it goes, what to scrub.
pub(super) struct Describe<'a> {
    pub address: &'a str,
    pub credentials: &'a BTreeMap<String, String>,
}

impl Describe<'_> {
    fn scrubbed(&self, message: String) -> String {
        scrub(&message, self.credentials)
    }

    pub fn transient(&self, what: &str) -> ConnectorError {
        ConnectorError::Transient(self.scrubbed(format!("{what} ({})", self.address)))
    }

    /// An I/O failure reaching the server.
    pub fn io(&self, e: &std::io::Error) -> ConnectorError {
        use std::io::ErrorKind::*;
        let what = match e.kind() {
            ConnectionRefused => "the SSH server refused the connection",
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                "the SSH server closed the connection"
            }
            TimedOut => "timed out reaching the SSH server",
            HostUnreachable | NetworkUnreachable => "the SSH server's network is unreachable",
            _ => "could not reach the SSH server",
        };
        self.transient(what)
    }

    /// A failure of the SSH transport (handshake, session).
    pub fn ssh(&self, e: &russh::Error) -> ConnectorError {
        use russh::Error::*;
        match e {
            IO(io) => self.io(io),
            Disconnect | HUP | SendError | RecvError => {
                self.transient("the SSH server closed the connection")
            }
            ConnectionTimeout | KeepaliveTimeout | InactivityTimeout | Elapsed(_) => {
                self.transient("the SSH connection timed out")
            }
            NoCommonAlgo { kind, .. } => ConnectorError::Failed(self.scrubbed(format!(
                "the SSH server offers no {kind:?} algorithm this client supports ({})",
                self.address
            ))),
            Version
            | KexInit
            | Kex
            | WrongServerSig
            | PacketAuth
            | DecryptionError
            | StrictKeyExchangeViolation { .. } => ConnectorError::Failed(self.scrubbed(format!(
                "the SSH handshake with {} failed: is it an SSH server?",
                self.address
            ))),
            ChannelOpenFailure(_) | RequestDenied => ConnectorError::Failed(self.scrubbed(
                format!("the SSH server {} refused the SFTP subsystem", self.address),
            )),
            _ => ConnectorError::Failed(
                self.scrubbed(format!("the SSH session with {} failed", self.address)),
            ),
        }
    }

    /// An SFTP request about `path` (as the user gave it) failed.
    pub fn sftp(&self, path: &str, e: &SftpError) -> ConnectorError {
        let shown = shown(path);
        match e {
            SftpError::Status(s) => match s.status_code {
                StatusCode::NoSuchFile => ConnectorError::NotFound(self.scrubbed(shown)),
                StatusCode::PermissionDenied => ConnectorError::Failed(
                    self.scrubbed(format!("the SFTP server denied access to {shown}")),
                ),
                StatusCode::NoConnection | StatusCode::ConnectionLost => {
                    self.transient("the SFTP session was lost")
                }
                code => ConnectorError::Failed(
                    self.scrubbed(format!("the SFTP server failed on {shown}: {code}")),
                ),
            },
            SftpError::Timeout => self.transient("the SFTP server did not answer in time"),
            SftpError::IO(_) | SftpError::UnexpectedBehavior(_) => {
                self.transient("the SFTP session was lost")
            }
            SftpError::Limited(_) | SftpError::UnexpectedPacket => {
                ConnectorError::Failed(self.scrubbed(format!(
                    "the SFTP server's answer about {shown} was not understood"
                )))
            }
        }
    }
}

/// A store path as users see it: the root is "/".
pub(super) fn shown(path: &str) -> String {
    format!("/{path}")
}

/// Whether an SFTP failure may mean the session itself is gone (it is then
/// opened anew on the next request).
pub(super) fn session_lost(e: &SftpError) -> bool {
    match e {
        SftpError::Status(s) => matches!(
            s.status_code,
            StatusCode::NoConnection | StatusCode::ConnectionLost
        ),
        SftpError::Timeout | SftpError::IO(_) | SftpError::UnexpectedBehavior(_) => true,
        SftpError::Limited(_) | SftpError::UnexpectedPacket => false,
    }
}
