//! The in-process fan-out of run events to watchers. Bounded everywhere: a
//! watcher that falls behind loses its place (it then resynchronises from
//! the store) instead of slowing the run or holding events in memory.
//!
//! A watched run's channel also keeps the feed its watchers start from (the
//! run and its persisted events, as read from the store), so a crowd of
//! dashboards opening one run costs one store read, not one each. A feed is
//! dropped by the run's next event, after `FEED_TTL` (some run fields, such
//! as heartbeats, change without an event), and while this replica may be
//! missing events; a load that raced an event is not kept.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures::Stream;
use tokio::{sync::broadcast, time::Instant};
use tokio_stream::wrappers::BroadcastStream;

use super::runs::RunRecord;
use crate::domain::run_event::RunEvent;

/// Events buffered per run (WatchRun) and in all (WatchRuns).
const PER_RUN: usize = 1024;
const ALL: usize = 8192;
/// How long a feed may be served, and the most events one may hold.
const FEED_TTL: Duration = Duration::from_secs(1);
pub const FEED_MAX_EVENTS: usize = 256;

#[derive(Debug, Clone)]
pub enum Note {
    Event(Arc<RunEvent>),
    /// Events may have been missed (the replica's listener reconnected):
    /// every watcher resynchronises from the store.
    Resync,
}

/// What a new watcher of a run starts from: the run, and all its persisted
/// events up to the run's `last_event_sequence`.
#[derive(Debug)]
pub struct Feed {
    pub run: Arc<RunRecord>,
    pub events: Vec<Arc<RunEvent>>,
    loaded: Instant,
}

impl Feed {
    pub fn new(run: RunRecord, events: Vec<RunEvent>) -> Self {
        Self {
            run: Arc::new(run),
            events: events.into_iter().map(Arc::new).collect(),
            loaded: Instant::now(),
        }
    }

    /// The events numbered after `after`.
    pub fn after(&self, after: i64) -> &[Arc<RunEvent>] {
        &self.events[self.events.partition_point(|e| e.sequence <= after)..]
    }
}

struct Channel {
    tx: broadcast::Sender<Note>,
    feed: Option<Arc<Feed>>,
    /// Counts the run's events (and resyncs): a feed loaded under an older
    /// epoch may miss one.
    epoch: u64,
    /// Held by the watcher reading the feed: the ones arriving meanwhile
    /// wait, then take what it kept. None once the run's history is too
    /// long to keep: each watcher then reads its own at once.
    loading: Option<Arc<tokio::sync::Mutex<()>>>,
}

pub struct Hub {
    runs: Mutex<HashMap<String, Channel>>,
    all: broadcast::Sender<Note>,
    /// False while this replica may be missing events: feeds are off.
    live: AtomicBool,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new(true)
    }
}

/// A watcher's place on one run's channel, as a stream of notes that ends
/// when the server shuts down. A watcher that lags gets `Note::Resync`.
/// Leaving drops the channel once nobody watches the run.
pub struct RunSubscription {
    rx: BroadcastStream<Note>,
    hub: Arc<Hub>,
    run_id: String,
    epoch: u64,
}

impl RunSubscription {
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The run's feed, if a fresh one is kept. Any is good for this
    /// subscription: it includes every event published before it was read,
    /// and this subscription receives every event published since it began.
    pub fn feed(&self) -> Option<Arc<Feed>> {
        if !self.hub.live.load(Ordering::Acquire) {
            return None;
        }
        let mut runs = self.hub.lock();
        let c = runs.get_mut(&self.run_id)?;
        if c.feed
            .as_ref()
            .is_some_and(|f| f.loaded.elapsed() > FEED_TTL)
        {
            c.feed = None;
        }
        c.feed.clone()
    }

    /// The turn to read the run's feed: one watcher at a time, so a crowd
    /// arriving at once costs one store read. None when no feed will be
    /// kept (see `too_long_to_keep`).
    pub async fn loading_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let loading = self.hub.lock().get(&self.run_id)?.loading.clone()?;
        Some(loading.lock_owned().await)
    }

    /// The run's history is past `FEED_MAX_EVENTS`, and runs only grow:
    /// its next watchers need not wait for a turn.
    pub fn too_long_to_keep(&self) {
        if let Some(c) = self.hub.lock().get_mut(&self.run_id) {
            c.loading = None;
        }
    }

    /// Keeps `feed` for the run's next watchers, unless an event (or a
    /// resync) came since this subscription began: the feed may lack it.
    pub fn offer(&self, feed: Arc<Feed>) {
        if !self.hub.live.load(Ordering::Acquire) || feed.events.len() > FEED_MAX_EVENTS {
            return;
        }
        if let Some(c) = self.hub.lock().get_mut(&self.run_id)
            && c.epoch == self.epoch
        {
            c.feed = Some(feed);
        }
    }
}

impl Stream for RunSubscription {
    type Item = Note;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Note>> {
        Pin::new(&mut self.rx).poll_next(cx).map(|n| {
            // The one error: Lagged.
            n.map(|n| n.unwrap_or(Note::Resync))
        })
    }
}

impl Drop for RunSubscription {
    fn drop(&mut self) {
        let mut runs = self.hub.lock();
        // This receiver still counts until the end of this function.
        if runs
            .get(&self.run_id)
            .is_some_and(|c| c.tx.receiver_count() <= 1)
        {
            runs.remove(&self.run_id);
        }
    }
}

impl Hub {
    /// `live`: whether this replica hears of every event from the start
    /// (one process on SQLite); on PostgreSQL, once its listener is up.
    pub fn new(live: bool) -> Self {
        Self {
            runs: Mutex::default(),
            all: broadcast::channel(ALL).0,
            live: AtomicBool::new(live),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscribe_run(self: &Arc<Self>, run_id: &str) -> RunSubscription {
        let mut runs = self.lock();
        let c = runs.entry(run_id.to_string()).or_insert_with(|| Channel {
            tx: broadcast::channel(PER_RUN).0,
            feed: None,
            epoch: 0,
            loading: Some(Arc::default()),
        });
        RunSubscription {
            rx: BroadcastStream::new(c.tx.subscribe()),
            hub: self.clone(),
            run_id: run_id.to_string(),
            epoch: c.epoch,
        }
    }

    /// Every run's events (WatchRuns filters them).
    pub fn subscribe_all(&self) -> broadcast::Receiver<Note> {
        self.all.subscribe()
    }

    /// Sends `event` to its run's watchers and to WatchRuns; an event of no
    /// run (a freshness change) to WatchRuns only.
    pub fn publish(&self, event: RunEvent) {
        let event = Arc::new(event);
        if !event.run_id.is_empty()
            && let Some(c) = self.lock().get_mut(&event.run_id)
        {
            c.feed = None;
            c.epoch += 1;
            let _ = c.tx.send(Note::Event(event.clone())); // no receivers is fine
        }
        let _ = self.all.send(Note::Event(event));
    }

    /// Whether this replica hears of every event; either way, watchers
    /// catch up from the store, as they may have missed some.
    pub fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
        self.resync();
    }

    pub fn resync(&self) {
        for c in self.lock().values_mut() {
            c.feed = None;
            c.epoch += 1;
            let _ = c.tx.send(Note::Resync);
        }
        let _ = self.all.send(Note::Resync);
    }

    /// Runs with a channel (someone watches them).
    pub fn watched_runs(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::domain::{
        enums::{ExecutionBackend, ExecutionMode, LogLevel, RunMode, RunStatus, TriggeredBy},
        run_event::EventBody,
    };

    fn run(last_event_sequence: i64) -> RunRecord {
        RunRecord {
            id: "r".into(),
            workspace_id: "w".into(),
            sync_id: "s".into(),
            status: RunStatus::Running,
            run_mode: RunMode::FullRefresh,
            triggered_by: TriggeredBy::Manual,
            trigger_ref: String::new(),
            attempt_number: 1,
            attempt_root_run_id: "r".into(),
            previous_attempt_run_id: None,
            next_attempt_run_id: None,
            max_auto_resume_attempts: 3,
            execution_backend: ExecutionBackend::Native,
            execution_mode: ExecutionMode::Sequential,
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
            created_at: 0,
            started_at: None,
            completed_at: None,
            updated_at: 0,
            last_event_sequence,
        }
    }

    fn event(sequence: i64) -> RunEvent {
        RunEvent {
            run_id: "r".into(),
            sync_id: "s".into(),
            workspace_id: "w".into(),
            sequence,
            emitted_at: 0,
            status: Some(RunStatus::Running),
            body: EventBody::Log {
                level: LogLevel::Info,
                message: format!("line {sequence}"),
                entity_key: String::new(),
            },
        }
    }

    fn feed(last: i64) -> Arc<Feed> {
        Arc::new(Feed::new(run(last), (1..=last).map(event).collect()))
    }

    fn last_of(f: Option<Arc<Feed>>) -> Option<i64> {
        f.map(|f| f.run.last_event_sequence)
    }

    #[test]
    fn a_kept_feed_serves_the_next_watchers_until_the_runs_next_event() {
        let hub = Arc::new(Hub::new(true));
        let first = hub.subscribe_run("r");
        assert!(first.feed().is_none());
        first.offer(feed(2));
        let second = hub.subscribe_run("r");
        assert_eq!(last_of(second.feed()), Some(2));
        hub.publish(event(3));
        assert!(second.feed().is_none(), "the event retired it");
    }

    #[test]
    fn a_load_that_raced_an_event_is_not_kept() {
        let hub = Arc::new(Hub::new(true));
        let sub = hub.subscribe_run("r");
        hub.publish(event(3)); // after sub's read began: its feed may lack it
        sub.offer(feed(2));
        assert!(hub.subscribe_run("r").feed().is_none());
        // A later subscription's load is kept.
        let later = hub.subscribe_run("r");
        later.offer(feed(3));
        assert_eq!(last_of(sub.feed()), Some(3));
    }

    #[test]
    fn no_feed_while_the_replica_may_miss_events_nor_past_the_limit() {
        let hub = Arc::new(Hub::new(false));
        let sub = hub.subscribe_run("r");
        sub.offer(feed(2));
        assert!(sub.feed().is_none(), "not live");
        hub.set_live(true);
        let sub = hub.subscribe_run("r");
        sub.offer(feed(FEED_MAX_EVENTS as i64 + 1));
        assert!(sub.feed().is_none(), "too long to keep");
        sub.offer(feed(2));
        assert_eq!(last_of(sub.feed()), Some(2));
        hub.resync();
        assert!(sub.feed().is_none(), "a resync retires feeds");
    }

    #[test]
    fn a_feed_leaves_with_the_last_watcher() {
        let hub = Arc::new(Hub::new(true));
        let sub = hub.subscribe_run("r");
        sub.offer(feed(2));
        drop(sub);
        assert_eq!(hub.watched_runs(), 0);
        assert!(hub.subscribe_run("r").feed().is_none());
    }

    #[test]
    fn feed_after_skips_what_the_watcher_has() {
        let f = feed(5);
        let seqs = |after| {
            f.after(after)
                .iter()
                .map(|e| e.sequence)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(0), [1, 2, 3, 4, 5]);
        assert_eq!(seqs(3), [4, 5]);
        assert!(seqs(5).is_empty());
    }

    #[tokio::test]
    async fn watchers_of_a_long_history_take_no_turns() {
        let hub = Arc::new(Hub::new(true));
        let (first, second) = (hub.subscribe_run("r"), hub.subscribe_run("r"));
        let turn = first.loading_turn().await;
        assert!(turn.is_some());
        first.too_long_to_keep();
        assert!(
            second.loading_turn().await.is_none(),
            "no wait behind the first"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_feed_is_served_for_one_second_at_most() {
        let hub = Arc::new(Hub::new(true));
        let sub = hub.subscribe_run("r");
        sub.offer(feed(2));
        tokio::time::advance(FEED_TTL).await;
        assert_eq!(last_of(sub.feed()), Some(2));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(
            sub.feed().is_none(),
            "heartbeats may have changed the run since"
        );
    }

    #[tokio::test]
    async fn a_lagging_subscription_is_told_to_resync() {
        let hub = Arc::new(Hub::new(true));
        let mut sub = hub.subscribe_run("r");
        for s in 1..=PER_RUN as i64 + 1 {
            hub.publish(event(s));
        }
        assert!(matches!(sub.next().await, Some(Note::Resync)));
        assert!(matches!(sub.next().await, Some(Note::Event(e)) if e.sequence == 2));
    }
}
