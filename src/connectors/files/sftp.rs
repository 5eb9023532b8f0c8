//! SFTP servers, through `russh` and `russh-sftp`.

use std::sync::Arc;

use super::FileStore;
use crate::connectors::{ConnectorError, Settings};

/// The store of an `sftp` connection.
pub fn open(_s: &Settings<'_>) -> Result<Arc<dyn FileStore>, ConnectorError> {
    Err(ConnectorError::Unsupported(
        "sftp connections are not available in this version".into(),
    ))
}
