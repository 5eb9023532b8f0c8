//! Server streams: encoding, and the limits every stream lives under.

use std::{pin::Pin, time::Duration};

use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tonic::Status;

use crate::{error::Result, pb, service::watch::Watched};

use super::convert;

pub type EventStream =
    Pin<Box<dyn Stream<Item = std::result::Result<pb::RunEvent, Status>> + Send>>;

/// A stream ends with UNAVAILABLE when it reaches `max_duration` (0: never),
/// as behind a load balancer, or when the server shuts down; clients
/// resume with after_sequence.
#[derive(Clone)]
pub struct StreamLimits {
    pub max_duration: Duration,
    pub shutdown: watch::Receiver<bool>,
}

impl StreamLimits {
    pub fn wrap(
        &self,
        events: impl Stream<Item = Result<Watched>> + Send + 'static,
    ) -> EventStream {
        let max = self.max_duration;
        let mut shutdown = self.shutdown.clone();
        Box::pin(async_stream::stream! {
            let deadline = async {
                if max.is_zero() {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(max).await;
            };
            let stopping = async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            };
            tokio::pin!(deadline, stopping, events);
            loop {
                tokio::select! {
                    item = events.next() => match item {
                        Some(Ok(Watched::Snapshot(run))) => yield Ok(convert::snapshot(*run)),
                        Some(Ok(Watched::Event(e))) => yield Ok(convert::run_event(&e)),
                        Some(Err(e)) => {
                            yield Err(Status::from(e));
                            break;
                        }
                        None => break,
                    },
                    () = &mut deadline => {
                        yield Err(Status::unavailable(
                            "the stream reached --max-stream-duration; resume with after_sequence",
                        ));
                        break;
                    }
                    () = &mut stopping => {
                        yield Err(Status::unavailable(
                            "the server is shutting down; resume with after_sequence",
                        ));
                        break;
                    }
                }
            }
        })
    }
}
