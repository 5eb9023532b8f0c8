//! Sync use cases.

use sea_orm::ConnectionTrait;

use super::{Services, check_id, request_scope, runs::new_run};
use crate::{
    auth::Principal,
    connectors::{catalog, http::manifest, registry},
    domain::{
        destination::{self, TableKey},
        enums::{
            ConnectionStatus, LoadMode, RunMode, SyncStatus, TableNamingVersion, TriggerMode,
            TriggeredBy,
        },
        limits, new_etag, new_id, now_micros,
        paging::{Order, Page},
        sync::{self as rules, SyncSpec},
    },
    error::{Error, Result, Violations},
    store::{
        self,
        connections::ConnectionRecord,
        idempotency, json_text,
        list::PageOf,
        runs::RunRecord,
        syncs::{BindingRow, Filter, Sort, SyncRecord, SyncRow},
    },
};

/// Applies the fields present in an update to the stored spec, adding violations.
pub type ApplyPatch = Box<dyn FnOnce(&mut SyncSpec, &mut Violations) + Send>;

/// The patch of UpdateSync: fields absent from the request are left as they are.
pub struct SyncPatch {
    pub apply: ApplyPatch,
    pub replace_bindings: bool,
    pub etag: String,
}

/// Where a sync writes, resolved: the destination connection's id ("" for
/// the default warehouse) and the schema inside it.
struct Target {
    destination: String,
    schema: String,
}

/// Adds a violation for every binding of `spec` whose destination table
/// (same destination, schema and name) another non-archived sync of the
/// workspace (but `except`) binds.
async fn check_tables_free(
    db: &impl ConnectionTrait,
    p: &Principal,
    spec: &SyncSpec,
    target: &Target,
    except: Option<&str>,
    v: &mut Violations,
) -> Result<()> {
    let used = store::syncs::tables_in_use(db, &p.workspace_id, except).await?;
    for (i, b) in spec.bindings.iter().enumerate() {
        let key = TableKey::new(&target.destination, &target.schema, &b.physical_table_name);
        if let Some(other) = used.get(&key) {
            v.add(
                format!("table_bindings[{i}].physical_table_name"),
                format!(
                    "'{}' is already bound by sync {other} in {} of this destination",
                    b.physical_table_name,
                    key.describe_schema()
                ),
            );
        }
    }
    Ok(())
}

/// When the scheduler fires a sync next: only ACTIVE SCHEDULED syncs have
/// slots. An update that leaves the schedule alone keeps the pending slot.
fn next_run_at(spec: &SyncSpec, old: Option<&SyncRecord>, now: i64) -> Option<i64> {
    let schedule = spec.schedule.as_ref()?;
    if spec.trigger_mode != TriggerMode::Scheduled || spec.status != SyncStatus::Active {
        return None;
    }
    let anchor = old.map_or(now, |o| o.sync.created_at);
    match old {
        Some(o)
            if o.sync.next_run_at.is_some()
                && o.sync.schedule.as_deref() == Some(json_text(schedule).as_str()) =>
        {
            o.sync.next_run_at
        }
        _ => crate::domain::schedule::next_slot(schedule, anchor, now),
    }
}

impl Services {
    pub async fn get_sync(&self, p: &Principal, id: String) -> Result<SyncRecord> {
        check_id("sync_id", &id)?;
        store::syncs::get(&self.store.read, &p.workspace_id, &id).await
    }

    pub async fn list_syncs(
        &self,
        p: &Principal,
        f: &Filter,
        sort: Sort,
        order: Order,
        page: &Page,
    ) -> Result<PageOf<SyncRecord>> {
        store::syncs::list(
            &self.store.read,
            &self.store.counts,
            &p.workspace_id,
            f,
            sort,
            order,
            page,
        )
        .await
    }

    /// Resolves `spec`'s destination: its destination connection must be one
    /// of the workspace's, of a provider that can be a destination.
    async fn target(&self, p: &Principal, spec: &SyncSpec, v: &mut Violations) -> Result<Target> {
        const FIELD: &str = "destination_connection_id";
        let schema = destination::schema_of(&spec.destination_config).to_string();
        let Some(id) = &spec.destination_connection_id else {
            return Ok(Target {
                destination: String::new(),
                schema,
            });
        };
        let unresolved = Target {
            destination: id.clone(),
            schema,
        };
        if !crate::domain::is_uuid(id) {
            v.add(FIELD, "must be a UUID");
            return Ok(unresolved);
        }
        let c = match store::connections::get(&self.store.read, &p.workspace_id, id).await {
            Ok(c) => c,
            Err(Error::NotFound { .. }) => {
                v.add(FIELD, "no connection with this id exists in the workspace");
                return Ok(unresolved);
            }
            Err(e) => return Err(e),
        };
        if !registry::support(&c.provider).destination {
            v.add(
                FIELD,
                format!(
                    "a {} connection cannot be a destination; {} connections can",
                    c.provider,
                    registry::destinations().join(" and ")
                ),
            );
            return Ok(unresolved);
        }
        if c.provider == "sqlite" && !unresolved.schema.is_empty() {
            v.add(
                "destination_config.schema",
                "a SQLite destination has no schemas: remove it, or use a connection per file",
            );
        }
        let config = crate::domain::json_object(&c.config);
        Ok(Target {
            destination: c.id,
            schema: destination::connection_schema(&spec.destination_config, &config),
        })
    }

    /// Validates a spec against its connection's catalog and the tables other
    /// syncs already bind; every violation is reported at once.
    async fn check_spec(
        &self,
        p: &Principal,
        spec: &mut SyncSpec,
        connection: &ConnectionRecord,
        creating: bool,
        except: Option<&str>,
        mut v: Violations,
    ) -> Result<Target> {
        let target = self.target(p, spec, &mut v).await?;
        let provider = connection.provider.as_str();
        let Some(cat) = catalog::get(provider) else {
            return Err(Error::precondition(
                "PROVIDER_UNKNOWN",
                format!("the connection's provider {provider} is no longer offered"),
            ));
        };
        // An http_api connection's resources are those of its own manifest.
        let own;
        let cat = if provider == registry::HTTP_API {
            let mut c = cat.clone();
            c.resources = manifest::catalog_resources(&serde_json::Value::Object(
                crate::domain::json_object(&connection.config),
            ));
            c.dynamic_resources = false;
            own = c;
            &own
        } else {
            cat
        };
        if let Err(Error::InvalidArgument(more)) = rules::validate(spec, cat, creating) {
            v.0.extend(more.0);
        }
        if cat.capabilities.files {
            check_file_sets(spec, &mut v);
        }
        check_tables_free(&self.store.read, p, spec, &target, except, &mut v).await?;
        v.check()?;
        Ok(target)
    }

    /// Checks again inside the writing `txn`, under the workspace's table
    /// lock, that no other sync bound `spec`'s tables since `check_spec` looked.
    async fn claim_tables(
        &self,
        txn: &store::tx::Tx,
        p: &Principal,
        spec: &SyncSpec,
        target: &Target,
        except: Option<&str>,
    ) -> Result<()> {
        store::syncs::lock_tables(txn, &p.workspace_id).await?;
        let mut v = Violations::new();
        check_tables_free(txn, p, spec, target, except, &mut v).await?;
        v.check()
    }

    fn rows(
        &self,
        p: &Principal,
        id: &str,
        spec: &SyncSpec,
        provider: &str,
        connection_id: &str,
        old: Option<&SyncRecord>,
    ) -> SyncRecord {
        let now = now_micros();
        let sync = SyncRow {
            id: id.to_string(),
            workspace_id: p.workspace_id.clone(),
            name: spec.name.clone(),
            slug: spec.slug.clone(),
            connection_id: connection_id.to_string(),
            provider_key: provider.to_string(),
            entities: json_text(&spec.entities),
            source_config: json_text(&spec.source_config),
            destination_config: json_text(&spec.destination_config),
            destination_connection_id: spec.destination_connection_id.clone(),
            execution_backend: spec.execution_backend,
            execution_mode: spec.execution_mode,
            execution_config: json_text(&spec.execution_config),
            freshness_sla_seconds: spec.freshness_sla_seconds,
            schedule: spec.schedule.as_ref().map(json_text),
            status: spec.status,
            trigger_mode: spec.trigger_mode,
            task_slug: spec.task_slug.clone(),
            last_error: old.and_then(|o| o.sync.last_error.clone()),
            last_success_at: old.and_then(|o| o.sync.last_success_at),
            next_run_at: next_run_at(spec, old, now),
            // The engine keeps it (see `store::freshness`).
            freshness_breached_at: old.and_then(|o| o.sync.freshness_breached_at),
            created_at: old.map_or(now, |o| o.sync.created_at),
            updated_at: now,
            created_by: old.map_or_else(|| p.key_id.clone(), |o| o.sync.created_by.clone()),
            updated_by: p.key_id.clone(),
            etag: old.map_or_else(new_etag, |o| o.sync.etag.clone()),
        };
        let bindings = spec
            .bindings
            .iter()
            .enumerate()
            .map(|(i, b)| {
                // A binding that survives an update keeps its id and creation time.
                let kept = old.and_then(|o| {
                    o.bindings.iter().find(|x| {
                        x.entity_key == b.entity_key
                            && x.physical_table_name == b.physical_table_name
                    })
                });
                BindingRow {
                    id: kept.map_or_else(new_id, |k| k.id.clone()),
                    sync_id: id.to_string(),
                    position: i as i64,
                    entity_key: b.entity_key.clone(),
                    source_instance_key: b.source_instance_key.clone(),
                    logical_table_name: b.logical_table_name.clone(),
                    physical_table_name: b.physical_table_name.clone(),
                    table_name: b.table_name.clone(),
                    primary_key_columns: json_text(&b.primary_key_columns),
                    cursor_field: b.cursor_field.clone(),
                    load_mode: b.load_mode.unwrap_or(LoadMode::Replace),
                    table_naming_version: b.table_naming_version.unwrap_or(TableNamingVersion::V2),
                    created_at: kept.map_or(now, |k| k.created_at),
                    updated_at: now,
                }
            })
            .collect();
        SyncRecord { sync, bindings }
    }

    /// Creates a sync; with ON_CREATE its first run is created in the same transaction.
    pub async fn create_sync(
        &self,
        p: &Principal,
        mut spec: SyncSpec,
        connection_id: String,
        request_id: String,
        v: Violations,
    ) -> Result<(SyncRecord, Option<RunRecord>)> {
        let mut v = v;
        let scope = request_scope(&p.key_id, "CreateSync", &request_id, &mut v);
        if let Some(scope) = &scope
            && let Some(existing) = idempotency::lookup(&self.store.read, scope).await?
        {
            return Ok((self.get_sync(p, existing).await?, None));
        }
        let connection = if connection_id.is_empty() {
            v.add("connection_id", "is required");
            None
        } else if !crate::domain::is_uuid(&connection_id) {
            v.add("connection_id", "must be a UUID");
            None
        } else {
            match store::connections::get(&self.store.read, &p.workspace_id, &connection_id).await {
                Ok(c) => Some(c),
                Err(Error::NotFound { .. }) => {
                    v.add(
                        "connection_id",
                        "no connection with this id exists in the workspace",
                    );
                    None
                }
                Err(e) => return Err(e),
            }
        };
        let Some(connection) = connection else {
            // Still report the spec's own violations alongside the connection's.
            rules::check_without_catalog(&spec, true, &mut v);
            return Err(Error::InvalidArgument(v));
        };
        let target = match self
            .check_spec(p, &mut spec, &connection, true, None, v)
            .await
        {
            Ok(target) => target,
            Err(e) => {
                // A repeat racing the first call may find the tables taken by
                // the very sync that call just committed: it returns that sync.
                if let Some(scope) = &scope
                    && let Some(existing) = idempotency::lookup(&self.store.write, scope).await?
                {
                    return Ok((self.get_sync(p, existing).await?, None));
                }
                return Err(e);
            }
        };
        rules::check_backend(spec.execution_backend)?;
        if spec.trigger_mode == TriggerMode::OnCreate
            && connection.status == ConnectionStatus::Disabled
        {
            return Err(Error::precondition(
                "CONNECTION_DISABLED",
                "an ON_CREATE sync would start a run, but its connection is disabled",
            ));
        }
        let id = new_id();
        let rec = self.rows(p, &id, &spec, &connection.provider, &connection.id, None);
        let txn = self.store.begin().await?;
        if let Some(scope) = &scope
            && !idempotency::claim(&txn, scope, &p.workspace_id, &id).await?
        {
            txn.rollback().await?;
            let s = self.repeat(scope, |id| self.get_sync(p, id)).await?;
            return Ok((s, None));
        }
        self.claim_tables(&txn, p, &spec, &target, None).await?;
        let rec = store::syncs::insert(&txn, rec).await?;
        let run = if spec.trigger_mode == TriggerMode::OnCreate {
            let run = new_run(
                &rec,
                TriggeredBy::OnCreate,
                RunMode::Incremental,
                String::new(),
                None,
            );
            Some(store::runs::insert(&txn, run).await?)
        } else {
            None
        };
        txn.commit().await?;
        Ok((rec, run))
    }

    pub async fn update_sync(
        &self,
        p: &Principal,
        id: String,
        patch: SyncPatch,
    ) -> Result<SyncRecord> {
        let old = self.get_sync(p, id).await?;
        if !patch.etag.is_empty() && patch.etag != old.sync.etag {
            return Err(Error::Aborted {
                reason: "ETAG_MISMATCH",
                message: "the sync changed since it was read; get it again and retry".into(),
            });
        }
        let mut spec = old.spec();
        let before = spec.entities.clone();
        let mut v = Violations::new();
        (patch.apply)(&mut spec, &mut v);
        if spec.status == SyncStatus::Error && old.sync.status != SyncStatus::Error {
            v.add("status", "ERROR is set by the engine, not by users");
        }
        // Bindings of deselected entities go; new entities get default bindings.
        if !patch.replace_bindings && spec.entities != before {
            spec.bindings
                .retain(|b| spec.entities.contains(&b.entity_key));
        }
        let connection = store::connections::find(&self.store.read, &old.sync.connection_id)
            .await?
            .ok_or_else(|| Error::not_found("connection", &old.sync.connection_id))?;
        let target = self
            .check_spec(p, &mut spec, &connection, false, Some(&old.sync.id), v)
            .await?;
        // A sync stored with a backend that has no executor may still be
        // renamed, paused or archived; it may not be moved to another such backend.
        if spec.execution_backend != old.sync.execution_backend {
            rules::check_backend(spec.execution_backend)?;
        }
        let rec = self.rows(
            p,
            &old.sync.id,
            &spec,
            &old.sync.provider_key,
            &old.sync.connection_id,
            Some(&old),
        );
        let txn = self.store.begin().await?;
        self.claim_tables(&txn, p, &spec, &target, Some(&old.sync.id))
            .await?;
        let rec = store::syncs::save(&txn, rec, &old.sync.etag, true).await?;
        txn.commit().await?;
        Ok(rec)
    }

    pub async fn delete_sync(&self, p: &Principal, id: String) -> Result<()> {
        let s = self.get_sync(p, id).await?;
        let txn = self.store.begin().await?;
        if let Some(run) = store::runs::active_for_sync(&txn, &s.sync.id).await? {
            return Err(Error::precondition(
                "RUN_IN_PROGRESS",
                format!(
                    "the sync has a run in progress: {}; cancel it first",
                    run.id
                ),
            ));
        }
        store::syncs::delete(&txn, &s.sync.workspace_id, &s.sync.id).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn trigger_sync(
        &self,
        p: &Principal,
        id: String,
        run_mode: Option<RunMode>,
        request_id: String,
    ) -> Result<RunRecord> {
        check_id("sync_id", &id)?;
        let mut v = Violations::new();
        let scope = request_scope(&p.key_id, "TriggerSync", &request_id, &mut v);
        v.check()?;
        if let Some(run) = self.repeated_run(p, scope.as_deref()).await? {
            return Ok(run);
        }
        let sync = self.get_sync(p, id).await?;
        let mode = run_mode.unwrap_or(RunMode::Incremental);
        let run = new_run(&sync, TriggeredBy::Manual, mode, p.key_id.clone(), None);
        self.start_run(p, scope.as_deref(), &sync, run, None).await
    }

    /// Forgets the cursors of `entities` (all when empty). Refused while a run is active.
    pub async fn reset_sync_state(
        &self,
        p: &Principal,
        id: String,
        entities: Vec<String>,
    ) -> Result<(SyncRecord, Vec<String>)> {
        let sync = self.get_sync(p, id).await?;
        let selected: Vec<String> = serde_json::from_str(&sync.sync.entities).unwrap_or_default();
        let mut v = Violations::new();
        limits::check_count(&entities, "entities", limits::MAX_ENTITIES, &mut v);
        for (i, e) in entities.iter().enumerate() {
            if !selected.contains(e) {
                v.add(
                    format!("entities[{i}]"),
                    format!("'{e}' is not one of the sync's entities"),
                );
            }
        }
        v.check()?;
        let targets = if entities.is_empty() {
            selected
        } else {
            entities
        };
        let txn = self.store.begin().await?;
        if let Some(run) = store::runs::active_for_sync(&txn, &sync.sync.id).await? {
            return Err(Error::precondition(
                "RUN_IN_PROGRESS",
                format!(
                    "the sync has a run in progress: {}; cancel it or wait before resetting",
                    run.id
                ),
            ));
        }
        store::syncs::reset_state(&txn, &sync.sync.id, &targets).await?;
        txn.commit().await?;
        Ok((sync, targets))
    }
}

/// A file store's entities are file sets: each described in
/// source_config.file_sets, each description an entity of the sync.
fn check_file_sets(spec: &SyncSpec, v: &mut Violations) {
    use crate::connectors::files::file_set::{self, KEY};
    let sets = match file_set::parse_all(&spec.source_config) {
        Ok(sets) => sets,
        Err(vs) => {
            for (field, why) in vs {
                v.add(format!("source_config.{field}"), why);
            }
            return;
        }
    };
    for (i, e) in spec.entities.iter().enumerate() {
        if e == crate::domain::catalog::TEMPLATE {
            v.add(
                format!("entities[{i}]"),
                "'*' is the template of file sets: name each file set",
            );
        } else if !sets.contains_key(e) {
            v.add(
                format!("entities[{i}]"),
                format!("'{e}' has no file set: describe it in source_config.{KEY}.{e} (root_path, selected_items or glob, format)"),
            );
        }
    }
    for name in sets.keys().filter(|n| !spec.entities.contains(n)) {
        v.add(
            format!("source_config.{KEY}.{name}"),
            format!("'{name}' is not one of the sync's entities"),
        );
    }
}
