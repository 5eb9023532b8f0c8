//! A read-through cache of query results, so hot reads (GetConnection,
//! ListConnections…) cost no round trip to the store.
//!
//! Results are grouped by scope: one kind of resource in one workspace.
//! Every committed write to a scope invalidates it (see `Tx`): locally right
//! after the commit, before the writer answers, so a replica reads its own
//! writes; on PostgreSQL other replicas hear of it through NOTIFY, which is
//! delivered after the commit. While that listener is down a replica could
//! miss invalidations, so its cache is emptied and bypassed until it is back.
//!
//! A load that raced a write must not outlive it: each load notes the
//! scope's generation first and stores its result only if no invalidation
//! came in between.

use std::{
    any::Any,
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use crate::error::Result;

/// Bound on memory: the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 20_000;

type Value = Arc<dyn Any + Send + Sync>;

#[derive(Default)]
struct Scope {
    generation: u64,
    entries: HashMap<String, Value>,
}

#[derive(Default)]
struct Inner {
    scopes: HashMap<(String, &'static str), Scope>,
    /// Bumped when the whole cache is dropped; part of every stamp.
    epoch: u64,
    len: usize,
}

pub struct ReadCache {
    inner: Mutex<Inner>,
    /// False while invalidations could be missed: bypass.
    live: AtomicBool,
    /// Turned off by configuration: bypass for good.
    off: AtomicBool,
}

/// When a load started: (epoch, scope generation).
type Stamp = (u64, u64);

impl ReadCache {
    pub fn new(live: bool) -> Self {
        Self {
            inner: Mutex::default(),
            live: AtomicBool::new(live),
            off: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached value of `key` in the scope (`workspace_id`, `kind`), or
    /// what `load` returns, cached unless a write to the scope raced it.
    /// Errors are not cached.
    pub async fn get_or_load<T, F, Fut>(
        &self,
        (workspace_id, kind): (&str, &'static str),
        key: String,
        load: F,
    ) -> Result<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if !self.live.load(Ordering::Acquire) || self.off.load(Ordering::Relaxed) {
            return load().await;
        }
        let scope = (workspace_id.to_string(), kind);
        let stamp = {
            let mut inner = self.lock();
            let epoch = inner.epoch;
            let s = inner.scopes.entry(scope.clone()).or_default();
            if let Some(v) = s.entries.get(&key).and_then(|v| v.downcast_ref::<T>()) {
                return Ok(v.clone());
            }
            (epoch, s.generation)
        };
        let value = load().await?;
        self.put(scope, key, stamp, Arc::new(value.clone()));
        Ok(value)
    }

    fn put(
        &self,
        scope: (String, &'static str),
        key: String,
        (epoch, generation): Stamp,
        v: Value,
    ) {
        let mut inner = self.lock();
        if inner.epoch != epoch || !self.live.load(Ordering::Acquire) {
            return;
        }
        if inner.len >= MAX_ENTRIES {
            inner.scopes.clear();
            inner.epoch += 1;
            inner.len = 0;
            return;
        }
        let s = inner.scopes.entry(scope).or_default();
        if s.generation != generation {
            return;
        }
        if s.entries.insert(key, v).is_none() {
            inner.len += 1;
        }
    }

    /// Drops what is cached of a scope; loads in flight will not store it.
    pub fn invalidate(&self, workspace_id: &str, kind: &'static str) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        if let Some(s) = inner.scopes.get_mut(&(workspace_id.to_string(), kind)) {
            s.generation += 1;
            inner.len -= s.entries.len();
            s.entries.clear();
        }
    }

    /// Every read goes to the store from now on.
    pub fn turn_off(&self) {
        self.off.store(true, Ordering::Relaxed);
        self.set_live(false);
    }

    /// Turns the cache on or off, dropping everything either way: a listener
    /// that (re)connects may have missed invalidations.
    pub fn set_live(&self, live: bool) {
        let mut inner = self.lock();
        inner.scopes.clear();
        inner.epoch += 1;
        inner.len = 0;
        self.live.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn hits_until_the_scope_changes() {
        let c = ReadCache::new(true);
        let get = |v: i64| {
            c.get_or_load(
                ("w", "connections"),
                "k".into(),
                move || async move { Ok(v) },
            )
        };
        assert_eq!(block(get(1)).unwrap(), 1);
        assert_eq!(block(get(2)).unwrap(), 1, "served from the cache");
        c.invalidate("w", "syncs");
        c.invalidate("x", "connections");
        assert_eq!(block(get(3)).unwrap(), 1, "other scopes do not invalidate");
        c.invalidate("w", "connections");
        assert_eq!(block(get(4)).unwrap(), 4);
    }

    #[test]
    fn a_load_that_raced_a_write_is_not_kept() {
        let c = ReadCache::new(true);
        let v = block(c.get_or_load(("w", "connections"), "k".into(), || async {
            c.invalidate("w", "connections"); // the write commits mid-load
            Ok(1)
        }))
        .unwrap();
        assert_eq!(v, 1);
        let v = block(c.get_or_load(("w", "connections"), "k".into(), || async { Ok(2) }));
        assert_eq!(v.unwrap(), 2);
    }

    #[test]
    fn a_dead_cache_is_bypassed() {
        let c = ReadCache::new(true);
        c.set_live(false);
        for v in [1, 2] {
            let got = block(c.get_or_load(("w", "k"), "k".into(), || async move { Ok(v) }));
            assert_eq!(got.unwrap(), v);
        }
    }
}
