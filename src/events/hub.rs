//! The in-process fan-out of run events to watchers. Bounded everywhere: a
//! watcher that falls behind loses its place (it then resynchronises from
//! the store) instead of slowing the run or holding events in memory.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::broadcast;

use crate::domain::run_event::RunEvent;

/// Events buffered per run (WatchRun) and in all (WatchRuns).
const PER_RUN: usize = 1024;
const ALL: usize = 8192;

#[derive(Debug, Clone)]
pub enum Note {
    Event(Arc<RunEvent>),
    /// Events may have been missed (the replica's listener reconnected):
    /// every watcher resynchronises from the store.
    Resync,
}

pub struct Hub {
    runs: Mutex<HashMap<String, broadcast::Sender<Note>>>,
    all: broadcast::Sender<Note>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            runs: Mutex::default(),
            all: broadcast::channel(ALL).0,
        }
    }
}

/// A watcher's place on one run's channel; leaving drops the channel once
/// nobody watches the run.
pub struct RunSubscription {
    pub rx: broadcast::Receiver<Note>,
    hub: Arc<Hub>,
    run_id: String,
}

impl Drop for RunSubscription {
    fn drop(&mut self) {
        let mut runs = self.hub.lock();
        // This receiver still counts until the end of this function.
        if runs
            .get(&self.run_id)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            runs.remove(&self.run_id);
        }
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Note>>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscribe_run(self: &Arc<Self>, run_id: &str) -> RunSubscription {
        let rx = self
            .lock()
            .entry(run_id.to_string())
            .or_insert_with(|| broadcast::channel(PER_RUN).0)
            .subscribe();
        RunSubscription {
            rx,
            hub: self.clone(),
            run_id: run_id.to_string(),
        }
    }

    /// Every run's events (WatchRuns filters them).
    pub fn subscribe_all(&self) -> broadcast::Receiver<Note> {
        self.all.subscribe()
    }

    pub fn publish(&self, event: RunEvent) {
        let note = Note::Event(Arc::new(event));
        let Note::Event(e) = &note else { return };
        if let Some(tx) = self.lock().get(&e.run_id) {
            let _ = tx.send(note.clone()); // no receivers is fine
        }
        let _ = self.all.send(note);
    }

    pub fn resync(&self) {
        for tx in self.lock().values() {
            let _ = tx.send(Note::Resync);
        }
        let _ = self.all.send(Note::Resync);
    }

    /// Runs with a channel (someone watches them).
    pub fn watched_runs(&self) -> usize {
        self.lock().len()
    }
}
