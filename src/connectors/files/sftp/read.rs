//! A file's bytes over SFTP: reads of `read_len` bytes, a few in flight at
//! once (a round trip per read would cap throughput at read_len / RTT),
//! yielded in order, so memory stays bounded by PIPELINE reads.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt, stream};
use russh_sftp::{client::error::Error as SftpError, protocol::StatusCode};

use super::connect::Session;

/// Reads in flight at once.
const PIPELINE: usize = 8;

/// An open remote handle (a file or a folder), closed when dropped.
pub(super) struct OpenHandle {
    pub session: Arc<Session>,
    pub handle: String,
}

impl Drop for OpenHandle {
    fn drop(&mut self) {
        let session = self.session.clone();
        let handle = std::mem::take(&mut self.handle);
        // Closing needs a round trip; a server also frees handles when the
        // session ends, so a missed close (no runtime) leaks nothing lasting.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = session.sftp.close(handle).await;
            });
        }
    }
}

fn is_eof(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::Eof)
}

/// The bytes of `file` from `start` up to `end` (exclusive; None: to the
/// end of the file), in chunks of at most the session's read length.
pub(super) fn chunks(
    file: Arc<OpenHandle>,
    start: u64,
    end: Option<u64>,
) -> impl Stream<Item = Result<Bytes, SftpError>> + Send + 'static {
    let step = u64::from(file.session.read_len);
    let limit = end.unwrap_or(u64::MAX);
    let requests = {
        let file = file.clone();
        stream::iter((0u64..).map(move |i| start.saturating_add(i.saturating_mul(step))))
            .take_while(move |off| std::future::ready(*off < limit))
            .map(move |off| {
                let file = file.clone();
                let len = (limit - off).min(step) as u32;
                async move {
                    let result = file.session.sftp.read(file.handle.as_str(), off, len).await;
                    (off, len, result)
                }
            })
            .buffered(PIPELINE)
    };
    async_stream::try_stream! {
        let mut requests = std::pin::pin!(requests);
        'reads: while let Some((off, len, result)) = requests.next().await {
            let data = match result {
                Ok(d) => d.data,
                Err(e) if is_eof(&e) => break,
                Err(e) => Err(e)?,
            };
            let mut at = off + data.len() as u64;
            if !data.is_empty() {
                yield Bytes::from(data);
            }
            // A short answer that is not the end: read the rest of this
            // request's span before the next one's bytes.
            let span_end = off + u64::from(len);
            while at < span_end {
                let want = (span_end - at) as u32;
                match file.session.sftp.read(file.handle.as_str(), at, want).await {
                    Ok(d) if d.data.is_empty() => break 'reads,
                    Ok(d) => {
                        at += d.data.len() as u64;
                        yield Bytes::from(d.data);
                    }
                    Err(e) if is_eof(&e) => break 'reads,
                    Err(e) => Err(e)?,
                }
            }
        }
    }
}
