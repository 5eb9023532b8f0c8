//! RunService: run records, cancel and retry. Streams arrive with the engine.

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Response, Status};

use super::{convert, lists::list_response, lists::optional_enum, principal};
use crate::{
    domain::enums::RunMode,
    pb::{self, run_service_server::RunService},
    service::Services,
};

pub struct Runs(pub Services);

type Reply<T> = Result<Response<T>, Status>;
pub type EventStream = Pin<Box<dyn Stream<Item = Result<pb::RunEvent, Status>> + Send>>;

#[tonic::async_trait]
impl RunService for Runs {
    async fn get_run(&self, req: Request<pb::GetRunRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        Ok(Response::new(convert::run(
            self.0.get_run(&p, req.into_inner().run_id).await?,
        )))
    }

    async fn list_runs(&self, req: Request<pb::ListRunsRequest>) -> Reply<pb::ListRunsResponse> {
        let p = principal(&req)?;
        let q = super::lists::runs(req.get_ref(), &self.0.tokens)?;
        let page = self.0.list_runs(&p, &q.filter, &q.page).await?;
        let ids = page
            .items
            .iter()
            .filter_map(|r| r.cancel_requested_by.clone())
            .collect();
        let users = self.0.display_names(ids).await?;
        Ok(Response::new(list_response!(
            ListRunsResponse { runs },
            q,
            page,
            &self.0.tokens,
            users,
            convert::run
        )))
    }

    async fn cancel_run(&self, req: Request<pb::CancelRunRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        let r = req.into_inner();
        Ok(Response::new(convert::run(
            self.0.cancel_run(&p, r.run_id, r.reason).await?,
        )))
    }

    async fn retry_run(&self, req: Request<pb::RetryRunRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mode = optional_enum(RunMode::ALL, r.run_mode, "run_mode")?;
        Ok(Response::new(convert::run(
            self.0.retry_run(&p, r.run_id, mode, r.request_id).await?,
        )))
    }

    async fn list_run_logs(
        &self,
        req: Request<pb::ListRunLogsRequest>,
    ) -> Reply<pb::ListRunLogsResponse> {
        let p = principal(&req)?;
        self.0.get_run(&p, req.into_inner().run_id).await?;
        Err(Status::unimplemented("run logs arrive with the run engine"))
    }

    type WatchRunStream = EventStream;

    async fn watch_run(&self, req: Request<pb::WatchRunRequest>) -> Reply<Self::WatchRunStream> {
        let p = principal(&req)?;
        self.0.get_run(&p, req.into_inner().run_id).await?;
        Err(Status::unimplemented(
            "live run streams arrive with the run engine",
        ))
    }

    type WatchRunsStream = EventStream;

    async fn watch_runs(&self, req: Request<pb::WatchRunsRequest>) -> Reply<Self::WatchRunsStream> {
        principal(&req)?;
        Err(Status::unimplemented(
            "live run streams arrive with the run engine",
        ))
    }
}
