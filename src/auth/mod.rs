//! API keys and roles: who a key is and what each RPC requires of it (the
//! tower layer that applies this to every call is `api::auth_layer`).

pub mod cache;
pub mod connection_secrets;
pub mod secrets;

use self::cache::KeyCache;
use crate::{
    domain::{enums::Role, now_micros},
    error::{Error, Result},
    store::{Store, workspaces},
};

/// Who is calling: attached to each authenticated request's extensions.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The API key's id; recorded as created_by / updated_by.
    pub key_id: String,
    pub workspace_id: String,
    pub role: Role,
}

/// What a method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and watch: every role.
    Read,
    /// Create, change, trigger: admin and editor.
    Write,
    /// Keys and workspaces: admin.
    Admin,
    /// ExecutorService: admin and executor.
    Execute,
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Self::Read => true,
            Self::Write => matches!(role, Role::Admin | Role::Editor),
            Self::Admin => role == Role::Admin,
            Self::Execute => matches!(role, Role::Admin | Role::Executor),
        }
    }
}

/// The access a gRPC path needs; None for open services (health, reflection).
pub fn access_for(path: &str) -> Option<Access> {
    let rest = path.strip_prefix("/tributary.v1.")?;
    let (service, method) = rest.split_once('/')?;
    Some(match (service, method) {
        ("ExecutorService", _) => Access::Execute,
        ("WorkspaceService", "GetWorkspace" | "ListWorkspaces") => Access::Read,
        ("WorkspaceService", _) => Access::Admin,
        (_, m) if m.starts_with("Get") || m.starts_with("List") || m.starts_with("Watch") => {
            Access::Read
        }
        ("ConnectionService", "ValidateFileSelection") => Access::Read,
        _ => Access::Write,
    })
}

fn expired() -> Error {
    Error::Unauthenticated("the API key has expired".into())
}

/// Resolves a presented key to its principal. Revocation and expiry take
/// effect on the next call (see `cache` for how cached keys keep that promise).
pub async fn authenticate(store: &Store, cache: &KeyCache, key: Option<&str>) -> Result<Principal> {
    let key = key.ok_or_else(|| {
        Error::Unauthenticated(
            "an API key is required: send it in x-api-key or authorization: Bearer".into(),
        )
    })?;
    let hash = crate::domain::api_key::hash(key);
    let now = now_micros();
    if let Some((principal, expires_at)) = cache.get(&hash) {
        return if expires_at.is_some_and(|t| t <= now) {
            Err(expired())
        } else {
            Ok(principal)
        };
    }
    let seen = cache.generation();
    let rec = workspaces::find_key_by_hash(&store.read, &hash)
        .await?
        .ok_or_else(|| Error::Unauthenticated("the API key is not valid".into()))?;
    if rec.revoked_at.is_some() {
        return Err(Error::Unauthenticated("the API key was revoked".into()));
    }
    if rec.expires_at.is_some_and(|t| t <= now) {
        return Err(expired());
    }
    let role = rec.role;
    // last_used_at at minute resolution (the cache's TTL): no write per call.
    if rec.last_used_at.is_none_or(|t| now - t > 60_000_000) {
        let store = store.clone();
        let id = rec.id.clone();
        tokio::spawn(async move {
            if let Err(e) = workspaces::touch_key(&store.write, &id, now).await {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
    let principal = Principal {
        key_id: rec.id,
        workspace_id: rec.workspace_id,
        role,
    };
    cache.put(hash, principal.clone(), rec.expires_at, seen);
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_access() {
        assert_eq!(access_for("/grpc.health.v1.Health/Check"), None);
        assert_eq!(
            access_for("/tributary.v1.ConnectionService/ListConnections"),
            Some(Access::Read)
        );
        assert_eq!(
            access_for("/tributary.v1.ConnectionService/CreateConnection"),
            Some(Access::Write)
        );
        assert_eq!(
            access_for("/tributary.v1.RunService/WatchRun"),
            Some(Access::Read)
        );
        assert_eq!(
            access_for("/tributary.v1.WorkspaceService/CreateApiKey"),
            Some(Access::Admin)
        );
        assert_eq!(
            access_for("/tributary.v1.ExecutorService/ClaimRun"),
            Some(Access::Execute)
        );
        assert!(!Access::Write.allows(Role::Viewer));
        assert!(Access::Write.allows(Role::Editor));
        assert!(!Access::Admin.allows(Role::Editor));
        assert!(!Access::Execute.allows(Role::Editor));
        assert!(!Access::Write.allows(Role::Executor));
    }
}
