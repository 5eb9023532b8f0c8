//! Syncs and their table bindings.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType, NotSet,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, SimpleExpr},
};

use super::{
    counts::{self, CountCache},
    entity::{connection, entity_state, run, run_event, sync, table_binding},
    is_unique_violation,
    list::{self, PageOf},
    slugs::{self, Scope},
    tx::Tx,
};
use crate::{
    domain::{
        destination::{self, TableKey},
        enums::{SyncStatus, TriggerMode},
        json_object, new_etag, now_micros,
        paging::{Cursor, Order, Page, SortValue},
        sync::{BindingSpec, SyncSpec},
    },
    error::{Error, Result},
};

pub use sync::Model as SyncRow;
pub use table_binding::Model as BindingRow;

/// A sync with its bindings, in binding order.
#[derive(Debug, Clone)]
pub struct SyncRecord {
    pub sync: SyncRow,
    pub bindings: Vec<BindingRow>,
}

impl SyncRecord {
    /// The spec this sync was created or last updated with, to apply an
    /// update onto.
    pub fn spec(&self) -> SyncSpec {
        let s = &self.sync;
        SyncSpec {
            name: s.name.clone(),
            slug: s.slug.clone(),
            entities: serde_json::from_str(&s.entities).unwrap_or_default(),
            source_config: json_object(&s.source_config),
            destination_config: json_object(&s.destination_config),
            destination_connection_id: s.destination_connection_id.clone(),
            execution_backend: s.execution_backend,
            execution_mode: s.execution_mode,
            execution_config: json_object(&s.execution_config),
            freshness_sla_seconds: s.freshness_sla_seconds,
            schedule: s
                .schedule
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
            status: s.status,
            trigger_mode: s.trigger_mode,
            task_slug: s.task_slug.clone(),
            bindings: self
                .bindings
                .iter()
                .map(|b| BindingSpec {
                    entity_key: b.entity_key.clone(),
                    source_instance_key: b.source_instance_key.clone(),
                    logical_table_name: b.logical_table_name.clone(),
                    physical_table_name: b.physical_table_name.clone(),
                    table_name: b.table_name.clone(),
                    primary_key_columns: serde_json::from_str(&b.primary_key_columns)
                        .unwrap_or_default(),
                    cursor_field: b.cursor_field.clone(),
                    load_mode: Some(b.load_mode),
                    table_naming_version: Some(b.table_naming_version),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Filter {
    pub q: String,
    pub connection_ids: Vec<String>,
    pub statuses: Vec<SyncStatus>,
    pub provider_keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Name,
    CreatedAt,
    UpdatedAt,
    Status,
    LastSuccessAt,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "name" => Self::Name,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "status" => Self::Status,
            "last_success_at" => Self::LastSuccessAt,
            _ => return None,
        })
    }

    fn expr(self) -> SimpleExpr {
        match self {
            Self::Name => Expr::col(sync::Column::Name),
            Self::CreatedAt => Expr::col(sync::Column::CreatedAt),
            Self::UpdatedAt => Expr::col(sync::Column::UpdatedAt),
            Self::Status => Expr::col(sync::Column::Status),
            Self::LastSuccessAt => Expr::cust("COALESCE(last_success_at, -1)"),
        }
    }

    fn value(self, s: &SyncRecord) -> SortValue {
        let s = &s.sync;
        match self {
            Self::Name => SortValue::Text(s.name.clone()),
            Self::CreatedAt => SortValue::Int(s.created_at),
            Self::UpdatedAt => SortValue::Int(s.updated_at),
            Self::Status => SortValue::Text(s.status.as_str().into()),
            Self::LastSuccessAt => SortValue::Int(s.last_success_at.unwrap_or(-1)),
        }
    }
}

async fn with_bindings(db: &impl ConnectionTrait, syncs: Vec<SyncRow>) -> Result<Vec<SyncRecord>> {
    if syncs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = syncs.iter().map(|s| s.id.clone()).collect();
    let mut by_sync: HashMap<String, Vec<BindingRow>> = HashMap::new();
    for b in table_binding::Entity::find()
        .filter(table_binding::Column::SyncId.is_in(ids))
        .order_by_asc(table_binding::Column::Position)
        .all(db)
        .await?
    {
        by_sync.entry(b.sync_id.clone()).or_default().push(b);
    }
    Ok(syncs
        .into_iter()
        .map(|s| {
            let bindings = by_sync.remove(&s.id).unwrap_or_default();
            SyncRecord { sync: s, bindings }
        })
        .collect())
}

pub async fn list(
    db: &impl ConnectionTrait,
    counts: &CountCache,
    workspace_id: &str,
    filter: &Filter,
    sort: Sort,
    order: Order,
    page: &Page,
) -> Result<PageOf<SyncRecord>> {
    let mut q = sync::Entity::find().filter(sync::Column::WorkspaceId.eq(workspace_id));
    if !filter.q.is_empty() {
        q = q.filter(list::search(
            sync::Column::Name,
            sync::Column::Slug,
            &filter.q,
        ));
    }
    if !filter.connection_ids.is_empty() {
        q = q.filter(sync::Column::ConnectionId.is_in(filter.connection_ids.clone()));
    }
    if !filter.statuses.is_empty() {
        q = q.filter(sync::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if !filter.provider_keys.is_empty() {
        q = q.filter(sync::Column::ProviderKey.is_in(filter.provider_keys.clone()));
    }
    let (rows, total) = list::fetch(
        db,
        counts,
        (workspace_id, counts::SYNCS, format!("{filter:?}")),
        q,
        sort.expr(),
        sync::Column::Id,
        order,
        page,
    )
    .await?;
    let rows = with_bindings(db, rows).await?;
    Ok(list::finish(rows, total, page, |s| Cursor {
        value: sort.value(s),
        id: s.sync.id.clone(),
    }))
}

pub async fn get(db: &impl ConnectionTrait, workspace_id: &str, id: &str) -> Result<SyncRecord> {
    let row = sync::Entity::find_by_id(id.to_string())
        .filter(sync::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sync", id))?;
    Ok(with_bindings(db, vec![row]).await?.remove(0))
}

fn slug_taken(slug: &str) -> Error {
    Error::AlreadyExists {
        kind: "sync",
        id: slug.to_string(),
        message: format!("a sync with slug '{slug}' already exists in this workspace"),
    }
}

async fn insert_bindings(db: &impl ConnectionTrait, bindings: &[BindingRow]) -> Result<()> {
    if !bindings.is_empty() {
        table_binding::Entity::insert_many(
            bindings
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
        .exec(db)
        .await?;
    }
    Ok(())
}

/// The connection a sync reads from, if the sync exists.
/// Whether a sync that is not archived writes into connection `id`.
pub async fn write_into(db: &impl ConnectionTrait, connection_id: &str) -> Result<bool> {
    Ok(sync::Entity::find()
        .select_only()
        .column(sync::Column::Id)
        .filter(sync::Column::DestinationConnectionId.eq(connection_id))
        .filter(sync::Column::Status.ne(SyncStatus::Archived))
        .into_tuple::<String>()
        .one(db)
        .await?
        .is_some())
}

/// The connections a run of sync `sync_id` uses: its source, then its
/// destination connection if it has one.
pub async fn connections_of(db: &impl ConnectionTrait, sync_id: &str) -> Result<Vec<String>> {
    let ids: Option<(String, Option<String>)> = sync::Entity::find_by_id(sync_id.to_string())
        .select_only()
        .column(sync::Column::ConnectionId)
        .column(sync::Column::DestinationConnectionId)
        .into_tuple()
        .one(db)
        .await?;
    Ok(ids
        .map(|(source, destination)| std::iter::once(source).chain(destination).collect())
        .unwrap_or_default())
}

pub async fn connection_of(db: &impl ConnectionTrait, sync_id: &str) -> Result<Option<String>> {
    Ok(sync::Entity::find_by_id(sync_id.to_string())
        .select_only()
        .column(sync::Column::ConnectionId)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// Where sync slugs are unique: the workspace.
fn slug_scope(workspace_id: &str) -> Scope<'_, sync::Entity> {
    Scope {
        kind: "syncs",
        workspace: Some((sync::Column::WorkspaceId, workspace_id)),
        slug: sync::Column::Slug,
    }
}

/// Inserts a sync and its bindings. An empty slug is derived from the name
/// (suffixed on collision); an explicit one that collides is ALREADY_EXISTS.
pub async fn insert(db: &Tx, mut rec: SyncRecord) -> Result<SyncRecord> {
    let s = &rec.sync;
    rec.sync.slug = slugs::pick(db, &slug_scope(&s.workspace_id), &s.slug, &s.name).await?;
    match sync::Entity::insert(rec.sync.clone().into_active_model())
        .exec(db)
        .await
    {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(slug_taken(&rec.sync.slug)),
        Err(e) => return Err(e.into()),
    }
    insert_bindings(db, &rec.bindings).await?;
    db.changed(&rec.sync.workspace_id, counts::SYNCS).await?;
    Ok(rec)
}

/// Writes a new version if the stored etag is still `etag`. Bindings are
/// replaced when `replace_bindings` is set.
pub async fn save(
    db: &Tx,
    mut rec: SyncRecord,
    etag: &str,
    replace_bindings: bool,
) -> Result<SyncRecord> {
    if stored_slug(db, &rec.sync.id)
        .await?
        .is_some_and(|s| s != rec.sync.slug)
    {
        slugs::lock(db, &slug_scope(&rec.sync.workspace_id)).await?;
    }
    rec.sync.etag = new_etag();
    rec.sync.updated_at = now_micros();
    let mut row = rec.sync.clone().into_active_model().reset_all();
    // The engine's columns: a run's outcome or a freshness change that
    // landed since `rec` was read must not be undone (they keep the etag).
    row.last_success_at = NotSet;
    row.last_error = NotSet;
    row.freshness_breached_at = NotSet;
    let res = sync::Entity::update_many()
        .set(row)
        .filter(sync::Column::Id.eq(rec.sync.id.clone()))
        .filter(sync::Column::Etag.eq(etag))
        .exec(db)
        .await;
    match res {
        Ok(r) if r.rows_affected == 1 => db.changed(&rec.sync.workspace_id, counts::SYNCS).await?,
        Ok(_) => {
            return Err(Error::Aborted {
                reason: "ETAG_MISMATCH",
                message: "the sync changed since it was read; get it again and retry".into(),
            });
        }
        Err(e) if is_unique_violation(&e) => return Err(slug_taken(&rec.sync.slug)),
        Err(e) => return Err(e.into()),
    }
    if replace_bindings {
        table_binding::Entity::delete_many()
            .filter(table_binding::Column::SyncId.eq(rec.sync.id.clone()))
            .exec(db)
            .await?;
        insert_bindings(db, &rec.bindings).await?;
    }
    Ok(rec)
}

/// The slug the sync has now: a save that changes it takes the
/// workspace's slug lock.
async fn stored_slug(db: &impl ConnectionTrait, id: &str) -> Result<Option<String>> {
    Ok(sync::Entity::find_by_id(id.to_string())
        .select_only()
        .column(sync::Column::Slug)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// Deletes a sync with its bindings, cursor state, runs and run events.
pub async fn delete(db: &Tx, workspace_id: &str, id: &str) -> Result<()> {
    let run_ids: Vec<String> = run::Entity::find()
        .filter(run::Column::SyncId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if !run_ids.is_empty() {
        run_event::Entity::delete_many()
            .filter(run_event::Column::RunId.is_in(run_ids))
            .exec(db)
            .await?;
    }
    run::Entity::delete_many()
        .filter(run::Column::SyncId.eq(id))
        .exec(db)
        .await?;
    entity_state::Entity::delete_many()
        .filter(entity_state::Column::SyncId.eq(id))
        .exec(db)
        .await?;
    table_binding::Entity::delete_many()
        .filter(table_binding::Column::SyncId.eq(id))
        .exec(db)
        .await?;
    sync::Entity::delete_by_id(id.to_string()).exec(db).await?;
    db.changed(workspace_id, counts::SYNCS).await
}

/// Serializes, until the end of the transaction `db`, the writers that check
/// and bind a workspace's destination tables (no index can express that
/// uniqueness).
pub async fn lock_tables(db: &impl ConnectionTrait, workspace_id: &str) -> Result<()> {
    super::lock(db, &format!("sync_tables:{workspace_id}")).await
}

/// Destination tables bound by the workspace's other non-archived syncs,
/// each with the slug of the sync that binds it. Every workspace writes into
/// a namespace of its own, so these are all the syncs that could share a
/// destination table with one of this workspace.
///
/// One join, the same statement whatever the workspace holds: reading the
/// syncs and then their bindings by `sync_id IN (every id)` made each
/// CreateSync prepare a new statement as long as the workspace, which the
/// connection's statement cache kept (and SQLite refuses past 32,766 ids).
pub async fn tables_in_use(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    except_sync: Option<&str>,
) -> Result<HashMap<TableKey, String>> {
    let mut q = table_binding::Entity::find()
        .select_only()
        .column(table_binding::Column::PhysicalTableName)
        .column(sync::Column::DestinationConfig)
        .column(sync::Column::Slug)
        .column(sync::Column::DestinationConnectionId)
        .column(connection::Column::Config)
        .join(
            JoinType::InnerJoin,
            table_binding::Entity::belongs_to(sync::Entity)
                .from(table_binding::Column::SyncId)
                .to(sync::Column::Id)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            sync::Entity::belongs_to(connection::Entity)
                .from(sync::Column::DestinationConnectionId)
                .to(connection::Column::Id)
                .into(),
        )
        .filter(sync::Column::WorkspaceId.eq(workspace_id))
        .filter(sync::Column::Status.ne(SyncStatus::Archived));
    if let Some(id) = except_sync {
        q = q.filter(sync::Column::Id.ne(id));
    }
    type Row = (String, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = q.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(
            |(table, destination_config, slug, destination, connection_config)| {
                let key = match (destination, connection_config) {
                    (Some(id), Some(config)) => TableKey::new(
                        &id,
                        &destination::connection_schema(
                            &json_object(&destination_config),
                            &json_object(&config),
                        ),
                        &table,
                    ),
                    _ => TableKey::new("", &destination_schema(&destination_config), &table),
                };
                (key, slug)
            },
        )
        .collect())
}

/// The schema a sync's stored destination_config names ("" for the
/// default schema of its workspace's namespace).
pub fn destination_schema(destination_config: &str) -> String {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(destination_config)
        .map(|c| destination::schema_of(&c).to_string())
        .unwrap_or_default()
}

/// Forgets cursors: bumps the generation of the named entities (all when
/// empty), so cursors committed under an older generation are ignored.
pub async fn reset_state(
    db: &impl ConnectionTrait,
    sync_id: &str,
    entities: &[String],
) -> Result<()> {
    let now = now_micros();
    for e in entities {
        let existing = entity_state::Entity::find()
            .filter(entity_state::Column::SyncId.eq(sync_id))
            .filter(entity_state::Column::EntityKey.eq(e.clone()))
            .one(db)
            .await?;
        match existing {
            Some(s) => {
                entity_state::Entity::update_many()
                    .col_expr(
                        entity_state::Column::Generation,
                        Expr::value(s.generation + 1),
                    )
                    .col_expr(
                        entity_state::Column::Cursor,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(entity_state::Column::UpdatedAt, Expr::value(now))
                    .filter(entity_state::Column::SyncId.eq(sync_id))
                    .filter(entity_state::Column::EntityKey.eq(e.clone()))
                    .exec(db)
                    .await?;
            }
            None => {
                let row = entity_state::Model {
                    sync_id: sync_id.to_string(),
                    entity_key: e.clone(),
                    generation: 1,
                    cursor: None,
                    updated_at: now,
                };
                entity_state::Entity::insert(row.into_active_model())
                    .exec(db)
                    .await?;
            }
        }
    }
    Ok(())
}

/// The sync by id alone (executors act across workspaces).
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<SyncRecord>> {
    let Some(s) = sync::Entity::find_by_id(id.to_string()).one(db).await? else {
        return Ok(None);
    };
    get(db, &s.workspace_id, id).await.map(Some)
}

/// The entity generations of a sync (ResetSyncState bumps them; 0 when
/// never reset).
pub async fn generations(db: &impl ConnectionTrait, sync_id: &str) -> Result<HashMap<String, i64>> {
    Ok(entity_state::Entity::find()
        .filter(entity_state::Column::SyncId.eq(sync_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.entity_key, s.generation))
        .collect())
}

/// Whether any ACTIVE SCHEDULED sync's slot is due by `now`: a cheap read,
/// so an idle scheduler never takes the write lock.
pub async fn any_due(db: &impl ConnectionTrait, now: i64) -> Result<bool> {
    Ok(due_query(now).limit(1).one(db).await?.is_some())
}

fn due_query(now: i64) -> sea_orm::Select<sync::Entity> {
    sync::Entity::find()
        .filter(sync::Column::Status.eq(SyncStatus::Active))
        .filter(sync::Column::TriggerMode.eq(TriggerMode::Scheduled))
        .filter(sync::Column::NextRunAt.lte(now))
}

/// ACTIVE SCHEDULED syncs whose next slot is due by `now`. On PostgreSQL
/// the rows stay locked (SKIP LOCKED) until the transaction ends, so
/// replicas scheduling at once take different syncs.
pub async fn due(db: &Tx, now: i64, limit: u64) -> Result<Vec<SyncRow>> {
    let mut q = due_query(now)
        .order_by_asc(sync::Column::NextRunAt)
        .limit(limit);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        );
    }
    Ok(q.all(db).await?)
}

/// Moves a sync's next slot from `from` to `to`, compare-and-set: of two
/// schedulers that saw the same slot, only one moves it (and fires it).
pub async fn advance_slot(db: &Tx, id: &str, from: i64, to: Option<i64>) -> Result<bool> {
    let r = sync::Entity::update_many()
        .col_expr(sync::Column::NextRunAt, Expr::value(to))
        .filter(sync::Column::Id.eq(id))
        .filter(sync::Column::NextRunAt.eq(from))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}
