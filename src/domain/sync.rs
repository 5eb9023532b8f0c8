//! Sync rules: the validation of CreateSync/UpdateSync, default bindings,
//! and which syncs may start a run.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    catalog::ProviderCatalog,
    connection::check_name,
    destination,
    enums::{
        ExecutionBackend, ExecutionMode, LoadMode, SyncStatus, TableNamingVersion, TriggerMode,
    },
    limits::{
        self, MAX_ENTITIES, MAX_FRESHNESS_SLA_SECONDS, MAX_KEY_BYTES, MAX_PRIMARY_KEY_COLUMNS,
        MAX_TABLE_BINDINGS,
    },
    load_order,
    lookback::{self, Lookback},
    schedule::{self, Schedule},
    slug,
};
use crate::error::{Error, Violations};

/// Default of execution_config.max_auto_resume_attempts.
pub const DEFAULT_MAX_AUTO_RESUME_ATTEMPTS: i64 = 3;

/// A sync's writable fields, after decoding and before validation.
#[derive(Debug, Clone)]
pub struct SyncSpec {
    pub name: String,
    pub slug: String,
    pub entities: Vec<String>,
    pub source_config: Map<String, Value>,
    pub destination_config: Map<String, Value>,
    /// A destination connection's id; None: the default warehouse.
    pub destination_connection_id: Option<String>,
    pub execution_backend: ExecutionBackend,
    pub execution_mode: ExecutionMode,
    pub execution_config: Map<String, Value>,
    pub freshness_sla_seconds: Option<i64>,
    pub schedule: Option<Schedule>,
    pub status: SyncStatus,
    pub trigger_mode: TriggerMode,
    pub task_slug: String,
    pub bindings: Vec<BindingSpec>,
}

/// One table binding; `None` fields take the catalog's defaults.
#[derive(Debug, Clone, Default)]
pub struct BindingSpec {
    pub entity_key: String,
    pub source_instance_key: String,
    pub logical_table_name: String,
    pub physical_table_name: String,
    pub table_name: String,
    pub primary_key_columns: Vec<String>,
    pub cursor_field: String,
    pub load_mode: Option<LoadMode>,
    pub table_naming_version: Option<TableNamingVersion>,
}

/// A SQL identifier every destination accepts unquoted.
pub fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && s.len() <= 63
}

/// A destination table name derived from an entity key ("public.orders" -> "public_orders").
pub fn table_name_for(entity: &str) -> String {
    let mut s: String = entity
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.as_bytes()[0].is_ascii_digit() {
        s.insert(0, '_');
    }
    s.truncate(63);
    s
}

/// Validates `spec` against the provider's catalog, filling defaults
/// (bindings, load modes, keys, cursors). Every violation is collected.
pub fn validate(
    spec: &mut SyncSpec,
    catalog: &ProviderCatalog,
    creating: bool,
) -> Result<(), Error> {
    let mut v = Violations::new();
    check_names(spec, &mut v);
    // Bounds first: of many violations only the first are sent.
    check_sizes(spec, &mut v);
    let bound = spec.bindings.len();

    // Entities: resources of the catalog unless it discovers them at run
    // time. A new sync that names none takes the catalog's defaults.
    if spec.entities.is_empty() && creating {
        spec.entities = catalog.default_resources();
    }
    if spec.entities.is_empty() {
        let why = if creating {
            format!(
                "must name at least one entity: provider {} selects none by default",
                catalog.provider
            )
        } else {
            "must name at least one entity".into()
        };
        v.add("entities", why);
    }
    let mut seen = HashSet::new();
    for (i, e) in spec.entities.iter().enumerate() {
        if e.trim().is_empty() {
            v.add(format!("entities[{i}]"), "must not be empty");
        } else if !seen.insert(e.as_str()) {
            v.add(format!("entities[{i}]"), format!("'{e}' is selected twice"));
        } else if !catalog.dynamic_resources && catalog.resource(e).is_none() {
            v.add(
                format!("entities[{i}]"),
                format!(
                    "'{e}' is not a resource of provider {}; see GetProviderCatalog",
                    catalog.provider
                ),
            );
        }
    }

    load_order::check_parents_selected(&spec.entities, catalog, &mut v);

    // Every selected entity lands somewhere: unbound ones get a default binding.
    for e in &spec.entities {
        if !e.trim().is_empty() && !spec.bindings.iter().any(|b| &b.entity_key == e) {
            spec.bindings.push(BindingSpec {
                entity_key: e.clone(),
                ..Default::default()
            });
        }
    }
    if spec.bindings.len() > MAX_TABLE_BINDINGS && bound <= MAX_TABLE_BINDINGS {
        v.add(
            "table_bindings",
            format!(
                "must hold at most {MAX_TABLE_BINDINGS} bindings; with a default binding for each entity not bound, there would be {}",
                spec.bindings.len()
            ),
        );
    }
    let mut tables = HashSet::new();
    for (i, b) in spec.bindings.iter_mut().enumerate() {
        let at = |f: &str| format!("table_bindings[{i}].{f}");
        let resource = catalog.resource_or_template(&b.entity_key);
        if !spec.entities.contains(&b.entity_key) {
            v.add(
                at("entity_key"),
                format!("'{}' is not one of the sync's entities", b.entity_key),
            );
        }
        if b.physical_table_name.is_empty() {
            b.physical_table_name = table_name_for(if b.source_instance_key.is_empty() {
                &b.entity_key
            } else {
                &b.source_instance_key
            });
        }
        if !is_identifier(&b.physical_table_name) {
            v.add(at("physical_table_name"), "must be a SQL identifier: a letter or '_', then letters, digits or '_', at most 63");
        } else if let Some(why) = destination::reserved(&b.physical_table_name) {
            v.add(
                at("physical_table_name"),
                format!("'{}' is reserved: {why}", b.physical_table_name),
            );
        } else if !tables.insert(b.physical_table_name.to_ascii_lowercase()) {
            v.add(
                at("physical_table_name"),
                format!(
                    "'{}' is bound twice in this destination",
                    b.physical_table_name
                ),
            );
        }
        if b.logical_table_name.is_empty() {
            b.logical_table_name = b.entity_key.clone();
        }
        if b.table_name.is_empty() {
            b.table_name = b.physical_table_name.clone();
        }
        let mode = *b.load_mode.get_or_insert_with(|| match resource {
            Some(r) => r.load_mode(),
            None => LoadMode::Replace,
        });
        b.table_naming_version.get_or_insert(TableNamingVersion::V2);
        if b.primary_key_columns.is_empty()
            && let Some(r) = resource
        {
            b.primary_key_columns = r.primary_key.clone();
        }
        for (k, col) in b.primary_key_columns.iter().enumerate() {
            if col.trim().is_empty() {
                v.add(
                    format!("table_bindings[{i}].primary_key_columns[{k}]"),
                    "must not be empty",
                );
            }
        }
        if mode == LoadMode::Upsert && b.primary_key_columns.is_empty() {
            v.add(
                at("primary_key_columns"),
                "UPSERT needs primary_key_columns to merge on",
            );
        }
        if b.cursor_field.is_empty()
            && let Some(r) = resource
        {
            b.cursor_field = r.cursor_field.clone();
        }
        // Incremental runs read APPEND_EVENT and UPSERT bindings from a cursor.
        if mode != LoadMode::Replace && b.cursor_field.is_empty() {
            v.add(
                at("cursor_field"),
                format!("{} loads read incrementally and need a cursor field; the catalog has none for '{}'", mode, b.entity_key),
            );
        }
    }

    check_settings(spec, creating, &mut v);
    check_lookback_bindings(spec, &mut v);
    v.check()
}

/// A sync's lookback against its bindings: it re-reads by a cursor, so at
/// least one binding must read incrementally by one, and an APPEND_EVENT
/// binding would append the re-read events a second time.
fn check_lookback_bindings(spec: &SyncSpec, v: &mut Violations) {
    let field = format!("source_config.{}", lookback::KEY);
    if !matches!(Lookback::of_config(&spec.source_config), Ok(Some(_))) {
        return;
    }
    let appending: Vec<String> = spec
        .bindings
        .iter()
        .enumerate()
        .filter(|(_, b)| b.load_mode == Some(LoadMode::AppendEvent))
        .map(|(i, b)| format!("table_bindings[{i}] ('{}')", b.entity_key))
        .collect();
    if !appending.is_empty() {
        v.add(
            &field,
            format!(
                "cannot apply to the APPEND_EVENT binding {}: re-reading the trailing window \
                 would append its events a second time; lookback needs UPSERT bindings",
                appending.join(", ")
            ),
        );
    } else if !spec
        .bindings
        .iter()
        .any(|b| b.load_mode == Some(LoadMode::Upsert) && !b.cursor_field.is_empty())
    {
        v.add(
            &field,
            "re-reads by a cursor field, and no binding reads incrementally by one \
             (an UPSERT binding with a cursor_field); a REPLACE binding reads in full every run",
        );
    }
}

/// The rules that need no catalog: what can still be reported when the
/// connection (and so the catalog) is unknown.
pub fn check_without_catalog(spec: &SyncSpec, creating: bool, v: &mut Violations) {
    check_names(spec, v);
    check_sizes(spec, v);
    check_settings(spec, creating, v);
}

fn check_names(spec: &SyncSpec, v: &mut Violations) {
    check_name(&spec.name, "name", v);
    if !spec.slug.is_empty()
        && let Err(why) = slug::check(&spec.slug)
    {
        v.add("slug", why);
    }
    if spec.task_slug.len() > 255 {
        v.add("task_slug", "must be at most 255 characters");
    }
}

fn check_settings(spec: &SyncSpec, creating: bool, v: &mut Violations) {
    if let Some(s) = &spec.schedule {
        schedule::check(s, "schedule", v);
    }
    if spec.trigger_mode == TriggerMode::Scheduled && spec.schedule.is_none() {
        v.add("schedule", "a SCHEDULED sync needs a schedule");
    }
    if let Some(sla) = spec.freshness_sla_seconds
        && !(1..=MAX_FRESHNESS_SLA_SECONDS).contains(&sla)
    {
        v.add(
            "freshness_sla_seconds",
            format!("must be between 1 and {MAX_FRESHNESS_SLA_SECONDS} (one year)"),
        );
    }
    if creating
        && !matches!(
            spec.status,
            SyncStatus::Draft | SyncStatus::Active | SyncStatus::Paused
        )
    {
        v.add("status", "a new sync is DRAFT, ACTIVE or PAUSED");
    }
    if let Err(why) = destination::check_schema(&spec.destination_config) {
        v.add("destination_config.schema", why);
    }
    check_execution_config(&spec.execution_config, v);
    if let Err(why) = Lookback::of_config(&spec.source_config) {
        v.add(format!("source_config.{}", lookback::KEY), why);
    }
}

/// The bounds of `limits` on a sync's free-form fields, counts and names:
/// the largest sync still encodes to a small part of one response.
fn check_sizes(spec: &SyncSpec, v: &mut Violations) {
    limits::check_json(&spec.source_config, "source_config", v);
    limits::check_json(&spec.destination_config, "destination_config", v);
    limits::check_json(&spec.execution_config, "execution_config", v);
    limits::check_count(&spec.entities, "entities", MAX_ENTITIES, v);
    for (i, e) in spec.entities.iter().enumerate() {
        limits::check_bytes(e, &format!("entities[{i}]"), MAX_KEY_BYTES, v);
    }
    limits::check_count(&spec.bindings, "table_bindings", MAX_TABLE_BINDINGS, v);
    for (i, b) in spec.bindings.iter().enumerate() {
        let at = |f: &str| format!("table_bindings[{i}].{f}");
        for (f, value) in [
            ("entity_key", &b.entity_key),
            ("source_instance_key", &b.source_instance_key),
            ("logical_table_name", &b.logical_table_name),
            ("table_name", &b.table_name),
            ("cursor_field", &b.cursor_field),
        ] {
            limits::check_bytes(value, &at(f), MAX_KEY_BYTES, v);
        }
        limits::check_count(
            &b.primary_key_columns,
            &at("primary_key_columns"),
            MAX_PRIMARY_KEY_COLUMNS,
            v,
        );
        for (k, col) in b.primary_key_columns.iter().enumerate() {
            limits::check_bytes(
                col,
                &format!("table_bindings[{i}].primary_key_columns[{k}]"),
                MAX_KEY_BYTES,
                v,
            );
        }
    }
}

fn check_execution_config(cfg: &Map<String, Value>, v: &mut Violations) {
    let int_in = |key: &str, lo: i64, hi: i64, v: &mut Violations| {
        if let Some(val) = cfg.get(key) {
            match val.as_i64() {
                Some(n) if (lo..=hi).contains(&n) => {}
                _ => v.add(
                    format!("execution_config.{key}"),
                    format!("must be an integer in {lo}..{hi}"),
                ),
            }
        }
    };
    int_in("max_auto_resume_attempts", 0, 100, v);
    int_in("max_concurrency", 1, 64, v);
    int_in("window_count", 1, 64, v);
    int_in("batch_size", 1, 100_000, v);
}

/// max_auto_resume_attempts of new runs of a sync.
pub fn max_auto_resume_attempts(execution_config: &Map<String, Value>) -> i64 {
    execution_config
        .get("max_auto_resume_attempts")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_MAX_AUTO_RESUME_ATTEMPTS)
}

/// Whether this deployment executes runs on `backend`: NATIVE runs are
/// claimed by `serve`'s executor or a `tributary worker`, EXTERNAL runs by
/// engines through ExecutorService. Nothing executes PREFECT or TEMPORAL
/// runs yet: they would stay PENDING and block every later run of the sync.
pub fn check_backend(backend: ExecutionBackend) -> Result<(), Error> {
    match backend {
        ExecutionBackend::Native | ExecutionBackend::External => Ok(()),
        ExecutionBackend::Prefect | ExecutionBackend::Temporal => Err(Error::precondition(
            "BACKEND_UNAVAILABLE",
            format!(
                "execution backend {} is not available in this deployment: nothing here would \
                 execute its runs; use NATIVE, or EXTERNAL with an engine that claims runs \
                 through ExecutorService",
                backend.as_str().to_ascii_uppercase()
            ),
        )),
    }
}

/// TriggerSync accepts DRAFT, ACTIVE and ERROR syncs.
pub fn check_triggerable(status: SyncStatus) -> Result<(), Error> {
    match status {
        SyncStatus::Draft | SyncStatus::Active | SyncStatus::Error => Ok(()),
        SyncStatus::Paused | SyncStatus::Archived => Err(Error::precondition(
            "SYNC_NOT_RUNNABLE",
            format!("a {status} sync cannot run; set it ACTIVE first"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier("orders_2024"));
        assert!(is_identifier("_x"));
        assert!(!is_identifier("2x"));
        assert!(!is_identifier("a-b"));
        assert!(!is_identifier(""));
        assert!(!is_identifier(&"a".repeat(64)));
        assert_eq!(table_name_for("public.orders"), "public_orders");
        assert_eq!(table_name_for("2024-data"), "_2024_data");
    }

    #[test]
    fn trigger_rules() {
        assert!(check_triggerable(SyncStatus::Draft).is_ok());
        assert!(check_triggerable(SyncStatus::Error).is_ok());
        assert!(check_triggerable(SyncStatus::Paused).is_err());
        assert!(check_triggerable(SyncStatus::Archived).is_err());
    }

    #[test]
    fn only_backends_with_an_executor_are_accepted() {
        assert!(check_backend(ExecutionBackend::Native).is_ok());
        assert!(check_backend(ExecutionBackend::External).is_ok());
        for b in [ExecutionBackend::Prefect, ExecutionBackend::Temporal] {
            match check_backend(b) {
                Err(Error::FailedPrecondition { reason, message }) => {
                    assert_eq!(reason, "BACKEND_UNAVAILABLE");
                    assert!(
                        message.contains(&b.as_str().to_ascii_uppercase()),
                        "{message}"
                    );
                }
                other => panic!("{b}: {other:?}"),
            }
        }
    }
}
