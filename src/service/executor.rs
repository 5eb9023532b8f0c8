//! ExecutorService use cases: external engines (and `tributary worker`)
//! claim PENDING runs of EXTERNAL syncs under a lease, heartbeat, report
//! progress and cursors, append logs and end the run. Every call but the
//! claim must come from the run's live lease holder.

use std::{collections::BTreeMap, time::Duration};

use super::{Services, retry_conflicts};
use crate::{
    auth::Principal,
    domain::{
        check_text,
        enums::{ExecutionBackend, LogLevel, ResultClass, ResultReasonCode, RunStatus},
        is_uuid, limits, now_micros,
        run::StoredSummary,
        run_event::{EventBody, Totals},
    },
    error::{Error, Result, Violations, invalid},
    store::{
        self,
        connections::ConnectionRecord,
        run_events,
        runs::{BackendReport, ClaimFilter, RunRecord},
        syncs::SyncRecord,
        tx::Tx,
    },
};

/// Longest executor_id.
pub const MAX_EXECUTOR_ID: usize = 200;
/// Most sync_ids a claim may name.
pub const MAX_CLAIM_SYNCS: usize = 100;
/// Most lines of one AppendLogs call.
pub const MAX_LOG_LINES: usize = 1000;
/// Longest committed cursor.
pub const MAX_CURSOR: usize = 4096;
/// Longest backend_run_ref, backend_run_url and entity key of a log line.
pub const MAX_BACKEND_REF: usize = 1000;
pub const MAX_BACKEND_URL: usize = 2048;
pub const MAX_ENTITY_KEY: usize = 255;
/// Unrunnable runs (their sync or connection gone) one claim fails and
/// skips before it gives up for this call.
const MAX_SKIPPED: usize = 10;

/// The reason of FAILED_PRECONDITION for a caller that does not hold the lease.
pub const NOT_LEASE_HOLDER: &str = "NOT_LEASE_HOLDER";

/// A claimed run and what its executor needs to run it.
pub struct Claimed {
    pub run: RunRecord,
    pub sync: SyncRecord,
    pub connection: ConnectionRecord,
    /// Decrypted: for the executor only, never logged.
    pub credentials: BTreeMap<String, String>,
    pub lease_expires_at: i64,
    /// Entity → committed cursor.
    pub cursors: BTreeMap<String, String>,
}

/// The lease after a heartbeat.
pub struct Lease {
    pub expires_at: i64,
    pub cancel_requested: bool,
}

/// One entity's running totals in this run.
pub struct ProgressReport {
    pub entity_key: String,
    pub totals: Totals,
}

/// One log line; `level` None takes INFO.
pub struct LogLineIn {
    pub level: Option<LogLevel>,
    pub message: String,
    pub entity_key: String,
}

/// How the executor ends a run.
pub struct Completion {
    /// None when the request named no (valid) status: the decoder has
    /// recorded that violation.
    pub status: Option<RunStatus>,
    pub reason: Option<ResultReasonCode>,
    pub error: Option<String>,
    pub summary: Option<StoredSummary>,
}

fn check_executor_id(id: &str, v: &mut Violations) {
    if id.is_empty() {
        v.add("executor_id", "is required");
    } else if id.chars().count() > MAX_EXECUTOR_ID {
        v.add(
            "executor_id",
            format!("must be at most {MAX_EXECUTOR_ID} characters"),
        );
    }
    check_text(id, "executor_id", v);
}

fn check_run_id(id: &str, v: &mut Violations) {
    if id.is_empty() {
        v.add("run_id", "is required");
    } else if !is_uuid(id) {
        v.add("run_id", "must be a UUID");
    }
}

fn check_lease_call(run_id: &str, executor_id: &str, v: &mut Violations) {
    check_run_id(run_id, v);
    check_executor_id(executor_id, v);
}

fn check_text_len(value: &str, field: &str, max: usize, v: &mut Violations) {
    if value.chars().count() > max {
        v.add(field, format!("must be at most {max} characters"));
    }
    check_text(value, field, v);
}

fn check_totals(t: &Totals, prefix: &str, v: &mut Violations) {
    for (name, n) in [
        ("records_read", t.records_read),
        ("records_written", t.records_written),
        ("bytes", t.bytes),
    ] {
        limits::check_counter(n, &format!("{prefix}{name}"), v);
    }
}

fn check_summary(s: &StoredSummary, v: &mut Violations) {
    limits::check_count(&s.entities, "summary.entities", limits::MAX_ENTITIES, v);
    for (i, e) in s.entities.iter().enumerate() {
        let at = format!("summary.entities[{i}].");
        if e.entity_key.is_empty() {
            v.add(format!("{at}entity_key"), "is required");
        }
        check_text_len(&e.entity_key, &format!("{at}entity_key"), MAX_ENTITY_KEY, v);
        check_text_len(
            &e.cursor_before,
            &format!("{at}cursor_before"),
            MAX_CURSOR,
            v,
        );
        check_text_len(&e.cursor_after, &format!("{at}cursor_after"), MAX_CURSOR, v);
        check_totals(
            &Totals {
                records_read: e.records_read,
                records_written: e.records_written,
                bytes: e.bytes,
            },
            &at,
            v,
        );
    }
}

/// Why `executor_id` may not act on `run` (as last read).
fn not_lease_holder(run: &RunRecord, executor_id: &str) -> Error {
    let status = run.status;
    let why = if status.is_terminal() {
        format!("the run is {status}: it has ended")
    } else {
        match &run.executor_id {
            None => "the run has not been claimed".to_string(),
            Some(holder) if holder == executor_id => format!("the run is {status}"),
            Some(holder) => format!("the run is leased to executor {holder}"),
        }
    };
    Error::precondition(
        NOT_LEASE_HOLDER,
        format!(
            "executor {executor_id} does not hold the lease of run {}: {why}",
            run.id
        ),
    )
}

fn lease_until(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_micros()).unwrap_or(i64::MAX))
}

/// Why a claimed run cannot be handed out (its sync or connection gone,
/// credentials unreadable): it fails with CONFIG_ERROR.
struct Unrunnable(String);

impl Services {
    /// The run `run_id` of the caller's workspace (else NOT_FOUND), locked,
    /// if `executor_id` holds its live lease (else NOT_LEASE_HOLDER).
    async fn leased(
        &self,
        tx: &Tx,
        p: &Principal,
        run_id: &str,
        executor_id: &str,
    ) -> Result<RunRecord> {
        let seen = store::runs::get(tx, &p.workspace_id, run_id).await?;
        store::runs::lock_leased(tx, run_id, executor_id)
            .await?
            .ok_or_else(|| not_lease_holder(&seen, executor_id))
    }

    /// Leases the oldest PENDING run of an EXTERNAL sync of the caller's
    /// workspace (among `sync_ids`, when given) to `executor_id`. None when
    /// no run is waiting.
    pub async fn claim_run(
        &self,
        p: &Principal,
        executor_id: String,
        sync_ids: Vec<String>,
        lease: Duration,
    ) -> Result<Option<Claimed>> {
        let mut v = Violations::new();
        check_executor_id(&executor_id, &mut v);
        if sync_ids.len() > MAX_CLAIM_SYNCS {
            v.add(
                "sync_ids",
                format!("must name at most {MAX_CLAIM_SYNCS} syncs"),
            );
        }
        for (i, id) in sync_ids.iter().enumerate() {
            if !is_uuid(id) {
                v.add(format!("sync_ids[{i}]"), "must be a UUID");
            }
        }
        v.check()?;
        let filter = ClaimFilter {
            workspace_id: Some(p.workspace_id.clone()),
            sync_ids,
        };
        let claimed = retry_conflicts(|| async {
            let tx = self.store.begin().await?;
            for _ in 0..MAX_SKIPPED {
                let now = now_micros();
                let Some(run) = store::runs::claim_next(
                    &tx,
                    ExecutionBackend::External,
                    &executor_id,
                    now,
                    &filter,
                )
                .await?
                else {
                    break;
                };
                match self.equip(&tx, &run).await? {
                    Ok((sync, connection, credentials)) => {
                        let expires_at = lease_until(now, lease);
                        store::runs::record_lease(
                            &tx,
                            &run.id,
                            &executor_id,
                            expires_at,
                            &BackendReport::default(),
                            now,
                        )
                        .await?;
                        let cursors = store::entity_states::cursors(&tx, &run.sync_id).await?;
                        let run = store::runs::find(&tx, &run.id)
                            .await?
                            .ok_or_else(|| Error::not_found("run", &run.id))?;
                        tx.commit().await?;
                        return Ok(Some(Claimed {
                            run,
                            sync,
                            connection,
                            credentials,
                            lease_expires_at: expires_at,
                            cursors,
                        }));
                    }
                    Err(Unrunnable(why)) => self.fail_unrunnable(&tx, run, why, now).await?,
                }
            }
            tx.commit().await?;
            Ok(None)
        })
        .await?;
        if let Some(c) = &claimed {
            tracing::info!(
                run_id = %c.run.id,
                sync_id = %c.run.sync_id,
                executor = %executor_id,
                "external executor claimed a run"
            );
        }
        Ok(claimed)
    }

    /// The sync, connection and decrypted credentials of a claimed run.
    async fn equip(
        &self,
        tx: &Tx,
        run: &RunRecord,
    ) -> Result<Result<(SyncRecord, ConnectionRecord, BTreeMap<String, String>), Unrunnable>> {
        let Some(sync) = store::syncs::find(tx, &run.sync_id).await? else {
            return Ok(Err(Unrunnable("the sync no longer exists".into())));
        };
        let Some(conn) = store::connections::find(tx, &sync.sync.connection_id).await? else {
            return Ok(Err(Unrunnable(
                "the sync's connection no longer exists".into(),
            )));
        };
        let credentials = match &conn.credentials_ciphertext {
            Some(sealed) => match self.secrets.open(sealed) {
                Ok(c) => c,
                Err(_) => {
                    return Ok(Err(Unrunnable(
                        "the connection's credentials cannot be decrypted".into(),
                    )));
                }
            },
            None => BTreeMap::new(),
        };
        Ok(Ok((sync, conn, credentials)))
    }

    /// Fails a just-claimed run that cannot be handed out.
    async fn fail_unrunnable(
        &self,
        tx: &Tx,
        mut r: RunRecord,
        why: String,
        now: i64,
    ) -> Result<()> {
        tracing::warn!(run_id = %r.id, error = %why, "failing an external run that cannot run");
        store::runs::end(
            &mut r,
            RunStatus::Failed,
            ResultClass::Failure,
            Some(ResultReasonCode::ConfigError),
            Some(why),
            now,
        );
        store::runs::move_status(tx, r, RunStatus::Running)
            .await?
            .ok_or_else(Error::conflict)?;
        Ok(())
    }

    /// Extends the lease, records the backend's view of the run, and sends
    /// a live Heartbeat event with the running totals. `v` holds what the
    /// decoder found wrong (backend_status).
    #[allow(clippy::too_many_arguments)]
    pub async fn heartbeat(
        &self,
        p: &Principal,
        run_id: String,
        executor_id: String,
        totals: Totals,
        backend: BackendReport,
        lease: Duration,
        mut v: Violations,
    ) -> Result<Lease> {
        check_lease_call(&run_id, &executor_id, &mut v);
        check_totals(&totals, "", &mut v);
        if let Some(r) = &backend.run_ref {
            check_text_len(r, "backend_run_ref", MAX_BACKEND_REF, &mut v);
        }
        if let Some(u) = &backend.run_url {
            check_text_len(u, "backend_run_url", MAX_BACKEND_URL, &mut v);
        }
        v.check()?;
        let (run, lease) = retry_conflicts(|| async {
            let tx = self.store.begin().await?;
            let run = self.leased(&tx, p, &run_id, &executor_id).await?;
            let now = now_micros();
            let status = store::runs::beat(&tx, &run_id, &executor_id, now)
                .await?
                .ok_or_else(|| not_lease_holder(&run, &executor_id))?;
            let expires_at = lease_until(now, lease);
            store::runs::record_lease(&tx, &run_id, &executor_id, expires_at, &backend, now)
                .await?;
            tx.commit().await?;
            Ok((
                run,
                Lease {
                    expires_at,
                    cancel_requested: status == RunStatus::Cancelling,
                },
            ))
        })
        .await?;
        let event = run_events::event(
            &run,
            run.last_event_sequence,
            EventBody::Heartbeat {
                executor_id: executor_id.clone(),
                totals,
            },
        );
        if let Err(e) = self.store.emit_live(event).await {
            tracing::warn!(run_id = %run.id, error = %e, "could not send a heartbeat event");
        }
        Ok(lease)
    }

    /// Persists one entity's running totals as a Progress event and, with
    /// `cursor`, commits the entity's new cursor in the same transaction.
    /// Counts as a heartbeat. Returns whether a cancel was requested.
    pub async fn report_progress(
        &self,
        p: &Principal,
        run_id: String,
        executor_id: String,
        progress: Option<ProgressReport>,
        cursor: Option<String>,
        lease: Duration,
    ) -> Result<bool> {
        let mut v = Violations::new();
        check_lease_call(&run_id, &executor_id, &mut v);
        match &progress {
            None => v.add("progress", "is required"),
            Some(pr) => {
                if pr.entity_key.is_empty() {
                    v.add("progress.entity_key", "is required");
                }
                check_text(&pr.entity_key, "progress.entity_key", &mut v);
                check_totals(&pr.totals, "progress.", &mut v);
            }
        }
        if let Some(c) = &cursor {
            check_text_len(c, "cursor", MAX_CURSOR, &mut v);
        }
        v.check()?;
        let Some(progress) = progress else {
            return Err(invalid("progress", "is required"));
        };
        retry_conflicts(|| async {
            let tx = self.store.begin().await?;
            let run = self.leased(&tx, p, &run_id, &executor_id).await?;
            let sync = store::syncs::find(&tx, &run.sync_id)
                .await?
                .ok_or_else(|| {
                    Error::precondition("SYNC_MISSING", "the run's sync no longer exists")
                })?;
            if !sync
                .bindings
                .iter()
                .any(|b| b.entity_key == progress.entity_key)
            {
                let bound: Vec<&str> = sync
                    .bindings
                    .iter()
                    .map(|b| b.entity_key.as_str())
                    .collect();
                return Err(invalid(
                    "progress.entity_key",
                    format!(
                        "is not an entity of the sync (its entities: {})",
                        bound.join(", ")
                    ),
                ));
            }
            let now = now_micros();
            let status = store::runs::beat(&tx, &run_id, &executor_id, now)
                .await?
                .ok_or_else(|| not_lease_holder(&run, &executor_id))?;
            store::runs::record_lease(
                &tx,
                &run_id,
                &executor_id,
                lease_until(now, lease),
                &BackendReport::default(),
                now,
            )
            .await?;
            run_events::append(
                &tx,
                &run,
                EventBody::Progress {
                    entity_key: progress.entity_key.clone(),
                    totals: progress.totals,
                },
            )
            .await?;
            if let Some(c) = &cursor {
                store::entity_states::set_cursor(&tx, &run.sync_id, &progress.entity_key, c, now)
                    .await?;
            }
            tx.commit().await?;
            Ok(status == RunStatus::Cancelling)
        })
        .await
    }

    /// Persists each line as a Log event, in one transaction. Returns the
    /// sequence of the last one.
    pub async fn append_logs(
        &self,
        p: &Principal,
        run_id: String,
        executor_id: String,
        lines: Vec<LogLineIn>,
        mut v: Violations,
    ) -> Result<i64> {
        check_lease_call(&run_id, &executor_id, &mut v);
        if lines.is_empty() || lines.len() > MAX_LOG_LINES {
            v.add(
                "lines",
                format!("must hold 1 to {MAX_LOG_LINES} lines (got {})", lines.len()),
            );
        }
        for (i, l) in lines.iter().enumerate() {
            if l.message.trim().is_empty() {
                v.add(format!("lines[{i}].message"), "is required");
            }
            check_text(&l.message, &format!("lines[{i}].message"), &mut v);
            check_text_len(
                &l.entity_key,
                &format!("lines[{i}].entity_key"),
                MAX_ENTITY_KEY,
                &mut v,
            );
        }
        v.check()?;
        retry_conflicts(|| async {
            let tx = self.store.begin().await?;
            let run = self.leased(&tx, p, &run_id, &executor_id).await?;
            let mut last = run.last_event_sequence;
            for l in &lines {
                let e = run_events::append(
                    &tx,
                    &run,
                    EventBody::log(
                        l.level.unwrap_or(LogLevel::Info),
                        l.message.clone(),
                        &l.entity_key,
                    ),
                )
                .await?;
                last = e.sequence;
            }
            tx.commit().await?;
            Ok(last)
        })
        .await
    }

    /// Ends the run as the executor says: SUCCEEDED, FAILED, or CANCELLED
    /// when a cancel was requested.
    pub async fn complete_run(
        &self,
        p: &Principal,
        run_id: String,
        executor_id: String,
        c: Completion,
        mut v: Violations,
    ) -> Result<RunRecord> {
        check_lease_call(&run_id, &executor_id, &mut v);
        if let Some(s) = c.status
            && !s.is_terminal()
        {
            v.add("status", "must be SUCCEEDED, FAILED or CANCELLED");
        }
        if c.status == Some(RunStatus::Succeeded) && c.reason.is_some() {
            v.add(
                "result_reason_code",
                "must be unspecified for a SUCCEEDED run",
            );
        }
        if let Some(e) = &c.error {
            check_text(e, "error", &mut v);
        }
        if let Some(s) = &c.summary {
            check_summary(s, &mut v);
        }
        v.check()?;
        let Some(to) = c.status else {
            return Err(invalid("status", "is required"));
        };
        let class = match to {
            RunStatus::Succeeded => ResultClass::Success,
            RunStatus::Cancelled => ResultClass::Cancelled,
            _ => ResultClass::Failure,
        };
        let error = c.error.map(|mut e| {
            run_events::clip(&mut e);
            e
        });
        let summary = c.summary.as_ref().map(store::json_text);
        let run = retry_conflicts(|| async {
            let tx = self.store.begin().await?;
            let mut r = self.leased(&tx, p, &run_id, &executor_id).await?;
            let from = r.status;
            if to == RunStatus::Cancelled && from != RunStatus::Cancelling {
                return Err(Error::precondition(
                    "CANCEL_NOT_REQUESTED",
                    format!(
                        "the run is {from}: it may end CANCELLED only after a cancel was requested"
                    ),
                ));
            }
            // A CANCELLED run ends for the reason its cancel gave (a user's, a
            // disabled connection's) unless the executor names another.
            let reason = match to {
                RunStatus::Succeeded => None,
                RunStatus::Cancelled => Some(c.reason.unwrap_or(store::runs::cancel_code(&r))),
                _ => Some(c.reason.unwrap_or(ResultReasonCode::InternalError)),
            };
            store::runs::end(&mut r, to, class, reason, error.clone(), now_micros());
            r.summary = summary.clone();
            let r = store::runs::move_status(&tx, r, from)
                .await?
                .ok_or_else(Error::conflict)?;
            tx.commit().await?;
            Ok(r)
        })
        .await?;
        tracing::info!(
            run_id = %run.id,
            executor = %executor_id,
            status = %run.status,
            "external executor completed a run"
        );
        Ok(run)
    }
}
