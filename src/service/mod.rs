//! Use cases: one function per RPC that runs the domain rules and the
//! store calls, each write in a single transaction. Handlers in `api`
//! decode, call one of these, and encode.

pub mod connections;
pub mod executor;
pub mod files;
pub mod run_watch;
pub mod runs;
pub mod syncs;
pub mod watch;
pub mod workspaces;

use std::{future::Future, sync::Arc};

use crate::{
    auth::{cache::KeyCache, secrets::SecretBox},
    connectors::LocalFiles,
    domain::{is_uuid, paging::TokenCodec},
    error::{self, Error, Result, Violations},
    store::{Store, idempotency},
};

/// What every use case needs: the store, the server's keys, the key cache,
/// and what connectors may open.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub secrets: SecretBox,
    pub tokens: TokenCodec,
    pub keys: Arc<KeyCache>,
    pub local_files: LocalFiles,
}

impl Services {
    pub fn new(store: Store, secrets: SecretBox, local_files: LocalFiles) -> Self {
        let tokens = TokenCodec::new(secrets.derive("page-token"));
        // On PostgreSQL other replicas may revoke keys: the cache goes live
        // once the revocation listener runs (see `KeyCache`).
        let keys = Arc::new(KeyCache::new(!store.is_postgres()));
        Self {
            store,
            secrets,
            tokens,
            keys,
            local_files,
        }
    }
}

/// Runs `op` again when it lost a race to a concurrent writer.
pub async fn retry_conflicts<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(Error::Aborted {
                reason: error::CONFLICT,
                ..
            }) if attempt < 8 => attempt += 1,
            other => return other,
        }
    }
}

/// Checks an optional request_id (a UUID) and returns its idempotency scope.
pub fn request_scope(
    principal: &str,
    method: &str,
    request_id: &str,
    v: &mut Violations,
) -> Option<String> {
    if request_id.is_empty() {
        return None;
    }
    if !is_uuid(request_id) {
        v.add("request_id", "must be a UUID");
        return None;
    }
    Some(idempotency::scope(principal, method, request_id))
}

/// INVALID_ARGUMENT unless `id` is present and a UUID: a malformed id cannot name anything.
pub fn check_id(field: &str, id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(crate::error::invalid(field, "is required"));
    }
    if !is_uuid(id) {
        return Err(crate::error::invalid(field, "must be a UUID"));
    }
    Ok(())
}
