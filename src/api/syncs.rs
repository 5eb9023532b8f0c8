//! SyncService: decode, call the use case, encode.

use tonic::{Request, Response, Status};

use super::{
    convert::{self, enum_field},
    lists::{fit, list_response, optional_enum},
    principal,
};
use crate::{
    domain::{
        enums::{ExecutionBackend, ExecutionMode, RunMode, SyncStatus, TriggerMode},
        sync::SyncSpec,
    },
    error::Violations,
    pb::{self, sync_service_server::SyncService},
    service::{Services, syncs::SyncPatch},
    store::syncs::SyncRecord,
};

pub struct Syncs(pub Services);

type Reply<T> = Result<Response<T>, Status>;

fn encode(s: SyncRecord) -> pb::Sync {
    convert::sync(s)
}

fn decode_create(r: pb::CreateSyncRequest, v: &mut Violations) -> SyncSpec {
    SyncSpec {
        name: r.name,
        slug: r.slug,
        entities: r.entities,
        source_config: convert::struct_to_json(r.source_config),
        destination_config: convert::struct_to_json(r.destination_config),
        // "" is the default warehouse, as when absent.
        destination_connection_id: r.destination_connection_id.filter(|id| !id.is_empty()),
        execution_backend: enum_field(
            ExecutionBackend::ALL,
            r.execution_backend,
            "execution_backend",
            v,
        )
        .unwrap_or(ExecutionBackend::Native),
        execution_mode: enum_field(ExecutionMode::ALL, r.execution_mode, "execution_mode", v)
            .unwrap_or(ExecutionMode::Sequential),
        execution_config: convert::struct_to_json(r.execution_config),
        freshness_sla_seconds: r.freshness_sla_seconds,
        schedule: r.schedule.map(|s| convert::schedule_from_pb(s, v)),
        status: enum_field(SyncStatus::ALL, r.status, "status", v).unwrap_or(SyncStatus::Draft),
        trigger_mode: enum_field(TriggerMode::ALL, r.trigger_mode, "trigger_mode", v)
            .unwrap_or(TriggerMode::Manual),
        task_slug: r.task_slug,
        bindings: r
            .table_bindings
            .into_iter()
            .enumerate()
            .map(|(i, b)| convert::binding_from_pb(b, i, v))
            .collect(),
    }
}

/// The fields present in an UpdateSyncRequest, as a change to apply to the stored spec.
fn decode_update(r: pb::UpdateSyncRequest) -> SyncPatch {
    let replace_bindings = r.update_table_bindings;
    let etag = r.etag.clone();
    let apply = move |s: &mut SyncSpec, v: &mut Violations| {
        if let Some(x) = r.name {
            s.name = x;
        }
        if let Some(x) = r.slug {
            if x.is_empty() {
                v.add("slug", "must not be empty");
            }
            s.slug = x;
        }
        if r.update_entities {
            s.entities = r.entities;
        }
        if let Some(x) = r.source_config {
            s.source_config = convert::struct_to_json(Some(x));
        }
        if let Some(x) = r.destination_config {
            s.destination_config = convert::struct_to_json(Some(x));
        }
        if let Some(x) = r.destination_connection_id {
            s.destination_connection_id = Some(x).filter(|id| !id.is_empty());
        }
        if let Some(x) = r.execution_backend {
            s.execution_backend = enum_field(ExecutionBackend::ALL, x, "execution_backend", v)
                .unwrap_or(s.execution_backend);
        }
        if let Some(x) = r.execution_mode {
            s.execution_mode =
                enum_field(ExecutionMode::ALL, x, "execution_mode", v).unwrap_or(s.execution_mode);
        }
        if let Some(x) = r.execution_config {
            s.execution_config = convert::struct_to_json(Some(x));
        }
        if r.clear_freshness_sla {
            s.freshness_sla_seconds = None;
        } else if r.freshness_sla_seconds.is_some() {
            s.freshness_sla_seconds = r.freshness_sla_seconds;
        }
        if r.clear_schedule {
            s.schedule = None;
        } else if let Some(x) = r.schedule {
            s.schedule = Some(convert::schedule_from_pb(x, v));
        }
        if let Some(x) = r.status {
            s.status = enum_field(SyncStatus::ALL, x, "status", v).unwrap_or(s.status);
        }
        if let Some(x) = r.trigger_mode {
            s.trigger_mode =
                enum_field(TriggerMode::ALL, x, "trigger_mode", v).unwrap_or(s.trigger_mode);
        }
        if let Some(x) = r.task_slug {
            s.task_slug = x;
        }
        if r.update_table_bindings {
            s.bindings = r
                .table_bindings
                .into_iter()
                .enumerate()
                .map(|(i, b)| convert::binding_from_pb(b, i, v))
                .collect();
        }
    };
    SyncPatch {
        apply: Box::new(apply),
        replace_bindings,
        etag,
    }
}

#[tonic::async_trait]
impl SyncService for Syncs {
    async fn list_syncs(&self, req: Request<pb::ListSyncsRequest>) -> Reply<pb::ListSyncsResponse> {
        let p = principal(&req)?;
        let q = super::lists::syncs(req.get_ref(), &self.0.tokens)?;
        let page = self
            .0
            .list_syncs(&p, &q.filter, q.sort, q.order, &q.page)
            .await?;
        let page = fit(page, encode);
        let ids = page
            .items
            .iter()
            .flat_map(|s| [s.created_by.clone(), s.updated_by.clone()])
            .collect();
        let users = self.0.display_names(ids).await?;
        Ok(Response::new(list_response!(
            ListSyncsResponse { syncs },
            q,
            page,
            &self.0.tokens,
            users
        )))
    }

    async fn create_sync(&self, req: Request<pb::CreateSyncRequest>) -> Reply<pb::Sync> {
        let p = principal(&req)?;
        let mut r = req.into_inner();
        let (connection_id, request_id) = (
            std::mem::take(&mut r.connection_id),
            std::mem::take(&mut r.request_id),
        );
        let mut v = Violations::new();
        let spec = decode_create(r, &mut v);
        let (sync, _run) = self
            .0
            .create_sync(&p, spec, connection_id, request_id, v)
            .await?;
        Ok(Response::new(encode(sync)))
    }

    async fn get_sync(&self, req: Request<pb::GetSyncRequest>) -> Reply<pb::Sync> {
        let p = principal(&req)?;
        Ok(Response::new(encode(
            self.0.get_sync(&p, req.into_inner().sync_id).await?,
        )))
    }

    async fn update_sync(&self, req: Request<pb::UpdateSyncRequest>) -> Reply<pb::Sync> {
        let p = principal(&req)?;
        let mut r = req.into_inner();
        let id = std::mem::take(&mut r.sync_id);
        Ok(Response::new(encode(
            self.0.update_sync(&p, id, decode_update(r)).await?,
        )))
    }

    async fn delete_sync(&self, req: Request<pb::DeleteSyncRequest>) -> Reply<()> {
        let p = principal(&req)?;
        self.0.delete_sync(&p, req.into_inner().sync_id).await?;
        Ok(Response::new(()))
    }

    async fn trigger_sync(&self, req: Request<pb::TriggerSyncRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mode = optional_enum(RunMode::ALL, r.run_mode, "run_mode")?;
        Ok(Response::new(convert::run(
            self.0
                .trigger_sync(&p, r.sync_id, mode, r.request_id)
                .await?,
        )))
    }

    async fn list_sync_runs(
        &self,
        req: Request<pb::ListSyncRunsRequest>,
    ) -> Reply<pb::ListSyncRunsResponse> {
        let p = principal(&req)?;
        // The sync must exist in the caller's workspace, even when it has no runs.
        self.0.get_sync(&p, req.get_ref().sync_id.clone()).await?;
        let q = super::lists::sync_runs(req.get_ref(), &self.0.tokens)?;
        let page = fit(
            self.0.list_runs(&p, &q.filter, &q.page).await?,
            convert::run,
        );
        let ids = page
            .items
            .iter()
            .filter_map(|r| r.cancel_requested_by.clone())
            .collect();
        let users = self.0.display_names(ids).await?;
        Ok(Response::new(list_response!(
            ListSyncRunsResponse { runs },
            q,
            page,
            &self.0.tokens,
            users
        )))
    }

    async fn reset_sync_state(
        &self,
        req: Request<pb::ResetSyncStateRequest>,
    ) -> Reply<pb::ResetSyncStateResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let (sync, reset) = self.0.reset_sync_state(&p, r.sync_id, r.entities).await?;
        Ok(Response::new(pb::ResetSyncStateResponse {
            sync: Some(encode(sync)),
            reset_entities: reset,
        }))
    }
}
