//! The run engine: the native executor (claims runs under a lease and runs
//! them), heartbeats, the reaper that fails runs whose executor went
//! silent and starts their next attempt, the scheduler and the freshness
//! monitor. `serve` runs all of it; `worker` runs the executor and the
//! reaper against a shared PostgreSQL.

mod attempts;
mod freshness;
mod plan;
mod reaper;
mod runner;
mod scheduler;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use tokio::{
    sync::{Semaphore, watch},
    task::JoinSet,
};

use crate::{
    auth::secrets::SecretBox,
    connectors::{self, ConnectorError, LocalFiles},
    domain::{
        enums::{ExecutionBackend, ResultReasonCode, RunStatus},
        failure::Side,
        now_micros,
    },
    store::hub::Note,
    store::{self, Store},
    warehouse::{DestinationError, Warehouse},
};

/// Records per source batch (and per destination transaction), unless a
/// sync's execution_config.batch_size says otherwise.
pub const BATCH_SIZE: usize = 1000;
/// Entities or windows loaded at once in the FAN_OUT modes, and windows per
/// entity, unless a sync's max_concurrency / window_count say otherwise.
pub const FAN_OUT: usize = 4;
/// How often an idle executor looks for work it was not told about.
const POLL: Duration = Duration::from_secs(1);

pub struct Engine {
    pub store: Store,
    pub secrets: SecretBox,
    /// Each run writes into its sync's namespace of it (see `RunState`).
    pub warehouse: Warehouse,
    /// What sources may open on this machine.
    pub local_files: LocalFiles,
    /// Names this executor in leases and heartbeats.
    pub executor_id: String,
    pub heartbeat_interval: Duration,
    pub heartbeat_timeout: Duration,
    pub concurrency: usize,
    /// Defaults of the syncs' execution knobs (see `plan`).
    pub batch_size: usize,
    pub fan_out: usize,
    /// Set once this process shuts down (see `begin_shutdown`).
    pub shutdown: watch::Sender<bool>,
}

/// Why a run stopped before the end.
#[derive(Debug)]
pub(crate) enum RunError {
    Cancelled,
    /// The reaper took the run (this executor was presumed dead).
    LeaseLost,
    /// This process shuts down: the run ends at its last committed batch.
    Shutdown,
    Failed {
        reason: ResultReasonCode,
        message: String,
    },
}

impl RunError {
    fn config(message: impl Into<String>) -> Self {
        Self::Failed {
            reason: ResultReasonCode::ConfigError,
            message: message.into(),
        }
    }

    /// Never shows a credential in a run's error or logs.
    fn scrubbed(self, creds: &BTreeMap<String, String>) -> Self {
        match self {
            Self::Failed { reason, message } => Self::Failed {
                reason,
                message: connectors::scrub(&message, creds),
            },
            other => other,
        }
    }
}

/// A connector's failure ends the run with its kind's reason code (see
/// `domain::failure`, the one place kinds become codes).
impl From<ConnectorError> for RunError {
    fn from(e: ConnectorError) -> Self {
        Self::Failed {
            reason: e.kind().reason(Side::Source),
            message: e.to_string(),
        }
    }
}

impl From<DestinationError> for RunError {
    fn from(e: DestinationError) -> Self {
        Self::Failed {
            reason: e.kind.reason(Side::Destination),
            message: e.message,
        }
    }
}

impl From<crate::error::Error> for RunError {
    fn from(e: crate::error::Error) -> Self {
        Self::Failed {
            reason: ResultReasonCode::InternalError,
            message: e.to_string(),
        }
    }
}

/// A name for this process's executor: host, pid and a random suffix.
pub fn executor_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!("{host}:{}:{suffix}", std::process::id())
}

impl Engine {
    /// Stops claiming runs and ends the runs in flight at their last
    /// committed batch (each resumes as its next attempt, see `finish`);
    /// `run_executor` returns once they have ended.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Claims and runs NATIVE runs, at most `concurrency` at once, until
    /// shutdown begins; then waits for the runs in flight to end. Wakes on
    /// new runs (through the hub) and polls. Dropping the task aborts the
    /// runs (a crash, in effect: the reaper resumes them).
    pub async fn run_executor(self: Arc<Self>) {
        if self.concurrency == 0 {
            return;
        }
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut news = self.store.hub.subscribe_all();
        let mut stop = self.shutdown.subscribe();
        let mut runs = JoinSet::new();
        while !*stop.borrow_and_update() {
            while runs.try_join_next().is_some() {}
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                _ = stop.changed() => break,
            };
            if *stop.borrow() {
                break;
            }
            match self.claim().await {
                Ok(Some(run)) => {
                    let engine = self.clone();
                    runs.spawn(async move {
                        engine.execute(run).await;
                        drop(permit);
                    });
                    continue; // there may be more
                }
                Ok(None) => drop(permit),
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "could not claim a run");
                }
            }
            // Nothing to do: wait for a new PENDING run, or poll.
            let wake = tokio::time::timeout(POLL, async {
                loop {
                    match news.recv().await {
                        Ok(Note::Event(e)) if e.status == Some(RunStatus::Pending) => return,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                        Err(_) | Ok(Note::Resync) => return,
                        Ok(_) => {}
                    }
                }
            });
            tokio::select! {
                _ = wake => {}
                _ = stop.changed() => {}
            }
        }
        if !runs.is_empty() {
            tracing::info!(
                runs = runs.len(),
                "shutting down: stopping the runs in flight at their last committed batch"
            );
        }
        while runs.join_next().await.is_some() {}
    }

    async fn claim(&self) -> crate::error::Result<Option<store::runs::RunRecord>> {
        let tx = self.store.begin().await?;
        let run = store::runs::claim_next(
            &tx,
            ExecutionBackend::Native,
            &self.executor_id,
            now_micros(),
            &store::runs::ClaimFilter::default(),
        )
        .await?;
        tx.commit().await?;
        if let Some(r) = &run {
            tracing::info!(run_id = %r.id, sync_id = %r.sync_id, executor = %self.executor_id, "claimed run");
        }
        Ok(run)
    }
}
