//! One WatchRun stream. Hand-written rather than a generator: every idle
//! watcher holds one, so it keeps only the run's id and position, the hub
//! subscription and the store handle (a generator would also hold the state
//! of every await point, a few KiB).
//!
//! A watcher subscribes to the hub before it reads the store, so nothing
//! falls between the two; the persisted sequence then tells duplicates
//! (dropped) from gaps (filled from the store). A watcher that lags, or whose
//! replica may have missed events, starts over from a fresh snapshot.

use std::{
    collections::VecDeque,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use futures::{Stream, StreamExt, future::BoxFuture};
use sea_orm::DatabaseConnection;

use crate::{
    domain::run_event::RunEvent,
    error::{Error, Result},
    store::hub::{FEED_MAX_EVENTS, Feed, Note, RunSubscription},
    store::{self, runs::RunRecord},
};

/// Where a watcher of `run_id` starts: the feed the hub kept for the run, or
/// one read from the store and offered to the run's next watchers. Only a
/// whole history is kept, and only a short one; a long one is read from
/// `after` on.
pub async fn feed_for(
    db: &DatabaseConnection,
    workspace_id: &str,
    sub: &RunSubscription,
    run_id: &str,
    after: i64,
) -> Result<Arc<Feed>> {
    // Another workspace's run is not found, below.
    let kept = || sub.feed().filter(|f| f.run.workspace_id == workspace_id);
    if let Some(f) = kept() {
        return Ok(f);
    }
    let mut turn = sub.loading_turn().await;
    if let Some(f) = kept() {
        return Ok(f);
    }
    let run = store::runs::get(db, workspace_id, run_id).await?;
    let whole = run.last_event_sequence <= FEED_MAX_EVENTS as i64;
    if !whole {
        // Nothing will be kept: the watchers waiting behind this one go on.
        sub.too_long_to_keep();
        turn.take();
    }
    let from = if whole { 0 } else { after };
    let events = store::run_events::range(db, &run.id, from, run.last_event_sequence).await?;
    let feed = Arc::new(Feed::new(run, events));
    if whole {
        sub.offer(feed.clone()); // under the turn: the next watcher takes it
    }
    Ok(feed)
}

/// What a watch stream carries.
#[derive(Debug, Clone)]
pub enum Watched {
    /// The whole run, numbered after the last persisted event it includes.
    Snapshot(Arc<RunRecord>),
    Event(Arc<RunEvent>),
}

/// What a store read brings the stream.
enum Read {
    /// The start of a run (the first, or the next attempt with its own
    /// subscription): its snapshot, then its events after `after`.
    Start {
        feed: Arc<Feed>,
        sub: Option<RunSubscription>,
        after: i64,
    },
    /// Missed events, after a fresh snapshot when the watcher resynchronised.
    Fill {
        snapshot: Option<Arc<RunRecord>>,
        events: Vec<RunEvent>,
    },
    /// The ended run has no next attempt.
    Chain,
}

pub struct RunWatch {
    db: DatabaseConnection,
    workspace_id: String,
    follow_attempts: bool,
    sub: RunSubscription,
    run_id: String,
    /// The last persisted sequence sent.
    last: i64,
    /// The run's terminal event was sent.
    done: bool,
    /// Sent before anything else, in order; empty (unallocated) when idle.
    queue: VecDeque<Watched>,
    read: Option<BoxFuture<'static, Result<Read>>>,
    ended: bool,
}

impl RunWatch {
    /// Starts from `feed` (read under `sub`), sending the events after `after`.
    pub fn new(
        db: DatabaseConnection,
        workspace_id: String,
        follow_attempts: bool,
        sub: RunSubscription,
        feed: Arc<Feed>,
        after: i64,
    ) -> Self {
        let mut w = Self {
            db,
            workspace_id,
            follow_attempts,
            sub,
            run_id: String::new(),
            last: 0,
            done: false,
            queue: VecDeque::new(),
            read: None,
            ended: false,
        };
        w.apply(Read::Start {
            feed,
            sub: None,
            after,
        });
        w
    }

    fn apply(&mut self, read: Read) {
        match read {
            Read::Start { feed, sub, after } => {
                if let Some(sub) = sub {
                    self.sub = sub;
                }
                self.run_id.clone_from(&feed.run.id);
                self.last = feed.run.last_event_sequence;
                self.done = feed.run.status.is_terminal();
                self.queue.push_back(Watched::Snapshot(feed.run.clone()));
                self.queue
                    .extend(feed.after(after).iter().cloned().map(Watched::Event));
            }
            Read::Fill { snapshot, events } => {
                if let Some(s) = snapshot {
                    self.queue.push_back(Watched::Snapshot(s));
                }
                for e in events {
                    self.last = e.sequence;
                    self.done |= e.is_terminal();
                    self.queue.push_back(Watched::Event(Arc::new(e)));
                }
            }
            Read::Chain => self.ended = true,
        }
    }

    /// Reads the store: the events up to `upto` (a gap), or without it (a
    /// resync) a fresh snapshot and the events up to it.
    fn fill(&mut self, upto: Option<i64>) {
        let (db, ws, run_id, last) = (
            self.db.clone(),
            self.workspace_id.clone(),
            self.run_id.clone(),
            self.last,
        );
        self.read = Some(Box::pin(async move {
            let (snapshot, upto) = match upto {
                Some(upto) => (None, upto),
                None => {
                    let fresh = store::runs::get(&db, &ws, &run_id).await?;
                    let upto = fresh.last_event_sequence;
                    (Some(Arc::new(fresh)), upto)
                }
            };
            let events = store::run_events::range(&db, &run_id, last, upto).await?;
            Ok(Read::Fill { snapshot, events })
        }));
    }

    /// Reads the ended run's next attempt, if it has one.
    fn follow(&mut self) {
        let (db, hub, ws, run_id) = (
            self.db.clone(),
            self.sub.hub().clone(),
            self.workspace_id.clone(),
            self.run_id.clone(),
        );
        self.read = Some(Box::pin(async move {
            let ended = store::runs::get(&db, &ws, &run_id).await?;
            let Some(next) = ended.next_attempt_run_id else {
                return Ok(Read::Chain);
            };
            let sub = hub.subscribe_run(&next);
            let feed = feed_for(&db, &ws, &sub, &next, 0).await?;
            Ok(Read::Start {
                feed,
                sub: Some(sub),
                after: 0,
            })
        }));
    }
}

impl Stream for RunWatch {
    type Item = Result<Watched>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                if self.queue.is_empty() {
                    self.queue = VecDeque::new(); // an idle watcher holds no buffer
                }
                return Poll::Ready(Some(Ok(item)));
            }
            if self.ended {
                return Poll::Ready(None);
            }
            if let Some(read) = &mut self.read {
                let read = ready!(read.as_mut().poll(cx));
                self.read = None;
                match read {
                    Ok(read) => self.apply(read),
                    Err(e) => {
                        self.ended = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                continue;
            }
            if self.done {
                // Ended: follow the chain to the next attempt if asked.
                if !self.follow_attempts {
                    return Poll::Ready(None);
                }
                self.follow();
                continue;
            }
            let Some(note) = ready!(self.sub.poll_next_unpin(cx)) else {
                self.ended = true;
                let e = Error::Unavailable("the server is shutting down".into());
                return Poll::Ready(Some(Err(e)));
            };
            match note {
                Note::Event(e) if !e.body.is_persisted() => {
                    return Poll::Ready(Some(Ok(Watched::Event(e))));
                }
                Note::Event(e) if e.sequence <= self.last => {} // seen
                Note::Event(e) if e.sequence == self.last + 1 => {
                    self.last = e.sequence;
                    self.done |= e.is_terminal();
                    return Poll::Ready(Some(Ok(Watched::Event(e))));
                }
                // A gap: what is missing was committed before `e`.
                Note::Event(e) => self.fill(Some(e.sequence)),
                Note::Resync => self.fill(None),
            }
        }
    }
}
