//! Picking a free slug within a workspace: base, base-2, base-3 …

use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::ExprTrait,
};

use crate::{domain::slug, error::Result};

pub async fn free_slug<E: EntityTrait>(
    db: &impl ConnectionTrait,
    workspace_col: E::Column,
    slug_col: E::Column,
    workspace_id: &str,
    base: &str,
) -> Result<String> {
    let taken: HashSet<String> = E::find()
        .select_only()
        .column(slug_col)
        .filter(workspace_col.eq(workspace_id))
        .filter(slug_col.eq(base).or(slug_col.like(format!("{base}-%"))))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok((1..)
        .map(|n| slug::candidate(base, n))
        .find(|c| !taken.contains(c))
        .unwrap_or_else(|| base.to_string()))
}
