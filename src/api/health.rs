//! grpc.health.v1.Health: tonic-health's service, except that watches end
//! when shutdown begins (after telling the watcher NOT_SERVING), as run
//! watches do. Otherwise one open Watch holds the process for the whole
//! shutdown grace period.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tonic_health::{
    pb::{
        HealthCheckRequest, HealthCheckResponse, health_check_response,
        health_server::{self, HealthServer},
    },
    server::{HealthReporter, HealthService},
};

pub struct Health {
    inner: HealthService,
    shutdown: watch::Receiver<bool>,
}

/// The health service of `reporter`'s statuses; its watches end once
/// `shutdown` turns true.
pub fn server(reporter: &HealthReporter, shutdown: watch::Receiver<bool>) -> HealthServer<Health> {
    HealthServer::new(Health {
        inner: HealthService::from_health_reporter(reporter.clone()),
        shutdown,
    })
}

/// Resolves once shutdown has begun (or its sender is gone).
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl health_server::Health for Health {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let mut statuses = self.inner.watch(request).await?.into_inner();
        let mut shutdown = self.shutdown.clone();
        let not_serving = health_check_response::ServingStatus::NotServing as i32;
        let stream = async_stream::stream! {
            let mut last = None;
            loop {
                tokio::select! {
                    biased;
                    next = statuses.next() => match next {
                        Some(item) => {
                            last = item.as_ref().ok().map(|r| r.status);
                            yield item;
                        }
                        None => return,
                    },
                    () = stopping(&mut shutdown) => break,
                }
            }
            if last != Some(not_serving) {
                yield Ok(HealthCheckResponse { status: not_serving });
            }
        };
        Ok(Response::new(Box::pin(stream)))
    }
}
