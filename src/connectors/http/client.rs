//! One GET of a page: the manifest's auth applied, the answer's status
//! mapped to the connector's typed errors (429 RATE_LIMITED with its
//! Retry-After, 401/403 AUTH_ERROR, 5xx and dropped connections transient).
//! Messages name the status and the URL path only: a query may carry a key.
//! Retries, rate limits and the refresh-token grant are the engine's, next.

use std::time::{Duration, SystemTime};

use reqwest::{
    StatusCode,
    header::{self, HeaderMap},
};
use serde_json::Value;
use tokio::sync::Mutex;

use super::{
    manifest::{Auth, KeyLocation},
    paginate::Request,
};
use crate::connectors::ConnectorError;

/// A response as the paginator and record selector need it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

pub struct Client {
    http: reqwest::Client,
    auth: Option<Auth>,
    headers: HeaderMap,
    /// An OAuth2 access token and when it stops being good.
    token: Mutex<Option<(String, SystemTime)>>,
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
            let name = header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| ConnectorError::Config(format!("header {k} is not a header name")))?;
            let value = header::HeaderValue::from_str(v).map_err(|_| {
                ConnectorError::Config(format!("header {k} has a value HTTP cannot carry"))
            })?;
            map.insert(name, value);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|_| ConnectorError::Failed("could not set up the HTTP client".into()))?;
        Ok(Self {
            http,
            auth,
            headers: map,
            token: Mutex::new(None),
        })
    }

    /// GETs `request` and parses its JSON body.
    pub async fn get(&self, request: &Request) -> Result<Page, ConnectorError> {
        let mut url = request.full_url();
        let what = format!("GET {}", url.path());
        let mut builder = self.http.get(url.clone()).headers(self.headers.clone());
        match &self.auth {
            None => {}
            Some(Auth::ApiKey {
                name,
                location: KeyLocation::Query,
                value,
            }) => {
                url.query_pairs_mut().append_pair(name, &value.0);
                builder = self.http.get(url).headers(self.headers.clone());
            }
            Some(Auth::ApiKey {
                name,
                location: KeyLocation::Header,
                value,
            }) => {
                builder = builder.header(name.as_str(), value.0.as_str());
            }
            Some(Auth::Bearer { token }) => builder = builder.bearer_auth(&token.0),
            Some(Auth::Basic { username, password }) => {
                builder = builder.basic_auth(username, Some(&password.0))
            }
            Some(Auth::Oauth2ClientCredentials { .. }) => {
                builder = builder.bearer_auth(self.access_token().await?)
            }
            Some(Auth::Oauth2RefreshToken { .. }) => {
                return Err(ConnectorError::Unsupported(
                    "the OAuth2 refresh-token grant is not supported yet".into(),
                ));
            }
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
        })
    }

    /// A client-credentials access token, fetched once and reused until
    /// shortly before it expires.
    async fn access_token(&self) -> Result<String, ConnectorError> {
        let Some(Auth::Oauth2ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scopes,
        }) = &self.auth
        else {
            return Err(ConnectorError::Failed(
                "an access token was asked for without client-credentials auth".into(),
            ));
        };
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && SystemTime::now() < *until
        {
            return Ok(token.clone());
        }
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.0.as_str()),
        ];
        let scope = scopes.join(" ");
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let what = "the OAuth2 token request";
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
                "{what} was refused (HTTP {}): check client_id and client_secret",
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
        let lifetime = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
        let until = SystemTime::now() + lifetime.saturating_sub(TOKEN_MARGIN);
        *cached = Some((token.clone(), until));
        Ok(token)
    }
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
