//! Shared list mechanics: sort, keyset continuation, limit + 1 for has_next.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order as SeaOrder, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
    sea_query::{Condition, Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, SimpleExpr},
};

use super::counts::{self, CountCache};
use crate::{
    domain::paging::{Cursor, Order, Page, SortValue},
    error::Result,
};

/// One page of rows plus what the response needs to describe it.
#[derive(Clone)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// Each item's cursor: a page that ends on it continues from there, so
    /// the API may stop a page early after any item (see `api::lists::fit`).
    pub cursors: Vec<Cursor>,
    pub total: i64,
    pub has_next: bool,
}

impl<T> PageOf<T> {
    /// A page of `items` (each with its cursor) after which `has_next` says
    /// whether more follow.
    pub fn new(
        items: Vec<T>,
        total: i64,
        has_next: bool,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let cursors = items.iter().map(cursor_of).collect();
        Self {
            items,
            cursors,
            total,
            has_next,
        }
    }
}

fn value(v: &SortValue) -> Value {
    match v {
        SortValue::Int(i) => (*i).into(),
        SortValue::Text(s) => s.clone().into(),
    }
}

/// Orders `q` by (`sort`, `id`) in `order` and continues after `page.after`.
pub fn apply<E: EntityTrait>(
    mut q: Select<E>,
    sort: SimpleExpr,
    id: E::Column,
    order: Order,
    page: &Page,
) -> Select<E>
where
    E::Column: ColumnTrait,
{
    if let Some(after) = &page.after {
        let v = value(&after.value);
        let (beyond, tie) = match order {
            Order::Asc => (sort.clone().gt(v.clone()), id.gt(after.id.clone())),
            Order::Desc => (sort.clone().lt(v.clone()), id.lt(after.id.clone())),
        };
        q = q.filter(
            Condition::any()
                .add(beyond)
                .add(Condition::all().add(sort.clone().eq(v)).add(tie)),
        );
    }
    let dir = match order {
        Order::Asc => SeaOrder::Asc,
        Order::Desc => SeaOrder::Desc,
    };
    q = q.order_by(sort, dir.clone()).order_by(id, dir);
    if page.after.is_none() && page.offset > 0 {
        q = q.offset(page.offset);
    }
    q.limit(page.limit + 1)
}

/// Rows of one page of `q` and the total of all its rows. The total is
/// cached under the workspace's list version of `kind` (see `counts`), keyed
/// by the filters (`filter_key`) that shaped `q`.
#[allow(clippy::too_many_arguments)]
pub async fn fetch<E>(
    db: &impl ConnectionTrait,
    counts: &CountCache,
    (workspace_id, kind, filter_key): (&str, &str, String),
    q: Select<E>,
    sort: SimpleExpr,
    id: E::Column,
    order: Order,
    page: &Page,
) -> Result<(Vec<E::Model>, i64)>
where
    E: EntityTrait,
    E::Model: Sync,
    E::Column: ColumnTrait,
{
    let version = counts::version(db, workspace_id, kind).await?;
    let key = format!("{workspace_id}/{kind}/{filter_key}");
    let total = counts
        .total(key, version, || async {
            Ok(q.clone().count(db).await? as i64)
        })
        .await?;
    let rows = apply(q, sort, id, order, page).all(db).await?;
    Ok((rows, total))
}

/// `LOWER(name) LIKE %q% OR LOWER(slug) LIKE %q%`: the search of every list.
pub fn search(name: impl IntoColumnRef, slug: impl IntoColumnRef, q: &str) -> Condition {
    Condition::any()
        .add(contains_ci(name, q))
        .add(contains_ci(slug, q))
}

/// Trims the extra row fetched by `apply` and computes the continuation.
pub fn finish<T>(
    mut rows: Vec<T>,
    total: i64,
    page: &Page,
    cursor_of: impl Fn(&T) -> Cursor,
) -> PageOf<T> {
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    PageOf::new(rows, total, has_next, cursor_of)
}

/// `LOWER(col) LIKE '%q%' ESCAPE '\'`, with LIKE's wildcards in `q` taken
/// literally; built by sea-query, so placeholders suit either engine.
pub fn contains_ci(col: impl IntoColumnRef, q: &str) -> SimpleExpr {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
