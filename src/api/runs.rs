//! RunService: run records, cancel and retry, logs and live streams.

use tonic::{Request, Response, Status};

use super::streams::{EventStream, StreamLimits};
use super::{
    convert,
    lists::{fit, list_response, optional_enum},
    principal,
};
use crate::{
    domain::enums::{LogLevel, RunMode, RunStatus},
    error::Violations,
    pb::{self, run_service_server::RunService},
    service::Services,
};

pub struct Runs {
    pub svc: Services,
    pub limits: StreamLimits,
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl RunService for Runs {
    async fn get_run(&self, req: Request<pb::GetRunRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        Ok(Response::new(convert::run(
            self.svc.get_run(&p, req.into_inner().run_id).await?,
        )))
    }

    async fn list_runs(&self, req: Request<pb::ListRunsRequest>) -> Reply<pb::ListRunsResponse> {
        let p = principal(&req)?;
        let q = super::lists::runs(req.get_ref(), &self.svc.tokens)?;
        let page = fit(
            self.svc.list_runs(&p, &q.filter, &q.page).await?,
            convert::run,
        );
        let ids = page
            .items
            .iter()
            .filter_map(|r| r.cancel_requested_by.clone())
            .collect();
        let users = self.svc.display_names(ids).await?;
        Ok(Response::new(list_response!(
            ListRunsResponse { runs },
            q,
            page,
            &self.svc.tokens,
            users
        )))
    }

    async fn cancel_run(&self, req: Request<pb::CancelRunRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        let r = req.into_inner();
        Ok(Response::new(convert::run(
            self.svc.cancel_run(&p, r.run_id, r.reason).await?,
        )))
    }

    async fn retry_run(&self, req: Request<pb::RetryRunRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mode = optional_enum(RunMode::ALL, r.run_mode, "run_mode")?;
        Ok(Response::new(convert::run(
            self.svc.retry_run(&p, r.run_id, mode, r.request_id).await?,
        )))
    }

    async fn list_run_logs(
        &self,
        req: Request<pb::ListRunLogsRequest>,
    ) -> Reply<pb::ListRunLogsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let min_level = optional_enum(LogLevel::ALL, r.min_level, "min_level")?;
        let (page, fingerprint) = self
            .svc
            .list_run_logs(
                &p,
                r.run_id,
                r.after_sequence,
                min_level,
                r.limit,
                &r.page_token,
            )
            .await?;
        let page = fit(page, convert::log_entry);
        Ok(Response::new(pb::ListRunLogsResponse {
            entries: page.items,
            has_next: page.has_next,
            next_page_token: page
                .next
                .map(|c| self.svc.tokens.encode(&fingerprint, &c))
                .unwrap_or_default(),
        }))
    }

    type WatchRunStream = EventStream;

    async fn watch_run(&self, req: Request<pb::WatchRunRequest>) -> Reply<Self::WatchRunStream> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let events = self
            .svc
            .watch_run(&p, r.run_id, r.after_sequence, r.follow_attempts)
            .await?;
        Ok(Response::new(self.limits.wrap(events)))
    }

    type WatchRunsStream = EventStream;

    async fn watch_runs(&self, req: Request<pb::WatchRunsRequest>) -> Reply<Self::WatchRunsStream> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let statuses = convert::enum_list(RunStatus::ALL, &r.statuses, "statuses", &mut v);
        v.check()?;
        let events = self
            .svc
            .watch_runs(&p, r.sync_id, r.connection_id, statuses)
            .await?;
        Ok(Response::new(self.limits.wrap(events)))
    }
}
