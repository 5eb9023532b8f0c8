//! The one source of every file store: verification through the store,
//! and (to come) file sets read into batches.

use std::sync::Arc;

use super::FileStore;
use crate::connectors::{ConnectorError, Source};

pub struct FileSource {
    store: Arc<dyn FileStore>,
}

impl FileSource {
    pub fn new(store: Arc<dyn FileStore>) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl Source for FileSource {
    async fn check(&self) -> Result<(), ConnectorError> {
        self.store.check().await
    }

    fn files(&self) -> Option<Arc<dyn FileStore>> {
        Some(self.store.clone())
    }
}
