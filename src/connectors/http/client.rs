//! One request of a page: the manifest's auth applied (API keys, basic,
//! bearer, OAuth2 access tokens fetched and cached, OAuth 1.0a
//! signatures), the answer's status mapped to the connector's typed errors
//! (429 RATE_LIMITED with its Retry-After, 401/403 AUTH_ERROR, 5xx and
//! dropped connections transient). Messages name the method and URL path
//! only: a query may carry a key. Retries and rate limits are the
//! source's (`source.rs`).

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use reqwest::{
    StatusCode,
    header::{self, HeaderMap, HeaderName, HeaderValue},
};
use serde_json::Value;
use tokio::sync::Mutex;

use super::{
    manifest::{Auth, KeyLocation, Method},
    paginate::Request,
};
use crate::connectors::{ConnectorError, CredentialStore};

/// A response as the paginator and record selector need it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body's size as received.
    pub bytes: usize,
}

/// Where a rotated refresh token is written: the credential it came from.
pub struct Rotation {
    pub key: String,
    pub store: Arc<dyn CredentialStore>,
}

pub struct Client {
    http: reqwest::Client,
    auth: Option<Auth>,
    headers: HeaderMap,
    /// An OAuth2 access token and when it stops being good.
    token: Mutex<Option<(String, SystemTime)>>,
    /// The refresh token in force (a rotation replaces the manifest's).
    refresh_token: Mutex<Option<String>>,
    rotation: Option<Rotation>,
}

/// Taken off a token's lifetime, so a request never carries one about to
/// expire.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);
/// A token response without `expires_in` is kept this long.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

impl Client {
    /// `headers` are the manifest's default headers (already validated).
    pub fn new(
        auth: Option<Auth>,
        headers: &std::collections::BTreeMap<String, String>,
        timeout: Duration,
    ) -> Result<Self, ConnectorError> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            // A header whose value renders empty (an unset variable) is not sent.
            if v.is_empty() {
                continue;
            }
            // It may hold a credential: marked sensitive like auth headers.
            insert(&mut map, k, v)?;
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|_| ConnectorError::Failed("could not set up the HTTP client".into()))?;
        let refresh_token = match &auth {
            Some(Auth::Oauth2RefreshToken { refresh_token, .. }) => Some(refresh_token.0.clone()),
            _ => None,
        };
        Ok(Self {
            http,
            auth,
            headers: map,
            token: Mutex::new(None),
            refresh_token: Mutex::new(refresh_token),
            rotation: None,
        })
    }

    /// Writes a rotated refresh token back through `rotation`.
    pub fn with_rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = Some(rotation);
        self
    }

    /// Sends `request` and parses its JSON body. An OAuth2 access token
    /// the API refuses is fetched again once: it may have been revoked
    /// before its announced expiry.
    pub async fn send(&self, request: &Request) -> Result<Page, ConnectorError> {
        match self.send_once(request).await {
            Err(ConnectorError::Auth(_))
                if matches!(
                    self.auth,
                    Some(Auth::Oauth2ClientCredentials { .. } | Auth::Oauth2RefreshToken { .. })
                ) && self.token.lock().await.take().is_some() =>
            {
                self.send_once(request).await
            }
            other => other,
        }
    }

    async fn send_once(&self, request: &Request) -> Result<Page, ConnectorError> {
        let mut url = request.full_url();
        let verb = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let what = format!("{verb} {}", url.path());
        let mut headers = self.headers.clone();
        match &self.auth {
            None => {}
            Some(Auth::ApiKey {
                name,
                location: KeyLocation::Query,
                value,
            }) => {
                url.query_pairs_mut().append_pair(name, &value.0);
            }
            Some(Auth::ApiKey {
                name,
                location: KeyLocation::Header,
                value,
            }) => insert(&mut headers, name, &value.0)?,
            Some(Auth::Bearer { token }) => insert(
                &mut headers,
                "Authorization",
                &format!("Bearer {}", token.0),
            )?,
            Some(Auth::Basic { username, password }) => {
                use base64::Engine;
                let pair = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.0));
                insert(&mut headers, "Authorization", &format!("Basic {pair}"))?
            }
            Some(
                Auth::Oauth2ClientCredentials { header, prefix, .. }
                | Auth::Oauth2RefreshToken { header, prefix, .. },
            ) => {
                let token = self.access_token().await?;
                insert(&mut headers, header, &format!("{prefix}{token}"))?
            }
            Some(Auth::Oauth1HmacSha256 {
                realm,
                consumer_key,
                consumer_secret,
                token_id,
                token_secret,
            }) => {
                // A fresh nonce and time per request: NetSuite refuses a
                // nonce seen before.
                let nonce: String = {
                    use rand::Rng;
                    let mut rng = rand::thread_rng();
                    (0..20)
                        .map(|_| char::from(rng.sample(rand::distributions::Alphanumeric)))
                        .collect()
                };
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                let header = super::oauth1::authorization(
                    verb.as_str(),
                    &url,
                    realm,
                    &consumer_key.0,
                    &consumer_secret.0,
                    &token_id.0,
                    &token_secret.0,
                    &nonce,
                    now,
                );
                insert(&mut headers, "Authorization", &header)?
            }
        }
        for (name, value) in &request.headers {
            insert(&mut headers, name, value)?;
        }
        let mut builder = self.http.request(verb, url).headers(headers);
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(|e| sent_error(&what, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        check_status(&what, status, &headers, SystemTime::now())?;
        let bytes = response.bytes().await.map_err(|e| sent_error(&what, &e))?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|_| ConnectorError::Failed(format!("{what}: the response is not JSON")))?
        };
        Ok(Page {
            status: status.as_u16(),
            headers,
            body,
            bytes: bytes.len(),
        })
    }

    /// An OAuth2 access token (client credentials or a refresh token),
    /// fetched once and reused until shortly before it expires.
    async fn access_token(&self) -> Result<String, ConnectorError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && SystemTime::now() < *until
        {
            return Ok(token.clone());
        }
        let mut refresh = self.refresh_token.lock().await;
        let (token_url, mut form, what) = match &self.auth {
            Some(Auth::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scopes,
                ..
            }) => (
                token_url,
                vec![
                    ("grant_type", "client_credentials".to_string()),
                    ("client_id", client_id.clone()),
                    ("client_secret", client_secret.0.clone()),
                    ("scope", scopes.join(" ")),
                ],
                "the OAuth2 token request",
            ),
            Some(Auth::Oauth2RefreshToken {
                token_url,
                client_id,
                client_secret,
                scopes,
                ..
            }) => (
                token_url,
                vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh.clone().unwrap_or_default()),
                    ("client_id", client_id.clone()),
                    (
                        "client_secret",
                        client_secret
                            .as_ref()
                            .map(|s| s.0.clone())
                            .unwrap_or_default(),
                    ),
                    ("scope", scopes.join(" ")),
                ],
                "the OAuth2 refresh-token request",
            ),
            _ => {
                return Err(ConnectorError::Failed(
                    "an access token was asked for without OAuth2 auth".into(),
                ));
            }
        };
        form.retain(|(_, v)| !v.is_empty());
        let response = self
            .http
            .post(token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| sent_error(what, &e))?;
        let status = response.status();
        if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED {
            return Err(ConnectorError::Auth(format!(
                "{what} was refused (HTTP {}): check the client and its tokens",
                status.as_u16()
            )));
        }
        check_status(what, status, response.headers(), SystemTime::now())?;
        let body: Value = response
            .json()
            .await
            .map_err(|_| ConnectorError::Failed(format!("{what}: the response is not JSON")))?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ConnectorError::Failed(format!("{what}: the response has no access_token"))
            })?
            .to_string();
        // A rotated refresh token: the old one may already be dead, so the
        // new one is saved before anything else uses the access token.
        if let Some(new) = body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            && refresh.as_deref().is_some_and(|old| old != new)
        {
            if let Some(r) = &self.rotation {
                let old = refresh.clone().unwrap_or_default();
                r.store.rotate(&r.key, &old, new).await.map_err(|why| {
                    ConnectorError::Failed(format!(
                        "the rotated refresh token could not be saved: {why}"
                    ))
                })?;
            }
            *refresh = Some(new.to_string());
        }
        let lifetime = body
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
        let until = SystemTime::now() + lifetime.saturating_sub(TOKEN_MARGIN);
        *cached = Some((token.clone(), until));
        Ok(token)
    }
}

/// `name: value` into `headers`, marked sensitive (it may carry a secret:
/// kept out of any Debug output).
fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), ConnectorError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ConnectorError::Config(format!("{name} is not a header name")))?;
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        ConnectorError::Config(format!("the {name} header has a value HTTP cannot carry"))
    })?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

/// The typed error of a status that is not a success.
fn check_status(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<(), ConnectorError> {
    let code = status.as_u16();
    match status {
        s if s.is_success() => Ok(()),
        StatusCode::TOO_MANY_REQUESTS => Err(ConnectorError::RateLimited {
            message: format!("{what}: the API asks to slow down (HTTP 429)"),
            retry_after: retry_after(headers, now),
        }),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ConnectorError::Auth(format!(
            "{what}: the API refused the credentials (HTTP {code})"
        ))),
        StatusCode::REQUEST_TIMEOUT => Err(ConnectorError::Transient(format!(
            "{what}: the API timed out (HTTP 408)"
        ))),
        s if s.is_server_error() => Err(ConnectorError::Transient(format!(
            "{what}: the API failed (HTTP {code})"
        ))),
        _ => Err(ConnectorError::Failed(format!(
            "{what}: the API answered HTTP {code}"
        ))),
    }
}

/// A request that got no answer, from the error's kind (its text may hold
/// the URL and its query).
fn sent_error(what: &str, e: &reqwest::Error) -> ConnectorError {
    let why = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response broke off"
    } else {
        "the request failed"
    };
    ConnectorError::Transient(format!("{what}: {why}"))
}

/// How long `Retry-After` asks to wait: delay-seconds or an HTTP date
/// (a date already past is no wait).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at: SystemTime = chrono::DateTime::parse_from_rfc2822(value).ok()?.into();
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
