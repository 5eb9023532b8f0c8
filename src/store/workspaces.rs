//! Workspaces and API keys.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, Set, Statement,
    sea_query::{Expr, ExprTrait},
};

use super::{
    entity::{api_key, workspace},
    is_unique_violation,
    list::{self, PageOf},
    slugs::{self, Scope},
    tx::REVOKED_CHANNEL,
};
use crate::{
    domain::{
        api_key as keys,
        enums::Role,
        new_id, now_micros,
        paging::{Cursor, Order, Page, SortValue},
    },
    error::{Error, Result},
};

pub use api_key::Model as ApiKeyRecord;
pub use workspace::Model as WorkspaceRecord;

/// Creates workspace `default` and its admin key when the store has no
/// workspace yet. Returns the key, to be shown once; None when already set up.
pub async fn bootstrap(db: &impl ConnectionTrait) -> Result<Option<(WorkspaceRecord, String)>> {
    if any(db).await? {
        return Ok(None);
    }
    match create_workspace(db, "Default", "default", None, "system").await {
        Ok((ws, _, key)) => Ok(Some((ws, key))),
        // Another replica bootstrapped at the same moment.
        Err(Error::AlreadyExists { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The id of workspace `default`, the one `bootstrap` creates; None until then.
pub async fn default_id(db: &impl ConnectionTrait) -> Result<Option<String>> {
    Ok(workspace::Entity::find()
        .filter(workspace::Column::Slug.eq("default"))
        .one(db)
        .await?
        .map(|w| w.id))
}

/// Whether the store has any workspace (it is bootstrapped).
pub async fn any(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(workspace::Entity::find().count(db).await? > 0)
}

/// Workspace slugs are unique across the store.
const SLUG_SCOPE: Scope<'static, workspace::Entity> = Scope {
    kind: "workspaces",
    workspace: None,
    slug: workspace::Column::Slug,
};

/// Creates a workspace and its first admin key. An empty slug is derived
/// from the name (suffixed on collision); an explicit one that collides is
/// ALREADY_EXISTS.
pub async fn create_workspace(
    db: &impl ConnectionTrait,
    name: &str,
    slug: &str,
    parent: Option<&str>,
    created_by: &str,
) -> Result<(WorkspaceRecord, ApiKeyRecord, String)> {
    let now = now_micros();
    let slug = slugs::pick(db, &SLUG_SCOPE, slug, name).await?;
    let ws = workspace::Model {
        id: new_id(),
        name: name.to_string(),
        slug: slug.clone(),
        parent_workspace_id: parent.map(str::to_string),
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = workspace::Entity::insert(ws.clone().into_active_model())
        .exec(db)
        .await
    {
        return Err(if is_unique_violation(&e) {
            Error::AlreadyExists {
                kind: "workspace",
                id: slug.clone(),
                message: format!("workspace slug '{slug}' is taken"),
            }
        } else {
            e.into()
        });
    }
    let (key_rec, key) = create_api_key(db, &ws.id, "admin", Role::Admin, created_by, None).await?;
    Ok((ws, key_rec, key))
}

pub async fn get_workspace(db: &impl ConnectionTrait, id: &str) -> Result<Option<WorkspaceRecord>> {
    Ok(workspace::Entity::find_by_id(id.to_string())
        .one(db)
        .await?)
}

/// The caller's workspace and the workspaces it created, oldest first,
/// one page of them. These lists report no total.
pub async fn list_workspaces(
    db: &impl ConnectionTrait,
    caller: &str,
    page: &Page,
) -> Result<PageOf<WorkspaceRecord>> {
    let q = workspace::Entity::find().filter(
        workspace::Column::Id
            .eq(caller)
            .or(workspace::Column::ParentWorkspaceId.eq(caller)),
    );
    let sort = Expr::col(workspace::Column::CreatedAt);
    let rows = list::apply(q, sort, workspace::Column::Id, Order::Asc, page)
        .all(db)
        .await?;
    Ok(list::finish(rows, 0, page, |w| Cursor {
        value: SortValue::Int(w.created_at),
        id: w.id.clone(),
    }))
}

pub async fn create_api_key(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    name: &str,
    role: Role,
    created_by: &str,
    expires_at: Option<i64>,
) -> Result<(ApiKeyRecord, String)> {
    let (key, prefix) = keys::generate();
    let rec = api_key::Model {
        id: new_id(),
        workspace_id: workspace_id.to_string(),
        name: name.to_string(),
        role,
        prefix,
        key_hash: keys::hash(&key),
        created_at: now_micros(),
        created_by: created_by.to_string(),
        last_used_at: None,
        revoked_at: None,
        expires_at,
    };
    api_key::Entity::insert(rec.clone().into_active_model())
        .exec(db)
        .await?;
    Ok((rec, key))
}

/// A workspace's keys, oldest first, one page of them.
pub async fn list_api_keys(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    include_revoked: bool,
    page: &Page,
) -> Result<PageOf<ApiKeyRecord>> {
    let mut q = api_key::Entity::find().filter(api_key::Column::WorkspaceId.eq(workspace_id));
    if !include_revoked {
        q = q.filter(api_key::Column::RevokedAt.is_null());
    }
    let sort = Expr::col(api_key::Column::CreatedAt);
    let rows = list::apply(q, sort, api_key::Column::Id, Order::Asc, page)
        .all(db)
        .await?;
    Ok(list::finish(rows, 0, page, |k| Cursor {
        value: SortValue::Int(k.created_at),
        id: k.id.clone(),
    }))
}

/// Revokes a key of the workspace; revoking twice keeps the first time.
pub async fn revoke_api_key(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    id: &str,
) -> Result<ApiKeyRecord> {
    let rec = api_key::Entity::find_by_id(id.to_string())
        .filter(api_key::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("api_key", id))?;
    if rec.revoked_at.is_some() {
        return Ok(rec);
    }
    let mut am = rec.into_active_model();
    am.revoked_at = Set(Some(now_micros()));
    let rec = am.update(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Tells every replica's key cache; delivered when the caller's transaction commits.
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [REVOKED_CHANNEL.into(), rec.id.clone().into()],
        ))
        .await?;
    }
    Ok(rec)
}

pub async fn find_key_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<ApiKeyRecord>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash))
        .one(db)
        .await?)
}

pub async fn touch_key(db: &impl ConnectionTrait, id: &str, at: i64) -> Result<()> {
    api_key::Entity::update_many()
        .col_expr(
            api_key::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Display names of principals, cached: a key's name and prefix never change.
#[derive(Default)]
pub struct NameCache(std::sync::RwLock<HashMap<String, String>>);

/// Display names of principals (API key ids), for the `users` map of lists.
pub async fn display_names(
    db: &impl ConnectionTrait,
    cache: &NameCache,
    ids: Vec<String>,
) -> Result<HashMap<String, String>> {
    let mut ids = ids;
    ids.sort();
    ids.dedup();
    ids.retain(|i| !i.is_empty() && i != "system");
    let mut out: HashMap<String, String> = HashMap::new();
    let mut missing = Vec::new();
    {
        let known = cache.0.read().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            match known.get(&id) {
                Some(name) => {
                    out.insert(id, name.clone());
                }
                None => missing.push(id),
            }
        }
    }
    if !missing.is_empty() {
        let found = api_key::Entity::find()
            .filter(api_key::Column::Id.is_in(missing))
            .all(db)
            .await?;
        let mut known = cache.0.write().unwrap_or_else(|e| e.into_inner());
        if known.len() > 100_000 {
            known.clear();
        }
        for k in found {
            let name = format!("{} ({})", k.name, k.prefix);
            known.insert(k.id.clone(), name.clone());
            out.insert(k.id, name);
        }
    }
    Ok(out)
}
