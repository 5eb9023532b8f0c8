//! A cache of authenticated keys, so a call costs no key lookup. Revocation
//! still takes effect on the next call: RevokeApiKey evicts the key here
//! and, on PostgreSQL, notifies every other replica (`NOTIFY`), whose
//! listener (`events::pg`) evicts it too. While a replica's listener is down it may have
//! missed a notification, so its cache is emptied and bypassed until the
//! listener is back.

use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::Principal;

/// A cached key is looked up again after this long (expiry, last_used_at).
const TTL: Duration = Duration::from_secs(60);
/// Bound on memory: the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    principal: Principal,
    expires_at: Option<i64>,
    cached_at: Instant,
}

pub struct KeyCache {
    entries: RwLock<HashMap<String, Entry>>,
    /// False while revocations could be missed (listener down): bypass.
    live: AtomicBool,
    /// Bumped by every eviction, so a lookup that raced one is not cached.
    generation: AtomicU64,
}

/// A cached principal and the key's expiry.
pub type Hit = (Principal, Option<i64>);

impl KeyCache {
    pub fn new(live: bool) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            live: AtomicBool::new(live),
            generation: AtomicU64::new(0),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, key_hash: &str) -> Option<Hit> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let e = entries
            .get(key_hash)
            .filter(|e| e.cached_at.elapsed() < TTL)?;
        Some((e.principal.clone(), e.expires_at))
    }

    /// Caches a lookup made when the generation was `seen`; dropped if an
    /// eviction happened since (the lookup may predate a revocation).
    pub fn put(&self, key_hash: String, principal: Principal, expires_at: Option<i64>, seen: u64) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != seen {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key_hash,
            Entry {
                principal,
                expires_at,
                cached_at: Instant::now(),
            },
        );
    }

    pub fn evict_key(&self, key_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, e| e.principal.key_id != key_id);
    }

    pub fn set_live(&self, live: bool) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        self.live.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enums::Role;

    fn p(id: &str) -> Principal {
        Principal {
            key_id: id.into(),
            workspace_id: "w".into(),
            role: Role::Viewer,
        }
    }

    #[test]
    fn evictions_win_over_racing_lookups() {
        let c = KeyCache::new(true);
        let seen = c.generation();
        c.evict_key("k1"); // a revocation lands between the lookup and the put
        c.put("h1".into(), p("k1"), None, seen);
        assert!(c.get("h1").is_none());
        let seen = c.generation();
        c.put("h1".into(), p("k1"), None, seen);
        assert_eq!(c.get("h1").map(|(p, _)| p.key_id), Some("k1".into()));
        c.evict_key("k1");
        assert!(c.get("h1").is_none());
    }

    #[test]
    fn a_dead_cache_is_bypassed() {
        let c = KeyCache::new(false);
        c.put("h".into(), p("k"), None, c.generation());
        assert!(c.get("h").is_none());
    }
}
