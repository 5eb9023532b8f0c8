//! A file's bytes as a reader: gunzipped on the way when the format says
//! so, counting the bytes taken from the store (before decompression) for
//! progress, and a bounded sample of its first bytes for inference.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use async_compression::tokio::bufread::GzipDecoder;
use futures::TryStreamExt;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::StreamReader;

use super::{Compression, FileStore};
use crate::connectors::ConnectorError;

/// Bytes of a chunk read at a time.
pub(super) const CHUNK: usize = 256 * 1024;
/// Most bytes (decompressed) a schema is inferred from.
pub(super) const SAMPLE_BYTES: usize = 1024 * 1024;
/// Most rows a schema is inferred from.
pub(super) const SAMPLE_ROWS: usize = 1000;

/// A file being read from its start.
pub(super) struct Input {
    path: String,
    reader: Box<dyn AsyncRead + Send + Unpin>,
    /// Bytes taken from the store so far (compressed where it is).
    taken: Arc<AtomicU64>,
    /// `taken` when `consumed_since` was last asked.
    reported: u64,
    /// The next read is the first: a UTF-8 byte order mark is dropped.
    first: bool,
    gzip: bool,
}

impl Input {
    pub(super) async fn open(
        store: &dyn FileStore,
        path: &str,
        compression: Compression,
    ) -> Result<Input, ConnectorError> {
        let taken = Arc::new(AtomicU64::new(0));
        let counter = taken.clone();
        let bytes = store
            .read(path)
            .await?
            .inspect_ok(move |chunk| {
                counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            })
            .map_err(std::io::Error::other);
        let raw = StreamReader::new(bytes);
        let reader: Box<dyn AsyncRead + Send + Unpin> = match compression {
            Compression::Gzip => {
                let mut gz = GzipDecoder::new(raw);
                // Concatenated gzip files (`cat a.gz b.gz`) are one file.
                gz.multiple_members(true);
                Box::new(gz)
            }
            _ => Box::new(raw),
        };
        Ok(Input {
            path: path.to_string(),
            reader,
            taken,
            reported: 0,
            first: true,
            gzip: compression == Compression::Gzip,
        })
    }

    /// Reads into `buf`; 0 at the end of the file.
    pub(super) async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ConnectorError> {
        let mut n = self.reader.read(buf).await.map_err(|e| self.error(e))?;
        if self.first && n > 0 {
            // The mark may straddle reads only in a file shorter than it.
            while n < 3 && buf[..n] == b"\xEF\xBB\xBF"[..n] {
                let more = self
                    .reader
                    .read(&mut buf[n..])
                    .await
                    .map_err(|e| self.error(e))?;
                if more == 0 {
                    break;
                }
                n += more;
            }
            self.first = false;
            if buf[..n].starts_with(b"\xEF\xBB\xBF") {
                buf.copy_within(3..n, 0);
                n -= 3;
                if n == 0 {
                    return Box::pin(self.read(buf)).await;
                }
            }
        }
        Ok(n)
    }

    /// Up to `max` bytes from the start (decompressed), and whether that is
    /// the whole file.
    pub(super) async fn sample(&mut self, max: usize) -> Result<(Vec<u8>, bool), ConnectorError> {
        let mut sample = vec![0; max];
        let mut len = 0;
        while len < max {
            let n = self.read(&mut sample[len..]).await?;
            if n == 0 {
                sample.truncate(len);
                return Ok((sample, true));
            }
            len += n;
        }
        // Full: the file is whole only if nothing follows.
        let mut probe = [0u8; 1];
        let eof = self.read(&mut probe).await? == 0;
        Ok((sample, eof))
    }

    /// Bytes taken from the store since the last call.
    pub(super) fn consumed_since(&mut self) -> u64 {
        let now = self.taken.load(Ordering::Relaxed);
        let delta = now.saturating_sub(self.reported);
        self.reported = now;
        delta
    }

    fn error(&self, e: std::io::Error) -> ConnectorError {
        let why = match e
            .get_ref()
            .map(|inner| inner.downcast_ref::<ConnectorError>())
        {
            // The store's own failure, kind and all.
            Some(Some(_)) => match e
                .into_inner()
                .map(|inner| inner.downcast::<ConnectorError>())
            {
                Some(Ok(store_error)) => return *store_error,
                _ => String::new(),
            },
            _ => e.to_string(),
        };
        let what = if self.gzip {
            "not a readable gzip file"
        } else {
            "cannot read the file"
        };
        ConnectorError::Failed(format!("{}: {what}: {why}", self.path))
    }
}
