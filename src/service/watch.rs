//! WatchRun, WatchRuns and ListRunLogs. A watcher subscribes to the hub
//! before it reads the store, so nothing falls between the two; the
//! persisted sequence then tells duplicates (dropped) from gaps (filled
//! from the store). A watcher that lags, or whose replica may have missed
//! events, starts over from a fresh snapshot.

use std::{collections::HashSet, sync::Arc};

use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{Services, check_id};
use crate::{
    auth::Principal,
    domain::{
        enums::{LogLevel, RunStatus},
        paging::{Cursor, SortValue},
        run_event::RunEvent,
    },
    error::{Error, Result, invalid},
    events::hub::Note,
    store::{self, runs::RunRecord},
};

/// What a watch stream carries.
#[derive(Debug, Clone)]
pub enum Watched {
    /// The whole run, numbered after the last persisted event it includes.
    Snapshot(Box<RunRecord>),
    Event(Arc<RunEvent>),
}

/// Most log lines in one ListRunLogs page.
const MAX_LOG_PAGE: u64 = 1000;

fn status_of(r: &RunRecord) -> RunStatus {
    RunStatus::parse(&r.status).unwrap_or(RunStatus::Failed)
}

impl Services {
    /// WatchRun: a snapshot, the persisted events after `after_sequence`,
    /// then live events until the run ends (or, with `follow_attempts`, until
    /// the last attempt of its chain ends).
    pub async fn watch_run(
        &self,
        p: &Principal,
        run_id: String,
        after_sequence: i64,
        follow_attempts: bool,
    ) -> Result<impl Stream<Item = Result<Watched>> + Send + 'static> {
        check_id("run_id", &run_id)?;
        if after_sequence < 0 {
            return Err(invalid("after_sequence", "must not be negative"));
        }
        let hub = self.store.hub.clone();
        let mut sub = hub.subscribe_run(&run_id);
        let first = self.get_run(p, run_id).await?;
        let db = self.store.read.clone();
        let workspace_id = p.workspace_id.clone();
        // The store calls below are boxed: inline, the largest of their
        // futures would be part of every idle watcher's state.
        Ok(async_stream::try_stream! {
            // Only the run's id and position outlive the snapshot: an idle
            // watcher holds no row (its strings were allocated by the
            // store's threads, among that query's transient buffers).
            let mut run = Some(Box::new(first));
            let mut run_id = String::new();
            let mut after = after_sequence;
            while let Some(snapshot) = run.take() {
                let mut last = snapshot.last_event_sequence;
                let mut done = status_of(&snapshot).is_terminal();
                run_id.clone_from(&snapshot.id);
                yield Watched::Snapshot(snapshot);
                // What the watcher has not seen yet, then live events.
                for e in Box::pin(store::run_events::range(&db, &run_id, after, last)).await? {
                    yield Watched::Event(Arc::new(e));
                }
                while !done {
                    let fresh = match sub.rx.recv().await {
                        Ok(Note::Event(e)) if !e.body.is_persisted() => {
                            yield Watched::Event(e);
                            continue;
                        }
                        Ok(Note::Event(e)) if e.sequence <= last => continue, // seen
                        Ok(Note::Event(e)) if e.sequence == last + 1 => vec![e],
                        // A gap: what is missing was committed before `e`.
                        Ok(Note::Event(e)) => Box::pin(store::run_events::range(&db, &run_id, last, e.sequence))
                            .await?
                            .into_iter()
                            .map(Arc::new)
                            .collect(),
                        Err(RecvError::Lagged(_)) | Ok(Note::Resync) => {
                            let fresh = Box::new(Box::pin(store::runs::get(&db, &workspace_id, &run_id)).await?);
                            let upto = fresh.last_event_sequence;
                            yield Watched::Snapshot(fresh);
                            let missed = Box::pin(store::run_events::range(&db, &run_id, last, upto)).await?;
                            missed.into_iter().map(Arc::new).collect()
                        }
                        Err(RecvError::Closed) => Err(Error::Unavailable("the server is shutting down".into()))?,
                    };
                    for e in fresh {
                        last = e.sequence;
                        done |= e.is_terminal();
                        yield Watched::Event(e);
                    }
                }
                // Ended: follow the chain to the next attempt if asked and there is one.
                if !follow_attempts {
                    break;
                }
                let ended = Box::pin(store::runs::get(&db, &workspace_id, &run_id)).await?;
                if let Some(next) = ended.next_attempt_run_id {
                    sub = hub.subscribe_run(&next);
                    run = Some(Box::new(Box::pin(store::runs::get(&db, &workspace_id, &next)).await?));
                    after = 0;
                }
            }
        })
    }

    /// WatchRuns: snapshots of the workspace's runs in progress that pass
    /// the filters, then every event of its runs that passes them.
    pub async fn watch_runs(
        &self,
        p: &Principal,
        sync_id: String,
        connection_id: String,
        statuses: Vec<RunStatus>,
    ) -> Result<impl Stream<Item = Result<Watched>> + Send + 'static> {
        if !sync_id.is_empty() {
            check_id("sync_id", &sync_id)?;
        }
        if !connection_id.is_empty() {
            check_id("connection_id", &connection_id)?;
        }
        let mut rx = self.store.hub.subscribe_all();
        let db = self.store.read.clone();
        let workspace_id = p.workspace_id.clone();
        // The syncs of the connection filter, learnt as their events come.
        let mut syncs_of_connection: HashSet<String> = HashSet::new();
        let mut other_syncs: HashSet<String> = HashSet::new();
        Ok(async_stream::try_stream! {
            let mut resync = true;
            loop {
                if resync {
                    resync = false;
                    let filter = store::runs::Filter {
                        sync_id: (!sync_id.is_empty()).then(|| sync_id.clone()),
                        statuses: RunStatus::ACTIVE.to_vec(),
                        ..Default::default()
                    };
                    for r in store::runs::all(&db, &workspace_id, &filter).await? {
                        if (statuses.is_empty() || statuses.contains(&status_of(&r)))
                            && (connection_id.is_empty()
                                || store::syncs::connection_of(&db, &r.sync_id).await?.as_deref()
                                    == Some(connection_id.as_str()))
                        {
                            yield Watched::Snapshot(Box::new(r));
                        }
                    }
                }
                let e = match rx.recv().await {
                    Ok(Note::Event(e)) => e,
                    Err(RecvError::Lagged(_)) | Ok(Note::Resync) => {
                        resync = true;
                        continue;
                    }
                    Err(RecvError::Closed) => Err(Error::Unavailable("the server is shutting down".into()))?,
                };
                if e.workspace_id != workspace_id
                    || (!sync_id.is_empty() && e.sync_id != sync_id)
                    || !e.matches_statuses(&statuses)
                {
                    continue;
                }
                if !connection_id.is_empty() && !syncs_of_connection.contains(&e.sync_id) {
                    if other_syncs.contains(&e.sync_id) {
                        continue;
                    }
                    let of = store::syncs::connection_of(&db, &e.sync_id).await?;
                    if of.as_deref() == Some(connection_id.as_str()) {
                        syncs_of_connection.insert(e.sync_id.clone());
                    } else {
                        other_syncs.insert(e.sync_id.clone());
                        continue;
                    }
                }
                yield Watched::Event(e);
            }
        })
    }

    /// ListRunLogs: a run's log lines of at least `min_level`, in order.
    pub async fn list_run_logs(
        &self,
        p: &Principal,
        run_id: String,
        after_sequence: i64,
        min_level: Option<LogLevel>,
        limit: Option<i32>,
        page_token: &str,
    ) -> Result<(Vec<RunEvent>, Option<String>)> {
        let run = self.get_run(p, run_id).await?;
        let min_level = min_level.unwrap_or(LogLevel::Debug);
        let limit = match limit {
            None => 100,
            Some(l) if l < 1 || l as u64 > MAX_LOG_PAGE => {
                return Err(invalid(
                    "limit",
                    format!("must be between 1 and {MAX_LOG_PAGE}"),
                ));
            }
            Some(l) => l as u64,
        };
        if after_sequence < 0 {
            return Err(invalid("after_sequence", "must not be negative"));
        }
        // The token is bound to the run and the level it was issued for.
        let fingerprint = format!("logs/{}/{min_level}", run.id);
        let after = if page_token.is_empty() {
            after_sequence
        } else {
            match self.tokens.decode(&fingerprint, page_token) {
                Ok(Cursor {
                    value: SortValue::Int(seq),
                    ..
                }) => seq,
                Ok(_) => return Err(invalid("page_token", "is not a page token of this list")),
                Err(why) => return Err(invalid("page_token", why)),
            }
        };
        let mut lines =
            store::run_events::logs(&self.store.read, &run.id, after, min_level, limit + 1).await?;
        let next = (lines.len() as u64 > limit).then(|| {
            lines.truncate(limit as usize);
            let last = lines.last().map_or(after, |e| e.sequence);
            self.tokens.encode(
                &fingerprint,
                &Cursor {
                    value: SortValue::Int(last),
                    id: run.id.clone(),
                },
            )
        });
        Ok((lines, next))
    }
}
