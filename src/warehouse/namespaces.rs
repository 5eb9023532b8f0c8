//! The server's warehouse, split into namespaces: every workspace writes
//! into its own, and a sync's `destination_config.schema` picks one inside
//! it, so two workspaces never share a table.
//!
//! SQLite layout, for the warehouse URL's file R (default
//! `<data-dir>/warehouse.db`) and D, R's directory plus R's file stem
//! (`<data-dir>/warehouse/`):
//!
//! - workspace W's default schema is `D/<W>.db`;
//! - its schema S is `D/<W>/<S>.db`;
//! - workspace `default` keeps its default schema in R itself, where every
//!   table lived before namespaces, so existing data stays where it was.
//!
//! PostgreSQL layout, for a `postgres://` URL: one database, a schema per
//! namespace: `ws_<W without hyphens>` for workspace W's default schema
//! (workspace `default` included: nothing lived there before), and
//! `ws_<W without hyphens>__<S>` for its schema S.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use tokio::sync::OnceCell;

use super::{
    Destination, DestinationError, Result,
    postgres::{MAX_IDENT_BYTES, PostgresWarehouse, parse_url},
    sqlite::{self, SqliteWarehouse},
};
use crate::{
    connectors::postgres::connect::ConnectOptions, domain::destination::check_schema_name,
};

/// The warehouse named by `--warehouse-url`, one destination per namespace,
/// each opened on first use and kept open.
pub struct Warehouse {
    root: Root,
    /// Workspace `default`'s id: its default schema is the root file.
    default_workspace: Option<String>,
    /// One cell per namespace, so that concurrent first uses open one pool.
    open: Mutex<HashMap<Namespace, Arc<Opened>>>,
}

/// A namespace's destination, once opened.
type Opened = OnceCell<Arc<dyn Destination>>;

/// Where the namespaces' files are.
enum Root {
    /// `url`'s options (their file is R) and the directory D.
    File {
        url: String,
        opts: Box<SqliteConnectOptions>,
        dir: PathBuf,
    },
    /// Every namespace is a fresh in-memory database (tests, benches).
    Memory { url: String },
    /// Every namespace is a schema of this PostgreSQL database.
    Postgres { options: Box<ConnectOptions> },
}

/// A workspace's default schema (`schema` "") or one of its named schemas.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Namespace {
    /// The workspace id as a hyphenated UUID: safe in a path.
    workspace: String,
    /// "" or a checked schema name: safe in a path.
    schema: String,
}

impl Warehouse {
    /// The warehouse at `url` (`sqlite://PATH` or `postgres://…`);
    /// `default_workspace` is the id of workspace `default`, whose default
    /// schema is PATH itself in SQLite. Only the URL is checked here:
    /// namespaces open on first use.
    pub fn new(url: &str, default_workspace: Option<String>) -> Result<Self> {
        let root = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Root::Postgres {
                options: Box::new(parse_url(url)?),
            }
        } else if !url.starts_with("sqlite:") {
            return Err(DestinationError::failed(
                "the warehouse URL must start with sqlite:// or postgres://",
            ));
        } else if sqlite::is_memory(url) {
            sqlite::parse_url(url)?;
            Root::Memory { url: url.into() }
        } else {
            let opts = sqlite::parse_url(url)?;
            let dir = namespace_dir(opts.get_filename());
            Root::File {
                url: url.into(),
                opts: Box::new(opts),
                dir,
            }
        };
        let default_workspace = match default_workspace {
            Some(id) => Some(canonical_id(&id)?),
            None => None,
        };
        Ok(Self {
            root,
            default_workspace,
            open: Mutex::default(),
        })
    }

    /// The destination of `workspace_id`'s schema `schema` ("" for its
    /// default schema), opened (and created) on first use.
    pub async fn namespace(
        &self,
        workspace_id: &str,
        schema: &str,
    ) -> Result<Arc<dyn Destination>> {
        if !schema.is_empty() {
            check_schema_name(schema).map_err(|why| {
                DestinationError::failed(format!("the destination schema {schema:?} {why}"))
            })?;
        }
        let ns = Namespace {
            workspace: canonical_id(workspace_id)?,
            schema: schema.to_string(),
        };
        let cell = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(ns.clone())
            .or_default()
            .clone();
        // A failed open leaves the cell empty: the next run tries again.
        let w = cell.get_or_try_init(|| self.open_namespace(&ns)).await?;
        Ok(w.clone())
    }

    async fn open_namespace(&self, ns: &Namespace) -> Result<Arc<dyn Destination>> {
        let w = match &self.root {
            Root::Postgres { options } => {
                let schema = pg_schema(ns)?;
                let w = PostgresWarehouse::open_with(options.as_ref().clone(), &schema).await?;
                return Ok(Arc::new(w));
            }
            Root::Memory { url } => SqliteWarehouse::open(url).await?,
            Root::File { url, opts, .. } => match self.path_of(ns) {
                None => SqliteWarehouse::open_with(opts.as_ref().clone(), url).await?,
                Some(path) => {
                    if let Some(parent) = path.parent() {
                        tokio::fs::create_dir_all(parent).await.map_err(|e| {
                            DestinationError::failed(format!(
                                "cannot create the warehouse directory {}: {e}",
                                parent.display()
                            ))
                        })?;
                    }
                    let label = path.display().to_string();
                    SqliteWarehouse::open_with(opts.as_ref().clone().filename(&path), &label)
                        .await?
                }
            },
        };
        Ok(Arc::new(w))
    }

    /// The file of a namespace; None for the root file itself.
    fn path_of(&self, ns: &Namespace) -> Option<PathBuf> {
        let Root::File { dir, .. } = &self.root else {
            return None;
        };
        if ns.schema.is_empty() {
            (self.default_workspace.as_deref() != Some(ns.workspace.as_str()))
                .then(|| dir.join(format!("{}.db", ns.workspace)))
        } else {
            Some(dir.join(&ns.workspace).join(format!("{}.db", ns.schema)))
        }
    }
}

/// D: the root file's directory plus its stem (`warehouse.db` ->
/// `warehouse/`); a root without an extension gets `<name>.d/`.
pub fn namespace_dir(file: &Path) -> PathBuf {
    match (file.file_stem(), file.extension()) {
        (Some(stem), Some(_)) => file.with_file_name(stem),
        _ => {
            let mut name = file.as_os_str().to_owned();
            name.push(".d");
            PathBuf::from(name)
        }
    }
}

/// The PostgreSQL schema of a namespace: `ws_<id>` or `ws_<id>__<schema>`,
/// refused when PostgreSQL would truncate it (two long names could then
/// meet in one schema).
fn pg_schema(ns: &Namespace) -> Result<String> {
    let id = ns.workspace.replace('-', "");
    let name = if ns.schema.is_empty() {
        format!("ws_{id}")
    } else {
        format!("ws_{id}__{}", ns.schema)
    };
    if name.len() > MAX_IDENT_BYTES {
        return Err(DestinationError::failed(format!(
            "the destination schema {:?} is too long for a PostgreSQL warehouse: \
             {name} has more than {MAX_IDENT_BYTES} bytes",
            ns.schema
        )));
    }
    Ok(name)
}

/// A workspace id as the hyphenated UUID it must be: it becomes a file name.
fn canonical_id(id: &str) -> Result<String> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| DestinationError::failed(format!("the workspace id {id:?} is not a UUID")))
}

#[cfg(test)]
#[path = "namespaces_tests.rs"]
mod tests;
