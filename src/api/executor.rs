//! ExecutorService: external engines drive runs through it (run engine issue).

use tonic::{Request, Response, Status};

use super::principal;
use crate::pb::{self, executor_service_server::ExecutorService};

pub struct Executor;

type Reply<T> = Result<Response<T>, Status>;

fn later() -> Status {
    Status::unimplemented("external execution arrives with the run engine")
}

#[tonic::async_trait]
impl ExecutorService for Executor {
    async fn claim_run(&self, req: Request<pb::ClaimRunRequest>) -> Reply<pb::ClaimRunResponse> {
        principal(&req)?;
        Err(later())
    }

    async fn heartbeat(&self, req: Request<pb::HeartbeatRequest>) -> Reply<pb::HeartbeatResponse> {
        principal(&req)?;
        Err(later())
    }

    async fn report_progress(
        &self,
        req: Request<pb::ReportProgressRequest>,
    ) -> Reply<pb::ReportProgressResponse> {
        principal(&req)?;
        Err(later())
    }

    async fn append_logs(
        &self,
        req: Request<pb::AppendLogsRequest>,
    ) -> Reply<pb::AppendLogsResponse> {
        principal(&req)?;
        Err(later())
    }

    async fn complete_run(&self, req: Request<pb::CompleteRunRequest>) -> Reply<pb::Run> {
        principal(&req)?;
        Err(later())
    }
}
