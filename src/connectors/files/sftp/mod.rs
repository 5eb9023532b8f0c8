//! SFTP servers, through `russh` and `russh-sftp`: one SSH session per
//! store, opened on first use and reused (opened anew once it breaks).
//! Every path is joined under the root the server resolved, and the
//! server's own resolution of it (`realpath`: symlinks followed) must stay
//! there, so neither ".." nor a symlink reaches outside the root.

mod connect;
mod errors;
mod read;
mod settings;

use std::{
    collections::{BTreeMap, HashSet},
    ops::Range,
    sync::{Arc, Mutex, PoisonError},
};

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use russh_sftp::{
    client::error::Error as SftpError,
    protocol::{FileAttributes, OpenFlags, StatusCode},
};

use self::{
    connect::Session,
    errors::{Describe, session_lost, shown},
    read::{OpenHandle, chunks},
    settings::SftpSettings,
};
use super::{ByteStream, Entry, EntryKind, FileStore, paths};
use crate::connectors::{ConnectorError, Settings};

/// The store of an `sftp` connection. Nothing connects until it is used.
pub fn open(s: &Settings<'_>) -> Result<Arc<dyn FileStore>, ConnectorError> {
    let settings = SftpSettings::parse(s.config, s.credentials)?;
    let address = if settings.host.contains(':') {
        format!("[{}]:{}", settings.host, settings.port)
    } else {
        format!("{}:{}", settings.host, settings.port)
    };
    Ok(Arc::new(SftpStore(Arc::new(Inner {
        settings,
        credentials: s.credentials.clone(),
        address,
        session: Mutex::new(None),
        connecting: tokio::sync::Mutex::new(()),
    }))))
}

struct SftpStore(Arc<Inner>);

struct Inner {
    settings: SftpSettings,
    /// Scrubbed from every message.
    credentials: BTreeMap<String, String>,
    /// host:port, as messages name the server.
    address: String,
    session: Mutex<Option<Arc<Session>>>,
    /// One connection attempt at a time.
    connecting: tokio::sync::Mutex<()>,
}

/// What a path is once the server has resolved it inside the root.
struct Resolved {
    /// Absolute, symlinks resolved.
    server_path: String,
    kind: EntryKind,
    attrs: FileAttributes,
}

impl Inner {
    fn describe(&self) -> Describe<'_> {
        Describe {
            address: &self.address,
            credentials: &self.credentials,
        }
    }

    fn cached(&self) -> Option<Arc<Session>> {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|s| !s.is_closed())
    }

    async fn session(&self) -> Result<Arc<Session>, ConnectorError> {
        if let Some(s) = self.cached() {
            return Ok(s);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(s) = self.cached() {
            return Ok(s);
        }
        let key = connect::private_key(&self.settings).await?.map(Arc::new);
        let session = Arc::new(connect::open_session(&self.settings, key, &self.describe()).await?);
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = Some(session.clone());
        Ok(session)
    }

    /// A failed request about `path`; a session it found broken is
    /// dropped, so the next request connects again.
    fn fail(&self, session: &Arc<Session>, path: &str, e: &SftpError) -> ConnectorError {
        if session_lost(e) {
            let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, session)) {
                *slot = None;
            }
        }
        self.describe().sftp(path, e)
    }

    /// The file or folder at `path` (relative to the root), symlinks
    /// followed; None when it does not exist, resolves outside the root,
    /// or is neither a file nor a folder (a device, a socket).
    async fn resolve(
        &self,
        s: &Arc<Session>,
        path: &str,
    ) -> Result<Option<Resolved>, ConnectorError> {
        let joined = server_path(&s.root, path);
        let real = match s.sftp.realpath(joined.as_str()).await {
            Ok(name) => match name.files.into_iter().next() {
                Some(f) => f.filename,
                None => return Ok(None),
            },
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(self.fail(s, path, &e)),
        };
        if !within(&s.root, &real) {
            return Ok(None);
        }
        let attrs = match s.sftp.stat(real.as_str()).await {
            Ok(a) => a.attrs,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(self.fail(s, path, &e)),
        };
        Ok(kind_of(&attrs).map(|kind| Resolved {
            server_path: real,
            kind,
            attrs,
        }))
    }

    /// A folder's children after `start_after`, sorted, at most `limit`,
    /// each with its resolved server path.
    async fn children(
        &self,
        s: &Arc<Session>,
        folder: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(Entry, String)>, ConnectorError> {
        let dir = match self.resolve(s, folder).await? {
            Some(r) if r.kind == EntryKind::Folder => r,
            _ => return Err(ConnectorError::NotFound(shown(folder))),
        };
        let mut names = self.read_dir(s, folder, &dir.server_path).await?;
        names.retain(|(n, _)| n != "." && n != ".." && start_after.is_none_or(|a| n.as_str() > a));
        names.sort_by(|a, b| a.0.cmp(&b.0));

        let mut out = Vec::new();
        for (name, attrs) in names {
            if out.len() >= limit {
                break;
            }
            let path = paths::join(folder, &name);
            let (kind, attrs, server) = if mode(&attrs) == S_IFLNK {
                // Listed as what it points to, if that is inside the root.
                match self.resolve(s, &path).await? {
                    Some(r) => (r.kind, r.attrs, r.server_path),
                    None => continue,
                }
            } else {
                match kind_of(&attrs) {
                    Some(kind) => (kind, attrs, server_path(&dir.server_path, &name)),
                    None => continue,
                }
            };
            out.push((entry(path, kind, &attrs), server));
        }
        Ok(out)
    }

    /// Every name in a folder, with its attributes (symlinks not followed).
    async fn read_dir(
        &self,
        s: &Arc<Session>,
        folder: &str,
        server_path: &str,
    ) -> Result<Vec<(String, FileAttributes)>, ConnectorError> {
        let handle = match s.sftp.opendir(server_path).await {
            Ok(h) => OpenHandle {
                session: s.clone(),
                handle: h.handle,
            },
            Err(e) if is_missing(&e) => return Err(ConnectorError::NotFound(shown(folder))),
            Err(e) => return Err(self.fail(s, folder, &e)),
        };
        let mut names = Vec::new();
        loop {
            match s.sftp.readdir(handle.handle.as_str()).await {
                Ok(batch) => names.extend(batch.files.into_iter().map(|f| (f.filename, f.attrs))),
                Err(SftpError::Status(st)) if st.status_code == StatusCode::Eof => break,
                Err(e) => return Err(self.fail(s, folder, &e)),
            }
        }
        Ok(names)
    }

    /// Opens the file at `path` for reading.
    async fn open_file(
        &self,
        path: &str,
    ) -> Result<(Arc<Session>, Arc<OpenHandle>), ConnectorError> {
        let path = checked(path)?;
        let s = self.session().await?;
        let file = match self.resolve(&s, &path).await? {
            Some(r) if r.kind == EntryKind::File => r,
            Some(_) => {
                return Err(ConnectorError::Config(format!(
                    "{} is a folder, not a file",
                    shown(&path)
                )));
            }
            None => return Err(ConnectorError::NotFound(shown(&path))),
        };
        let handle = s
            .sftp
            .open(
                file.server_path.as_str(),
                OpenFlags::READ,
                FileAttributes::empty(),
            )
            .await
            .map_err(|e| self.fail(&s, &path, &e))?;
        let handle = Arc::new(OpenHandle {
            session: s.clone(),
            handle: handle.handle,
        });
        Ok((s, handle))
    }
}

#[async_trait::async_trait]
impl FileStore for SftpStore {
    async fn check(&self) -> Result<(), ConnectorError> {
        let s = self.0.session().await?;
        // The root may have gone since the session resolved it.
        match s.sftp.stat(s.root.as_str()).await {
            Ok(a) if mode(&a.attrs) == S_IFDIR => Ok(()),
            Ok(_) => Err(ConnectorError::Config(format!(
                "root_path {} is a file, not a folder",
                self.0.settings.root_path
            ))),
            Err(e) if is_missing(&e) => Err(ConnectorError::Config(format!(
                "root_path {} does not exist on the SFTP server",
                self.0.settings.root_path
            ))),
            Err(e) => Err(self.0.fail(&s, "", &e)),
        }
    }

    async fn list(
        &self,
        folder: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entry>, ConnectorError> {
        let folder = checked(folder)?;
        let s = self.0.session().await?;
        let children = self.0.children(&s, &folder, start_after, limit).await?;
        Ok(children.into_iter().map(|(e, _)| e).collect())
    }

    /// Folder by folder, each folder once: a symlink back to a parent
    /// folder would otherwise walk forever.
    async fn walk(&self, folder: &str) -> Result<Vec<Entry>, ConnectorError> {
        let folder = checked(folder)?;
        let s = self.0.session().await?;
        let start = match self.0.resolve(&s, &folder).await? {
            Some(r) if r.kind == EntryKind::Folder => r,
            _ => return Err(ConnectorError::NotFound(shown(&folder))),
        };
        let mut seen = HashSet::from([start.server_path]);
        let mut pending = vec![folder];
        let mut files = Vec::new();
        while let Some(dir) = pending.pop() {
            for (e, server) in self.0.children(&s, &dir, None, usize::MAX).await? {
                match e.kind {
                    EntryKind::Folder if seen.insert(server) => pending.push(e.path),
                    EntryKind::Folder => {}
                    EntryKind::File => files.push(e),
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    async fn stat(&self, path: &str) -> Result<Option<Entry>, ConnectorError> {
        let path = checked(path)?;
        let s = self.0.session().await?;
        Ok(self
            .0
            .resolve(&s, &path)
            .await?
            .map(|r| entry(path, r.kind, &r.attrs)))
    }

    async fn read(&self, path: &str) -> Result<ByteStream, ConnectorError> {
        let (s, file) = self.0.open_file(path).await?;
        let inner = self.0.clone();
        let path = path.to_string();
        Ok(Box::pin(
            chunks(file, 0, None).map_err(move |e| inner.fail(&s, &path, &e)),
        ))
    }

    async fn read_range(&self, path: &str, range: Range<u64>) -> Result<Bytes, ConnectorError> {
        if range.end <= range.start {
            return Ok(Bytes::new());
        }
        let (s, file) = self.0.open_file(path).await?;
        let len = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
        let mut out = BytesMut::with_capacity(len.min(64 << 20));
        let mut parts = std::pin::pin!(chunks(file, range.start, Some(range.end)));
        while let Some(part) = parts.next().await {
            out.extend_from_slice(&part.map_err(|e| self.0.fail(&s, path, &e))?);
        }
        Ok(out.freeze())
    }
}

/// A path as the caller gave it, normalised; ".." above the root refused.
fn checked(path: &str) -> Result<String, ConnectorError> {
    paths::normalize(path).map_err(|e| ConnectorError::Config(format!("the path {path:?} {e}")))
}

/// `path` (relative, normalised) under the server path `root`.
fn server_path(root: &str, path: &str) -> String {
    match (root, path) {
        (_, "") => root.to_string(),
        ("/", _) => format!("/{path}"),
        _ => format!("{}/{path}", root.trim_end_matches('/')),
    }
}

/// Whether the server path `path` is `root` or below it.
fn within(root: &str, path: &str) -> bool {
    paths::is_within(
        root.trim_matches('/'),
        path.trim_end_matches('/').trim_start_matches('/'),
    )
}

fn is_missing(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile)
}

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

/// The file type bits of the mode (russh-sftp's own checks test single
/// bits, which a symlink's or a socket's type also has).
fn mode(attrs: &FileAttributes) -> u32 {
    attrs.permissions.unwrap_or(0) & S_IFMT
}

fn kind_of(attrs: &FileAttributes) -> Option<EntryKind> {
    match mode(attrs) {
        S_IFDIR => Some(EntryKind::Folder),
        S_IFREG => Some(EntryKind::File),
        _ => None,
    }
}

fn entry(path: String, kind: EntryKind, attrs: &FileAttributes) -> Entry {
    Entry {
        path,
        kind,
        size: match kind {
            EntryKind::File => attrs.size.unwrap_or(0),
            EntryKind::Folder => 0,
        },
        modified_micros: attrs.mtime.map(|s| i64::from(s) * 1_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_paths_stay_under_the_resolved_root() {
        assert_eq!(server_path("/", ""), "/");
        assert_eq!(server_path("/", "a/b"), "/a/b");
        assert_eq!(server_path("/srv/out", "a"), "/srv/out/a");
        assert!(within("/", "/etc/passwd"));
        assert!(within("/srv/out", "/srv/out"));
        assert!(within("/srv/out", "/srv/out/a/b"));
        assert!(!within("/srv/out", "/srv/outside"));
        assert!(!within("/srv/out", "/etc/passwd"));
        assert!(!within("/srv/out", "/srv"));
    }

    #[test]
    fn only_files_and_folders_are_entries() {
        let with_mode = |m: u32| FileAttributes {
            permissions: Some(m | 0o644),
            ..FileAttributes::empty()
        };
        assert_eq!(kind_of(&with_mode(S_IFDIR)), Some(EntryKind::Folder));
        assert_eq!(kind_of(&with_mode(S_IFREG)), Some(EntryKind::File));
        assert_eq!(kind_of(&with_mode(S_IFLNK)), None);
        assert_eq!(kind_of(&with_mode(0o140_000)), None, "a socket");
        assert_eq!(kind_of(&with_mode(0o010_000)), None, "a fifo");
    }
}
