//! WorkspaceService: workspaces and API keys.

use tonic::{Request, Response, Status};

use super::{
    convert,
    lists::{self, fit, optional_enum},
    principal,
};
use crate::{
    domain::enums::Role,
    pb::{self, workspace_service_server::WorkspaceService},
    service::Services,
};

pub struct Workspaces(pub Services);

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl WorkspaceService for Workspaces {
    async fn get_workspace(&self, req: Request<pb::GetWorkspaceRequest>) -> Reply<pb::Workspace> {
        let p = principal(&req)?;
        Ok(Response::new(convert::workspace(
            self.0
                .get_workspace(&p, req.into_inner().workspace_id)
                .await?,
        )))
    }

    async fn create_workspace(
        &self,
        req: Request<pb::CreateWorkspaceRequest>,
    ) -> Reply<pb::CreateWorkspaceResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (ws, key_rec, key) = self.0.create_workspace(&p, r.name, r.slug).await?;
        Ok(Response::new(pb::CreateWorkspaceResponse {
            workspace: Some(convert::workspace(ws)),
            admin_key: Some(convert::api_key(key_rec)),
            key,
        }))
    }

    async fn list_workspaces(
        &self,
        req: Request<pb::ListWorkspacesRequest>,
    ) -> Reply<pb::ListWorkspacesResponse> {
        let p = principal(&req)?;
        let q = lists::workspaces(req.get_ref(), &self.0.tokens)?;
        let page = fit(
            self.0.list_workspaces(&p, &q.page).await?,
            convert::workspace,
        );
        Ok(Response::new(pb::ListWorkspacesResponse {
            next_page_token: q.next_token(&self.0.tokens, page.next.as_ref()),
            has_next: page.has_next,
            workspaces: page.items,
        }))
    }

    async fn create_api_key(
        &self,
        req: Request<pb::CreateApiKeyRequest>,
    ) -> Reply<pb::CreateApiKeyResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let role = optional_enum(Role::ALL, r.role, "role")?;
        let (rec, key) = self
            .0
            .create_api_key(&p, r.name, role, r.ttl_seconds)
            .await?;
        Ok(Response::new(pb::CreateApiKeyResponse {
            api_key: Some(convert::api_key(rec)),
            key,
        }))
    }

    async fn list_api_keys(
        &self,
        req: Request<pb::ListApiKeysRequest>,
    ) -> Reply<pb::ListApiKeysResponse> {
        let p = principal(&req)?;
        let q = lists::api_keys(req.get_ref(), &self.0.tokens)?;
        let keys = self
            .0
            .list_api_keys(&p, req.get_ref().include_revoked, &q.page)
            .await?;
        let page = fit(keys, convert::api_key);
        Ok(Response::new(pb::ListApiKeysResponse {
            next_page_token: q.next_token(&self.0.tokens, page.next.as_ref()),
            has_next: page.has_next,
            api_keys: page.items,
        }))
    }

    async fn revoke_api_key(&self, req: Request<pb::RevokeApiKeyRequest>) -> Reply<pb::ApiKey> {
        let p = principal(&req)?;
        Ok(Response::new(convert::api_key(
            self.0
                .revoke_api_key(&p, req.into_inner().api_key_id)
                .await?,
        )))
    }
}
