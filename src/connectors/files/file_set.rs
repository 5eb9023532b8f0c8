//! A file set: the named selection of files (root, selected items, glob)
//! and format that one sync entity reads, from the sync's
//! `source_config.file_sets.<entity>` (the catalog's `*` resource
//! describes it as JSON Schema).

use std::collections::BTreeMap;

use arrow_schema::Field;
use globset::{GlobBuilder, GlobMatcher};
use serde_json::{Map, Value};

use super::{
    Entry, FileStore,
    formats::{self, Format},
    paths,
    selection::{self, Limits},
};
use crate::connectors::ConnectorError;

/// Key of the file sets in a sync's source_config.
pub const KEY: &str = "file_sets";
const DEFAULT_GLOB: &str = "**/*";

#[derive(Debug, Clone)]
pub struct FileSet {
    pub root: String,
    pub selected_items: Vec<String>,
    glob: GlobMatcher,
    pub format: Format,
    pub columns: Vec<Field>,
}

/// A violation of a file set's options: its field path below
/// `source_config` and why.
pub type Violation = (String, String);

/// Every file set of a sync's source_config, by entity.
pub fn parse_all(
    source_config: &Map<String, Value>,
) -> Result<BTreeMap<String, FileSet>, Vec<Violation>> {
    let mut sets = BTreeMap::new();
    let mut violations = Vec::new();
    match source_config.get(KEY) {
        None => {}
        Some(Value::Object(m)) => {
            for (name, options) in m {
                match FileSet::parse(options) {
                    Ok(s) => {
                        sets.insert(name.clone(), s);
                    }
                    Err(vs) => violations.extend(
                        vs.into_iter()
                            .map(|(f, why)| (format!("{KEY}.{name}.{f}"), why)),
                    ),
                }
            }
        }
        Some(_) => violations.push((KEY.into(), "must be an object: entity → file set".into())),
    }
    if violations.is_empty() {
        Ok(sets)
    } else {
        Err(violations)
    }
}

impl FileSet {
    pub fn parse(options: &Value) -> Result<Self, Vec<Violation>> {
        let mut v: Vec<Violation> = Vec::new();
        let Some(o) = options.as_object() else {
            return Err(vec![(
                String::new(),
                "must be an object (root_path, selected_items, glob, format, columns)".into(),
            )]);
        };
        for key in o.keys() {
            if !["root_path", "selected_items", "glob", "format", "columns"].contains(&key.as_str())
            {
                v.push((
                    key.clone(),
                    "is not a file set option (root_path, selected_items, glob, format, columns)"
                        .into(),
                ));
            }
        }
        let root = match o.get("root_path") {
            None => String::new(),
            Some(Value::String(s)) => paths::normalize(s).unwrap_or_else(|why| {
                v.push(("root_path".into(), why.to_string()));
                String::new()
            }),
            Some(_) => {
                v.push(("root_path".into(), "must be a string".into()));
                String::new()
            }
        };
        let mut selected_items = Vec::new();
        match o.get("selected_items") {
            None => {}
            Some(Value::Array(items)) if items.len() <= selection::MAX_SELECTED_ITEMS => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().map(paths::normalize) {
                        Some(Ok(p)) if paths::is_within(&root, &p) => selected_items.push(p),
                        Some(Ok(_)) => v.push((
                            format!("selected_items[{i}]"),
                            "is outside root_path".into(),
                        )),
                        Some(Err(why)) => v.push((format!("selected_items[{i}]"), why.to_string())),
                        None => v.push((format!("selected_items[{i}]"), "must be a string".into())),
                    }
                }
            }
            Some(_) => v.push((
                "selected_items".into(),
                format!(
                    "must be a list of at most {} paths",
                    selection::MAX_SELECTED_ITEMS
                ),
            )),
        }
        let glob_text = match o.get("glob") {
            None => DEFAULT_GLOB,
            Some(Value::String(s)) if !s.is_empty() && s.len() <= paths::MAX_PATH_BYTES => {
                s.as_str()
            }
            Some(_) => {
                v.push((
                    "glob".into(),
                    "must be a non-empty string of at most 1024 bytes".into(),
                ));
                DEFAULT_GLOB
            }
        };
        let glob = match GlobBuilder::new(glob_text).literal_separator(true).build() {
            Ok(g) => Some(g.compile_matcher()),
            Err(e) => {
                v.push(("glob".into(), format!("is not a glob: {}", e.kind())));
                None
            }
        };
        // Absent options are their defaults.
        let empty = Value::Object(Map::new());
        let format = Format::parse(o.get("format").unwrap_or(&empty)).map_err(|vs| {
            v.extend(vs.into_iter().map(|(f, why)| (format!("format.{f}"), why)));
        });
        let columns = formats::parse_columns(o.get("columns").unwrap_or(&empty)).map_err(|vs| {
            v.extend(vs.into_iter().map(|(f, why)| (format!("columns.{f}"), why)));
        });
        match (glob, format, columns) {
            (Some(glob), Ok(format), Ok(columns)) if v.is_empty() => Ok(Self {
                root,
                selected_items,
                glob,
                format,
                columns,
            }),
            _ => Err(v),
        }
    }

    /// The set's files in reading order: by (modified time, path).
    pub async fn files(&self, store: &dyn FileStore) -> Result<Vec<Entry>, ConnectorError> {
        let mut files = if self.selected_items.is_empty() {
            if store.stat(&self.root).await?.is_none() {
                return Err(ConnectorError::NotFound(format!(
                    "root_path '{}'",
                    self.root
                )));
            }
            store.walk(&self.root).await?
        } else {
            let r =
                selection::resolve(store, &self.root, &self.selected_items, Limits::none()).await?;
            if let Some(v) = r.violations.first() {
                return Err(ConnectorError::Config(format!(
                    "the file set's selection is no longer valid: {}{}",
                    v.message,
                    match r.violations.len() {
                        1 => String::new(),
                        n => format!(" (and {} more problems)", n - 1),
                    }
                )));
            }
            r.files
        };
        files.retain(|f| {
            let relative = f
                .path
                .strip_prefix(&self.root)
                .unwrap_or(&f.path)
                .trim_start_matches('/');
            self.glob.is_match(relative)
        });
        files.sort_by(|a, b| (a.modified_micros, &a.path).cmp(&(b.modified_micros, &b.path)));
        Ok(files)
    }
}
