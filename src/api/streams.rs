//! Server streams: encoding, and the limits every stream lives under.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;
use tonic::Status;

use crate::{error::Result, pb, service::run_watch::Watched};

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
        Box::pin(Limited {
            events: Box::pin(events),
            deadline: (!self.max_duration.is_zero())
                .then(|| Box::pin(tokio::time::sleep(self.max_duration))),
            shutdown: WatchStream::new(self.shutdown.clone()),
            done: false,
        })
    }
}

/// Hand-written rather than a generator: every idle watcher holds one, so
/// it stays a few pointers wide.
struct Limited {
    events: Pin<Box<dyn Stream<Item = Result<Watched>> + Send>>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    shutdown: WatchStream<bool>,
    done: bool,
}

impl Limited {
    fn end(&mut self, why: &str) -> Poll<Option<std::result::Result<pb::RunEvent, Status>>> {
        self.done = true;
        Poll::Ready(Some(Err(Status::unavailable(why.to_string()))))
    }
}

impl Stream for Limited {
    type Item = std::result::Result<pb::RunEvent, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        // The first value is the current one; a dropped sender means the server is gone.
        while let Poll::Ready(stop) = self.shutdown.poll_next_unpin(cx) {
            if stop != Some(false) {
                return self.end("the server is shutting down; resume with after_sequence");
            }
        }
        if let Some(d) = &mut self.deadline
            && d.as_mut().poll(cx).is_ready()
        {
            return self
                .end("the stream reached --max-stream-duration; resume with after_sequence");
        }
        match self.events.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(Watched::Snapshot(run)))) => {
                Poll::Ready(Some(Ok(convert::snapshot(Arc::unwrap_or_clone(run)))))
            }
            Poll::Ready(Some(Ok(Watched::Event(e)))) => {
                Poll::Ready(Some(Ok(convert::run_event(&e))))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(Status::from(e))))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
