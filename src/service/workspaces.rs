//! Workspace and API key use cases.

use super::{Services, check_id};
use crate::{
    auth::Principal,
    domain::{
        connection::check_name, enums::Role, limits::MAX_API_KEY_TTL_SECONDS, now_micros,
        paging::Page, slug,
    },
    error::{Error, Result, Violations},
    store::{
        self,
        list::PageOf,
        workspaces::{ApiKeyRecord, WorkspaceRecord},
    },
};

impl Services {
    /// The caller's workspace, or one it created.
    pub async fn get_workspace(&self, p: &Principal, id: String) -> Result<WorkspaceRecord> {
        let id = if id.is_empty() {
            p.workspace_id.clone()
        } else {
            id
        };
        check_id("workspace_id", &id)?;
        match store::workspaces::get_workspace(&self.store.read, &id).await? {
            Some(w)
                if w.id == p.workspace_id
                    || w.parent_workspace_id.as_deref() == Some(p.workspace_id.as_str()) =>
            {
                Ok(w)
            }
            _ => Err(Error::not_found("workspace", id)),
        }
    }

    pub async fn list_workspaces(
        &self,
        p: &Principal,
        page: &Page,
    ) -> Result<PageOf<WorkspaceRecord>> {
        store::workspaces::list_workspaces(&self.store.read, &p.workspace_id, page).await
    }

    pub async fn create_workspace(
        &self,
        p: &Principal,
        name: String,
        slug_in: String,
    ) -> Result<(WorkspaceRecord, ApiKeyRecord, String)> {
        let mut v = Violations::new();
        check_name(&name, "name", &mut v);
        if !slug_in.is_empty()
            && let Err(why) = slug::check(&slug_in)
        {
            v.add("slug", why);
        }
        v.check()?;
        let txn = self.store.begin().await?;
        let out = store::workspaces::create_workspace(
            &txn,
            &name,
            &slug_in,
            Some(&p.workspace_id),
            &p.key_id,
        )
        .await?;
        txn.commit().await?;
        Ok(out)
    }

    pub async fn create_api_key(
        &self,
        p: &Principal,
        name: String,
        role: Option<Role>,
        ttl_seconds: i64,
    ) -> Result<(ApiKeyRecord, String)> {
        let mut v = Violations::new();
        check_name(&name, "name", &mut v);
        if role.is_none() {
            v.add("role", "must be ADMIN, EDITOR, VIEWER or EXECUTOR");
        }
        if !(0..=MAX_API_KEY_TTL_SECONDS).contains(&ttl_seconds) {
            v.add(
                "ttl_seconds",
                format!(
                    "must be 0 (no expiry) or a positive number of seconds up to ten years ({MAX_API_KEY_TTL_SECONDS})"
                ),
            );
        }
        v.check()?;
        // Bounded above, so this cannot overflow; checked all the same.
        let expires = match ttl_seconds {
            0 => None,
            ttl => Some(
                ttl.checked_mul(1_000_000)
                    .and_then(|d| now_micros().checked_add(d))
                    .ok_or_else(|| crate::error::invalid("ttl_seconds", "is too large"))?,
            ),
        };
        let role = role.unwrap_or(Role::Viewer);
        store::workspaces::create_api_key(
            &self.store.write,
            &p.workspace_id,
            &name,
            role,
            &p.key_id,
            expires,
        )
        .await
    }

    pub async fn list_api_keys(
        &self,
        p: &Principal,
        include_revoked: bool,
        page: &Page,
    ) -> Result<PageOf<ApiKeyRecord>> {
        store::workspaces::list_api_keys(&self.store.read, &p.workspace_id, include_revoked, page)
            .await
    }

    pub async fn revoke_api_key(&self, p: &Principal, id: String) -> Result<ApiKeyRecord> {
        check_id("api_key_id", &id)?;
        let rec =
            store::workspaces::revoke_api_key(&self.store.write, &p.workspace_id, &id).await?;
        // Other replicas evict it through the store's notification.
        self.keys.evict_key(&rec.id);
        Ok(rec)
    }
}
