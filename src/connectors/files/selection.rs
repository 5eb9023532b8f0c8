//! ValidateFileSelection: selected items resolved under a root, folders
//! expanded, each file counted once, and one violation per problem. The
//! same resolution lists a file set's files at run time.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Entry, EntryKind, FileStore, paths};
use crate::connectors::ConnectorError;

/// Defaults of the connection's `max_selection_*` settings.
pub const DEFAULT_MAX_ITEMS: u64 = 10_000;
pub const DEFAULT_MAX_BYTES: u64 = 1 << 40;
pub const DEFAULT_MAX_DEPTH: u64 = 20;
/// Items one request may select.
pub const MAX_SELECTED_ITEMS: usize = 1000;

/// How large a selection may be: the connection's `max_selection_items`,
/// `max_selection_bytes` and `max_selection_depth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_items: u64,
    pub max_bytes: u64,
    pub max_depth: u64,
}

impl Limits {
    pub fn of_config(config: &Map<String, Value>) -> Self {
        let get = |key: &str, default: u64| {
            config
                .get(key)
                .and_then(Value::as_u64)
                .filter(|n| *n >= 1)
                .unwrap_or(default)
        };
        Self {
            max_items: get("max_selection_items", DEFAULT_MAX_ITEMS),
            max_bytes: get("max_selection_bytes", DEFAULT_MAX_BYTES),
            max_depth: get("max_selection_depth", DEFAULT_MAX_DEPTH),
        }
    }

    /// No limit: a run reads every file its set names.
    pub fn none() -> Self {
        Self {
            max_items: u64::MAX,
            max_bytes: u64::MAX,
            max_depth: u64::MAX,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NotFound,
    OutsideRoot,
    EscapesRoot,
    InvalidPath,
    TooManyItems,
    TooManyBytes,
    TooDeep,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The selected item as given; empty for a limit of the whole selection.
    pub item: String,
    pub problem: Problem,
    pub message: String,
}

/// A resolved selection.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Every selected file once, by path.
    pub files: Vec<Entry>,
    pub total_bytes: u64,
    pub max_depth: u64,
    pub violations: Vec<Violation>,
}

/// Resolves `items` (paths relative to the store's root, as FileItem.id
/// gives them) under `root` (normalised). Expansion stops once a limit is
/// exceeded, so a bucket of millions of files is not walked to say so.
pub async fn resolve(
    store: &dyn FileStore,
    root: &str,
    items: &[String],
    limits: Limits,
) -> Result<Resolved, ConnectorError> {
    let mut out = Resolved::default();
    let mut files: BTreeMap<String, Entry> = BTreeMap::new();
    match store.stat(root).await? {
        Some(e) if e.kind == EntryKind::Folder => {}
        _ => {
            out.violations.push(Violation {
                item: String::new(),
                problem: Problem::NotFound,
                message: format!("root_path '{root}' is not a folder of this connection"),
            });
            return Ok(out);
        }
    }
    for item in items {
        let violation = |problem, message: String| Violation {
            item: item.clone(),
            problem,
            message: format!("'{item}' {message}"),
        };
        let path = match paths::normalize(item) {
            Ok(p) => p,
            Err(paths::PathError::Escapes) => {
                out.violations.push(violation(
                    Problem::EscapesRoot,
                    "climbs above the connection's root with '..'".into(),
                ));
                continue;
            }
            Err(e) => {
                out.violations
                    .push(violation(Problem::InvalidPath, e.to_string()));
                continue;
            }
        };
        if !paths::is_within(root, &path) {
            out.violations.push(violation(
                Problem::OutsideRoot,
                format!("is outside root_path '{root}'"),
            ));
            continue;
        }
        if files.len() as u64 > limits.max_items {
            continue;
        }
        let found = match store.stat(&path).await? {
            None => {
                out.violations
                    .push(violation(Problem::NotFound, "does not exist".into()));
                continue;
            }
            Some(e) if e.kind == EntryKind::File => vec![e],
            Some(_) => store.walk(&path).await?,
        };
        let mut deepest = 0;
        for f in found {
            let depth = paths::depth_below(root, &f.path) as u64;
            deepest = deepest.max(depth);
            out.max_depth = out.max_depth.max(depth);
            files.entry(f.path.clone()).or_insert(f);
        }
        if deepest > limits.max_depth {
            out.violations.push(violation(
                Problem::TooDeep,
                format!(
                    "reaches {deepest} folders below root_path, more than max_selection_depth {}",
                    limits.max_depth
                ),
            ));
        }
    }
    out.total_bytes = files.values().map(|f| f.size).sum();
    let count = files.len() as u64;
    if count > limits.max_items {
        out.violations.push(Violation {
            item: String::new(),
            problem: Problem::TooManyItems,
            message: format!(
                "selects more than max_selection_items {} files (at least {count})",
                limits.max_items
            ),
        });
    }
    if out.total_bytes > limits.max_bytes {
        out.violations.push(Violation {
            item: String::new(),
            problem: Problem::TooManyBytes,
            message: format!(
                "selects {} bytes, more than max_selection_bytes {}",
                out.total_bytes, limits.max_bytes
            ),
        });
    }
    out.files = files.into_values().collect();
    Ok(out)
}
