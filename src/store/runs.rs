//! Run records.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    NotSet, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType, SimpleExpr},
};

use super::{
    entity::{run, sync},
    is_unique_violation,
    list::{self, PageOf},
    run_events,
    tx::Tx,
};
use crate::{
    domain::{
        enums::{
            ConnectionStatus, ExecutionBackend, ResultClass, ResultReasonCode, RunStatus,
            TriggeredBy,
        },
        paging::{Cursor, Order, Page, SortValue},
        run::CancelRequest,
        run_event::EventBody,
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
        .filter(run::Column::Status.is_in(RunStatus::ACTIVE.iter().copied()))
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

/// Inserts a run and its first event. The partial unique index refuses a
/// second non-terminal run of one sync, also when two triggers race.
pub async fn insert(tx: &Tx, rec: RunRecord) -> Result<RunRecord> {
    if let Some(active) = active_for_sync(tx, &rec.sync_id).await? {
        return Err(already_active(&active.id));
    }
    match run::Entity::insert(rec.clone().into_active_model())
        .exec(tx)
        .await
    {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(already_active("(another trigger won the race)"));
        }
        Err(e) => return Err(e.into()),
    }
    run_events::append(tx, &rec, status_changed(None, &rec)).await?;
    Ok(RunRecord {
        last_event_sequence: 1,
        ..rec
    })
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
    let mut am = rec.clone().into_active_model().reset_all();
    // Written by their own paths, concurrently with status changes.
    am.last_event_sequence = NotSet;
    am.last_heartbeat_at = NotSet;
    am.lease_expires_at = NotSet;
    am.backend_run_ref = NotSet;
    am.backend_run_url = NotSet;
    am.backend_status = NotSet;
    am.backend_heartbeat_at = NotSet;
    let r = run::Entity::update_many()
        .set(am)
        .filter(run::Column::Id.eq(rec.id.clone()))
        .filter(run::Column::Status.eq(from))
        .exec(db)
        .await;
    match r {
        Ok(r) if r.rows_affected == 1 => Ok(Some(rec)),
        Ok(_) => Ok(None),
        Err(e) if is_unique_violation(&e) => Err(already_active("(another run started meanwhile)")),
        Err(e) => Err(e.into()),
    }
}

/// Marks `r` ended in terminal status `to`, with its result, at `now`
/// (then `move_status` records it).
pub fn end(
    r: &mut RunRecord,
    to: RunStatus,
    class: ResultClass,
    reason: Option<ResultReasonCode>,
    error: Option<String>,
    now: i64,
) {
    r.status = to;
    r.result_class = Some(class);
    r.result_reason_code = reason;
    r.error = error;
    r.completed_at = Some(now);
    r.updated_at = now;
}

/// Moves `rec` (already carrying its new status and fields) from status
/// `from`, compare-and-set, and records the StatusChanged event; a run that
/// ends also records its outcome on its sync and connection (see
/// `run_outcome`). None when the run is no longer in `from`.
pub async fn move_status(tx: &Tx, rec: RunRecord, from: RunStatus) -> Result<Option<RunRecord>> {
    let Some(mut rec) = save_if_status(tx, rec, from).await? else {
        return Ok(None);
    };
    if rec.status != from {
        let e = run_events::append(tx, &rec, status_changed(Some(from), &rec)).await?;
        rec.last_event_sequence = e.sequence;
        super::run_outcome::record(tx, &rec).await?;
    }
    Ok(Some(rec))
}

/// The StatusChanged event that brought `rec` to its status.
pub fn status_changed(from: Option<RunStatus>, rec: &RunRecord) -> EventBody {
    EventBody::StatusChanged {
        from,
        to: rec.status,
        result_class: rec.result_class,
        result_reason_code: rec.result_reason_code,
        error: rec.error.clone(),
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

/// Every run that passes `filter` (sync, statuses), oldest first: for
/// bounded sets such as the runs in progress.
pub async fn all(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    filter: &Filter,
) -> Result<Vec<RunRecord>> {
    Ok(filtered(workspace_id, filter)
        .order_by_asc(run::Column::CreatedAt)
        .all(db)
        .await?)
}

/// The workspace's runs that pass every filter that is set.
fn filtered(workspace_id: &str, filter: &Filter) -> sea_orm::Select<run::Entity> {
    let mut q = run::Entity::find().filter(run::Column::WorkspaceId.eq(workspace_id));
    if let Some(s) = &filter.sync_id {
        q = q.filter(run::Column::SyncId.eq(s.clone()));
    }
    if let Some(r) = &filter.attempt_root_run_id {
        q = q.filter(run::Column::AttemptRootRunId.eq(r.clone()));
    }
    if !filter.statuses.is_empty() {
        q = q.filter(run::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if !filter.triggered_by.is_empty() {
        q = q.filter(run::Column::TriggeredBy.is_in(filter.triggered_by.iter().copied()));
    }
    q
}

/// Runs newest first, filtered; `sync_id` scopes ListSyncRuns.
pub async fn list(
    db: &impl ConnectionTrait,
    workspace_id: &str,
    filter: &Filter,
    page: &Page,
) -> Result<PageOf<RunRecord>> {
    let q = filtered(workspace_id, filter);
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

/// Which PENDING runs `claim_next` may take (default: any).
#[derive(Debug, Default, Clone)]
pub struct ClaimFilter {
    /// Only runs of this workspace.
    pub workspace_id: Option<String>,
    /// Only runs of these syncs (empty: any sync).
    pub sync_ids: Vec<String>,
}

/// Runs of disabled connections one claim ends before it gives up for this
/// call (the caller claims again later).
const MAX_DISABLED_PER_CLAIM: usize = 10;

/// Claims the oldest PENDING run of `backend` that passes `filter` for
/// `executor_id`: RUNNING, leased, with its StatusChanged event. On
/// PostgreSQL the candidate row is locked with SKIP LOCKED, so concurrent
/// executors pick different runs; on SQLite the single writer serialises
/// claims. A candidate whose connection (source or destination) is DISABLED is never started: it
/// ends CANCELLED (CONFIG_ERROR) and the next one is tried. None when
/// nothing runnable is pending.
pub async fn claim_next(
    tx: &Tx,
    backend: ExecutionBackend,
    executor_id: &str,
    now: i64,
    filter: &ClaimFilter,
) -> Result<Option<RunRecord>> {
    for _ in 0..MAX_DISABLED_PER_CLAIM {
        let Some(mut r) = next_pending(tx, backend, filter).await? else {
            return Ok(None);
        };
        let connections = super::connections::of_run_start(tx, &r.sync_id).await?;
        if let Some(conn) = connections
            .iter()
            .find(|c| c.status == ConnectionStatus::Disabled)
        {
            let req = CancelRequest::connection_disabled("system", &conn.name, &conn.slug);
            tracing::info!(run_id = %r.id, connection_id = %conn.id, "cancelled a claimed run: its connection is disabled");
            request_cancel(tx, r, RunStatus::Pending, &req, now).await?;
            continue;
        }
        r.status = RunStatus::Running;
        r.executor_id = Some(executor_id.to_string());
        r.started_at = Some(now);
        r.updated_at = now;
        let r = move_status(tx, r, RunStatus::Pending).await?;
        if let Some(r) = &r {
            beat(tx, &r.id, executor_id, now).await?;
        }
        return Ok(r);
    }
    Ok(None)
}

/// The oldest PENDING run of `backend` that passes `filter`, locked for the
/// caller (SKIP LOCKED on PostgreSQL).
async fn next_pending(
    tx: &Tx,
    backend: ExecutionBackend,
    filter: &ClaimFilter,
) -> Result<Option<RunRecord>> {
    let mut q = run::Entity::find()
        .filter(run::Column::Status.eq(RunStatus::Pending))
        .filter(run::Column::ExecutionBackend.eq(backend));
    if let Some(w) = &filter.workspace_id {
        q = q.filter(run::Column::WorkspaceId.eq(w.clone()));
    }
    if !filter.sync_ids.is_empty() {
        q = q.filter(run::Column::SyncId.is_in(filter.sync_ids.iter().cloned()));
    }
    let mut q = q.order_by_asc(run::Column::CreatedAt).limit(1);
    if tx.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    Ok(q.one(tx).await?)
}

/// Asks run `r`, in status `from`, to stop as `req` says, compare-and-set
/// with its StatusChanged event: PENDING ends CANCELLED at once, RUNNING
/// becomes CANCELLING (its executor notices within a batch or a heartbeat
/// and ends it with `req.code`), CANCELLING keeps its first request.
/// Returns the run as it is now; None when it left `from` meanwhile or is
/// terminal.
pub async fn request_cancel(
    tx: &Tx,
    mut r: RunRecord,
    from: RunStatus,
    req: &CancelRequest,
    now: i64,
) -> Result<Option<RunRecord>> {
    let Some(to) = from.on_cancel() else {
        return Ok(None);
    };
    if from == RunStatus::Cancelling {
        return Ok(Some(r));
    }
    r.status = to;
    r.cancel_requested_at = Some(now);
    r.cancel_requested_by = Some(req.by.clone());
    r.cancel_reason = req.reason.clone();
    r.cancel_reason_code = Some(req.code);
    r.updated_at = now;
    if to == RunStatus::Cancelled {
        end(
            &mut r,
            to,
            ResultClass::Cancelled,
            Some(req.code),
            None,
            now,
        );
    }
    move_status(tx, r, from).await
}

/// The result reason a run ends CANCELLED with: what its cancel asked for.
pub fn cancel_code(r: &RunRecord) -> ResultReasonCode {
    r.cancel_reason_code
        .unwrap_or(ResultReasonCode::UserCancelled)
}

/// The runs of a connection's syncs that have not ended, for
/// DisableConnection, which has already written (and so locked) the
/// connection row. PENDING runs that a claim holds are skipped (SKIP LOCKED
/// on PostgreSQL): that claim waits for the connection row, sees it
/// DISABLED and ends them itself. Waiting for them instead would deadlock
/// with it.
pub async fn active_for_connection(tx: &Tx, connection_id: &str) -> Result<Vec<RunRecord>> {
    let syncs: Vec<String> = sync::Entity::find()
        .select_only()
        .column(sync::Column::Id)
        .filter(
            sea_orm::Condition::any()
                .add(sync::Column::ConnectionId.eq(connection_id))
                .add(sync::Column::DestinationConnectionId.eq(connection_id)),
        )
        .into_tuple()
        .all(tx)
        .await?;
    if syncs.is_empty() {
        return Ok(Vec::new());
    }
    let of_syncs = || run::Entity::find().filter(run::Column::SyncId.is_in(syncs.clone()));
    let mut pending = of_syncs().filter(run::Column::Status.eq(RunStatus::Pending));
    if tx.get_database_backend() == DbBackend::Postgres {
        pending = pending.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut runs = pending.all(tx).await?;
    let live = [RunStatus::Running, RunStatus::Cancelling];
    runs.extend(
        of_syncs()
            .filter(run::Column::Status.is_in(live))
            .all(tx)
            .await?,
    );
    Ok(runs)
}

/// Records a heartbeat of the run's lease holder. Returns the run's status,
/// or None when `executor_id` no longer holds a live lease (the run was
/// reaped or finished): the executor must stop.
pub async fn beat(
    db: &impl ConnectionTrait,
    run_id: &str,
    executor_id: &str,
    now: i64,
) -> Result<Option<RunStatus>> {
    let live = [RunStatus::Running, RunStatus::Cancelling];
    let r = run::Entity::update_many()
        .col_expr(run::Column::LastHeartbeatAt, Expr::value(now))
        .filter(run::Column::Id.eq(run_id))
        .filter(run::Column::ExecutorId.eq(executor_id))
        .filter(run::Column::Status.is_in(live))
        .exec(db)
        .await?;
    if r.rows_affected == 0 {
        return Ok(None);
    }
    Ok(run::Entity::find_by_id(run_id.to_string())
        .select_only()
        .column(run::Column::Status)
        .into_tuple::<RunStatus>()
        .one(db)
        .await?)
}

/// The run, if `executor_id` holds its live lease (the run is RUNNING or
/// CANCELLING under that executor), locked until the end of `tx` on
/// PostgreSQL (SQLite has a single writer): no status change can slip in
/// between this check and the caller's writes.
pub async fn lock_leased(tx: &Tx, run_id: &str, executor_id: &str) -> Result<Option<RunRecord>> {
    let live = [RunStatus::Running, RunStatus::Cancelling];
    let mut q = run::Entity::find_by_id(run_id.to_string())
        .filter(run::Column::ExecutorId.eq(executor_id))
        .filter(run::Column::Status.is_in(live));
    if tx.get_database_backend() == DbBackend::Postgres {
        q = q.lock(LockType::Update);
    }
    Ok(q.one(tx).await?)
}

/// What an external executor reports about the run in its own backend;
/// None leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct BackendReport {
    pub run_ref: Option<String>,
    pub run_url: Option<String>,
    /// JSON text.
    pub status: Option<String>,
}

impl BackendReport {
    pub fn is_empty(&self) -> bool {
        self.run_ref.is_none() && self.run_url.is_none() && self.status.is_none()
    }
}

/// Records the new expiry of the lease `executor_id` holds on the run and
/// what it reported of its backend (stamping backend_heartbeat_at when it
/// reported anything). False when it holds no live lease.
pub async fn record_lease(
    db: &impl ConnectionTrait,
    run_id: &str,
    executor_id: &str,
    lease_expires_at: i64,
    backend: &BackendReport,
    now: i64,
) -> Result<bool> {
    let live = [RunStatus::Running, RunStatus::Cancelling];
    let mut q = run::Entity::update_many()
        .col_expr(run::Column::LeaseExpiresAt, Expr::value(lease_expires_at));
    if let Some(v) = &backend.run_ref {
        q = q.col_expr(run::Column::BackendRunRef, Expr::value(v.clone()));
    }
    if let Some(v) = &backend.run_url {
        q = q.col_expr(run::Column::BackendRunUrl, Expr::value(v.clone()));
    }
    if let Some(v) = &backend.status {
        q = q.col_expr(run::Column::BackendStatus, Expr::value(v.clone()));
    }
    if !backend.is_empty() {
        q = q.col_expr(run::Column::BackendHeartbeatAt, Expr::value(now));
    }
    let r = q
        .filter(run::Column::Id.eq(run_id))
        .filter(run::Column::ExecutorId.eq(executor_id))
        .filter(run::Column::Status.is_in(live))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Live runs (RUNNING or CANCELLING) whose last heartbeat is older than
/// `before`: their executor is presumed dead.
pub async fn timed_out(db: &impl ConnectionTrait, before: i64) -> Result<Vec<RunRecord>> {
    let live = [RunStatus::Running, RunStatus::Cancelling];
    Ok(run::Entity::find()
        .filter(run::Column::Status.is_in(live))
        .filter(run::Column::LastHeartbeatAt.lt(before))
        .order_by_asc(run::Column::CreatedAt)
        .all(db)
        .await?)
}

/// The run by id alone (executors act across workspaces).
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<RunRecord>> {
    Ok(run::Entity::find_by_id(id.to_string()).one(db).await?)
}
