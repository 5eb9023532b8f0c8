//! Connection use cases.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Services, check_id, request_scope, retry_conflicts};
use crate::{
    auth::Principal,
    auth::connection_secrets,
    connectors::{self, ColumnInfo, ConnectorError, Settings, TableInfo, catalog},
    domain::{
        catalog::ProviderCatalog,
        connection::{self as rules, check_name, check_slug},
        connector_settings::{self as cs, ConnectorSettings, RateLimitUnit, Variable},
        enums::{ConnectionStatus, Role},
        limits, new_etag, new_id, now_micros,
        paging::{Cursor, Page, SortValue},
        run::CancelRequest,
    },
    error::{Error, Result, Violations, invalid},
    store::{self, connections::ConnectionRecord, counts, idempotency, json_text, list::PageOf},
    warehouse,
};

pub struct NewConnection {
    pub name: String,
    pub provider: String,
    pub config: Map<String, Value>,
    pub credentials: BTreeMap<String, String>,
    pub slug: String,
    pub is_default: bool,
    pub request_id: String,
    /// Secret variable values in the clear.
    pub settings: ConnectorSettings,
}

/// Fields present are changed; `credentials` replaces the whole map.
pub struct ConnectionPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub config: Option<Map<String, Value>>,
    pub credentials: Option<BTreeMap<String, String>>,
    pub etag: String,
    /// "" clears it.
    pub timezone: Option<String>,
    /// "" clears it.
    pub date_format: Option<String>,
    /// `Some(None)` clears it.
    pub rate_limit_unit: Option<Option<RateLimitUnit>>,
    /// 0 clears it.
    pub rate_limit_duration: Option<i32>,
    /// Replaces every variable; a secret one without a value keeps its own.
    pub variables: Option<Vec<Variable>>,
}

impl ConnectionPatch {
    fn changes_settings(&self) -> bool {
        self.timezone.is_some()
            || self.date_format.is_some()
            || self.rate_limit_unit.is_some()
            || self.rate_limit_duration.is_some()
            || self.variables.is_some()
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Only an admin key may add, change or remove a locked variable.
fn check_locks(p: &Principal, old: &[Variable], new: &[Variable]) -> Result<()> {
    match cs::locked_change(old, new) {
        Some(key) if p.role != Role::Admin => Err(Error::PermissionDenied(format!(
            "variable '{key}' is locked: only an admin key may add, change or remove it"
        ))),
        _ => Ok(()),
    }
}
pub use crate::auth::connection_secrets::stored_variables;

fn provider(key: &str, v: &mut Violations) -> Option<&'static ProviderCatalog> {
    if key.is_empty() {
        v.add("provider", "is required");
        return None;
    }
    let c = catalog::get(key);
    if c.is_none() {
        v.add(
            "provider",
            format!("'{key}' is not a provider; see CatalogService.ListProviders"),
        );
    }
    c
}

/// The bounds of `limits` on config and credentials, as sent (before the
/// provider's defaults); false when one is broken, so that the provider's
/// schemas are not run over an oversized value.
fn check_sizes(
    config: Option<&Map<String, Value>>,
    credentials: Option<&BTreeMap<String, String>>,
    v: &mut Violations,
) -> bool {
    let before = v.0.len();
    if let Some(config) = config {
        limits::check_json(config, "config", v);
    }
    if let Some(credentials) = credentials {
        limits::check_credentials(credentials, "credentials", v);
    }
    v.0.len() == before
}

impl Services {
    fn seal(&self, creds: &BTreeMap<String, String>) -> Result<Option<String>> {
        if creds.is_empty() {
            Ok(None)
        } else {
            self.secrets.seal(creds).map(Some).map_err(Error::internal)
        }
    }

    /// The connector settings of `c`, secret variable values in the clear.
    pub(super) fn open_settings(&self, c: &ConnectionRecord) -> Result<ConnectorSettings> {
        connection_secrets::settings(c, &self.secrets).map_err(Error::internal)
    }

    /// Writes `s` into `c`, the secret variable values sealed apart.
    fn put_settings(&self, c: &mut ConnectionRecord, s: ConnectorSettings) -> Result<()> {
        let (stored, secrets) = cs::split_secrets(s.variables);
        c.timezone = s.timezone;
        c.date_format = s.date_format;
        c.rate_limit_unit = s.rate_limit_unit.map(|u| u.as_str().to_string());
        c.rate_limit_duration = s.rate_limit_duration;
        c.variables = serde_json::to_string(&stored).map_err(Error::internal)?;
        c.variables_ciphertext = self.seal(&secrets)?;
        Ok(())
    }

    pub(super) fn open(&self, c: &ConnectionRecord) -> Result<BTreeMap<String, String>> {
        connection_secrets::credentials(c, &self.secrets).map_err(Error::internal)
    }

    pub async fn create_connection(
        &self,
        p: &Principal,
        input: NewConnection,
    ) -> Result<ConnectionRecord> {
        let mut v = Violations::new();
        check_name(&input.name, "name", &mut v);
        check_slug(&input.slug, "slug", &mut v);
        let scope = request_scope(&p.key_id, "CreateConnection", &input.request_id, &mut v);
        let sized = check_sizes(Some(&input.config), Some(&input.credentials), &mut v);
        cs::check(&input.settings, &mut v);
        let config = match provider(&input.provider, &mut v) {
            Some(cat) => {
                let config = rules::with_defaults(cat, input.config);
                if sized {
                    rules::check_settings(cat, &config, &input.credentials, &mut v);
                    check_manifest(cat, &config, &mut v);
                }
                config
            }
            None => input.config,
        };
        v.check()?;
        check_locks(p, &[], &input.settings.variables)?;
        connectors::permitted(&input.provider, &self.local_files).map_err(connector_error)?;

        let now = now_micros();
        let mut rec = ConnectionRecord {
            id: new_id(),
            workspace_id: p.workspace_id.clone(),
            name: input.name,
            slug: input.slug,
            provider: input.provider,
            config: json_text(&config),
            credentials_ciphertext: self.seal(&input.credentials)?,
            status: ConnectionStatus::NeedsVerification,
            verification_error: None,
            is_default: input.is_default,
            is_from_template: false,
            created_at: now,
            updated_at: now,
            created_by: p.key_id.clone(),
            updated_by: p.key_id.clone(),
            last_used_at: None,
            last_verified_at: None,
            etag: new_etag(),
            timezone: None,
            date_format: None,
            rate_limit_unit: None,
            rate_limit_duration: None,
            variables: "[]".into(),
            variables_ciphertext: None,
        };
        self.put_settings(&mut rec, input.settings)?;
        retry_conflicts(|| async {
            let txn = self.store.begin().await?;
            if let Some(scope) = &scope
                && !idempotency::claim(&txn, scope, &p.workspace_id, &rec.id).await?
            {
                txn.rollback().await?;
                return self.repeat(scope, |id| self.load_connection(p, id)).await;
            }
            let rec = store::connections::insert(&txn, rec.clone()).await?;
            txn.commit().await?;
            Ok(rec)
        })
        .await
    }

    /// The first call's resource for a repeated request_id.
    pub(crate) async fn repeat<T, F, Fut>(&self, scope: &str, get: F) -> Result<T>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let id = idempotency::lookup(&self.store.write, scope)
            .await?
            .ok_or_else(|| Error::internal(anyhow::anyhow!("idempotency record vanished")))?;
        get(id).await
    }

    /// GetConnection: served from the read cache when it can be.
    pub async fn get_connection(&self, p: &Principal, id: String) -> Result<ConnectionRecord> {
        check_id("connection_id", &id)?;
        let scope = (p.workspace_id.as_str(), counts::CONNECTIONS);
        self.store
            .cache
            .get_or_load(scope, format!("get {id}"), || {
                store::connections::get(&self.store.read, &p.workspace_id, &id)
            })
            .await
    }

    /// The stored connection, for a read-modify-write: never from a cache.
    pub(super) async fn load_connection(
        &self,
        p: &Principal,
        id: String,
    ) -> Result<ConnectionRecord> {
        check_id("connection_id", &id)?;
        store::connections::get(&self.store.read, &p.workspace_id, &id).await
    }

    pub async fn get_connection_by_slug(
        &self,
        p: &Principal,
        slug: &str,
    ) -> Result<ConnectionRecord> {
        if slug.is_empty() {
            return Err(invalid("slug", "is required"));
        }
        // A malformed slug cannot name anything.
        crate::domain::slug::check(slug).map_err(|why| invalid("slug", why))?;
        store::connections::get_by_slug(&self.store.read, &p.workspace_id, slug).await
    }

    pub async fn update_connection(
        &self,
        p: &Principal,
        id: String,
        patch: ConnectionPatch,
    ) -> Result<ConnectionRecord> {
        let mut c = self.load_connection(p, id).await?;
        if !patch.etag.is_empty() && patch.etag != c.etag {
            return Err(Error::Aborted {
                reason: "ETAG_MISMATCH",
                message: "the connection changed since it was read; get it again and retry".into(),
            });
        }
        let mut v = Violations::new();
        if let Some(name) = &patch.name {
            check_name(name, "name", &mut v);
        }
        if let Some(slug) = &patch.slug {
            if slug.is_empty() {
                v.add("slug", "must not be empty");
            }
            check_slug(slug, "slug", &mut v);
        }
        let connector_settings = if patch.changes_settings() {
            let mut s = self.open_settings(&c)?;
            let old = std::mem::take(&mut s.variables);
            s.variables = match patch.variables.clone() {
                Some(new) => cs::keep_secret_values(&old, new),
                None => old.clone(),
            };
            check_locks(p, &old, &s.variables)?;
            if let Some(tz) = patch.timezone.clone() {
                s.timezone = non_empty(tz);
            }
            if let Some(f) = patch.date_format.clone() {
                s.date_format = non_empty(f);
            }
            if let Some(unit) = patch.rate_limit_unit {
                s.rate_limit_unit = unit;
            }
            if let Some(d) = patch.rate_limit_duration {
                s.rate_limit_duration = (d != 0).then_some(d);
            }
            cs::check(&s, &mut v);
            Some(s)
        } else {
            None
        };
        // Manifests read variables in auth headers and paths: a change may
        // break (or mend) the connection, as a config change may.
        let settings_changed =
            patch.config.is_some() || patch.credentials.is_some() || patch.variables.is_some();
        let sized = check_sizes(patch.config.as_ref(), patch.credentials.as_ref(), &mut v);
        let cat = provider(&c.provider, &mut v);
        let config = patch.config.map(|cfg| {
            cat.map(|cat| rules::with_defaults(cat, cfg.clone()))
                .unwrap_or(cfg)
        });
        if settings_changed
            && sized
            && let Some(cat) = cat
        {
            let config = config
                .clone()
                .unwrap_or_else(|| crate::domain::json_object(&c.config));
            let creds = match &patch.credentials {
                Some(creds) => creds.clone(),
                None => self.open(&c)?,
            };
            rules::check_settings(cat, &config, &creds, &mut v);
            check_manifest(cat, &config, &mut v);
        }
        v.check()?;
        // New settings may point at a file: refused up front when this server
        // could never open one. Renames need no file and stay possible.
        if settings_changed {
            connectors::permitted(&c.provider, &self.local_files).map_err(connector_error)?;
        }

        let etag = c.etag.clone();
        if let Some(name) = patch.name {
            c.name = name;
        }
        if let Some(slug) = patch.slug {
            c.slug = slug;
        }
        if let Some(config) = config {
            c.config = json_text(&config);
        }
        if let Some(creds) = &patch.credentials {
            c.credentials_ciphertext = self.seal(creds)?;
        }
        if let Some(s) = connector_settings {
            self.put_settings(&mut c, s)?;
        }
        if settings_changed && c.status != ConnectionStatus::Disabled {
            c.status = ConnectionStatus::NeedsVerification;
            c.verification_error = None;
        }
        c.updated_by = p.key_id.clone();
        self.save_connection(c, &etag).await
    }

    /// Writes one connection in a transaction of its own (see `store::tx`).
    async fn save_connection(&self, c: ConnectionRecord, etag: &str) -> Result<ConnectionRecord> {
        let tx = self.store.begin().await?;
        let c = store::connections::save(&tx, c, etag).await?;
        tx.commit().await?;
        Ok(c)
    }

    pub async fn delete_connection(&self, p: &Principal, id: String) -> Result<()> {
        let c = self.load_connection(p, id).await?;
        let txn = self.store.begin().await?;
        let users = store::connections::syncs_using(&txn, &c.id).await?;
        if !users.is_empty() {
            let names: Vec<String> = users
                .iter()
                .map(|(id, slug)| format!("{slug} ({id})"))
                .collect();
            return Err(Error::precondition(
                "CONNECTION_IN_USE",
                format!(
                    "the connection is used by syncs that are not archived: {}",
                    names.join(", ")
                ),
            ));
        }
        store::connections::delete(&txn, &c.workspace_id, &c.id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Applies a status change whatever the version (state verbs carry no etag).
    async fn set_status(
        &self,
        p: &Principal,
        id: String,
        change: impl Fn(&mut ConnectionRecord) -> Result<()>,
    ) -> Result<ConnectionRecord> {
        retry_conflicts(|| async {
            let mut c = self.load_connection(p, id.clone()).await?;
            change(&mut c)?;
            c.updated_by = p.key_id.clone();
            let etag = c.etag.clone();
            match self.save_connection(c, &etag).await {
                Err(Error::Aborted { .. }) => Err(Error::conflict()),
                other => other,
            }
        })
        .await
    }

    /// DISABLED, and in the same transaction every run of its syncs that
    /// has not ended is asked to stop as CancelRun asks (CONFIG_ERROR, the
    /// connection named in cancel_reason): PENDING ones end at once,
    /// RUNNING ones stop at their executor's next batch or heartbeat. Claims
    /// check the status too (see `store::runs::claim_next`), so none of its
    /// runs starts afterwards.
    pub async fn disable_connection(&self, p: &Principal, id: String) -> Result<ConnectionRecord> {
        retry_conflicts(|| async {
            let mut c = self.load_connection(p, id.clone()).await?;
            let etag = c.etag.clone();
            c.status = ConnectionStatus::Disabled;
            c.updated_by = p.key_id.clone();
            let tx = self.store.begin().await?;
            // Written first: claims wait for this row (see `connections::shared`).
            let c = match store::connections::save(&tx, c, &etag).await {
                Err(Error::Aborted { .. }) => return Err(Error::conflict()),
                other => other?,
            };
            let req = CancelRequest::connection_disabled(&p.key_id, &c.name, &c.slug);
            for run in store::runs::active_for_connection(&tx, &c.id).await? {
                let from = run.status;
                store::runs::request_cancel(&tx, run, from, &req, now_micros())
                    .await?
                    .ok_or_else(Error::conflict)?;
            }
            tx.commit().await?;
            Ok(c)
        })
        .await
    }

    pub async fn reactivate_connection(
        &self,
        p: &Principal,
        id: String,
    ) -> Result<ConnectionRecord> {
        self.set_status(p, id, |c| {
            let status = c.status;
            c.status = rules::reactivate(status)?;
            c.verification_error = None;
            Ok(())
        })
        .await
    }

    pub async fn set_default_connection(
        &self,
        p: &Principal,
        id: String,
    ) -> Result<ConnectionRecord> {
        check_id("connection_id", &id)?;
        retry_conflicts(|| async {
            let txn = self.store.begin().await?;
            let c = store::connections::get(&txn, &p.workspace_id, &id).await?;
            if c.is_default {
                txn.rollback().await?;
                return Ok(c);
            }
            // Another SetDefault for this provider may commit first: the partial
            // unique index then refuses ours as a conflict and we start over.
            let c = store::connections::set_default(&txn, c).await?;
            txn.commit().await?;
            Ok(c)
        })
        .await
    }

    pub(super) fn settings<'a>(
        &'a self,
        c: &'a ConnectionRecord,
        config: &'a Map<String, Value>,
        creds: &'a BTreeMap<String, String>,
    ) -> Settings<'a> {
        Settings {
            provider: &c.provider,
            config,
            credentials: creds,
            local_files: &self.local_files,
            context: None,
        }
    }

    /// Connects as a run would. A connection a sync writes into (or any,
    /// with `as_destination`) must also let us create tables in its schema:
    /// that is checked first, as it creates a SQLite destination's file.
    pub async fn verify_connection(
        &self,
        p: &Principal,
        id: String,
        as_destination: bool,
    ) -> Result<ConnectionRecord> {
        let c = self.load_connection(p, id).await?;
        rules::check_verifiable(c.status)?;
        let config = crate::domain::json_object(&c.config);
        let creds = self.open(&c)?;
        // As a run would: its rate limit, variables and token rotation.
        let context =
            connection_secrets::context(&c, &self.store, &self.secrets).map_err(Error::internal)?;
        let settings = Settings {
            context: Some(&context),
            ..self.settings(&c, &config, &creds)
        };
        let source = connectors::source(&settings).map_err(connector_error)?;
        let writes = as_destination || store::syncs::write_into(&self.store.read, &c.id).await?;
        let outcome = async {
            // A provider that cannot be a destination fails the open, saying so.
            if writes {
                let check = async {
                    warehouse::open_connection(&settings, &Map::new())
                        .await?
                        .probe()
                        .await
                };
                check.await.map_err(|e| e.to_string())?;
            }
            source.check().await.map_err(|e| e.to_string())
        }
        .await;
        let now = now_micros();
        let tx = self.store.begin().await?;
        // The check may have rotated a credential (an OAuth2 refresh
        // token), which saved the record: the outcome goes onto the record
        // as it is now, unless what was checked has changed since.
        let checked = c;
        let mut c = store::connections::find(&tx, &checked.id)
            .await?
            .ok_or_else(|| Error::not_found("connection", &checked.id))?;
        if c.config != checked.config
            || c.variables != checked.variables
            || c.variables_ciphertext != checked.variables_ciphertext
            || c.status != checked.status
        {
            return Err(Error::Aborted {
                reason: "ETAG_MISMATCH",
                message: "the connection changed while it was verified; verify it again".into(),
            });
        }
        let etag = c.etag.clone();
        match outcome {
            Ok(()) => {
                c.status = ConnectionStatus::Active;
                c.verification_error = None;
                c.last_verified_at = Some(now);
            }
            Err(e) => {
                c.status = ConnectionStatus::Error;
                c.verification_error = Some(connectors::scrub(&e, &creds));
            }
        }
        c.updated_by = p.key_id.clone();
        let mut c = store::connections::save(&tx, c, &etag).await?;
        store::connections::touch(&tx, &c, now).await?;
        tx.commit().await?;
        c.last_used_at = Some(now);
        Ok(c)
    }

    /// The tables of a database connection, by schema and name, after
    /// `page.after` (a cursor of schema and table).
    pub async fn list_schema_tables(
        &self,
        p: &Principal,
        id: String,
        include_system: bool,
        page: &Page,
    ) -> Result<PageOf<TableInfo>> {
        let c = self.load_connection(p, id).await?;
        let config = crate::domain::json_object(&c.config);
        let creds = self.open(&c)?;
        let source =
            connectors::source(&self.settings(&c, &config, &creds)).map_err(connector_error)?;
        let mut tables = source
            .list_tables(include_system)
            .await
            .map_err(connector_error)?;
        // The database's own order may differ from Rust's: sort here, so
        // that a page continues where the last one ended.
        tables.sort_by(|a, b| (&a.schema, &a.table).cmp(&(&b.schema, &b.table)));
        if let Some(Cursor {
            value: SortValue::Text(schema),
            id: table,
        }) = &page.after
        {
            tables.retain(|t| (&t.schema, &t.table) > (schema, table));
        }
        let has_next = tables.len() as u64 > page.limit;
        tables.truncate(page.limit as usize);
        Ok(PageOf::new(tables, 0, has_next, |t| Cursor {
            value: SortValue::Text(t.schema.clone()),
            id: t.table.clone(),
        }))
    }

    pub async fn list_schema_columns(
        &self,
        p: &Principal,
        id: String,
        schema: &str,
        table: &str,
    ) -> Result<Vec<ColumnInfo>> {
        let mut v = Violations::new();
        if table.is_empty() {
            v.add("table", "is required");
        }
        v.check()?;
        let c = self.load_connection(p, id).await?;
        let config = crate::domain::json_object(&c.config);
        let creds = self.open(&c)?;
        let source =
            connectors::source(&self.settings(&c, &config, &creds)).map_err(connector_error)?;
        let schema = if schema.is_empty() {
            if c.provider == "sqlite" {
                "main"
            } else {
                "public"
            }
        } else {
            schema
        };
        let cols = source
            .list_columns(schema, table)
            .await
            .map_err(connector_error)?;
        if cols.is_empty() {
            return Err(Error::not_found("table", format!("{schema}.{table}")));
        }
        Ok(cols)
    }
}

/// An http_api connection's config is a manifest: its rules too, each
/// violation below `config`.
fn check_manifest(cat: &ProviderCatalog, config: &Map<String, Value>, v: &mut Violations) {
    if cat.provider != connectors::registry::HTTP_API {
        return;
    }
    if let Err(found) = connectors::http::manifest::Manifest::parse(&Value::Object(config.clone()))
    {
        for (at, why) in found {
            v.add(
                if at.is_empty() {
                    "config".to_string()
                } else {
                    format!("config.{at}")
                },
                why,
            );
        }
    }
}

/// A connector's failure as the API reports it.
pub(super) fn connector_error(e: ConnectorError) -> Error {
    match e {
        ConnectorError::Unsupported(m) => Error::Unimplemented(m),
        ConnectorError::Failed(m) | ConnectorError::Auth(m) | ConnectorError::Config(m) => {
            Error::precondition("SOURCE_UNAVAILABLE", m)
        }
        ConnectorError::NotFound(what) => Error::not_found("file", what),
        e @ ConnectorError::LocalFilesNotAllowed => {
            Error::precondition("LOCAL_FILES_NOT_ALLOWED", e.to_string())
        }
        // Worth trying again: the caller may.
        ConnectorError::Transient(m)
        | ConnectorError::RateLimited { message: m, .. }
        | ConnectorError::RateLimitSpent(m) => Error::Unavailable(m),
    }
}

impl Services {
    pub async fn list_connections(
        &self,
        p: &Principal,
        filter: &store::connections::Filter,
        sort: store::connections::Sort,
        order: crate::domain::paging::Order,
        page: &crate::domain::paging::Page,
    ) -> Result<store::list::PageOf<ConnectionRecord>> {
        let scope = (p.workspace_id.as_str(), counts::CONNECTIONS);
        let key = format!("list {filter:?} {sort:?} {order:?} {page:?}");
        self.store
            .cache
            .get_or_load(scope, key, || {
                store::connections::list(
                    &self.store.read,
                    &self.store.counts,
                    &p.workspace_id,
                    filter,
                    sort,
                    order,
                    page,
                )
            })
            .await
    }

    /// Display names for the `users` map of list responses.
    pub async fn display_names(
        &self,
        ids: Vec<String>,
    ) -> Result<std::collections::HashMap<String, String>> {
        store::workspaces::display_names(&self.store.read, &self.store.names, ids).await
    }
}
