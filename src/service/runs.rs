//! Run use cases: records, cancel and retry. Execution is the engine's.

use super::{Services, check_id, request_scope, retry_conflicts};
use crate::{
    auth::Principal,
    domain::{
        connection::check_runnable,
        enums::{ConnectionStatus, RunMode, RunStatus, TriggeredBy},
        limits::MAX_CANCEL_REASON,
        new_id, now_micros,
        paging::Page,
        run::CancelRequest,
        sync::{check_backend, check_triggerable, max_auto_resume_attempts},
    },
    error::{Error, Result, Violations},
    store::{
        self, idempotency,
        list::PageOf,
        runs::{Filter, RunRecord},
        syncs::SyncRecord,
    },
};

/// A new PENDING run of `sync`, first of its attempt chain unless `previous` is set.
pub fn new_run(
    sync: &SyncRecord,
    triggered_by: TriggeredBy,
    run_mode: RunMode,
    trigger_ref: String,
    previous: Option<&RunRecord>,
) -> RunRecord {
    let id = new_id();
    let now = now_micros();
    let s = &sync.sync;
    RunRecord {
        id: id.clone(),
        workspace_id: s.workspace_id.clone(),
        sync_id: s.id.clone(),
        status: RunStatus::Pending,
        run_mode,
        triggered_by,
        trigger_ref,
        attempt_number: previous.map_or(1, |p| p.attempt_number + 1),
        attempt_root_run_id: previous.map_or(id, |p| p.attempt_root_run_id.clone()),
        previous_attempt_run_id: previous.map(|p| p.id.clone()),
        next_attempt_run_id: None,
        max_auto_resume_attempts: max_auto_resume_attempts(&crate::domain::json_object(
            &s.execution_config,
        )),
        execution_backend: s.execution_backend,
        execution_mode: s.execution_mode,
        executor_id: None,
        lease_expires_at: None,
        backend_run_ref: None,
        backend_run_url: None,
        backend_status: None,
        backend_heartbeat_at: None,
        last_heartbeat_at: None,
        cancel_requested_at: None,
        cancel_requested_by: None,
        cancel_reason: None,
        cancel_reason_code: None,
        result_class: None,
        result_reason_code: None,
        error: None,
        summary: None,
        created_at: now,
        started_at: None,
        completed_at: None,
        updated_at: now,
        last_event_sequence: 0,
    }
}

/// RetryRun accepts a FAILED or CANCELLED run that has no next attempt yet.
fn check_retryable(prev: &RunRecord) -> Result<()> {
    let status = prev.status;
    if !status.can_retry() {
        return Err(Error::precondition(
            "RUN_NOT_RETRYABLE",
            format!("the run is {status}: only FAILED or CANCELLED runs can be retried"),
        ));
    }
    if let Some(next) = &prev.next_attempt_run_id {
        return Err(Error::precondition(
            "RUN_ALREADY_RETRIED",
            format!("the run was already followed by attempt {next}"),
        ));
    }
    Ok(())
}

impl Services {
    /// The run a repeated request_id created the first time, if any.
    pub(crate) async fn repeated_run(
        &self,
        p: &Principal,
        scope: Option<&str>,
    ) -> Result<Option<RunRecord>> {
        match scope {
            Some(scope) => match idempotency::lookup(&self.store.write, scope).await? {
                Some(id) => Ok(Some(self.get_run(p, id).await?)),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Creates `run` of `sync` in one transaction: claims the request_id (a
    /// repeat returns the first call's run), checks that the sync may run,
    /// inserts the run and, for a retry, links it after `previous`.
    pub(crate) async fn start_run(
        &self,
        p: &Principal,
        scope: Option<&str>,
        sync: &SyncRecord,
        run: RunRecord,
        previous: Option<&str>,
    ) -> Result<RunRecord> {
        let txn = self.store.begin().await?;
        if let Some(scope) = scope
            && !idempotency::claim(&txn, scope, &p.workspace_id, &run.id).await?
        {
            txn.rollback().await?;
            return self.repeat(scope, |id| self.get_run(p, id)).await;
        }
        self.check_can_run(&txn, sync).await?;
        let run = store::runs::insert(&txn, run).await?;
        if let Some(prev) = previous
            && !store::runs::link_next(&txn, prev, &run.id, run.created_at).await?
        {
            return Err(Error::precondition(
                "RUN_ALREADY_RETRIED",
                "the run was retried concurrently",
            ));
        }
        txn.commit().await?;
        Ok(run)
    }

    pub async fn get_run(&self, p: &Principal, id: String) -> Result<RunRecord> {
        check_id("run_id", &id)?;
        store::runs::get(&self.store.read, &p.workspace_id, &id).await
    }

    pub async fn list_runs(
        &self,
        p: &Principal,
        filter: &Filter,
        page: &Page,
    ) -> Result<PageOf<RunRecord>> {
        store::runs::list(&self.store.read, &p.workspace_id, filter, page).await
    }

    /// Checks that a sync may start a run now: its status, its backend and
    /// its connections' status (source and destination).
    pub(crate) async fn check_can_run(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        sync: &SyncRecord,
    ) -> Result<()> {
        check_triggerable(sync.sync.status)?;
        {
            check_backend(sync.sync.execution_backend)?;
        }
        let connections = store::connections::of_run_start(db, &sync.sync.id).await?;
        let expected = 1 + usize::from(sync.sync.destination_connection_id.is_some());
        if connections.len() < expected {
            return Err(Error::precondition(
                "CONNECTION_MISSING",
                "a connection of the sync no longer exists",
            ));
        }
        for c in &connections {
            if c.id != sync.sync.connection_id && c.status == ConnectionStatus::Disabled {
                return Err(Error::precondition(
                    "CONNECTION_DISABLED",
                    format!(
                        "the sync's destination connection {} is disabled; reactivate it first",
                        c.slug
                    ),
                ));
            }
            check_runnable(c.status)?;
        }
        Ok(())
    }

    pub async fn cancel_run(&self, p: &Principal, id: String, reason: String) -> Result<RunRecord> {
        check_id("run_id", &id)?;
        if reason.chars().count() > MAX_CANCEL_REASON {
            return Err(crate::error::invalid(
                "reason",
                format!("must be at most {MAX_CANCEL_REASON} characters"),
            ));
        }
        let req = CancelRequest::by_user(&p.key_id, &reason);
        retry_conflicts(|| async {
            let tx = self.store.begin().await?;
            let r = store::runs::get(&tx, &p.workspace_id, &id).await?;
            let from = r.status;
            if from.is_terminal() {
                return Err(Error::precondition(
                    "RUN_TERMINAL",
                    format!("the run is {from}: a finished run cannot be cancelled"),
                ));
            }
            // Compare-and-set on the status: an executor may claim the run meanwhile.
            let r = store::runs::request_cancel(&tx, r, from, &req, now_micros())
                .await?
                .ok_or_else(Error::conflict)?;
            tx.commit().await?;
            Ok(r)
        })
        .await
    }

    pub async fn retry_run(
        &self,
        p: &Principal,
        id: String,
        run_mode: Option<RunMode>,
        request_id: String,
    ) -> Result<RunRecord> {
        check_id("run_id", &id)?;
        let mut v = Violations::new();
        let scope = request_scope(&p.key_id, "RetryRun", &request_id, &mut v);
        v.check()?;
        if let Some(run) = self.repeated_run(p, scope.as_deref()).await? {
            return Ok(run);
        }
        let prev = self.get_run(p, id).await?;
        if let Err(e) = check_retryable(&prev) {
            // A repeat racing the first call may find the run retried by that
            // very call, committed meanwhile: it returns that call's run.
            return self.repeated_run(p, scope.as_deref()).await?.ok_or(e);
        }
        let sync = store::syncs::get(&self.store.read, &p.workspace_id, &prev.sync_id).await?;
        let mode = run_mode.unwrap_or(prev.run_mode);
        let run = new_run(
            &sync,
            TriggeredBy::Retry,
            mode,
            prev.id.clone(),
            Some(&prev),
        );
        self.start_run(p, scope.as_deref(), &sync, run, Some(&prev.id))
            .await
    }
}
