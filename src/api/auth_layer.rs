//! The tower layer that authenticates and authorizes each call before it
//! reaches a handler, and hands the handler its `Principal`.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tower::{Layer, Service};

use super::status::to_status;
use crate::{
    auth::{access_for, authenticate, cache::KeyCache},
    error::Error,
    store::Store,
};

#[derive(Clone)]
pub struct AuthLayer {
    store: Store,
    keys: Arc<KeyCache>,
}

impl AuthLayer {
    pub fn new(store: Store, keys: Arc<KeyCache>) -> Self {
        Self { store, keys }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            store: self.store.clone(),
            keys: self.keys.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    store: Store,
    keys: Arc<KeyCache>,
}

/// The key a request presents: `x-api-key`, else `authorization: Bearer …`.
fn presented_key(headers: &http::HeaderMap) -> Option<String> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim().to_string());
    }
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl<S, B> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // Take the service that was polled ready; leave a clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(access) = access_for(req.uri().path()) else {
            return Box::pin(inner.call(req));
        };
        let store = self.store.clone();
        let keys = self.keys.clone();
        let key = presented_key(req.headers());
        Box::pin(async move {
            let principal = match authenticate(&store, &keys, key.as_deref()).await {
                Ok(p) => p,
                Err(e) => return Ok(to_status(e).into_http()),
            };
            if !access.allows(principal.role) {
                let e = Error::PermissionDenied(format!(
                    "a {} key cannot call this method",
                    principal.role
                ));
                return Ok(to_status(e).into_http());
            }
            req.extensions_mut().insert(principal);
            inner.call(req).await
        })
    }
}
