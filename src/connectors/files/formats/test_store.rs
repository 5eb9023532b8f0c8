//! A file store over a local directory, for the formats' tests: real
//! files read through the real `FileStore` interface, in chunks as small
//! as a test asks (records then straddle chunk boundaries).

use std::{ops::Range, path::PathBuf, sync::Arc};

use arrow_schema::{Schema, SchemaRef};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{Decoded, Format, decode, infer};
use crate::connectors::ConnectorError;
use crate::connectors::files::{ByteStream, Entry, EntryKind, FileStore};

pub(super) struct DirStore {
    pub dir: tempfile::TempDir,
    /// Bytes per chunk `read` yields.
    pub chunk: usize,
}

impl DirStore {
    pub fn new(chunk: usize) -> Arc<DirStore> {
        Arc::new(DirStore {
            dir: tempfile::tempdir().unwrap(),
            chunk,
        })
    }

    fn full(&self, path: &str) -> PathBuf {
        self.dir.path().join(path)
    }

    /// Writes a file and returns its entry.
    pub fn put(&self, path: &str, bytes: &[u8]) -> Entry {
        let full = self.full(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, bytes).unwrap();
        Entry {
            path: path.to_string(),
            kind: EntryKind::File,
            size: bytes.len() as u64,
            modified_micros: Some(0),
        }
    }
}

fn failed(e: std::io::Error) -> ConnectorError {
    ConnectorError::Failed(e.to_string())
}

#[async_trait::async_trait]
impl FileStore for DirStore {
    async fn check(&self) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn list(
        &self,
        folder: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entry>, ConnectorError> {
        let mut entries = Vec::new();
        for item in std::fs::read_dir(self.full(folder)).map_err(failed)? {
            let item = item.map_err(failed)?;
            let name = item.file_name().to_string_lossy().to_string();
            if start_after.is_some_and(|after| name.as_str() <= after) {
                continue;
            }
            let meta = item.metadata().map_err(failed)?;
            let path = if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            };
            entries.push(Entry {
                path,
                kind: if meta.is_dir() {
                    EntryKind::Folder
                } else {
                    EntryKind::File
                },
                size: if meta.is_dir() { 0 } else { meta.len() },
                modified_micros: Some(0),
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.truncate(limit);
        Ok(entries)
    }

    async fn stat(&self, path: &str) -> Result<Option<Entry>, ConnectorError> {
        Ok(std::fs::metadata(self.full(path)).ok().map(|meta| Entry {
            path: path.to_string(),
            kind: if meta.is_dir() {
                EntryKind::Folder
            } else {
                EntryKind::File
            },
            size: meta.len(),
            modified_micros: Some(0),
        }))
    }

    async fn read(&self, path: &str) -> Result<ByteStream, ConnectorError> {
        let file = tokio::fs::File::open(self.full(path))
            .await
            .map_err(failed)?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, self.chunk).map_err(failed);
        Ok(Box::pin(stream))
    }

    async fn read_range(&self, path: &str, range: Range<u64>) -> Result<Bytes, ConnectorError> {
        let mut file = tokio::fs::File::open(self.full(path))
            .await
            .map_err(failed)?;
        file.seek(std::io::SeekFrom::Start(range.start))
            .await
            .map_err(failed)?;
        let mut bytes = vec![0; (range.end - range.start) as usize];
        file.read_exact(&mut bytes).await.map_err(failed)?;
        Ok(Bytes::from(bytes))
    }
}

/// Every batch of a file.
pub(super) async fn read_batches(
    store: &Arc<DirStore>,
    entry: &Entry,
    format: &Format,
    schema: SchemaRef,
    batch_size: usize,
    skip_rows: u64,
) -> Result<Vec<Decoded>, ConnectorError> {
    let store: Arc<dyn FileStore> = store.clone();
    decode(
        store,
        entry.clone(),
        format.clone(),
        schema,
        batch_size,
        skip_rows,
    )
    .await?
    .try_collect()
    .await
}

/// Every row of a file, inferred then decoded, as JSON cells.
pub(super) async fn read_rows(
    store: &Arc<DirStore>,
    entry: &Entry,
    format: &Format,
) -> (Schema, Vec<Vec<Value>>) {
    let schema = infer(store.as_ref(), entry, format).await.unwrap();
    let batches = read_batches(store, entry, format, Arc::new(schema.clone()), 1000, 0)
        .await
        .unwrap();
    (schema, rows(&batches))
}

/// The rows of batches as JSON cells.
pub(super) fn rows(batches: &[Decoded]) -> Vec<Vec<Value>> {
    batches
        .iter()
        .flat_map(|b| crate::batch::json::rows(&b.data).unwrap())
        .collect()
}

/// A format from its JSON option.
pub(super) fn format(config: Value) -> Format {
    Format::parse(&config).unwrap()
}

/// The gzip of `bytes`.
pub(super) async fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    async_compression::tokio::bufread::GzipEncoder::new(bytes)
        .read_to_end(&mut out)
        .await
        .unwrap();
    out
}

/// Each batch's first row number and its number of rows.
pub(super) fn shape(batches: &[Decoded]) -> Vec<(u64, usize)> {
    batches
        .iter()
        .map(|b| (b.first_row, b.data.num_rows()))
        .collect()
}

/// The error decoding a file ends with (from `decode` or its stream).
pub(super) async fn collect_err(
    store: &Arc<DirStore>,
    entry: &Entry,
    format: &Format,
    schema: SchemaRef,
) -> ConnectorError {
    let store: Arc<dyn FileStore> = store.clone();
    match decode(store, entry.clone(), format.clone(), schema, 100, 0).await {
        Err(e) => e,
        Ok(mut stream) => loop {
            match stream.next().await {
                Some(Err(e)) => break e,
                Some(Ok(_)) => continue,
                None => panic!("the file decoded without an error"),
            }
        },
    }
}
