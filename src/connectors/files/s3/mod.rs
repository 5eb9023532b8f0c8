//! Amazon S3 and S3-compatible stores, through `object_store`. The store's
//! root is the connection's key prefix; folders are common prefixes.

mod errors;
mod listing;
mod settings;

use std::{
    collections::{BTreeMap, HashSet},
    ops::Range,
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::{
    BackoffConfig, ClientOptions, ObjectStoreExt, RetryConfig,
    aws::{AmazonS3, AmazonS3Builder},
    list::{PaginatedListOptions, PaginatedListStore},
    path::Path,
};

use self::settings::{Access, S3Settings};
use super::{ByteStream, Entry, EntryKind, FileStore, paths};
use crate::connectors::{ConnectorError, Settings};

/// The store of an `s3` connection.
pub fn open(s: &Settings<'_>) -> Result<Arc<dyn FileStore>, ConnectorError> {
    let settings = S3Settings::read(s.config, s.credentials)?;
    Ok(Arc::new(S3Store::new(settings, s.credentials.clone())?))
}

/// One bucket under a key prefix.
struct S3Store {
    s3: AmazonS3,
    bucket: String,
    /// The key prefix every path is under, normalised ("" is the bucket).
    root: String,
    /// Only to scrub messages (see `errors`).
    credentials: Arc<BTreeMap<String, String>>,
}

impl S3Store {
    fn new(s: S3Settings, credentials: BTreeMap<String, String>) -> Result<Self, ConnectorError> {
        // The total time of a request is not bounded: a read streams a file
        // of any size. A stalled connection is caught by the read timeout.
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(10))
            .with_timeout_disabled()
            .with_read_timeout(Duration::from_secs(60));
        // A few quick retries of a dropped request; the engine retries
        // transient failures of a run itself.
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: Duration::from_secs(30),
        };
        // `new`, not `from_env`: a connection never borrows the server's
        // own AWS credentials.
        let mut b = AmazonS3Builder::new()
            .with_client_options(client)
            .with_retry(retry)
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_virtual_hosted_style_request(!s.path_style)
            .with_allow_http(s.allow_http);
        if let Some(endpoint) = &s.endpoint {
            b = b.with_endpoint(endpoint);
        }
        b = match s.access {
            Access::Anonymous => b.with_skip_signature(true),
            Access::Key {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                let b = b
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                match session_token {
                    Some(t) => b.with_token(t),
                    None => b,
                }
            }
        };
        let s3 = b.build().map_err(|_| {
            ConnectorError::Config(
                "the S3 settings are not valid (bucket, region or endpoint URL)".into(),
            )
        })?;
        Ok(Self {
            s3,
            bucket: s.bucket,
            root: s.root,
            credentials: Arc::new(credentials),
        })
    }

    fn err(&self, e: &object_store::Error, what: &str) -> ConnectorError {
        errors::classify(e, &self.bucket, what, &self.credentials)
    }

    /// The key of `path` (relative to the root).
    fn key(&self, path: &str) -> String {
        paths::join(&self.root, path)
    }

    /// The object at `path`: a key object_store accepts, else it cannot exist.
    fn location(&self, path: &str) -> Result<Path, ConnectorError> {
        if path.is_empty() {
            return Err(ConnectorError::NotFound(
                "the root folder (not a file)".into(),
            ));
        }
        Path::parse(self.key(path)).map_err(|_| ConnectorError::NotFound(path.to_string()))
    }

    /// The prefix every key inside `folder` starts with ("" for the bucket).
    fn prefix_of(&self, folder: &str) -> String {
        match self.key(folder) {
            k if k.is_empty() => k,
            k => format!("{k}/"),
        }
    }

    /// One page of S3's listing under `prefix`, grouped into folders by
    /// '/' when `folders`: its entries in key order, each `path` relative
    /// to `prefix`, and the token of the next page.
    async fn page(
        &self,
        prefix: &str,
        folders: bool,
        offset: Option<String>,
        page_token: Option<String>,
        max_keys: usize,
        what: &str,
    ) -> Result<(Vec<Entry>, Option<String>), ConnectorError> {
        let opts = PaginatedListOptions {
            offset,
            delimiter: folders.then_some("/".into()),
            max_keys: Some(max_keys),
            page_token,
            ..Default::default()
        };
        let got = self
            .s3
            .list_paginated((!prefix.is_empty()).then_some(prefix), opts)
            .await
            .map_err(|e| self.err(&e, what))?;
        let name = |p: &Path| -> Option<String> {
            p.as_ref()
                .strip_prefix(prefix)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        };
        let mut out = Vec::new();
        for p in &got.result.common_prefixes {
            if let Some(path) = name(p) {
                out.push(folder_entry(&path));
            }
        }
        // A zero-byte "folder/" object (a console's folder marker) parses
        // as the folder itself, so `name` leaves it out.
        for o in &got.result.objects {
            if let Some(path) = name(&o.location) {
                out.push(Entry {
                    path,
                    kind: EntryKind::File,
                    size: o.size,
                    modified_micros: Some(o.last_modified.timestamp_micros()),
                });
            }
        }
        Ok((out, got.page_token))
    }

    /// Whether any key starts with `prefix` (a folder's, ending in '/'),
    /// the folder's own marker object included: an empty folder exists.
    async fn has_keys(&self, prefix: &str, what: &str) -> Result<bool, ConnectorError> {
        let opts = PaginatedListOptions {
            max_keys: Some(1),
            ..Default::default()
        };
        let got = self
            .s3
            .list_paginated(Some(prefix), opts)
            .await
            .map_err(|e| self.err(&e, what))?;
        Ok(!got.result.objects.is_empty() || !got.result.common_prefixes.is_empty())
    }
}

#[async_trait::async_trait]
impl FileStore for S3Store {
    async fn check(&self) -> Result<(), ConnectorError> {
        let prefix = self.prefix_of("");
        self.page(&prefix, true, None, None, 1, "")
            .await
            .map(|_| ())
    }

    // S3 lists with a delimiter from an offset (start-after) in key order;
    // see `listing` for how that becomes name order.
    async fn list(
        &self,
        folder: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entry>, ConnectorError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let prefix = self.prefix_of(folder);
        // Every entry named after `start_after` has a key after it too; the
        // folders named as a beginning of it that also come back are dropped.
        let offset = start_after.map(|s| format!("{prefix}{s}"));
        let after = |e: &Entry| start_after.is_none_or(|s| e.path.as_str() > s);
        let mut window = Vec::new();
        let mut last_key = String::new();
        let mut token = None;
        let complete = loop {
            let (entries, next) = self
                .page(
                    &prefix,
                    true,
                    offset.clone(),
                    token.take(),
                    limit + 1,
                    folder,
                )
                .await?;
            for e in entries {
                last_key = last_key.max(listing::key_of(&e.path, e.kind));
                if after(&e) {
                    window.push(e);
                }
            }
            match next {
                None => break true,
                Some(_) if window.len() > limit => break false,
                Some(t) => token = Some(t),
            }
        };
        if !complete {
            for name in listing::hidden_folders(&last_key) {
                let candidate = folder_entry(name);
                let seen = window
                    .iter()
                    .any(|e| e.path == name && e.kind == EntryKind::Folder);
                if after(&candidate)
                    && !seen
                    && self.has_keys(&format!("{prefix}{name}/"), folder).await?
                {
                    window.push(candidate);
                }
            }
        }
        listing::sort_by_name(&mut window);
        listing::truncate(&mut window, limit);
        if window.is_empty() && !folder.is_empty() && !self.has_keys(&prefix, folder).await? {
            return Err(ConnectorError::NotFound(folder.to_string()));
        }
        for e in &mut window {
            e.path = paths::join(folder, &e.path);
        }
        Ok(window)
    }

    /// One flat listing of every key below `folder`.
    async fn walk(&self, folder: &str) -> Result<Vec<Entry>, ConnectorError> {
        let prefix = self.prefix_of(folder);
        let mut files = Vec::new();
        let mut token = None;
        loop {
            let (entries, next) = self
                .page(&prefix, false, None, token.take(), 1000, folder)
                .await?;
            files.extend(entries);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        // A folder's marker object ("a/b/", a console's empty folder)
        // parses as a zero-byte file at the folder's path: only a HEAD of
        // that path tells them apart (a marker's key has the '/').
        let zero_byte: Vec<String> = files
            .iter()
            .filter(|f| f.size == 0)
            .map(|f| f.path.clone())
            .collect();
        let markers: HashSet<String> = futures::stream::iter(zero_byte)
            .map(|name| {
                let location = Path::parse(format!("{prefix}{name}"));
                async move {
                    match location {
                        Ok(l) => match self.s3.head(&l).await {
                            Ok(_) => Ok(None),
                            Err(object_store::Error::NotFound { .. }) => Ok(Some(name)),
                            Err(e) => Err(self.err(&e, folder)),
                        },
                        Err(_) => Ok(Some(name)),
                    }
                }
            })
            .buffer_unordered(8)
            .try_filter_map(|m| async move { Ok(m) })
            .try_collect()
            .await?;
        files.retain(|f| !markers.contains(&f.path));
        if files.is_empty() && !folder.is_empty() && !self.has_keys(&prefix, folder).await? {
            return Err(ConnectorError::NotFound(folder.to_string()));
        }
        for f in &mut files {
            f.path = paths::join(folder, &f.path);
        }
        // Stable: of a key "a/b" and a marker "a/b/", the key (listed
        // first) stays.
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|later, first| later.path == first.path);
        Ok(files)
    }

    async fn stat(&self, path: &str) -> Result<Option<Entry>, ConnectorError> {
        if path.is_empty() {
            return Ok(Some(folder_entry("")));
        }
        let Ok(location) = Path::parse(self.key(path)) else {
            return Ok(None);
        };
        match self.s3.head(&location).await {
            Ok(meta) => Ok(Some(Entry {
                path: path.to_string(),
                kind: EntryKind::File,
                size: meta.size,
                modified_micros: Some(meta.last_modified.timestamp_micros()),
            })),
            Err(object_store::Error::NotFound { .. }) => {
                let is_folder = self.has_keys(&self.prefix_of(path), path).await?;
                Ok(is_folder.then(|| folder_entry(path)))
            }
            Err(e) => Err(self.err(&e, path)),
        }
    }

    async fn read(&self, path: &str) -> Result<ByteStream, ConnectorError> {
        let location = self.location(path)?;
        let got = self
            .s3
            .get(&location)
            .await
            .map_err(|e| self.err(&e, path))?;
        let (bucket, what, credentials) = (
            self.bucket.clone(),
            path.to_string(),
            self.credentials.clone(),
        );
        Ok(got
            .into_stream()
            .map_err(move |e| errors::classify(&e, &bucket, &what, &credentials))
            .boxed())
    }

    async fn read_range(&self, path: &str, range: Range<u64>) -> Result<Bytes, ConnectorError> {
        let location = self.location(path)?;
        if range.is_empty() {
            // S3 has no empty range to ask for.
            return Ok(Bytes::new());
        }
        self.s3
            .get_range(&location, range)
            .await
            .map_err(|e| self.err(&e, path))
    }
}

fn folder_entry(path: &str) -> Entry {
    Entry {
        path: path.to_string(),
        kind: EntryKind::Folder,
        size: 0,
        modified_micros: None,
    }
}
