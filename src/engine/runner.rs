//! Executes one claimed run: each bound entity from the source into the
//! warehouse, batch by batch, every batch committed with its position in
//! the destination (see `warehouse`). Reports progress, logs and the
//! summary; stops within one batch when cancelled.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{StreamExt, stream::FuturesUnordered};
use serde_json::{Map, Value};

use super::{Engine, RunError, plan::Plan};
use crate::{
    auth::connection_secrets,
    batch,
    connectors::{self, ReadRequest, Settings, Source, Window},
    domain::{
        enums::{
            ExecutionMode, LoadMode, LogLevel, ResultClass, ResultReasonCode, RunMode, RunStatus,
            TriggeredBy,
        },
        failure::{FailureKind, MAX_TRIES, Side},
        json_object, now_micros,
        run::{StoredEntitySummary, StoredSummary},
        run_event::{EventBody, Totals},
    },
    store::hub::Note,
    store::{
        self,
        connections::ConnectionRecord,
        runs::RunRecord,
        syncs::{BindingRow, SyncRecord},
    },
    warehouse::{self, Destination, Position, Slot, TableSpec},
};

/// Runs `tasks` with at most `limit` at once; results in completion order.
async fn bounded<T>(tasks: impl Iterator<Item = impl Future<Output = T>>, limit: usize) -> Vec<T> {
    let mut tasks = tasks.peekable();
    let mut running = FuturesUnordered::new();
    let mut out = Vec::new();
    loop {
        while running.len() < limit.max(1)
            && let Some(t) = tasks.next()
        {
            running.push(t);
        }
        match running.next().await {
            Some(r) => out.push(r),
            None if tasks.peek().is_none() => return out,
            None => {}
        }
    }
}

/// Batches a read runs ahead of the one being written, so that the source
/// decodes the next batches while the destination commits this one. A
/// copy holds at most READ_AHEAD + 2 batches: these, the one written and
/// the one being decoded.
const READ_AHEAD: usize = 2;

/// A read driven by a task of its own, at most `READ_AHEAD` batches ahead
/// of its consumer. Dropped (the copy failed, stopped or ended), it stops
/// the task and with it the source's read.
struct ReadAhead {
    batches: tokio::sync::mpsc::Receiver<Result<connectors::Batch, connectors::ConnectorError>>,
    task: tokio::task::JoinHandle<()>,
    ended: bool,
}

impl ReadAhead {
    fn spawn(mut read: connectors::BatchStream) -> Self {
        let (tx, batches) = tokio::sync::mpsc::channel(READ_AHEAD);
        let task = tokio::spawn(async move {
            while let Some(b) = read.next().await {
                if tx.send(b).await.is_err() {
                    return; // the copy stopped
                }
            }
        });
        Self {
            batches,
            task,
            ended: false,
        }
    }

    /// The next batch; None once the read ended. A reading task that died
    /// (a panic) is an error, never a silent end of the data.
    async fn next(&mut self) -> Option<Result<connectors::Batch, connectors::ConnectorError>> {
        if let Some(b) = self.batches.recv().await {
            return Some(b);
        }
        if std::mem::replace(&mut self.ended, true) {
            return None;
        }
        match (&mut self.task).await {
            Ok(()) => None,
            Err(e) => Some(Err(connectors::ConnectorError::Failed(format!(
                "the read stopped unexpectedly: {e}"
            )))),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Least time between two persisted Progress events of one entity.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What one run shares between its entities and its heartbeat.
pub(super) struct RunState {
    pub run: RunRecord,
    /// The run's sync's namespace of the warehouse: every write of the run
    /// goes here.
    pub warehouse: Arc<dyn Destination>,
    /// Set when the run must stop reading: cancelled, or its lease lost.
    pub stop: AtomicBool,
    pub lease_lost: AtomicBool,
    /// True once this process shuts down: the run stops at its last
    /// committed batch and resumes as its next attempt.
    pub shutting_down: tokio::sync::watch::Receiver<bool>,
    pub plan: Plan,
    pub totals: Mutex<HashMap<String, Totals>>,
    /// Batches committed per entity (one destination transaction each).
    pub batches: Mutex<HashMap<String, u64>>,
}

impl RunState {
    pub fn totals(&self) -> Totals {
        let t = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        t.values().fold(Totals::default(), |a, b| Totals {
            records_read: a.records_read + b.records_read,
            records_written: a.records_written + b.records_written,
            bytes: a.bytes + b.bytes,
        })
    }

    fn add(&self, entity: &str, read: usize, written: u64, bytes: u64) -> Totals {
        let mut t = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        let e = t.entry(entity.to_string()).or_default();
        e.records_read += read as i64;
        e.records_written += written as i64;
        e.bytes += bytes as i64;
        *e
    }

    fn count_batch(&self, entity: &str) {
        let mut b = self.batches.lock().unwrap_or_else(|e| e.into_inner());
        *b.entry(entity.to_string()).or_default() += 1;
    }

    fn batches_of(&self, entity: &str) -> u64 {
        let b = self.batches.lock().unwrap_or_else(|e| e.into_inner());
        b.get(entity).copied().unwrap_or(0)
    }

    fn stopped(&self) -> Result<(), RunError> {
        if self.lease_lost.load(Ordering::Acquire) {
            Err(RunError::LeaseLost)
        } else if *self.shutting_down.borrow() {
            Err(RunError::Shutdown)
        } else if self.stop.load(Ordering::Acquire) {
            Err(RunError::Cancelled)
        } else {
            Ok(())
        }
    }
}

impl Engine {
    /// Runs `run` (already RUNNING under this executor's lease) to its end.
    pub(super) async fn execute(self: Arc<Self>, run: RunRecord) {
        let run_id = run.id.clone();
        let summary = Arc::new(Mutex::new(StoredSummary::default()));
        let outcome = match self.destination_of(&run).await {
            Ok((sync, warehouse)) => {
                let mode = run.execution_mode;
                let state = Arc::new(RunState {
                    run,
                    warehouse,
                    stop: AtomicBool::new(false),
                    lease_lost: AtomicBool::new(false),
                    shutting_down: self.shutdown.subscribe(),
                    plan: self.plan(&sync, mode),
                    totals: Mutex::default(),
                    batches: Mutex::default(),
                });
                let heartbeat = tokio::spawn(self.clone().heartbeat(state.clone()));
                let watcher = tokio::spawn(self.clone().watch_for_cancel(state.clone()));
                let outcome = self.load(&state, &sync, &summary).await;
                heartbeat.abort();
                watcher.abort();
                outcome
            }
            Err(e) => Err(e),
        };
        let summary = summary.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Err(e) = self.finish(&run_id, outcome, summary).await {
            tracing::error!(run_id = %run_id, error = %e, "could not record the end of a run");
        }
    }

    /// The run's sync, and where it writes: its destination connection, or
    /// else its workspace's namespace of the default warehouse; in either,
    /// the schema its destination_config names.
    async fn destination_of(
        &self,
        run: &RunRecord,
    ) -> Result<(SyncRecord, Arc<dyn Destination>), RunError> {
        let sync = store::syncs::find(&self.store.read, &run.sync_id)
            .await?
            .ok_or_else(|| RunError::config("the sync no longer exists"))?;
        let Some(id) = &sync.sync.destination_connection_id else {
            let schema = store::syncs::destination_schema(&sync.sync.destination_config);
            let warehouse = self
                .warehouse
                .namespace(&sync.sync.workspace_id, &schema)
                .await?;
            return Ok((sync, warehouse));
        };
        let conn = store::connections::find(&self.store.read, id)
            .await?
            .ok_or_else(|| {
                RunError::config("the sync's destination connection no longer exists")
            })?;
        let creds = self.credentials(&conn)?;
        let config = json_object(&conn.config);
        let settings = Settings {
            provider: &conn.provider,
            config: &config,
            credentials: &creds,
            local_files: &self.local_files,
            context: None,
        };
        let warehouse =
            warehouse::open_connection(&settings, &json_object(&sync.sync.destination_config))
                .await
                .map_err(|e| RunError::from(e).scrubbed(&creds))?;
        Ok((sync, warehouse))
    }

    /// A connection's credentials, decrypted.
    fn credentials(&self, conn: &ConnectionRecord) -> Result<BTreeMap<String, String>, RunError> {
        connection_secrets::credentials(conn, &self.secrets).map_err(|_| {
            RunError::config(format!(
                "the credentials of the connection {} cannot be decrypted",
                conn.slug
            ))
        })
    }

    /// Cancels promptly: a cancel anywhere reaches the hub at once.
    async fn watch_for_cancel(self: Arc<Self>, state: Arc<RunState>) {
        let mut sub = self.store.hub.subscribe_run(&state.run.id);
        // The heartbeat also sees a cancel, should this miss it.
        while let Some(note) = sub.next().await {
            if let Note::Event(e) = note
                && e.status == Some(RunStatus::Cancelling)
            {
                state.stop.store(true, Ordering::Release);
                return;
            }
        }
    }

    /// Heartbeats every interval with the running totals; notices a cancel
    /// and a lost lease.
    async fn heartbeat(self: Arc<Self>, state: Arc<RunState>) {
        let mut tick = tokio::time::interval(self.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let beat = store::runs::beat(
                &self.store.write,
                &state.run.id,
                &self.executor_id,
                now_micros(),
            )
            .await;
            match beat {
                Ok(None) => {
                    tracing::warn!(run_id = %state.run.id, "lost the run's lease; stopping");
                    state.lease_lost.store(true, Ordering::Release);
                    return;
                }
                Ok(Some(RunStatus::Cancelling)) => state.stop.store(true, Ordering::Release),
                Ok(Some(_)) => {}
                Err(e) => tracing::warn!(run_id = %state.run.id, error = %e, "heartbeat failed"),
            }
            let event = store::run_events::event(
                &state.run,
                self.last_sequence(&state.run.id).await,
                EventBody::Heartbeat {
                    executor_id: self.executor_id.clone(),
                    totals: state.totals(),
                },
            );
            if let Err(e) = self.store.emit_live(event).await {
                tracing::warn!(run_id = %state.run.id, error = %e, "could not send a heartbeat");
            }
        }
    }

    async fn last_sequence(&self, run_id: &str) -> i64 {
        store::runs::find(&self.store.read, run_id)
            .await
            .ok()
            .flatten()
            .map_or(0, |r| r.last_event_sequence)
    }

    /// Persists one event of the run (progress, a log line).
    async fn emit(&self, state: &RunState, body: EventBody) {
        let res = async {
            let tx = self.store.begin().await?;
            store::run_events::append(&tx, &state.run, body).await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = res {
            tracing::warn!(run_id = %state.run.id, error = %e, "could not record a run event");
        }
    }

    /// Starts `req`'s read, trying again as its failures' kind allows.
    async fn open_read(
        &self,
        state: &RunState,
        source: &Arc<dyn Source>,
        req: &ReadRequest,
        tries: &mut u32,
    ) -> Result<connectors::BatchStream, RunError> {
        loop {
            match source.read(req.clone()).await {
                Ok(b) => return Ok(b),
                Err(e) => {
                    let kind = e.kind();
                    self.retry_or_fail(state, &req.entity_key, Side::Source, kind, tries, e.into())
                        .await?
                }
            }
        }
    }

    /// After a failure of `kind`, waits before the next try (logging why),
    /// or returns `failure` when this kind or this many tries is final.
    async fn retry_or_fail(
        &self,
        state: &RunState,
        entity: &str,
        side: Side,
        kind: FailureKind,
        tries: &mut u32,
        failure: RunError,
    ) -> Result<(), RunError> {
        *tries += 1;
        let Some(wait) = kind.retry_in(*tries) else {
            return Err(failure);
        };
        let what = match (&failure, side) {
            (RunError::Failed { message, .. }, Side::Source) => {
                format!("reading failed: {message}")
            }
            (RunError::Failed { message, .. }, Side::Destination) => {
                format!("writing failed: {message}")
            }
            _ => return Err(failure),
        };
        self.log(
            state,
            LogLevel::Warn,
            entity,
            format!("{what}; try {} of {MAX_TRIES} in {wait:?}", *tries + 1),
        )
        .await;
        // Asleep, still stops within a moment of a cancel or shutdown.
        let until = Instant::now() + wait;
        while Instant::now() < until {
            state.stopped()?;
            tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(100))).await;
        }
        state.stopped()
    }

    /// A destination step, tried again while its failures allow.
    async fn on_destination<T, F, Fut>(
        &self,
        state: &RunState,
        entity: &str,
        tries: &mut u32,
        mut step: F,
    ) -> Result<T, RunError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = crate::warehouse::Result<T>>,
    {
        loop {
            match step().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let kind = e.kind;
                    self.retry_or_fail(state, entity, Side::Destination, kind, tries, e.into())
                        .await?;
                }
            }
        }
    }

    async fn log(&self, state: &RunState, level: LogLevel, entity: &str, message: String) {
        self.emit(state, EventBody::log(level, message, entity))
            .await;
    }

    /// Loads every bound entity, as the sync's execution mode says.
    async fn load(
        &self,
        state: &Arc<RunState>,
        sync: &SyncRecord,
        summary: &Arc<Mutex<StoredSummary>>,
    ) -> Result<(), RunError> {
        let run = &state.run;
        let conn = store::connections::find(&self.store.read, &sync.sync.connection_id)
            .await?
            .ok_or_else(|| RunError::config("the sync's connection no longer exists"))?;
        let creds = self.credentials(&conn)?;
        let config: Map<String, Value> = serde_json::from_str(&conn.config).unwrap_or_default();
        let context =
            connection_secrets::context(&conn, &self.store, &self.secrets).map_err(|_| {
                RunError::config(format!(
                    "the settings of the connection {} cannot be decrypted",
                    conn.slug
                ))
            })?;
        let source: Arc<dyn Source> = Arc::from({
            let mut source = connectors::source(&Settings {
                provider: &conn.provider,
                config: &config,
                credentials: &creds,
                local_files: &self.local_files,
                context: Some(&context),
            })
            .map_err(|e| RunError::from(e).scrubbed(&creds))?;
            source
                .configure(&json_object(&sync.sync.source_config))
                .map_err(RunError::from)?;
            source
        });
        // A run first proves it may connect, so that refused credentials
        // are reported as such (AUTH_ERROR) before anything is read.
        source
            .check()
            .await
            .map_err(|e| RunError::from(e).scrubbed(&creds))?;
        let generations = store::syncs::generations(&self.store.read, &sync.sync.id).await?;
        let mode = run.execution_mode;
        let plan = &state.plan;
        let order: Vec<String> = plan
            .waves
            .iter()
            .map(|w| {
                w.iter()
                    .map(|&i| sync.bindings[i].entity_key.as_str())
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect();
        self.log(
            state,
            LogLevel::Info,
            "",
            format!(
                "run started: {} entities, {} mode, {}, in order {}; batches of {} records{}",
                sync.bindings.len(),
                run.run_mode,
                run.execution_mode,
                order.join(", then "),
                plan.batch_size,
                match mode {
                    ExecutionMode::Sequential => String::new(),
                    ExecutionMode::FanOutEntity =>
                        format!(", at most {} entities at once", plan.concurrency),
                    ExecutionMode::FanOutWindow => format!(
                        ", {} windows per entity, at most {} at once",
                        plan.window_count, plan.max_concurrency
                    ),
                }
            ),
        )
        .await;
        for wave in &plan.waves {
            // Built eagerly: a lazy iterator's closure would make the run's
            // future fail to be Send.
            let mut tasks = Vec::new();
            for &i in wave {
                let b = &sync.bindings[i];
                let generation = generations.get(&b.entity_key).copied().unwrap_or(0);
                tasks.push(self.entity_task(
                    state,
                    source.clone(),
                    b,
                    generation,
                    mode,
                    summary,
                    &creds,
                ));
            }
            let results = bounded(tasks.into_iter(), plan.concurrency).await;
            // A failure outranks the stop it triggered in its siblings; a
            // shutdown outranks a cancel (the run resumes).
            let mut stopped: Option<RunError> = None;
            for r in results {
                match r {
                    Err(e @ RunError::Failed { .. }) | Err(e @ RunError::LeaseLost) => {
                        return Err(e);
                    }
                    Err(e) if !matches!(stopped, Some(RunError::Shutdown)) => stopped = Some(e),
                    Err(_) | Ok(()) => {}
                }
            }
            if let Some(e) = stopped {
                return Err(e);
            }
        }
        Ok(())
    }

    /// One entity, its failure logged and stopping its siblings.
    #[allow(clippy::too_many_arguments)]
    async fn entity_task(
        &self,
        state: &RunState,
        source: Arc<dyn Source>,
        b: &BindingRow,
        generation: i64,
        mode: ExecutionMode,
        summary: &Mutex<StoredSummary>,
        creds: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), RunError> {
        let started_at = now_micros();
        let r = self
            .load_entity(state, source, b, generation, mode, summary)
            .await
            .map_err(|e| e.scrubbed(creds));
        if r.is_err() {
            // What a stopped entity did still belongs in the summary.
            let t = state.add(&b.entity_key, 0, 0, 0);
            let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
            s.entities.push(StoredEntitySummary {
                entity_key: b.entity_key.clone(),
                records_read: t.records_read,
                records_written: t.records_written,
                bytes: t.bytes,
                started_at: Some(started_at),
                completed_at: Some(now_micros()),
                ..Default::default()
            });
        }
        if let Err(RunError::Failed { message, .. }) = &r {
            self.log(state, LogLevel::Error, &b.entity_key, message.clone())
                .await;
            // Sibling entities stop at their next batch.
            state.stop.store(true, Ordering::Release);
        }
        r
    }

    async fn load_entity(
        &self,
        state: &RunState,
        source: Arc<dyn Source>,
        b: &BindingRow,
        generation: i64,
        mode: ExecutionMode,
        summary: &Mutex<StoredSummary>,
    ) -> Result<(), RunError> {
        state.stopped()?;
        let run = &state.run;
        let entity = b.entity_key.as_str();
        let started_at = now_micros();
        let load_mode = b.load_mode;
        let spec = TableSpec {
            name: b.physical_table_name.clone(),
            schema: source.entity_schema(entity).await?,
            primary_key: serde_json::from_str(&b.primary_key_columns).unwrap_or_default(),
            load_mode,
        };
        let cursor_field = (!b.cursor_field.is_empty()).then(|| b.cursor_field.clone());
        let carried: Vec<String> = spec
            .schema
            .fields()
            .iter()
            .filter(|f| f.metadata().contains_key(batch::CARRIED_AS_TEXT))
            .map(|f| match f.metadata().get(batch::SOURCE_TYPE) {
                Some(t) => format!("{} ({t})", f.name()),
                None => f.name().clone(),
            })
            .collect();
        if !carried.is_empty() {
            self.log(
                state,
                LogLevel::Warn,
                entity,
                format!(
                    "{entity}: no faithful type for {}; carried as the source's text",
                    carried.join(", ")
                ),
            )
            .await;
        }
        state.warehouse.prepare(&spec).await?;
        let positions = state.warehouse.positions(&run.sync_id, entity).await?;
        let slot = |name: &str| Slot {
            sync_id: run.sync_id.clone(),
            entity_key: entity.to_string(),
            slot: name.to_string(),
        };
        let current = positions.get("").filter(|p| p.generation == generation);
        let cursor_before = current.and_then(|p| p.cursor.clone());
        let resuming = run.triggered_by == TriggeredBy::AutoResume;
        let reset = positions
            .get("")
            .is_some_and(|p| p.generation != generation);
        let full = load_mode == LoadMode::Replace || run.run_mode == RunMode::FullRefresh || reset;
        let read = |after: Option<String>, up_to: Option<String>| ReadRequest {
            entity_key: entity.to_string(),
            cursor_field: cursor_field.clone(),
            after,
            up_to,
            batch_size: state.plan.batch_size,
            lookback: None,
        };
        let pos = |cursor: Option<String>| Position {
            generation,
            cursor,
            up_to: None,
            done: false,
        };
        let cursor_after = if full {
            // Into a staging table, swapped in at the end; an automatic
            // resume continues a staging load where it stopped.
            let staging = state.warehouse.staging_name(&spec);
            let prior = positions
                .get("full")
                .filter(|p| resuming && p.generation == generation && cursor_field.is_some());
            let after = match prior {
                Some(p) if state.warehouse.table_exists(&staging).await? => p.cursor.clone(),
                _ => {
                    state.warehouse.create_staging(&spec).await?;
                    None
                }
            };
            self.log(
                state,
                LogLevel::Info,
                entity,
                format!("full load of {entity} into {} (staged)", spec.name),
            )
            .await;
            let end = self
                .copy(
                    state,
                    &source,
                    &spec,
                    &staging,
                    read(after.clone(), None),
                    &slot("full"),
                    pos(after),
                )
                .await?;
            let forget: Vec<Slot> = positions
                .keys()
                .filter(|k| k.starts_with("window:") || k.as_str() == "full")
                .map(|k| slot(k))
                .collect();
            if spec.schema.fields().is_empty() && !state.warehouse.table_exists(&staging).await? {
                // A schema that comes with the data, and no data came: the
                // table stays as it was.
                self.log(
                    state,
                    LogLevel::Warn,
                    entity,
                    format!("{entity} has no records: {} is left as it was", spec.name),
                )
                .await;
                state
                    .warehouse
                    .settle(&slot(""), &pos(end.clone()), &forget)
                    .await?;
            } else {
                state
                    .warehouse
                    .swap_in(&spec, &slot(""), &pos(end.clone()), &forget)
                    .await?;
            }
            end
        } else if mode == ExecutionMode::FanOutWindow && cursor_field.is_some() {
            self.load_windows(
                state,
                &source,
                &spec,
                b,
                generation,
                &positions,
                resuming,
                cursor_before.clone(),
                &read,
            )
            .await?
        } else {
            // A run's own start from a committed cursor re-reads the
            // sync's lookback window; an automatic resume continues the
            // same run exactly where it stopped.
            let lookback = match &cursor_before {
                Some(_) if !resuming => state.plan.lookback.clone().map_err(RunError::config)?,
                _ => None,
            };
            self.log(
                state,
                LogLevel::Info,
                entity,
                match (&cursor_before, lookback) {
                    (Some(c), Some(l)) => {
                        format!("reading {entity} after cursor {c}, re-reading a lookback of {l} before it")
                    }
                    (Some(c), None) => format!("reading {entity} after cursor {c}"),
                    (None, _) => format!("reading {entity} in full"),
                },
            )
            .await;
            let p = pos(cursor_before.clone());
            self.copy(
                state,
                &source,
                &spec,
                &spec.name,
                ReadRequest {
                    lookback,
                    ..read(cursor_before.clone(), None)
                },
                &slot(""),
                p,
            )
            .await?
        };
        let t = state.add(entity, 0, 0, 0);
        self.emit(
            state,
            EventBody::Progress {
                entity_key: entity.into(),
                totals: t,
            },
        )
        .await;
        self.log(state, LogLevel::Info, entity, {
            let n = state.batches_of(entity);
            format!(
                "{entity}: {} records read, {} written in {n} {} of at most {}",
                t.records_read,
                t.records_written,
                if n == 1 { "batch" } else { "batches" },
                state.plan.batch_size
            )
        })
        .await;
        let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
        s.entities.push(StoredEntitySummary {
            entity_key: entity.into(),
            records_read: t.records_read,
            records_written: t.records_written,
            bytes: t.bytes,
            cursor_before: cursor_before.unwrap_or_default(),
            cursor_after: cursor_after.unwrap_or_default(),
            started_at: Some(started_at),
            completed_at: Some(now_micros()),
            destination_table: state.warehouse.qualified_name(&spec.name),
        });
        Ok(())
    }

    /// FAN_OUT_WINDOW: the entity's remaining cursor range in windows loaded
    /// concurrently, each with its own position; the entity's cursor moves
    /// once every window is done.
    #[allow(clippy::too_many_arguments)]
    async fn load_windows(
        &self,
        state: &RunState,
        source: &Arc<dyn Source>,
        spec: &TableSpec,
        b: &BindingRow,
        generation: i64,
        positions: &std::collections::BTreeMap<String, Position>,
        resuming: bool,
        cursor_before: Option<String>,
        read: &(dyn Fn(Option<String>, Option<String>) -> ReadRequest + Sync),
    ) -> Result<Option<String>, RunError> {
        let run = &state.run;
        let entity = b.entity_key.as_str();
        let slot = |name: String| Slot {
            sync_id: run.sync_id.clone(),
            entity_key: entity.to_string(),
            slot: name,
        };
        let mut windows: Vec<(Slot, Position)> = positions
            .iter()
            .filter(|(k, p)| resuming && k.starts_with("window:") && p.generation == generation)
            .map(|(k, p)| (slot(k.clone()), p.clone()))
            .collect();
        if windows.is_empty() {
            let split = source
                .windows(
                    entity,
                    &b.cursor_field,
                    cursor_before.as_deref(),
                    state.plan.window_count,
                )
                .await?;
            windows = split
                .into_iter()
                .enumerate()
                .map(|(i, Window { after, up_to })| {
                    let p = Position {
                        generation,
                        cursor: after,
                        up_to,
                        done: false,
                    };
                    (slot(format!("window:{i:04}")), p)
                })
                .collect();
            state.warehouse.set_positions(&windows).await?;
        }
        windows.sort_by(|a, b| a.0.slot.cmp(&b.0.slot));
        self.log(
            state,
            LogLevel::Info,
            entity,
            format!("reading {entity} in {} windows", windows.len()),
        )
        .await;
        let mut tasks = Vec::new();
        for (s, p) in windows.iter().filter(|(_, p)| !p.done) {
            let req = read(p.cursor.clone(), p.up_to.clone());
            tasks.push(self.window_task(state, source, spec, req, s, p));
        }
        let results = bounded(tasks.into_iter(), state.plan.max_concurrency).await;
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
        // Windows are contiguous: the last one's end is the entity's cursor.
        let done = state.warehouse.positions(&run.sync_id, entity).await?;
        let end = windows.last().and_then(|(s, p)| {
            done.get(&s.slot)
                .map(|d| d.cursor.clone())
                .unwrap_or(p.cursor.clone())
        });
        let forget: Vec<Slot> = windows.iter().map(|(s, _)| s.clone()).collect();
        let main = Position {
            generation,
            cursor: end.clone(),
            up_to: None,
            done: false,
        };
        state
            .warehouse
            .settle(&slot(String::new()), &main, &forget)
            .await?;
        Ok(end)
    }

    /// One window: copied, then marked done.
    async fn window_task(
        &self,
        state: &RunState,
        source: &Arc<dyn Source>,
        spec: &TableSpec,
        req: ReadRequest,
        s: &Slot,
        p: &Position,
    ) -> Result<(), RunError> {
        let end = self
            .copy(state, source, spec, &spec.name, req, s, p.clone())
            .await?;
        let done = Position {
            cursor: end,
            done: true,
            ..p.clone()
        };
        state.warehouse.set_positions(&[(s.clone(), done)]).await?;
        Ok(())
    }

    /// Copies one read into table `into`, each batch committed with `slot`'s
    /// new position. Returns the last cursor (or `start`'s when nothing came).
    #[allow(clippy::too_many_arguments)]
    async fn copy(
        &self,
        state: &RunState,
        source: &Arc<dyn Source>,
        spec: &TableSpec,
        into: &str,
        req: ReadRequest,
        slot: &Slot,
        start: Position,
    ) -> Result<Option<String>, RunError> {
        let entity = req.entity_key.clone();
        // A source whose schema comes with its data widens it as it goes.
        let mut spec = std::borrow::Cow::Borrowed(spec);
        let mut cursor = start.cursor.clone();
        let mut last_progress = Instant::now();
        // Failures in a row; a batch committed resets them.
        let mut tries = 0;
        // A read that fails part way is read again from the last committed
        // cursor, which only a read ordered by a cursor field can do.
        let mut written_any = false;
        let mut batches = ReadAhead::spawn(self.open_read(state, source, &req, &mut tries).await?);
        while let Some(batch) = batches.next().await {
            state.stopped()?;
            let batch = match batch {
                Ok(b) => b,
                Err(e) if req.cursor_field.is_some() || !written_any => {
                    let kind = e.kind();
                    self.retry_or_fail(state, &entity, Side::Source, kind, &mut tries, e.into())
                        .await?;
                    // Within a run: exactly from the committed position.
                    let again = ReadRequest {
                        after: cursor.clone(),
                        lookback: None,
                        ..req.clone()
                    };
                    batches =
                        ReadAhead::spawn(self.open_read(state, source, &again, &mut tries).await?);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(wider) = widened(&spec.schema, batch.data.schema_ref()) {
                spec.to_mut().schema = wider;
                self.on_destination(state, &entity, &mut tries, || {
                    state.warehouse.extend_table(into, &spec)
                })
                .await?;
            }
            let batch_cursor = batch.cursor.clone().or_else(|| cursor.clone());
            let pos = Position {
                cursor: batch_cursor.clone(),
                ..start.clone()
            };
            let written = self
                .on_destination(state, &entity, &mut tries, || {
                    state.warehouse.write(into, &spec, &batch, slot, &pos)
                })
                .await?;
            cursor = batch_cursor;
            tries = 0;
            written_any = true;
            state.count_batch(&entity);
            let totals = state.add(&entity, batch.data.num_rows(), written, batch.bytes);
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                self.emit(
                    state,
                    EventBody::Progress {
                        entity_key: entity.clone(),
                        totals,
                    },
                )
                .await;
            }
        }
        Ok(cursor)
    }

    /// Records how the run ended: SUCCEEDED, CANCELLED or FAILED, from
    /// whichever live status it is in now. A run stopped by this server's
    /// shutdown fails with SERVER_SHUTDOWN, and its next attempt is created
    /// in the same transaction, to resume at once on any executor.
    async fn finish(
        &self,
        run_id: &str,
        outcome: Result<(), RunError>,
        summary: StoredSummary,
    ) -> crate::error::Result<()> {
        let (to, class, reason, error) = match outcome {
            Ok(()) => (RunStatus::Succeeded, ResultClass::Success, None, None),
            // The reason is the cancel's, read with the run below.
            Err(RunError::Cancelled) => (RunStatus::Cancelled, ResultClass::Cancelled, None, None),
            Err(RunError::LeaseLost) => return Ok(()), // the reaper ended it
            Err(RunError::Shutdown) => (
                RunStatus::Failed,
                ResultClass::Failure,
                Some(ResultReasonCode::ServerShutdown),
                Some(
                    "the server shut down during the run: the batches it committed stay, \
                     and its next attempt resumes after them"
                        .to_string(),
                ),
            ),
            Err(RunError::Failed { reason, message }) => (
                RunStatus::Failed,
                ResultClass::Failure,
                Some(reason),
                Some(message),
            ),
        };
        for _ in 0..3 {
            let tx = self.store.begin().await?;
            let Some(mut r) = store::runs::find(&tx, run_id).await? else {
                return Ok(());
            };
            let from = r.status;
            if r.executor_id.as_deref() != Some(&self.executor_id) || from.is_terminal() {
                return Ok(()); // no longer ours
            }
            // A cancel that arrived after the last batch still wins over
            // success, and over resuming after a shutdown; it ends with the
            // reason the cancel asked for (a user's, a disabled connection's).
            let shutdown = reason == Some(ResultReasonCode::ServerShutdown);
            let cancelled = Some(store::runs::cancel_code(&r));
            let (to, class, reason, error) = if to == RunStatus::Cancelled {
                (to, ResultClass::Cancelled, cancelled, error.clone())
            } else if from == RunStatus::Cancelling && (to == RunStatus::Succeeded || shutdown) {
                (
                    RunStatus::Cancelled,
                    ResultClass::Cancelled,
                    cancelled,
                    None,
                )
            } else {
                (to, class, reason, error.clone())
            };
            let now = now_micros();
            store::runs::end(&mut r, to, class, reason, error, now);
            r.summary = Some(serde_json::to_string(&summary).unwrap_or_default());
            let Some(r) = store::runs::move_status(&tx, r, from).await? else {
                continue;
            };
            if reason == Some(ResultReasonCode::ServerShutdown) {
                let next = self.continue_chain(&tx, &r, now).await?;
                tracing::info!(run_id = %r.id, next_attempt = ?next, "stopped a run for shutdown");
            }
            tx.commit().await?;
            return Ok(());
        }
        Ok(())
    }
}

/// `table` with what `batch` adds or changes (fields it lacks, a field
/// whose type the source widened), or None when the batch fits as it is.
fn widened(
    table: &arrow_schema::Schema,
    batch: &arrow_schema::Schema,
) -> Option<arrow_schema::SchemaRef> {
    let fits = batch.fields().iter().all(|f| {
        table
            .field_with_name(f.name())
            .is_ok_and(|t| t.data_type() == f.data_type())
    });
    if fits {
        return None;
    }
    let mut fields: Vec<arrow_schema::FieldRef> = table
        .fields()
        .iter()
        .map(|t| match batch.field_with_name(t.name()) {
            Ok(b) => Arc::new(b.clone()),
            Err(_) => t.clone(),
        })
        .collect();
    for f in batch.fields() {
        if table.field_with_name(f.name()).is_err() {
            fields.push(f.clone());
        }
    }
    Some(Arc::new(arrow_schema::Schema::new_with_metadata(
        fields,
        table.metadata().clone(),
    )))
}
