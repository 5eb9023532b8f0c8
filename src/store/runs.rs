//! Run records.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
    sea_query::{Expr, SimpleExpr},
};

use super::{
    entity::run,
    is_unique_violation,
    list::{self, PageOf},
};
use crate::{
    domain::{
        enums::{RunStatus, TriggeredBy},
        paging::{Cursor, Order, Page, SortValue},
    },
    error::{Error, Result},
};

pub use run::Model as RunRecord;

#[derive(Debug, Default)]
pub struct Filter {
    pub sync_id: Option<String>,
    pub statuses: Vec<RunStatus>,
    pub triggered_by: Vec<TriggeredBy>,
    pub attempt_root_run_id: Option<String>,
}

/// The sync's run that is not terminal yet, if any.
pub async fn active_for_sync(
    db: &impl ConnectionTrait,
    sync_id: &str,
) -> Result<Option<RunRecord>> {
    Ok(run::Entity::find()
        .filter(run::Column::SyncId.eq(sync_id))
        .filter(run::Column::Status.is_in(RunStatus::ACTIVE.iter().map(|s| s.as_str())))
        .one(db)
        .await?)
}

pub fn already_active(run_id: &str) -> Error {
    Error::precondition(
        "RUN_ALREADY_ACTIVE",
        format!(
            "the sync already has a run in progress: {run_id}; cancel it or wait for it to finish"
        ),
    )
}

/// Inserts a run. The partial unique index refuses a second non-terminal
/// run of one sync, also when two triggers race.
pub async fn insert(db: &impl ConnectionTrait, rec: RunRecord) -> Result<RunRecord> {
    if let Some(active) = active_for_sync(db, &rec.sync_id).await? {
        return Err(already_active(&active.id));
    }
    match run::Entity::insert(rec.clone().into_active_model())
        .exec(db)
        .await
    {
        Ok(_) => Ok(rec),
        Err(e) if is_unique_violation(&e) => Err(already_active("(another trigger won the race)")),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(db: &impl ConnectionTrait, workspace_id: &str, id: &str) -> Result<RunRecord> {
    run::Entity::find_by_id(id.to_string())
        .filter(run::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("run", id))
}

/// Writes every field of `rec` if the run is still in `from` (compare-and-set
/// on the status, so two writers cannot both move a run).
pub async fn save_if_status(
    db: &impl ConnectionTrait,
    rec: RunRecord,
    from: RunStatus,
) -> Result<Option<RunRecord>> {
    let r = run::Entity::update_many()
        .set(rec.clone().into_active_model().reset_all())
        .filter(run::Column::Id.eq(rec.id.clone()))
        .filter(run::Column::Status.eq(from.as_str()))
        .exec(db)
        .await;
    match r {
        Ok(r) if r.rows_affected == 1 => Ok(Some(rec)),
        Ok(_) => Ok(None),
        Err(e) if is_unique_violation(&e) => Err(already_active("(another run started meanwhile)")),
        Err(e) => Err(e.into()),
    }
}

/// Links `prev` to its next attempt; false when it already has one.
pub async fn link_next(db: &impl ConnectionTrait, prev: &str, next: &str, at: i64) -> Result<bool> {
    let r = run::Entity::update_many()
        .col_expr(run::Column::NextAttemptRunId, Expr::value(next))
        .col_expr(run::Column::UpdatedAt, Expr::value(at))
        .filter(run::Column::Id.eq(prev))
        .filter(run::Column::NextAttemptRunId.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Runs newest first, filtered; `sync_id` scopes ListSyncRuns.
pub async fn list(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    filter: &Filter,
    page: &Page,
) -> Result<PageOf<RunRecord>> {
    let mut q = run::Entity::find().filter(run::Column::WorkspaceId.eq(workspace_id));
    if let Some(s) = &filter.sync_id {
        q = q.filter(run::Column::SyncId.eq(s.clone()));
    }
    if let Some(r) = &filter.attempt_root_run_id {
        q = q.filter(run::Column::AttemptRootRunId.eq(r.clone()));
    }
    if !filter.statuses.is_empty() {
        q = q.filter(run::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if !filter.triggered_by.is_empty() {
        q = q
            .filter(run::Column::TriggeredBy.is_in(filter.triggered_by.iter().map(|s| s.as_str())));
    }
    let total = q.clone().count(db).await? as i64;
    let sort: SimpleExpr = Expr::col(run::Column::CreatedAt);
    let rows = list::apply(q, sort, run::Column::Id, Order::Desc, page)
        .all(db)
        .await?;
    Ok(list::finish(rows, total, page, |r| Cursor {
        value: SortValue::Int(r.created_at),
        id: r.id.clone(),
    }))
}
