//! An http_api manifest: how to read a REST API as data — the client
//! (base URL, default headers and query parameters, auth, paginator) and
//! its resources (path, parameters, record selector, primary key,
//! incremental cursor, parent). Names follow dlt's `rest_api` source where
//! they fit. `Manifest::parse` answers every problem as a field violation
//! below the connection's `config`.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

use super::json_path;

/// A violation of a manifest: its field path below `config` and why.
pub type Violation = (String, String);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub client: Client,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub base_url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Query parameters of every request.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: Option<Auth>,
    /// Every resource's paginator unless its endpoint names its own.
    #[serde(default)]
    pub paginator: Option<Paginator>,
    /// Timeouts and how failed requests are tried again.
    #[serde(default)]
    pub retry: Retry,
}

/// How requests are timed out and tried again (all optional).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retry {
    /// Tries of a request that fails transiently (5xx, 408, a dropped
    /// connection) before the read fails.
    pub max_attempts: u32,
    /// The first wait between tries; it doubles, jittered, up to
    /// `max_backoff_seconds`.
    pub backoff_seconds: f64,
    pub max_backoff_seconds: f64,
    /// How long one read may spend waiting on 429s (Retry-After or
    /// backoff) before it ends RATE_LIMITED.
    pub rate_limit_budget_seconds: f64,
    /// One request's time limit.
    pub timeout_seconds: f64,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff_seconds: 1.0,
            max_backoff_seconds: 60.0,
            rate_limit_budget_seconds: 600.0,
            timeout_seconds: 60.0,
        }
    }
}

/// Text that must never be shown: Debug prints a mask.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyLocation {
    #[default]
    Header,
    Query,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// An API key in a header or a query parameter called `name`.
    ApiKey {
        name: String,
        #[serde(default)]
        location: KeyLocation,
        #[serde(alias = "api_key")]
        value: Secret,
    },
    Bearer {
        token: Secret,
    },
    #[serde(alias = "http_basic")]
    Basic {
        username: String,
        password: Secret,
    },
    Oauth2ClientCredentials {
        #[serde(alias = "access_token_url")]
        token_url: String,
        client_id: String,
        client_secret: Secret,
        #[serde(default)]
        scopes: Vec<String>,
        /// Where the access token goes (default `Authorization`).
        #[serde(default = "default_token_header")]
        header: String,
        /// Text before the token in that header (default `Bearer `).
        #[serde(default = "default_token_prefix")]
        prefix: String,
    },
    /// A refresh-token grant; a rotated refresh token is written back to
    /// the connection's credentials by the engine.
    Oauth2RefreshToken {
        #[serde(alias = "access_token_url")]
        token_url: String,
        client_id: String,
        #[serde(default)]
        client_secret: Option<Secret>,
        refresh_token: Secret,
        #[serde(default)]
        scopes: Vec<String>,
        /// Where the access token goes (default `Authorization`).
        #[serde(default = "default_token_header")]
        header: String,
        /// Text before the token in that header (default `Bearer `).
        #[serde(default = "default_token_prefix")]
        prefix: String,
    },
    /// OAuth 1.0a with HMAC-SHA256 signatures (NetSuite's token-based
    /// auth): every request signed on its own.
    Oauth1HmacSha256 {
        #[serde(default)]
        realm: String,
        consumer_key: Secret,
        consumer_secret: Secret,
        token_id: Secret,
        token_secret: Secret,
    },
}

// An OAuth2 access token goes in `Authorization: Bearer <token>` by
// default; Amazon SP-API wants it bare in `x-amz-access-token`.
fn default_token_header() -> String {
    "Authorization".into()
}
fn default_token_prefix() -> String {
    "Bearer ".into()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paginator {
    /// `page_param` counts up from `base_page`; stops after an empty page,
    /// at the page count under `total_path`, or after `maximum_page`.
    PageNumber {
        #[serde(default = "default_page_param")]
        page_param: String,
        #[serde(default)]
        base_page: u64,
        #[serde(default)]
        total_path: Option<String>,
        #[serde(default)]
        maximum_page: Option<u64>,
        #[serde(default = "yes")]
        stop_after_empty_page: bool,
    },
    /// `offset_param` grows by `limit`; stops after an empty page, at the
    /// record count under `total_path`, or past `maximum_offset`.
    Offset {
        limit: u64,
        #[serde(default)]
        offset: u64,
        #[serde(default = "default_offset_param")]
        offset_param: String,
        #[serde(default = "default_limit_param")]
        limit_param: String,
        #[serde(default)]
        total_path: Option<String>,
        #[serde(default)]
        maximum_offset: Option<u64>,
        #[serde(default = "yes")]
        stop_after_empty_page: bool,
    },
    /// The token under `cursor_path` goes in `cursor_param`; stops when it
    /// is missing or empty.
    Cursor {
        #[serde(default = "default_cursor_path")]
        cursor_path: String,
        #[serde(default = "default_cursor_param")]
        cursor_param: String,
        /// Dot path in the POST body that carries the token instead of
        /// the query parameter (MLflow's `page_token`).
        #[serde(default)]
        cursor_body_path: Option<String>,
    },
    /// RFC 8288 `Link: <url>; rel="next"`.
    HeaderLink {
        #[serde(default = "default_links_next_key")]
        links_next_key: String,
    },
    /// A token in a response header goes back in a request header (Redo's
    /// `X-Page-Next` → `X-Page-Continue`); stops when it is absent.
    HeaderCursor {
        response_header: String,
        request_header: String,
    },
    /// The next page's URL under `next_url_path` in the body.
    JsonLink {
        #[serde(default = "default_next_url_path")]
        next_url_path: String,
    },
    /// One request per resource.
    #[serde(alias = "single_page")]
    None,
}

fn yes() -> bool {
    true
}
fn default_page_param() -> String {
    "page".into()
}
fn default_offset_param() -> String {
    "offset".into()
}
fn default_limit_param() -> String {
    "limit".into()
}
fn default_cursor_path() -> String {
    "cursors.next".into()
}
fn default_cursor_param() -> String {
    "after".into()
}
fn default_links_next_key() -> String {
    "next".into()
}
fn default_next_url_path() -> String {
    "next".into()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Entity key; becomes the table name.
    pub name: String,
    pub endpoint: Endpoint,
    #[serde(default)]
    pub primary_key: Vec<String>,
    #[serde(default)]
    pub incremental: Option<Incremental>,
    /// The resource whose records fill this one's path placeholder.
    #[serde(default)]
    pub parent: Option<Parent>,
    /// Columns taken from nested values: column name → dot path in the
    /// record (`{"run_id": "info.run_id"}`), e.g. to key on.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Appended to base_url; `{name}` placeholders are filled from config
    /// or from the parent's record.
    pub path: String,
    #[serde(default)]
    pub method: Method,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The JSON body of a POST (its strings are templates).
    #[serde(default)]
    pub json: Option<Value>,
    /// Dot path of the records in the body; the body itself when absent.
    #[serde(default)]
    pub data_selector: Option<String>,
    #[serde(default)]
    pub paginator: Option<Paginator>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    #[default]
    Get,
    Post,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incremental {
    /// Dot path of the cursor value in a record.
    pub cursor_path: String,
    /// Query parameter that carries the last cursor (lower bound); or a
    /// param or body template names `{incremental.start_value}`.
    #[serde(default)]
    pub start_param: Option<String>,
    /// Lower bound of the first read.
    #[serde(default)]
    pub initial_value: Option<String>,
    /// Query parameter of a window's upper bound, if the API takes one.
    #[serde(default)]
    pub end_param: Option<String>,
    /// How a bound is sent when it is a date or time: a strftime pattern,
    /// `unix` (seconds) or `unix_ms`, in the connection's timezone. Absent:
    /// the connection's date_format, else as the records carry it.
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    pub resource: String,
    /// Dot path of the value in the parent's record.
    pub field: String,
    /// The path placeholder it fills; `field` when absent.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// Parent fields copied into each child record as `_<parent>_<field>`.
    #[serde(default)]
    pub include_from_parent: Vec<String>,
}

impl Parent {
    pub fn placeholder(&self) -> &str {
        self.placeholder.as_deref().unwrap_or(&self.field)
    }
}

impl Endpoint {
    /// The `{placeholders}` of the path, in order.
    pub fn placeholders(&self) -> Result<Vec<&str>, String> {
        placeholders(&self.path)
    }
}

impl Resource {
    /// The endpoint's own paginator, else the client's, else none.
    pub fn paginator<'a>(&'a self, client: &'a Client) -> &'a Paginator {
        self.endpoint
            .paginator
            .as_ref()
            .or(client.paginator.as_ref())
            .unwrap_or(&Paginator::None)
    }
}

impl Manifest {
    /// The manifest in `config`, or every violation found in it.
    pub fn parse(config: &Value) -> Result<Self, Vec<Violation>> {
        match Manifest::deserialize(config) {
            Ok(m) => {
                let v = m.violations();
                if v.is_empty() { Ok(m) } else { Err(v) }
            }
            Err(_) => Err(locate(config)),
        }
    }

    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// What a manifest that deserialized still gets wrong.
    fn violations(&self) -> Vec<Violation> {
        let mut v = Vec::new();
        let c = &self.client;
        if !(c.base_url.starts_with("http://") || c.base_url.starts_with("https://"))
            || (reqwest::Url::parse(&c.base_url).is_err() && !c.base_url.contains('{'))
        {
            v.push((
                "client.base_url".into(),
                "must be an http:// or https:// URL".into(),
            ));
        }
        for name in c.headers.keys() {
            if !is_header_name(name) {
                v.push((
                    format!("client.headers.{name}"),
                    "is not a valid HTTP header name".into(),
                ));
            }
        }
        if let Some(a) = &c.auth {
            check_auth(a, &mut v);
        }
        let r = &c.retry;
        for (field, value) in [
            ("backoff_seconds", r.backoff_seconds),
            ("max_backoff_seconds", r.max_backoff_seconds),
            ("rate_limit_budget_seconds", r.rate_limit_budget_seconds),
        ] {
            if !(0.0..=86_400.0).contains(&value) {
                v.push((
                    format!("client.retry.{field}"),
                    "must be between 0 and 86400".into(),
                ));
            }
        }
        if !(0.1..=3600.0).contains(&r.timeout_seconds) {
            v.push((
                "client.retry.timeout_seconds".into(),
                "must be between 0.1 and 3600".into(),
            ));
        }
        if !(1..=100).contains(&r.max_attempts) {
            v.push((
                "client.retry.max_attempts".into(),
                "must be between 1 and 100".into(),
            ));
        }
        if let Some(p) = &c.paginator {
            check_paginator(p, "client.paginator", &mut v);
        }
        if self.resources.is_empty() {
            v.push(("resources".into(), "must name at least one resource".into()));
        }
        let mut seen = BTreeMap::new();
        for (i, r) in self.resources.iter().enumerate() {
            let at = format!("resources.{i}");
            if !is_entity_name(&r.name) {
                v.push((format!("{at}.name"), "must match ^[a-z][a-z0-9_]*$".into()));
            } else if seen.insert(r.name.as_str(), i).is_some() {
                v.push((format!("{at}.name"), format!("`{}` is named twice", r.name)));
            }
            self.check_resource(r, &at, &mut v);
        }
        v
    }

    fn check_resource(&self, r: &Resource, at: &str, v: &mut Vec<Violation>) {
        let e = &r.endpoint;
        let placeholders = match e.placeholders() {
            Ok(p) => p,
            Err(why) => {
                v.push((format!("{at}.endpoint.path"), why));
                Vec::new()
            }
        };
        let parent = r.parent.as_ref().map(Parent::placeholder);
        for name in &placeholders {
            if !(Some(*name) == parent || super::template::is_path_reference(name)) {
                v.push((
                    format!("{at}.endpoint.path"),
                    format!(
                        "{{{name}}} is neither the parent's placeholder nor a config., variables. or incremental. reference"
                    ),
                ));
            }
        }
        if e.json.is_some() && e.method == Method::Get {
            v.push((
                format!("{at}.endpoint.json"),
                "a body needs method POST".into(),
            ));
        }
        if e.path.trim().is_empty() {
            v.push((format!("{at}.endpoint.path"), "must not be empty".into()));
        }
        if let Some(s) = &e.data_selector {
            path_ok(s, &format!("{at}.endpoint.data_selector"), v);
        }
        if let Some(p) = &e.paginator {
            check_paginator(p, &format!("{at}.endpoint.paginator"), v);
        }
        for (column, path) in &r.fields {
            if column.is_empty() {
                v.push((
                    format!("{at}.fields"),
                    "a column name must not be empty".into(),
                ));
            }
            path_ok(path, &format!("{at}.fields.{column}"), v);
        }
        for (i, k) in r.primary_key.iter().enumerate() {
            if k.is_empty() {
                v.push((format!("{at}.primary_key.{i}"), "must not be empty".into()));
            }
        }
        if let Some(inc) = &r.incremental {
            path_ok(
                &inc.cursor_path,
                &format!("{at}.incremental.cursor_path"),
                v,
            );
            if inc.cursor_path.is_empty() || inc.cursor_path == "$" {
                v.push((
                    format!("{at}.incremental.cursor_path"),
                    "must name a field of the record".into(),
                ));
            }
            if inc.start_param.as_deref() == Some("") {
                v.push((
                    format!("{at}.incremental.start_param"),
                    "must not be empty when given".into(),
                ));
            }
            if inc.end_param.as_deref() == Some("") {
                v.push((
                    format!("{at}.incremental.end_param"),
                    "must not be empty when given".into(),
                ));
            }
        }
        if let Some(p) = &r.parent {
            let pat = format!("{at}.parent");
            if p.resource == r.name {
                v.push((
                    format!("{pat}.resource"),
                    "cannot be the resource itself".into(),
                ));
            } else if self.resource(&p.resource).is_none() {
                v.push((
                    format!("{pat}.resource"),
                    format!("no resource is named `{}`", p.resource),
                ));
            } else if self.has_cycle(r) {
                v.push((format!("{pat}.resource"), "parents form a cycle".into()));
            }
            path_ok(&p.field, &format!("{pat}.field"), v);
            for (i, f) in p.include_from_parent.iter().enumerate() {
                path_ok(f, &format!("{pat}.include_from_parent.{i}"), v);
            }
            let named = |text: &str| super::template::mentions(text, p.placeholder());
            let in_body = e.json.as_ref().is_some_and(|b| mentions_in(b, &named));
            if !placeholders.contains(&p.placeholder())
                && !e.params.values().any(|v| named(v))
                && !in_body
            {
                v.push((
                    format!("{pat}.placeholder"),
                    format!(
                        "neither endpoint.path, nor its params, nor its json has {{{}}} to fill",
                        p.placeholder()
                    ),
                ));
            }
        }
    }

    /// Whether following parents from `r` comes back to a resource seen.
    fn has_cycle(&self, r: &Resource) -> bool {
        let mut seen = vec![r.name.as_str()];
        let mut at = r;
        while let Some(p) = &at.parent {
            if seen.contains(&p.resource.as_str()) {
                return true;
            }
            seen.push(&p.resource);
            match self.resource(&p.resource) {
                Some(next) => at = next,
                None => return false,
            }
        }
        false
    }
}

/// Whether any string in `value` satisfies `named`.
fn mentions_in(value: &Value, named: &impl Fn(&str) -> bool) -> bool {
    match value {
        Value::String(s) => named(s),
        Value::Array(items) => items.iter().any(|v| mentions_in(v, named)),
        Value::Object(map) => map.values().any(|v| mentions_in(v, named)),
        _ => false,
    }
}

/// The `{name}` placeholders of `path`, or why its braces do not pair.
pub fn placeholders(path: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has a `}` without its `{`".into());
        }
        let after = &rest[open + 1..];
        let close = after
            .find(['{', '}'])
            .filter(|&c| after[c..].starts_with('}'))
            .ok_or("has a `{` without its `}`")?;
        let name = &after[..close];
        if name.is_empty() {
            return Err("has an empty placeholder {}".into());
        }
        out.push(name);
        rest = &after[close + 1..];
    }
    Ok(out)
}

fn check_auth(a: &Auth, v: &mut Vec<Violation>) {
    let at = "client.auth";
    match a {
        Auth::ApiKey { name, location, .. } => {
            if name.is_empty() || (*location == KeyLocation::Header && !is_header_name(name)) {
                v.push((
                    format!("{at}.name"),
                    "must be a header name (location header) or a non-empty parameter name".into(),
                ));
            }
        }
        Auth::Bearer { .. } | Auth::Basic { .. } | Auth::Oauth1HmacSha256 { .. } => {}
        Auth::Oauth2ClientCredentials {
            token_url,
            client_id,
            header,
            ..
        }
        | Auth::Oauth2RefreshToken {
            token_url,
            client_id,
            header,
            ..
        } => {
            if !is_header_name(header) {
                v.push((format!("{at}.header"), "is not a header name".into()));
            }
            if !token_url.contains('{')
                && reqwest::Url::parse(token_url)
                    .map(|u| !matches!(u.scheme(), "http" | "https"))
                    .unwrap_or(true)
            {
                v.push((
                    format!("{at}.token_url"),
                    "must be an http:// or https:// URL".into(),
                ));
            }
            if client_id.is_empty() {
                v.push((format!("{at}.client_id"), "must not be empty".into()));
            }
        }
    }
}

fn check_paginator(p: &Paginator, at: &str, v: &mut Vec<Violation>) {
    let mut param = |name: &str, field: &str| {
        if name.is_empty() {
            v.push((format!("{at}.{field}"), "must not be empty".into()));
        }
    };
    match p {
        Paginator::PageNumber { page_param, .. } => param(page_param, "page_param"),
        Paginator::Offset {
            offset_param,
            limit_param,
            ..
        } => {
            param(offset_param, "offset_param");
            param(limit_param, "limit_param");
        }
        Paginator::Cursor { cursor_param, .. } => param(cursor_param, "cursor_param"),
        Paginator::HeaderLink { links_next_key } => param(links_next_key, "links_next_key"),
        Paginator::HeaderCursor {
            response_header,
            request_header,
        } => {
            for (name, field) in [
                (response_header, "response_header"),
                (request_header, "request_header"),
            ] {
                if !is_header_name(name) {
                    v.push((format!("{at}.{field}"), "must be a header name".into()));
                }
            }
        }
        Paginator::JsonLink { .. } | Paginator::None => {}
    }
    match p {
        Paginator::PageNumber {
            total_path,
            maximum_page,
            stop_after_empty_page,
            ..
        } => {
            if let Some(t) = total_path {
                path_ok(t, &format!("{at}.total_path"), v);
            }
            if total_path.is_none() && maximum_page.is_none() && !stop_after_empty_page {
                v.push((
                    format!("{at}.stop_after_empty_page"),
                    "without total_path or maximum_page the paginator would never stop".into(),
                ));
            }
        }
        Paginator::Offset {
            limit,
            total_path,
            maximum_offset,
            stop_after_empty_page,
            ..
        } => {
            if *limit == 0 {
                v.push((format!("{at}.limit"), "must be at least 1".into()));
            }
            if let Some(t) = total_path {
                path_ok(t, &format!("{at}.total_path"), v);
            }
            if total_path.is_none() && maximum_offset.is_none() && !stop_after_empty_page {
                v.push((
                    format!("{at}.stop_after_empty_page"),
                    "without total_path or maximum_offset the paginator would never stop".into(),
                ));
            }
        }
        Paginator::Cursor {
            cursor_path,
            cursor_body_path,
            ..
        } => {
            path_ok(cursor_path, &format!("{at}.cursor_path"), v);
            if let Some(b) = cursor_body_path {
                path_ok(b, &format!("{at}.cursor_body_path"), v);
            }
        }
        Paginator::JsonLink { next_url_path } => {
            path_ok(next_url_path, &format!("{at}.next_url_path"), v)
        }
        Paginator::HeaderLink { .. } | Paginator::HeaderCursor { .. } | Paginator::None => {}
    }
}

fn path_ok(path: &str, at: &str, v: &mut Vec<Violation>) {
    if let Err(why) = json_path::check(path) {
        v.push((at.into(), why));
    }
}

fn is_entity_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_header_name(s: &str) -> bool {
    reqwest::header::HeaderName::from_bytes(s.as_bytes()).is_ok()
}

/// Where a manifest that does not deserialize goes wrong: each nested
/// part is tried on its own, innermost first, so the violation names the
/// deepest part at fault.
fn locate(config: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(top) = config.as_object() else {
        return vec![(
            String::new(),
            "must be an object (client, resources)".into(),
        )];
    };
    let mut ok = true;
    if let Some(c) = top.get("client") {
        let auth = c
            .get("auth")
            .is_none_or(|a| part::<Auth>(a, "client.auth", &mut out));
        let pag = c
            .get("paginator")
            .is_none_or(|p| part::<Paginator>(p, "client.paginator", &mut out));
        ok &= auth && pag && part::<Client>(c, "client", &mut out);
    }
    match top.get("resources") {
        Some(Value::Array(rs)) => {
            for (i, r) in rs.iter().enumerate() {
                let at = format!("resources.{i}");
                let mut inner = true;
                if let Some(e) = r.get("endpoint") {
                    let pag = e.get("paginator").is_none_or(|p| {
                        part::<Paginator>(p, &format!("{at}.endpoint.paginator"), &mut out)
                    });
                    inner &= pag && part::<Endpoint>(e, &format!("{at}.endpoint"), &mut out);
                }
                if let Some(inc) = r.get("incremental").filter(|v| !v.is_null()) {
                    inner &= part::<Incremental>(inc, &format!("{at}.incremental"), &mut out);
                }
                if let Some(p) = r.get("parent").filter(|v| !v.is_null()) {
                    inner &= part::<Parent>(p, &format!("{at}.parent"), &mut out);
                }
                ok &= inner && part::<Resource>(r, &at, &mut out);
            }
        }
        Some(_) => {
            ok = false;
            out.push(("resources".into(), "must be an array of resources".into()));
        }
        None => {}
    }
    if ok {
        part::<Manifest>(config, "", &mut out);
    }
    out
}

/// Whether `value` deserializes as a `T`; if not, the violation at `at`.
fn part<T: DeserializeOwned>(value: &Value, at: &str, out: &mut Vec<Violation>) -> bool {
    match T::deserialize(value) {
        Ok(_) => true,
        Err(e) => {
            out.push(violation(at, &e.to_string()));
            false
        }
    }
}

/// serde's message as a violation: a named missing or unknown field moves
/// into the path, and a wrong value is never quoted back (it may be a
/// secret).
fn violation(at: &str, message: &str) -> Violation {
    let join = |field: &str| {
        if at.is_empty() {
            field.to_string()
        } else {
            format!("{at}.{field}")
        }
    };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(f) = named("missing field `") {
        return (join(&f), "is required".into());
    }
    if let Some(f) = named("unknown field `") {
        let expected = message
            .split_once(", expected ")
            .map(|(_, e)| e)
            .unwrap_or("");
        return (
            join(&f),
            format!("is not a known field (expected {expected})"),
        );
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let expected = message
            .split_once(", expected ")
            .map(|(_, e)| e)
            .unwrap_or("another value");
        return (at.into(), format!("must be {expected}"));
    }
    if let Some(f) = named("unknown variant `") {
        let expected = message
            .split_once(", expected ")
            .map(|(_, e)| e)
            .unwrap_or("");
        return (
            join("type"),
            format!("`{f}` is not a known type (expected {expected})"),
        );
    }
    (at.into(), message.into())
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;

/// The catalog resources a connection's own manifest (an http_api
/// connection's config) offers, with the defaults a sync binds them by:
/// UPSERT on the primary key by the incremental cursor, APPEND_EVENT by
/// the cursor without a key, REPLACE without a cursor. A manifest that
/// does not parse offers none (its connection was refused already).
pub fn catalog_resources(config: &Value) -> Vec<crate::domain::catalog::ResourceSpec> {
    let Ok(m) = Manifest::parse(config) else {
        return Vec::new();
    };
    m.resources
        .iter()
        .map(|r| {
            // Only a top-level field is a column to resume by.
            let cursor = r
                .incremental
                .as_ref()
                .map(|i| i.cursor_path.clone())
                .filter(|c| !c.contains('.'))
                .unwrap_or_default();
            let load_mode = match (cursor.is_empty(), r.primary_key.is_empty()) {
                (false, false) => "upsert",
                (false, true) => "append_event",
                (true, _) => "replace",
            };
            crate::domain::catalog::ResourceSpec {
                entity_key: r.name.clone(),
                display_name: r.name.clone(),
                description: format!("{} {}", r.endpoint.method.as_str(), r.endpoint.path),
                cursor_field: cursor,
                primary_key: r.primary_key.clone(),
                default_selected: true,
                depends_on: Vec::new(),
                load_mode: load_mode.into(),
                size_class: String::new(),
                slicing: Value::Null,
                storage_kind: "table".into(),
                storage_description: String::new(),
                config_schema: Value::Null,
            }
        })
        .collect()
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}
