//! The file stores the file tests run against, behind one face: a fresh
//! bucket on the local S3 server, or a fresh folder on the local sshd.

use std::collections::HashMap;

use serde_json::{Value, json};
use tributary::pb;

use crate::{
    helpers::{TestApp, json_struct},
    s3_fixtures::{TestBucket, fresh_bucket, s3_endpoint},
    sftp_fixtures::{TestRoot, sftp_peer},
};

pub enum Peer {
    S3(TestBucket),
    Sftp(Box<TestRoot>),
}

impl Peer {
    /// A fresh bucket, or None when no S3 server is configured.
    pub async fn s3() -> Option<Self> {
        let endpoint = s3_endpoint()?;
        Some(Self::S3(fresh_bucket(&endpoint).await))
    }

    /// A fresh folder, or None when no sshd is configured.
    pub fn sftp() -> Option<Self> {
        Some(Self::Sftp(Box::new(sftp_peer()?.fresh_root())))
    }

    /// Both, where configured.
    pub async fn all() -> Vec<Self> {
        let mut peers = Vec::new();
        peers.extend(Self::s3().await);
        peers.extend(Self::sftp());
        peers
    }

    pub fn provider(&self) -> &'static str {
        match self {
            Self::S3(_) => "s3",
            Self::Sftp(_) => "sftp",
        }
    }

    /// Writes `path` (relative to the connection's root).
    pub async fn put(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        match self {
            Self::S3(b) => b.put(path, &bytes.into()).await,
            Self::Sftp(r) => {
                r.write(path, bytes.into());
            }
        }
    }

    /// A connection of this store, its config merged with `extra`.
    pub async fn connect(&self, app: &TestApp, extra: Value) -> pb::Connection {
        let (mut config, credentials): (serde_json::Map<String, Value>, HashMap<String, String>) =
            match self {
                Self::S3(b) => (b.config(""), b.credentials()),
                Self::Sftp(r) => (r.config(), r.credentials()),
            };
        if let Value::Object(extra) = extra {
            config.extend(extra);
        }
        app.connections()
            .create_connection(pb::CreateConnectionRequest {
                name: format!("{} files", self.provider()),
                provider: self.provider().into(),
                config: Some(json_struct(Value::Object(config))),
                credentials,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    }
}

/// A file set sync of `entity` over `set`, into `table`, in `mode`.
pub fn file_sync(
    connection_id: &str,
    entity: &str,
    set: Value,
    table: &str,
    mode: pb::LoadMode,
    batch_size: u64,
) -> pb::CreateSyncRequest {
    pb::CreateSyncRequest {
        name: table.into(),
        connection_id: connection_id.into(),
        entities: vec![entity.into()],
        source_config: Some(json_struct(json!({ "file_sets": { entity: set } }))),
        table_bindings: vec![pb::TableBinding {
            entity_key: entity.into(),
            physical_table_name: table.into(),
            load_mode: mode.into(),
            ..Default::default()
        }],
        execution_config: Some(json_struct(json!({ "batch_size": batch_size }))),
        ..Default::default()
    }
}
