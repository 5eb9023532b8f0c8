//! WatchRun (its stream is `run_watch`), WatchRuns and ListRunLogs. A
//! WatchRuns watcher that lags, or whose replica may have missed events,
//! starts over from fresh snapshots.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{
    Services, check_id,
    run_watch::{RunWatch, Watched, feed_for},
};
use crate::{
    auth::Principal,
    domain::{
        enums::{LogLevel, RunStatus},
        paging::{Cursor, SortValue},
        run_event::RunEvent,
    },
    error::{Error, Result, invalid},
    store::{self, hub::Note, list::PageOf},
};

/// Most log lines in one ListRunLogs page.
const MAX_LOG_PAGE: u64 = 1000;

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
        let db = self.store.read.clone();
        let sub = self.store.hub.subscribe_run(&run_id);
        let feed = feed_for(&db, &p.workspace_id, &sub, &run_id, after_sequence).await?;
        Ok(RunWatch::new(
            db,
            p.workspace_id.clone(),
            follow_attempts,
            sub,
            feed,
            after_sequence,
        ))
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
        // The last persisted event given for each run in progress: a
        // snapshot covers its run's events up to its sequence, and on
        // PostgreSQL one of those may still arrive (by NOTIFY) after the
        // snapshot was read. Such a duplicate is dropped, as WatchRun does.
        let mut given: HashMap<String, i64> = HashMap::new();
        Ok(async_stream::try_stream! {
            let mut resync = true;
            loop {
                if resync {
                    resync = false;
                    given.clear();
                    let filter = store::runs::Filter {
                        sync_id: (!sync_id.is_empty()).then(|| sync_id.clone()),
                        statuses: RunStatus::ACTIVE.to_vec(),
                        ..Default::default()
                    };
                    for r in store::runs::all(&db, &workspace_id, &filter).await? {
                        if (statuses.is_empty() || statuses.contains(&r.status))
                            && (connection_id.is_empty()
                                || store::syncs::connection_of(&db, &r.sync_id).await?.as_deref()
                                    == Some(connection_id.as_str()))
                        {
                            given.insert(r.id.clone(), r.last_event_sequence);
                            yield Watched::Snapshot(Arc::new(r));
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
                if e.body.is_persisted() {
                    let duplicate = given.get(&e.run_id).is_some_and(|&seq| e.sequence <= seq);
                    if e.is_terminal() {
                        given.remove(&e.run_id);
                    } else if given.contains_key(&e.run_id) {
                        given.insert(e.run_id.clone(), e.sequence);
                    }
                    if duplicate {
                        continue;
                    }
                }
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

    /// ListRunLogs: a run's log lines of at least `min_level`, in order,
    /// each with the cursor a page ending on it continues from, and the
    /// fingerprint that cursor's token is signed for.
    pub async fn list_run_logs(
        &self,
        p: &Principal,
        run_id: String,
        after_sequence: i64,
        min_level: Option<LogLevel>,
        limit: Option<i32>,
        page_token: &str,
    ) -> Result<(PageOf<RunEvent>, String)> {
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
        let has_next = lines.len() as u64 > limit;
        lines.truncate(limit as usize);
        let page = PageOf::new(lines, 0, has_next, |e| Cursor {
            value: SortValue::Int(e.sequence),
            id: run.id.clone(),
        });
        Ok((page, fingerprint))
    }
}
