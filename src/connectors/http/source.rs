//! The HTTP source: a manifest's resources read page by page into Arrow
//! batches, politely (the connection's shared rate limit) and resiliently
//! (jittered retries, Retry-After honoured within a budget). Used by the
//! `http_api` provider (its config is the manifest) and by every SaaS
//! provider whose catalog file carries one.

use std::{cmp::Ordering, collections::HashSet, sync::Arc, time::Duration};

use arrow_schema::{Schema, SchemaRef};
use rand::Rng;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{
    bounds::BoundFormat,
    client::{Client, Page, Rotation},
    endpoint, json_path,
    limiter::{self, Limiter},
    manifest::{Auth, Manifest, Resource, Retry},
    paginate::{self, Request, Response},
    records,
    template::{self, Values},
};
use crate::{
    connectors::{Batch, BatchStream, ConnectorError, ReadRequest, Settings, Source},
    domain::lookback::{self, Lookback},
};

pub struct HttpSource {
    inner: Arc<Inner>,
}

struct Inner {
    manifest: Manifest,
    /// config.*, variables.* (credentials only went into the manifest).
    values: Values,
    client: Client,
    limiter: Option<Arc<Limiter>>,
    /// Seed 004's date_format and timezone, for date bounds.
    date_format: Option<String>,
    timezone: Option<String>,
}

/// Where a child's requests come from: one parent record.
#[derive(Clone, Default)]
struct ParentRecord {
    placeholder: Option<(String, String)>,
    /// `_<parent>_<field>` columns for the child's records.
    columns: Vec<(String, Value)>,
}

/// The cursor bounds of one read.
#[derive(Clone, Default)]
struct Bounds {
    lower: Option<String>,
    upper: Option<String>,
}

impl HttpSource {
    /// A source for `manifest` (the connection's own config for http_api,
    /// a provider's built-in one otherwise). `defaults` fill config keys
    /// the connection leaves out; a SaaS provider's config `base_url`
    /// replaces the manifest's.
    pub fn open(
        s: &Settings<'_>,
        manifest: &Value,
        defaults: &Value,
        base_url_override: bool,
    ) -> Result<Self, ConnectorError> {
        let mut config = defaults.as_object().cloned().unwrap_or_default();
        config.extend(s.config.clone());
        let mut values = Values::default();
        values.set_all("config", &config);
        if let Some(ctx) = s.context {
            for v in &ctx.settings.variables {
                values.set(format!("variables.{}", v.key), v.value.clone());
            }
        }
        let mut opening = values.clone();
        for (k, v) in s.credentials {
            opening.set(format!("credentials.{k}"), v.clone());
        }
        let mut raw = manifest.clone();
        if base_url_override
            && let Some(url) = config.get("base_url").and_then(Value::as_str)
            && !url.is_empty()
            && let Some(client) = raw.get_mut("client").and_then(Value::as_object_mut)
        {
            client.insert("base_url".into(), Value::String(url.into()));
        }
        let rotated_key = refresh_token_key(&raw);
        let rendered = template::render_tree(&raw, &opening, template::OPEN, &["path"]);
        let manifest = Manifest::parse(&rendered).map_err(|v| {
            let list: Vec<String> = v.iter().map(|(at, why)| format!("{at}: {why}")).collect();
            ConnectorError::Config(format!("the manifest is not valid: {}", list.join("; ")))
        })?;
        if reqwest::Url::parse(&manifest.client.base_url).is_err() {
            return Err(ConnectorError::Config(
                "client.base_url is not a URL once its references are filled: is every config value it names set?".into(),
            ));
        }
        let retry = manifest.client.retry;
        let mut client = Client::new(
            manifest.client.auth.clone(),
            &manifest.client.headers,
            Duration::from_secs_f64(retry.timeout_seconds),
        )?;
        let ctx = s.context;
        if let (Some(key), Some(store)) =
            (rotated_key, ctx.and_then(|c| c.credential_store.clone()))
        {
            client = client.with_rotation(Rotation { key, store });
        }
        let limiter = ctx.and_then(|c| {
            limiter::quota(&c.settings).map(|q| limiter::shared(&c.connection_id, q))
        });
        Ok(Self {
            inner: Arc::new(Inner {
                manifest,
                values,
                client,
                limiter,
                date_format: ctx.and_then(|c| c.settings.date_format.clone()),
                timezone: ctx.and_then(|c| c.settings.timezone.clone()),
            }),
        })
    }
}

/// The credential a refresh-token manifest takes its refresh token from
/// (`"refresh_token": "{credentials.KEY}"`): a rotated one goes back there.
fn refresh_token_key(raw: &Value) -> Option<String> {
    let auth = raw.get("client")?.get("auth")?;
    if auth.get("type")?.as_str()? != "oauth2_refresh_token" {
        return None;
    }
    let text = auth.get("refresh_token")?.as_str()?;
    let key = text.strip_prefix("{credentials.")?.strip_suffix('}')?;
    (!key.is_empty() && !key.contains(['{', '}'])).then(|| key.to_string())
}

#[async_trait::async_trait]
impl Source for HttpSource {
    /// One page of the first resource that needs no parent.
    async fn check(&self) -> Result<(), ConnectorError> {
        let inner = &self.inner;
        let resource = inner
            .manifest
            .resources
            .iter()
            .find(|r| r.parent.is_none())
            .ok_or_else(|| ConnectorError::Config("every resource has a parent".into()))?;
        let bounds = inner.bounds(resource, None, None, None)?;
        let request = inner.first_request(resource, &bounds, &ParentRecord::default())?;
        let mut spent = Duration::ZERO;
        inner.fetch(&request, &mut spent).await.map(|_| ())
    }

    /// Not known before the data: the records of the read decide it, and
    /// later pages may widen it.
    async fn entity_schema(&self, entity_key: &str) -> Result<SchemaRef, ConnectorError> {
        self.inner.resource(entity_key)?;
        Ok(Arc::new(Schema::empty()))
    }

    async fn read(&self, req: ReadRequest) -> Result<BatchStream, ConnectorError> {
        let inner = self.inner.clone();
        let resource = inner.resource(&req.entity_key)?.clone();
        let incremental = req.cursor_field.is_some() && resource.incremental.is_some();
        let bounds = inner.bounds(
            &resource,
            incremental.then(|| req.after.clone()).flatten(),
            incremental.then(|| req.up_to.clone()).flatten(),
            req.lookback.filter(|_| incremental),
        )?;
        let (tx, rx) = mpsc::channel(2);
        tokio::spawn(async move {
            let mut out = Batcher::new(tx.clone(), req.batch_size.max(1), bounds.lower.clone());
            let work = async {
                inner
                    .read_resource(&resource, &bounds, &mut Sink::Batches(&mut out))
                    .await?;
                out.finish().await
            };
            tokio::select! {
                // The run stopped reading (cancelled, failed elsewhere).
                _ = tx.closed() => {}
                r = work => if let Err(e) = r {
                    let _ = tx.send(Err(e)).await;
                },
            }
        });
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })))
    }
}

impl Inner {
    fn resource(&self, entity: &str) -> Result<&Resource, ConnectorError> {
        self.manifest.resource(entity).ok_or_else(|| {
            ConnectorError::Config(format!("{entity} is not a resource of this connection"))
        })
    }

    /// The read's bounds: after the committed cursor (less a lookback),
    /// else from the manifest's initial value.
    fn bounds(
        &self,
        resource: &Resource,
        after: Option<String>,
        up_to: Option<String>,
        lookback: Option<Lookback>,
    ) -> Result<Bounds, ConnectorError> {
        let Some(inc) = &resource.incremental else {
            return Ok(Bounds::default());
        };
        let lower = match (after, lookback) {
            (Some(a), Some(Lookback::Duration { seconds })) => {
                Some(lookback::earlier_iso_text(&a, seconds).ok_or_else(|| {
                    ConnectorError::Config(format!(
                        "a lookback of {} needs an ISO-8601 cursor, and {a} is not one",
                        Lookback::Duration { seconds }
                    ))
                })?)
            }
            (Some(a), Some(Lookback::Units(n))) => Some(
                a.parse::<i64>()
                    .map(|v| {
                        v.saturating_sub(i64::try_from(n).unwrap_or(i64::MAX))
                            .to_string()
                    })
                    .map_err(|_| {
                        ConnectorError::Config(format!(
                            "a lookback in cursor units needs an integer cursor, and {a} is not one"
                        ))
                    })?,
            ),
            (Some(a), None) => Some(a),
            (None, _) => inc
                .initial_value
                .as_deref()
                .map(|v| template::render(v, &self.values, template::OPEN))
                .filter(|v| !v.is_empty()),
        };
        Ok(Bounds {
            lower,
            upper: up_to,
        })
    }

    /// The first page's request of `resource` for one parent record.
    fn first_request(
        &self,
        resource: &Resource,
        bounds: &Bounds,
        parent: &ParentRecord,
    ) -> Result<Request, ConnectorError> {
        let mut values = self.values.clone();
        let format = BoundFormat::new(
            resource
                .incremental
                .as_ref()
                .and_then(|i| i.format.as_deref()),
            self.date_format.as_deref(),
            self.timezone.as_deref(),
        );
        let lower = bounds.lower.as_deref().map(|v| format.render(v));
        let upper = bounds.upper.as_deref().map(|v| format.render(v));
        if let Some(v) = &lower {
            values.set("incremental.start_value", v.clone());
        }
        if let Some(v) = &upper {
            values.set("incremental.end_value", v.clone());
        }
        if let Some((name, value)) = &parent.placeholder {
            values.set(name.clone(), value.clone());
        }
        let e = &resource.endpoint;
        let url = endpoint::url(&self.manifest.client.base_url, &e.path, values.as_map())
            .map_err(|why| ConnectorError::Config(format!("{}: {why}", resource.name)))?;
        let mut params = Vec::new();
        for (k, v) in self.manifest.client.params.iter().chain(&e.params) {
            let v = template::render(v, &values, template::REQUEST);
            // A parameter whose value renders empty is not sent.
            if !v.is_empty() {
                params.retain(|(name, _): &(String, String)| name != k);
                params.push((k.clone(), v));
            }
        }
        if let Some(inc) = &resource.incremental {
            for (param, bound) in [(&inc.start_param, &lower), (&inc.end_param, &upper)] {
                if let (Some(p), Some(b)) = (param, bound) {
                    params.retain(|(name, _)| name != p);
                    params.push((p.clone(), b.clone()));
                }
            }
        }
        let request = Request {
            method: e.method,
            url,
            params,
            headers: Vec::new(),
            body: e
                .json
                .as_ref()
                .map(|b| template::render_tree(b, &values, template::REQUEST, &[])),
        };
        Ok(paginate::first(
            resource.paginator(&self.manifest.client),
            request,
        ))
    }

    /// Every record of `resource` within `bounds` into `out`: once, or
    /// once per record of its parent.
    async fn read_resource(
        &self,
        resource: &Resource,
        bounds: &Bounds,
        out: &mut Sink<'_>,
    ) -> Result<(), ConnectorError> {
        let Some(p) = &resource.parent else {
            return self
                .read_pages(resource, bounds, &ParentRecord::default(), out)
                .await;
        };
        let parent = self.resource(&p.resource)?;
        // The parent's keys first (small), then each child in turn.
        let mut records = Vec::new();
        let bounds_of_parent = self.bounds(parent, None, None, None)?;
        Box::pin(self.read_resource(parent, &bounds_of_parent, &mut Sink::Records(&mut records)))
            .await?;
        for record in records {
            let Some(value) = json_path::select_text(&record, &p.field) else {
                continue;
            };
            let columns = p
                .include_from_parent
                .iter()
                .map(|f| {
                    (
                        format!("_{}_{}", p.resource, f.replace('.', "_")),
                        json_path::select(&record, f)
                            .cloned()
                            .unwrap_or(Value::Null),
                    )
                })
                .collect();
            let parent_record = ParentRecord {
                placeholder: Some((p.placeholder().to_string(), value)),
                columns,
            };
            self.read_pages(resource, bounds, &parent_record, out)
                .await?;
        }
        Ok(())
    }

    /// The pages of one request chain, their records into `out`.
    async fn read_pages(
        &self,
        resource: &Resource,
        bounds: &Bounds,
        parent: &ParentRecord,
        out: &mut Sink<'_>,
    ) -> Result<(), ConnectorError> {
        let paginator = resource.paginator(&self.manifest.client);
        let mut request = self.first_request(resource, bounds, parent)?;
        let mut sent = HashSet::new();
        let mut spent = Duration::ZERO;
        let cursor_path = resource
            .incremental
            .as_ref()
            .map(|i| i.cursor_path.as_str());
        loop {
            // A next link or cursor the API repeats would loop for ever.
            if !sent.insert(fingerprint(&request)) {
                return Err(ConnectorError::Failed(format!(
                    "{}: the API sent the same next page twice; stopping rather than reading it again",
                    resource.name
                )));
            }
            let page = self.fetch(&request, &mut spent).await?;
            let found = select_records(&page.body, resource.endpoint.data_selector.as_deref())
                .map_err(|why| ConnectorError::Failed(format!("{}: {why}", resource.name)))?;
            let count = found.len();
            out.add_bytes(page.bytes as u64);
            for mut record in found {
                if let Some(path) = cursor_path
                    && !within(&record, path, bounds, out)
                {
                    continue;
                }
                if let Value::Object(map) = &mut record {
                    for (name, value) in &parent.columns {
                        map.insert(name.clone(), value.clone());
                    }
                }
                for (column, path) in &resource.fields {
                    let value = json_path::select(&record, path)
                        .cloned()
                        .unwrap_or(Value::Null);
                    if let Value::Object(map) = &mut record {
                        map.insert(column.clone(), value);
                    }
                }
                out.push(record).await?;
            }
            let response = Response {
                status: page.status,
                headers: &page.headers,
                body: &page.body,
                records: count,
            };
            match paginate::next(paginator, &request, &response) {
                Ok(Some(next)) => request = next,
                Ok(None) => return Ok(()),
                Err(why) => {
                    return Err(ConnectorError::Failed(format!("{}: {why}", resource.name)));
                }
            }
        }
    }

    /// One page, within the connection's rate limit; transient failures
    /// tried again with jittered exponential backoff, 429s waited out as
    /// Retry-After says while the read's budget lasts.
    async fn fetch(&self, request: &Request, spent: &mut Duration) -> Result<Page, ConnectorError> {
        let retry = &self.manifest.client.retry;
        let budget = Duration::from_secs_f64(retry.rate_limit_budget_seconds);
        let mut failures = 0u32;
        let mut limited = 0u32;
        loop {
            if let Some(l) = &self.limiter {
                l.until_ready().await;
            }
            match self.client.send(request).await {
                Ok(page) => return Ok(page),
                Err(ConnectorError::RateLimited {
                    message,
                    retry_after,
                }) => {
                    limited += 1;
                    // A Retry-After of 0 still waits a little: never a busy loop.
                    let wait = retry_after
                        .unwrap_or_else(|| backoff(retry, limited))
                        .max(Duration::from_millis(50));
                    if *spent + wait > budget {
                        return Err(ConnectorError::RateLimitSpent(format!(
                            "{message}; this read already waited {:.1} s on rate limits, and its budget is {:.1} s",
                            spent.as_secs_f64(),
                            budget.as_secs_f64()
                        )));
                    }
                    *spent += wait;
                    tokio::time::sleep(wait).await;
                }
                Err(ConnectorError::Transient(message)) => {
                    failures += 1;
                    if failures >= retry.max_attempts {
                        // Tried enough here: the run does not try the read again.
                        return Err(ConnectorError::Failed(format!(
                            "{message} ({failures} tries)"
                        )));
                    }
                    tokio::time::sleep(backoff(retry, failures)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The wait before try `n + 1`: doubling from `backoff_seconds` up to
/// `max_backoff_seconds`, then jittered to between half and all of it, so
/// that runs refused together do not come back together.
fn backoff(retry: &Retry, n: u32) -> Duration {
    let full = (retry.backoff_seconds * 2f64.powi(n.saturating_sub(1).min(30) as i32))
        .min(retry.max_backoff_seconds);
    Duration::from_secs_f64(full * rand::thread_rng().gen_range(0.5..=1.0))
}

/// What identifies a request among a read's: URL, query, body, headers.
fn fingerprint(r: &Request) -> String {
    let body = r.body.as_ref().map(Value::to_string).unwrap_or_default();
    format!("{}\n{body}\n{:?}", r.full_url(), r.headers)
}

/// The records of a page: the list at `selector` (a single object is one
/// record, a missing or null one none); the body itself without one.
fn select_records(body: &Value, selector: Option<&str>) -> Result<Vec<Value>, String> {
    let found = match selector {
        Some(s) => json_path::select(body, s),
        None => Some(body),
    };
    Ok(match found {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        Some(_) => {
            return Err(format!(
                "the data selector `{}` finds neither records nor a record",
                selector.unwrap_or("$")
            ));
        }
    })
}

/// Whether `record`'s cursor lies within `bounds` (the API's own filter is
/// inclusive and may be coarse), noting the greatest seen. A record
/// without a cursor is kept.
fn within(record: &Value, path: &str, bounds: &Bounds, out: &mut Sink<'_>) -> bool {
    let Some(cursor) = json_path::select_text(record, path) else {
        return true;
    };
    if bounds
        .lower
        .as_deref()
        .is_some_and(|l| compare(&cursor, l) == Ordering::Less)
        || bounds
            .upper
            .as_deref()
            .is_some_and(|u| compare(&cursor, u) == Ordering::Greater)
    {
        return false;
    }
    out.saw_cursor(cursor);
    true
}

/// Cursor order: numbers as numbers, RFC 3339 times as instants (offsets
/// differ between records), anything else as text.
pub fn compare(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    if let (Some(x), Some(y)) = (super::bounds::instant(a), super::bounds::instant(b)) {
        return x.cmp(&y).then_with(|| a.cmp(b));
    }
    a.cmp(b)
}

/// Records gathered into batches of `size`, their schema inferred and
/// widened as they come. Each batch but the last carries the read's
/// starting cursor: pages need not be in cursor order, so only a read that
/// got to its end may move the committed cursor (to the greatest seen).
struct Batcher {
    tx: mpsc::Sender<Result<Batch, ConnectorError>>,
    size: usize,
    start: Option<String>,
    greatest: Option<String>,
    schema: Option<Schema>,
    records: Vec<Value>,
    bytes: u64,
    /// The batch sent next: one is held back, so the last can say so.
    held: Option<Batch>,
}

/// Where a read's records go: batches for the run, or a parent's records
/// gathered whole (the values its child's requests are made with).
enum Sink<'a> {
    Batches(&'a mut Batcher),
    Records(&'a mut Vec<Value>),
}

impl Sink<'_> {
    fn add_bytes(&mut self, n: u64) {
        if let Self::Batches(b) = self {
            b.bytes += n;
        }
    }

    fn saw_cursor(&mut self, cursor: String) {
        if let Self::Batches(b) = self {
            b.saw_cursor(cursor);
        }
    }

    async fn push(&mut self, record: Value) -> Result<(), ConnectorError> {
        match self {
            Self::Batches(b) => b.push(record).await,
            Self::Records(all) => {
                all.push(record);
                Ok(())
            }
        }
    }
}

impl Batcher {
    fn new(
        tx: mpsc::Sender<Result<Batch, ConnectorError>>,
        size: usize,
        start: Option<String>,
    ) -> Self {
        Self {
            tx,
            size,
            start,
            greatest: None,
            schema: None,
            records: Vec::new(),
            bytes: 0,
            held: None,
        }
    }

    fn saw_cursor(&mut self, cursor: String) {
        if self
            .greatest
            .as_deref()
            .is_none_or(|g| compare(&cursor, g) == Ordering::Greater)
        {
            self.greatest = Some(cursor);
        }
    }

    async fn push(&mut self, record: Value) -> Result<(), ConnectorError> {
        self.records.push(record);
        if self.records.len() >= self.size {
            self.flush().await?;
        }
        Ok(())
    }

    /// The gathered records as a batch; the one held before goes out.
    async fn flush(&mut self) -> Result<(), ConnectorError> {
        if self.records.is_empty() {
            return Ok(());
        }
        let schema = records::widen(
            self.schema.as_ref().unwrap_or(&Schema::empty()),
            &self.records,
        );
        let data = records::to_batch(Arc::new(schema.clone()), &self.records)
            .map_err(ConnectorError::Failed)?;
        self.schema = Some(schema);
        self.records.clear();
        let batch = Batch {
            data,
            cursor: self.start.clone(),
            bytes: std::mem::take(&mut self.bytes),
        };
        if let Some(before) = self.held.replace(batch) {
            self.send(before).await?;
        }
        Ok(())
    }

    /// The last batch, carrying the greatest cursor seen.
    async fn finish(&mut self) -> Result<(), ConnectorError> {
        self.flush().await?;
        if let Some(mut last) = self.held.take() {
            if let Some(g) = self.greatest.take()
                && self
                    .start
                    .as_deref()
                    .is_none_or(|s| compare(&g, s) == Ordering::Greater)
            {
                last.cursor = Some(g);
            }
            self.send(last).await?;
        }
        Ok(())
    }

    async fn send(&self, batch: Batch) -> Result<(), ConnectorError> {
        self.tx
            .send(Ok(batch))
            .await
            .map_err(|_| ConnectorError::Failed("the run stopped reading".into()))
    }
}

/// Whether a manifest authenticates with OAuth2 (what the catalog reports).
pub fn uses_oauth(manifest: &Value) -> bool {
    matches!(
        serde_json::from_value::<Auth>(
            manifest
                .get("client")
                .and_then(|c| c.get("auth"))
                .cloned()
                .unwrap_or(Value::Null)
        ),
        Ok(Auth::Oauth2RefreshToken { .. } | Auth::Oauth2ClientCredentials { .. })
    )
}
