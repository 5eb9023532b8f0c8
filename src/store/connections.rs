//! Connections.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    NotSet, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, SimpleExpr},
};

use super::{
    counts::{self, CountCache},
    entity::{connection, sync},
    list::{self, PageOf},
    slugs::{self, Scope},
    tx::Tx,
    unique_violation_message,
};
use crate::{
    domain::{
        enums::{ConnectionStatus, SyncStatus},
        new_etag, now_micros,
        paging::{Cursor, Order, Page, SortValue},
    },
    error::{Error, Result},
};

pub use connection::Model as ConnectionRecord;

/// Filters of ListConnections: ORed within a field, ANDed across fields.
#[derive(Debug, Default)]
pub struct Filter {
    pub q: String,
    pub providers: Vec<String>,
    pub statuses: Vec<ConnectionStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Name,
    CreatedAt,
    UpdatedAt,
    LastVerifiedAt,
    Status,
    Provider,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "name" => Self::Name,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "last_verified_at" => Self::LastVerifiedAt,
            "status" => Self::Status,
            "provider" => Self::Provider,
            _ => return None,
        })
    }

    fn expr(self) -> SimpleExpr {
        match self {
            Self::Name => Expr::col(connection::Column::Name),
            Self::CreatedAt => Expr::col(connection::Column::CreatedAt),
            Self::UpdatedAt => Expr::col(connection::Column::UpdatedAt),
            // Never-verified connections sort first in ascending order, on both engines.
            Self::LastVerifiedAt => Expr::cust("COALESCE(last_verified_at, -1)"),
            Self::Status => Expr::col(connection::Column::Status),
            Self::Provider => Expr::col(connection::Column::Provider),
        }
    }

    fn value(self, c: &ConnectionRecord) -> SortValue {
        match self {
            Self::Name => SortValue::Text(c.name.clone()),
            Self::CreatedAt => SortValue::Int(c.created_at),
            Self::UpdatedAt => SortValue::Int(c.updated_at),
            Self::LastVerifiedAt => SortValue::Int(c.last_verified_at.unwrap_or(-1)),
            Self::Status => SortValue::Text(c.status.as_str().into()),
            Self::Provider => SortValue::Text(c.provider.clone()),
        }
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    counts: &CountCache,
    workspace_id: &str,
    filter: &Filter,
    sort: Sort,
    order: Order,
    page: &Page,
) -> Result<PageOf<ConnectionRecord>> {
    let mut q = connection::Entity::find().filter(connection::Column::WorkspaceId.eq(workspace_id));
    if !filter.q.is_empty() {
        q = q.filter(list::search(
            connection::Column::Name,
            connection::Column::Slug,
            &filter.q,
        ));
    }
    if !filter.providers.is_empty() {
        q = q.filter(connection::Column::Provider.is_in(filter.providers.clone()));
    }
    if !filter.statuses.is_empty() {
        q = q.filter(connection::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    let (rows, total) = list::fetch(
        db,
        counts,
        (workspace_id, counts::CONNECTIONS, format!("{filter:?}")),
        q,
        sort.expr(),
        connection::Column::Id,
        order,
        page,
    )
    .await?;
    Ok(list::finish(rows, total, page, |c| Cursor {
        value: sort.value(c),
        id: c.id.clone(),
    }))
}

pub async fn get(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    id: &str,
) -> Result<ConnectionRecord> {
    connection::Entity::find_by_id(id.to_string())
        .filter(connection::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("connection", id))
}

pub async fn get_by_slug(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    slug: &str,
) -> Result<ConnectionRecord> {
    connection::Entity::find()
        .filter(connection::Column::WorkspaceId.eq(workspace_id))
        .filter(connection::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("connection", slug))
}

fn slug_taken(slug: &str) -> Error {
    Error::AlreadyExists {
        kind: "connection",
        id: slug.to_string(),
        message: format!("a connection with slug '{slug}' already exists in this workspace"),
    }
}

/// Where connection slugs are unique: the workspace.
fn slug_scope(workspace_id: &str) -> Scope<'_, connection::Entity> {
    Scope {
        kind: "connections",
        workspace: Some((connection::Column::WorkspaceId, workspace_id)),
        slug: connection::Column::Slug,
    }
}

/// Inserts a new connection. An empty slug is derived from the name
/// (suffixed on collision); an explicit one that collides is ALREADY_EXISTS.
pub async fn insert(db: &Tx, mut rec: ConnectionRecord) -> Result<ConnectionRecord> {
    rec.slug = slugs::pick(db, &slug_scope(&rec.workspace_id), &rec.slug, &rec.name).await?;
    if rec.is_default {
        lock_defaults(db, &rec.workspace_id, &rec.provider).await?;
        clear_default(db, &rec.workspace_id, &rec.provider).await?;
    }
    match connection::Entity::insert(rec.clone().into_active_model())
        .exec(db)
        .await
    {
        Ok(_) => {
            db.changed(&rec.workspace_id, counts::CONNECTIONS).await?;
            Ok(rec)
        }
        Err(e) => Err(unique_error(e, &rec.slug)),
    }
}

/// Writes `rec` if the stored etag is still `etag` (optimistic concurrency);
/// the new version gets a fresh etag.
pub async fn save(db: &Tx, mut rec: ConnectionRecord, etag: &str) -> Result<ConnectionRecord> {
    if stored_slug(db, &rec.id)
        .await?
        .is_some_and(|s| s != rec.slug)
    {
        slugs::lock(db, &slug_scope(&rec.workspace_id)).await?;
    }
    rec.etag = new_etag();
    rec.updated_at = now_micros();
    let res = connection::Entity::update_many()
        .set(all_set(rec.clone()))
        .filter(connection::Column::Id.eq(rec.id.clone()))
        .filter(connection::Column::Etag.eq(etag))
        .exec(db)
        .await;
    match res {
        Ok(r) if r.rows_affected == 1 => {
            db.changed(&rec.workspace_id, counts::CONNECTIONS).await?;
            Ok(rec)
        }
        Ok(_) => Err(Error::Aborted {
            reason: "ETAG_MISMATCH",
            message: "the connection changed since it was read; get it again and retry".into(),
        }),
        Err(e) => Err(unique_error(e, &rec.slug)),
    }
}

/// The slug the connection has now: a save that changes it takes the
/// workspace's slug lock.
async fn stored_slug(db: &impl ConnectionTrait, id: &str) -> Result<Option<String>> {
    Ok(connection::Entity::find_by_id(id.to_string())
        .select_only()
        .column(connection::Column::Slug)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// Every column of `rec` as a value to write (`into_active_model` marks
/// them Unchanged, which an UPDATE would skip), but last_used_at: runs and
/// verifications write it on their own (see `touch`), and an update read
/// before one of them must not set it back.
fn all_set(rec: ConnectionRecord) -> connection::ActiveModel {
    let mut am = rec.into_active_model().reset_all();
    am.last_used_at = NotSet;
    am
}

/// Records that a verification used the connection at `at` (runs record it
/// with their end, see `run_outcome`).
pub async fn touch(db: &Tx, rec: &ConnectionRecord, at: i64) -> Result<()> {
    connection::Entity::update_many()
        .col_expr(connection::Column::LastUsedAt, Expr::value(at))
        .filter(connection::Column::Id.eq(rec.id.clone()))
        .exec(db)
        .await?;
    db.changed(&rec.workspace_id, counts::CONNECTIONS).await
}

/// A unique violation on the slug is ALREADY_EXISTS; on the default index it
/// is a lost race with a concurrent default swap, which callers retry.
fn unique_error(e: sea_orm::DbErr, slug: &str) -> Error {
    match unique_violation_message(&e) {
        Some(m) if m.contains("slug") => slug_taken(slug),
        Some(_) => Error::conflict(),
        None => e.into(),
    }
}

/// Serializes default swaps of one (workspace, provider): without it, two
/// swaps with no current default would each wait on the other's entry in the
/// partial unique index — a deadlock.
async fn lock_defaults(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    provider: &str,
) -> Result<()> {
    super::lock(db, &format!("default_connection:{workspace_id}:{provider}")).await
}

async fn clear_default(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    provider: &str,
) -> Result<()> {
    connection::Entity::update_many()
        .col_expr(connection::Column::IsDefault, Expr::value(false))
        .col_expr(connection::Column::Etag, Expr::value(new_etag()))
        .filter(connection::Column::WorkspaceId.eq(workspace_id))
        .filter(connection::Column::Provider.eq(provider))
        .filter(connection::Column::IsDefault.eq(true))
        .exec(db)
        .await?;
    Ok(())
}

/// Makes `id` the default of its provider: clears the old default, then sets
/// the new one, in the caller's transaction. The partial unique index turns
/// a concurrent swap into a unique violation, which the caller retries.
pub async fn set_default(db: &Tx, rec: ConnectionRecord) -> Result<ConnectionRecord> {
    lock_defaults(db, &rec.workspace_id, &rec.provider).await?;
    clear_default(db, &rec.workspace_id, &rec.provider).await?;
    let mut am = rec.into_active_model();
    am.is_default = Set(true);
    am.etag = Set(new_etag());
    am.updated_at = Set(now_micros());
    let rec = am.update(db).await.map_err(|e| unique_error(e, ""))?;
    db.changed(&rec.workspace_id, counts::CONNECTIONS).await?;
    Ok(rec)
}

/// Non-archived syncs that use a connection: they block its deletion.
pub async fn syncs_using(
    db: &impl ConnectionTrait,
    connection_id: &str,
) -> Result<Vec<(String, String)>> {
    Ok(sync::Entity::find()
        .select_only()
        .column(sync::Column::Id)
        .column(sync::Column::Slug)
        .filter(
            sea_orm::Condition::any()
                .add(sync::Column::ConnectionId.eq(connection_id))
                .add(sync::Column::DestinationConnectionId.eq(connection_id)),
        )
        .filter(sync::Column::Status.ne(SyncStatus::Archived))
        .into_tuple::<(String, String)>()
        .all(db)
        .await?)
}

pub async fn delete(db: &Tx, workspace_id: &str, id: &str) -> Result<()> {
    connection::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?;
    db.changed(workspace_id, counts::CONNECTIONS).await
}

/// A connection's status for a run decision, without loading the whole row.
pub async fn status_of(db: &impl ConnectionTrait, id: &str) -> Result<Option<ConnectionStatus>> {
    Ok(connection::Entity::find_by_id(id.to_string())
        .select_only()
        .column(connection::Column::Status)
        .into_tuple::<ConnectionStatus>()
        .one(db)
        .await?)
}

/// The connections of sync `sync_id` (source, then destination), to decide
/// whether one of the sync's runs may start (see `shared`).
pub async fn of_run_start(
    db: &impl ConnectionTrait,
    sync_id: &str,
) -> Result<Vec<ConnectionRecord>> {
    let mut out = Vec::new();
    for id in super::syncs::connections_of(db, sync_id).await? {
        out.extend(shared(db, &id).await?);
    }
    Ok(out)
}

/// The connection, read FOR SHARE on PostgreSQL until the end of the
/// caller's transaction, so that starting a run and DisableConnection
/// serialize: a disable that has written the row is waited for and seen;
/// one that comes later waits, then finds the run and ends it.
pub async fn shared(db: &impl ConnectionTrait, id: &str) -> Result<Option<ConnectionRecord>> {
    let mut q = connection::Entity::find_by_id(id.to_string());
    if db.get_database_backend() == DbBackend::Postgres {
        q = q.lock_shared();
    }
    Ok(q.one(db).await?)
}

/// The connection by id alone (executors act across workspaces).
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<ConnectionRecord>> {
    Ok(connection::Entity::find_by_id(id.to_string())
        .one(db)
        .await?)
}
