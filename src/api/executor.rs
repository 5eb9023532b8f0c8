//! ExecutorService: external engines drive runs of EXTERNAL syncs through
//! it. Decode, call the use case, encode.

use std::time::Duration;

use tonic::{Request, Response, Status};

use super::{
    convert::{self, enum_field, from_pb},
    principal,
};
use crate::{
    domain::{
        enums::{LogLevel, ResultReasonCode, RunStatus},
        limits,
        run_event::Totals,
    },
    error::Violations,
    pb::{self, executor_service_server::ExecutorService},
    service::{
        Services,
        executor::{Completion, LogLineIn, ProgressReport},
    },
    store::{self, runs::BackendReport},
};

pub struct Executor {
    pub svc: Services,
    /// How long a lease lasts without a heartbeat (the reaper's timeout).
    pub lease: Duration,
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl ExecutorService for Executor {
    async fn claim_run(&self, req: Request<pb::ClaimRunRequest>) -> Reply<pb::ClaimRunResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let claimed = self
            .svc
            .claim_run(&p, r.executor_id, r.sync_ids, self.lease)
            .await?;
        let Some(c) = claimed else {
            return Ok(Response::new(pb::ClaimRunResponse::default()));
        };
        Ok(Response::new(pb::ClaimRunResponse {
            run: Some(convert::run(c.run)),
            sync: Some(convert::sync(c.sync)),
            connection: Some(convert::connection(c.connection)),
            credentials: c.credentials.into_iter().collect(),
            lease_expires_at: convert::ts(c.lease_expires_at),
            cursors: c.cursors.into_iter().collect(),
        }))
    }

    async fn heartbeat(&self, req: Request<pb::HeartbeatRequest>) -> Reply<pb::HeartbeatResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let status = r.backend_status.map(|s| {
            let status = convert::struct_to_json(Some(s));
            limits::check_json(&status, "backend_status", &mut v);
            store::json_text(&status)
        });
        let backend = BackendReport {
            run_ref: r.backend_run_ref,
            run_url: r.backend_run_url,
            status,
        };
        let totals = Totals {
            records_read: r.records_read,
            records_written: r.records_written,
            bytes: r.bytes,
        };
        let lease = self
            .svc
            .heartbeat(&p, r.run_id, r.executor_id, totals, backend, self.lease, v)
            .await?;
        Ok(Response::new(pb::HeartbeatResponse {
            lease_expires_at: convert::ts(lease.expires_at),
            cancel_requested: lease.cancel_requested,
        }))
    }

    async fn report_progress(
        &self,
        req: Request<pb::ReportProgressRequest>,
    ) -> Reply<pb::ReportProgressResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let progress = r.progress.map(|pr| ProgressReport {
            entity_key: pr.entity_key,
            totals: Totals {
                records_read: pr.records_read,
                records_written: pr.records_written,
                bytes: pr.bytes,
            },
        });
        let cancel_requested = self
            .svc
            .report_progress(&p, r.run_id, r.executor_id, progress, r.cursor, self.lease)
            .await?;
        Ok(Response::new(pb::ReportProgressResponse {
            cancel_requested,
        }))
    }

    async fn append_logs(
        &self,
        req: Request<pb::AppendLogsRequest>,
    ) -> Reply<pb::AppendLogsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let lines = r
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| LogLineIn {
                level: enum_field(LogLevel::ALL, l.level, &format!("lines[{i}].level"), &mut v),
                message: l.message,
                entity_key: l.entity_key,
            })
            .collect();
        let last_sequence = self
            .svc
            .append_logs(&p, r.run_id, r.executor_id, lines, v)
            .await?;
        Ok(Response::new(pb::AppendLogsResponse { last_sequence }))
    }

    async fn complete_run(&self, req: Request<pb::CompleteRunRequest>) -> Reply<pb::Run> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let status = match from_pb(RunStatus::ALL, r.status) {
            Ok(Some(s)) => Some(s),
            Ok(None) => {
                v.add("status", "is required");
                None
            }
            Err(_) => {
                v.add("status", format!("{} is not a defined value", r.status));
                None
            }
        };
        let completion = Completion {
            status,
            reason: enum_field(
                ResultReasonCode::ALL,
                r.result_reason_code,
                "result_reason_code",
                &mut v,
            ),
            error: r.error,
            summary: r.summary.map(|s| convert::summary_from_pb(s, &mut v)),
        };
        Ok(Response::new(convert::run(
            self.svc
                .complete_run(&p, r.run_id, r.executor_id, completion, v)
                .await?,
        )))
    }
}
