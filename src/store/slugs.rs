//! Slugs unique within a scope (one workspace's connections, one
//! workspace's syncs, all workspaces). A derived slug is the first free of
//! base, base-2, base-3 …; only an explicit slug that is taken is
//! ALREADY_EXISTS.
//!
//! Every writer that sets a slug in a scope, derived or explicit, insert or
//! update, first takes the scope's lock (see `store::lock`) and keeps it
//! until it commits. Without it two PostgreSQL transactions pick the same
//! free candidate, and the loser's insert is refused by the unique index.

use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::ExprTrait,
};

use crate::{domain::slug, error::Result};

/// Where slugs of entity `E` must be unique.
pub struct Scope<'a, E: EntityTrait> {
    /// Names the scope's lock: "connections", "syncs", "workspaces".
    pub kind: &'static str,
    /// The workspace column and the workspace; None when slugs are unique
    /// across workspaces.
    pub workspace: Option<(E::Column, &'a str)>,
    pub slug: E::Column,
}

/// Serializes, until the end of the transaction `db`, the writers of the
/// scope's slugs.
pub async fn lock<E: EntityTrait>(db: &impl ConnectionTrait, scope: &Scope<'_, E>) -> Result<()> {
    let key = match scope.workspace {
        Some((_, workspace_id)) => format!("slugs:{}:{workspace_id}", scope.kind),
        None => format!("slugs:{}", scope.kind),
    };
    super::lock(db, &key).await
}

/// Takes the scope's lock and returns the slug to insert: `requested`, or
/// when it is empty the first free candidate derived from `name`.
pub async fn pick<E: EntityTrait>(
    db: &impl ConnectionTrait,
    scope: &Scope<'_, E>,
    requested: &str,
    name: &str,
) -> Result<String> {
    lock(db, scope).await?;
    if !requested.is_empty() {
        return Ok(requested.to_string());
    }
    let base = slug::derive(name);
    let mut taken = E::find().select_only().column(scope.slug).filter(
        scope
            .slug
            .eq(base.as_str())
            .or(scope.slug.like(format!("{base}-%"))),
    );
    if let Some((col, workspace_id)) = scope.workspace {
        taken = taken.filter(col.eq(workspace_id));
    }
    let taken: HashSet<String> = taken
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let free = (1..)
        .map(|n| slug::candidate(&base, n))
        .find(|c| !taken.contains(c));
    Ok(free.unwrap_or(base))
}
