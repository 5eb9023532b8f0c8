//! File store use cases: browsing a connection's files a page at a time,
//! and validating a selection of them.

use super::{Services, connections::connector_error};
use crate::{
    auth::Principal,
    connectors::{
        self,
        files::{
            Entry, FileStore, paths,
            selection::{self, Limits, MAX_SELECTED_ITEMS, Resolved},
        },
    },
    domain::paging::{Cursor, Page, SortValue},
    error::{Error, Result, Violations, invalid},
    store::list::PageOf,
};

/// A page of one folder.
pub struct FolderPage {
    /// The folder, normalised ("" is the root).
    pub path: String,
    pub page: PageOf<Entry>,
}

impl Services {
    /// The store of a file-store connection; other providers are
    /// FAILED_PRECONDITION, saying so.
    async fn file_store(
        &self,
        p: &Principal,
        id: String,
    ) -> Result<(std::sync::Arc<dyn FileStore>, Limits)> {
        let c = self.load_connection(p, id).await?;
        let config = crate::domain::json_object(&c.config);
        let creds = self.open(&c)?;
        let source =
            connectors::source(&self.settings(&c, &config, &creds)).map_err(connector_error)?;
        let store = source.files().ok_or_else(|| {
            Error::precondition(
                "NOT_A_FILE_STORE",
                format!(
                    "a {} connection has no files to browse; s3 and sftp connections do",
                    c.provider
                ),
            )
        })?;
        Ok((store, Limits::of_config(&config)))
    }

    pub async fn list_files(
        &self,
        p: &Principal,
        id: String,
        path: &str,
        page: &Page,
    ) -> Result<FolderPage> {
        let folder = paths::normalize(path).map_err(|why| invalid("path", why.to_string()))?;
        let (store, _) = self.file_store(p, id).await?;
        let after = page.after.as_ref().map(|c| c.id.as_str());
        let limit = page.limit as usize;
        let mut items = store
            .list(&folder, after, limit + 1)
            .await
            .map_err(connector_error)?;
        let has_next = items.len() > limit;
        items.truncate(limit);
        Ok(FolderPage {
            page: PageOf::new(items, 0, has_next, |e| Cursor {
                value: SortValue::Text(folder.clone()),
                id: e.name().to_string(),
            }),
            path: folder,
        })
    }

    pub async fn validate_file_selection(
        &self,
        p: &Principal,
        id: String,
        root_path: &str,
        items: &[String],
    ) -> Result<Resolved> {
        let mut v = Violations::new();
        let root = paths::normalize(root_path)
            .map_err(|why| v.add("root_path", why.to_string()))
            .ok();
        if items.is_empty() {
            v.add("selected_items", "must name at least one file or folder");
        } else if items.len() > MAX_SELECTED_ITEMS {
            v.add(
                "selected_items",
                format!(
                    "must hold at most {MAX_SELECTED_ITEMS} items; select their folder instead"
                ),
            );
        }
        v.check()?;
        let (store, limits) = self.file_store(p, id).await?;
        selection::resolve(store.as_ref(), &root.unwrap_or_default(), items, limits)
            .await
            .map_err(connector_error)
    }
}
