//! File stores (s3, sftp): the capability beside the `Source` trait that
//! lists folders, stats items and reads files, and the one generic source
//! that turns a file set (a selection plus a format) into batches.

pub mod file_set;
pub mod formats;
pub mod paths;
mod position;
pub mod s3;
pub mod selection;
pub mod sftp;
mod source;

pub use source::FileSource;

use std::{ops::Range, pin::Pin};

use bytes::Bytes;
use futures::Stream;

use super::ConnectorError;

/// What a store entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
}

/// A file or folder of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the store's root: '/'-separated, no leading or trailing
    /// '/' ("" is the root itself). See `paths::normalize`.
    pub path: String,
    pub kind: EntryKind,
    /// Bytes; 0 for folders.
    pub size: u64,
    /// Last modification, microseconds since the Unix epoch; None where the
    /// store keeps none (an object store's folders).
    pub modified_micros: Option<i64>,
}

impl Entry {
    /// The last segment of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A file's bytes, in chunks as they arrive.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ConnectorError>> + Send>>;

/// One store of files: an S3 bucket under a prefix, an SFTP server under a
/// root path. Every path is relative to that root and already normalised
/// by `paths::normalize` (no "..", no leading '/'); an implementation still
/// never reaches outside its root (a symlink on a server, say).
#[async_trait::async_trait]
pub trait FileStore: Send + Sync {
    /// Connects, authenticates and lists the root (VerifyConnection).
    async fn check(&self) -> Result<(), ConnectorError>;

    /// The direct children of `folder` ("" is the root), sorted by name in
    /// byte order, only names greater than `start_after`, at most `limit`.
    /// A folder that does not exist is `ConnectorError::NotFound`.
    async fn list(
        &self,
        folder: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entry>, ConnectorError>;

    /// Every file below `folder`, at any depth (folders themselves are not
    /// listed), sorted by path. A store that lists recursively in one call
    /// (object stores) overrides the folder-by-folder walk.
    async fn walk(&self, folder: &str) -> Result<Vec<Entry>, ConnectorError> {
        let mut files = Vec::new();
        let mut pending = vec![folder.to_string()];
        while let Some(dir) = pending.pop() {
            let mut after: Option<String> = None;
            loop {
                let page = self.list(&dir, after.as_deref(), 1000).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.name().to_string());
                for e in page {
                    match e.kind {
                        EntryKind::Folder => pending.push(e.path),
                        EntryKind::File => files.push(e),
                    }
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// The entry at `path` ("" is the root folder); None when absent.
    async fn stat(&self, path: &str) -> Result<Option<Entry>, ConnectorError>;

    /// A file's bytes from the start, streamed with bounded memory.
    async fn read(&self, path: &str) -> Result<ByteStream, ConnectorError>;

    /// Bytes `range` of a file (Parquet's footer and column chunks).
    async fn read_range(&self, path: &str, range: Range<u64>) -> Result<Bytes, ConnectorError>;
}
