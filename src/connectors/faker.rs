//! Faker: deterministic demo data (users, orders, events). Its output is a
//! pure function of its config, so tests compare a warehouse with it.
//!
//! The data model, per entity:
//! - rows `i = 0..row_count`, with `id = i + 1`;
//! - every value is a cheap hash (splitmix64) of (seed, entity, i, the
//!   revision that last touched the row), so any row is generated on its own;
//! - row `i` is created at `BASE + i` seconds; revision `r` (1..=revision)
//!   touches the rows with `i % 10 == (r - 1) % 10` at
//!   `BASE + row_count * r + i` seconds, and `updated_at` is the time of the
//!   last touch (else the creation time). All `updated_at` values differ.
//! - no value but a revised row's `updated_at` depends on `row_count`, so
//!   raising it only appends rows; `user_id` refers to a user created no
//!   later than the row (1..=id).
//!
//! In `updated_at` order the rows are therefore: the untouched rows in index
//! order, then for each revision the rows it touched last, in index order.
//! Each of those groups (a "segment") is a residue class (or a range of
//! residues) modulo 10, so positions, counts and bounds are all arithmetic.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use arrow_array::{
    ArrayRef, RecordBatch,
    builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder},
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde_json::{Map, Value};

use super::{Batch, BatchStream, ConnectorError, ReadRequest, Settings, Source, Window};
use crate::{batch, domain::failure::FailureKind};

/// 2026-01-01T00:00:00Z, in seconds since the Unix epoch.
const BASE_EPOCH: u64 = 1_767_225_600;
/// 9999-12-31T23:59:59Z: the last instant a fixed-width timestamp can show.
const MAX_EPOCH: u64 = 253_402_300_799;
/// The only cursor field the faker orders by.
const CURSOR_FIELD: &str = "updated_at";
/// Batches at least this large are generated on the blocking pool, so a big
/// batch does not stall the runtime's worker.
const BLOCKING_ROWS: u64 = 4096;

pub struct Faker {
    model: Model,
    rows_per_second: u64,
    failures: Option<Arc<Failures>>,
}

/// Failures this source was asked to make (config `failures`): the next
/// `left` reads, counted over this source's life (one run), fail after
/// `after_batches` batches.
#[derive(Debug)]
struct Failures {
    kind: FailureKind,
    after_batches: u64,
    left: AtomicU64,
}

impl Failures {
    fn from_config(config: &Map<String, Value>) -> Result<Option<Arc<Self>>, ConnectorError> {
        let Some(f) = config.get("failures").and_then(Value::as_object) else {
            return Ok(None);
        };
        let kind = match f.get("kind").and_then(Value::as_str) {
            Some("transient") => FailureKind::Transient,
            Some("rate_limited") => FailureKind::RateLimited {
                retry_after: f
                    .get("retry_after_ms")
                    .and_then(Value::as_u64)
                    .map(Duration::from_millis),
            },
            Some("auth") => FailureKind::Auth,
            Some("config") => FailureKind::Config,
            Some("failed") => FailureKind::Failed,
            other => {
                return Err(ConnectorError::Config(format!(
                    "failures.kind must be transient, rate_limited, auth, config or failed, got {other:?}"
                )));
            }
        };
        Ok(Some(Arc::new(Self {
            kind,
            after_batches: config_u64(f, "after_batches", 0)?,
            left: AtomicU64::new(config_u64(f, "times", 1)?),
        })))
    }

    /// The failure of this read, if it is one of the failing ones.
    fn take(&self) -> Option<ConnectorError> {
        self.left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .ok()?;
        let message = "faker: the failure its config asks for".to_string();
        Some(match self.kind {
            FailureKind::Transient => ConnectorError::Transient(message),
            FailureKind::RateLimited { retry_after } => ConnectorError::RateLimited {
                message,
                retry_after,
            },
            FailureKind::Auth => ConnectorError::Auth(message),
            FailureKind::Config => ConnectorError::Config(message),
            FailureKind::RateLimitSpent => ConnectorError::RateLimitSpent(message),
            FailureKind::Failed | FailureKind::Unsupported => ConnectorError::Failed(message),
        })
    }
}

impl Faker {
    pub fn new(s: &Settings<'_>) -> Result<Self, ConnectorError> {
        let rows = config_u64(s.config, "row_count", 1000)?;
        let seed = config_seed(s.config)?;
        let rows_per_second = config_u64(s.config, "rows_per_second", 0)?;
        let revision = config_u64(s.config, "revision", 0)?;
        let last_second = rows
            .checked_mul(revision.saturating_add(1))
            .filter(|&secs| secs <= MAX_EPOCH - BASE_EPOCH);
        if last_second.is_none() {
            return Err(ConnectorError::Config(format!(
                "row_count {rows} with revision {revision} reaches past the year 9999; use fewer rows or revisions"
            )));
        }
        Ok(Self {
            model: Model {
                rows,
                seed,
                revision,
            },
            rows_per_second,
            failures: Failures::from_config(s.config)?,
        })
    }
}

#[async_trait::async_trait]
impl Source for Faker {
    async fn check(&self) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn entity_schema(&self, entity_key: &str) -> Result<SchemaRef, ConnectorError> {
        Ok(Entity::parse(entity_key)?.schema())
    }

    async fn read(&self, req: ReadRequest) -> Result<BatchStream, ConnectorError> {
        let entity = Entity::parse(&req.entity_key)?;
        if let Some(field) = &req.cursor_field {
            check_cursor_field(field)?;
        }
        let model = self.model;
        let start = model.position_after(req.after.as_deref())?;
        let end = match req.up_to.as_deref() {
            Some(up_to) => model.count_le(parse_time(up_to)?),
            None => model.rows,
        }
        .max(start);
        let batch_size = u64::try_from(req.batch_size.max(1)).unwrap_or(u64::MAX);
        let with_cursor = req.cursor_field.is_some();
        let rows_per_second = self.rows_per_second;
        let failures = self.failures.clone();

        let stream = async_stream::stream! {
            let began = tokio::time::Instant::now();
            let mut pos = start;
            let mut emitted = 0;
            let failure = failures.as_ref().and_then(|f| f.take().map(|e| (f.after_batches, e)));
            let mut failure = failure;
            loop {
                if failure.as_ref().is_some_and(|(after, _)| emitted >= *after)
                    && let Some((_, e)) = failure.take()
                {
                    yield Err(e);
                    return;
                }
                if pos >= end {
                    break;
                }
                let stop = end.min(pos.saturating_add(batch_size));
                let generated = if stop - pos >= BLOCKING_ROWS {
                    tokio::task::spawn_blocking(move || model.generate(entity, pos, stop))
                        .await
                        .map_err(|e| ConnectorError::Failed(format!("generating {} failed: {e}", entity.key())))
                } else {
                    Ok(model.generate(entity, pos, stop))
                };
                let (data, bytes, last_updated_at) = match generated {
                    Ok(Ok(g)) => g,
                    Ok(Err(e)) | Err(e) => {
                        yield Err(e);
                        return;
                    }
                };
                if rows_per_second > 0 {
                    let emitted = (pos - start) as f64;
                    let due = began + Duration::from_secs_f64(emitted / rows_per_second as f64);
                    tokio::time::sleep_until(due).await;
                }
                yield Ok(Batch {
                    data,
                    cursor: with_cursor.then_some(last_updated_at),
                    bytes,
                });
                pos = stop;
                emitted += 1;
            }
        };
        Ok(Box::pin(stream))
    }

    async fn windows(
        &self,
        entity_key: &str,
        cursor_field: &str,
        after: Option<&str>,
        n: usize,
    ) -> Result<Vec<Window>, ConnectorError> {
        Entity::parse(entity_key)?;
        check_cursor_field(cursor_field)?;
        let start = self.model.position_after(after)?;
        let remaining = self.model.rows - start;
        let k = u64::try_from(n).unwrap_or(u64::MAX).min(remaining);
        let mut out = Vec::new();
        let mut lower = after.map(str::to_string);
        for j in 1..k {
            // The last position of window j (positions are 0-based).
            let last = start + remaining * j / k - 1;
            let up_to = format_time(self.model.time(self.model.index_at(last)));
            out.push(Window {
                after: lower.take(),
                up_to: Some(up_to.clone()),
            });
            lower = Some(up_to);
        }
        out.push(Window {
            after: lower,
            up_to: None,
        });
        Ok(out)
    }
}

fn check_cursor_field(field: &str) -> Result<(), ConnectorError> {
    if field == CURSOR_FIELD {
        Ok(())
    } else {
        Err(ConnectorError::Config(format!(
            "faker records are ordered by {CURSOR_FIELD}, not {field}"
        )))
    }
}

fn config_u64(config: &Map<String, Value>, key: &str, default: u64) -> Result<u64, ConnectorError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| {
            ConnectorError::Config(format!("{key} must be a non-negative integer, got {v}"))
        }),
    }
}

/// Any integer is a seed; negative ones are taken bit for bit.
fn config_seed(config: &Map<String, Value>) -> Result<u64, ConnectorError> {
    match config.get("seed") {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_i64().map(|s| s as u64))
            .ok_or_else(|| ConnectorError::Config(format!("seed must be an integer, got {v}"))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    Users,
    Orders,
    Events,
}

impl Entity {
    fn parse(key: &str) -> Result<Self, ConnectorError> {
        match key {
            "users" => Ok(Self::Users),
            "orders" => Ok(Self::Orders),
            "events" => Ok(Self::Events),
            other => Err(ConnectorError::Config(format!(
                "faker has no entity {other:?}; it has users, orders and events"
            ))),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Orders => "orders",
            Self::Events => "events",
        }
    }

    fn salt(self) -> u64 {
        fnv1a(self.key().as_bytes())
    }

    /// The entity's columns: ids and counts Int64, times UTC timestamps
    /// (µs), events' payload JSON text.
    fn schema(self) -> SchemaRef {
        use Kind::*;
        let spec: &[(&str, Kind)] = match self {
            Self::Users => &[
                ("id", Int),
                ("name", Text),
                ("email", Text),
                ("country", Text),
                ("signup_at", Time),
                ("score", Int),
                ("updated_at", Time),
            ],
            Self::Orders => &[
                ("id", Int),
                ("user_id", Int),
                ("amount_cents", Int),
                ("currency", Text),
                ("status", Text),
                ("created_at", Time),
                ("updated_at", Time),
            ],
            Self::Events => &[
                ("id", Int),
                ("user_id", Int),
                ("kind", Text),
                ("payload", Json),
                ("occurred_at", Time),
                ("updated_at", Time),
            ],
        };
        let fields: Vec<Field> = spec
            .iter()
            .map(|&(name, kind)| {
                let field = Field::new(name, kind.data_type(), false);
                match kind {
                    Json => batch::with_extension(field, batch::JSON),
                    _ => field,
                }
            })
            .collect();
        Arc::new(Schema::new(fields))
    }
}

/// The faker's data, as a pure function of its config.
#[derive(Debug, Clone, Copy)]
struct Model {
    rows: u64,
    seed: u64,
    revision: u64,
}

/// The rows `i < rows` with `lo <= i % 10 < lo + width`, touched last by
/// revision `rev` (0: never touched), in index order. Their times are
/// `rows * rev + i`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    lo: u64,
    width: u64,
    rev: u64,
}

impl Segment {
    /// How many of the segment's rows have an index below `x`.
    fn count_below(self, x: u64) -> u64 {
        (x / 10) * self.width + (x % 10).saturating_sub(self.lo).min(self.width)
    }

    /// The index of the segment's `p`-th row.
    fn index(self, p: u64) -> u64 {
        10 * (p / self.width) + self.lo + p % self.width
    }
}

impl Model {
    /// The last revision that touched row `i`, or 0.
    fn last_touch(&self, i: u64) -> u64 {
        let k = i % 10;
        if self.revision <= k {
            0
        } else {
            k + 1 + (self.revision - 1 - k) / 10 * 10
        }
    }

    /// Row `i`'s updated_at, in seconds since BASE.
    fn time(&self, i: u64) -> u64 {
        self.rows * self.last_touch(i) + i
    }

    /// The segments, in updated_at order (each one's times are above all
    /// the previous ones').
    fn segments(&self) -> impl Iterator<Item = Segment> {
        let r = self.revision;
        let untouched = (r < 10).then(|| Segment {
            lo: r,
            width: 10 - r,
            rev: 0,
        });
        let touched = (r.saturating_sub(9).max(1)..=r).map(|rev| Segment {
            lo: (rev - 1) % 10,
            width: 1,
            rev,
        });
        untouched.into_iter().chain(touched)
    }

    /// How many rows have updated_at <= `t` (seconds since BASE): the
    /// position of the first row after `t`.
    fn count_le(&self, t: i64) -> u64 {
        let Ok(t) = u64::try_from(t) else {
            return 0;
        };
        self.segments()
            .map(|s| match t.checked_sub(self.rows * s.rev) {
                Some(i) => s.count_below(i.saturating_add(1).min(self.rows)),
                None => 0,
            })
            .sum()
    }

    fn position_after(&self, after: Option<&str>) -> Result<u64, ConnectorError> {
        match after {
            Some(a) => Ok(self.count_le(parse_time(a)?)),
            None => Ok(0),
        }
    }

    /// The index of the row at `pos` (< rows) in updated_at order.
    fn index_at(&self, mut pos: u64) -> u64 {
        for s in self.segments() {
            let len = s.count_below(self.rows);
            if pos < len {
                return s.index(pos);
            }
            pos -= len;
        }
        // Unreachable for pos < rows; the last row keeps it total.
        self.rows.saturating_sub(1)
    }

    /// The rows at positions `from..to`, their approximate size, and the
    /// last one's updated_at.
    fn generate(
        &self,
        entity: Entity,
        from: u64,
        to: u64,
    ) -> Result<(RecordBatch, u64, String), ConnectorError> {
        let schema = entity.schema();
        let mut rows = Columns::new(&schema, usize::try_from(to - from).unwrap_or(0));
        let mut bytes = 0;
        let mut last = String::new();
        let salt = entity.salt();
        let mut remaining = to - from;
        let mut skip = from;
        for s in self.segments() {
            let len = s.count_below(self.rows);
            if skip >= len {
                skip -= len;
                continue;
            }
            let take = remaining.min(len - skip);
            for p in skip..skip + take {
                let i = s.index(p);
                last = self.row(entity, salt, i, s.rev, &mut rows, &mut bytes);
            }
            remaining -= take;
            skip = 0;
            if remaining == 0 {
                break;
            }
        }
        let data = rows.finish(schema).map_err(|e| {
            ConnectorError::Failed(format!("generating {} failed: {e}", entity.key()))
        })?;
        Ok((data, bytes, last))
    }

    /// Appends row `i` as last touched by revision `rev`; its updated_at.
    fn row(
        &self,
        entity: Entity,
        salt: u64,
        i: u64,
        rev: u64,
        out: &mut Columns,
        bytes: &mut u64,
    ) -> String {
        let h = mix(mix(mix(self.seed ^ salt) ^ i) ^ rev.wrapping_mul(0xA076_1D64_78BD_642F));
        let f = |k: u64| mix(h ^ k.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        // Differs between consecutive touches of a row (rev 0 → 1..=10,
        // rev r → r + 10), so every touch really changes the row.
        let tag = rev % 11;
        let created = Cell::Time(i);
        let updated_secs = self.rows * rev + i;
        let updated = Cell::Time(updated_secs);
        let id = int(i + 1, bytes);
        let row = match entity {
            Entity::Users => {
                let first = pick(FIRST_NAMES, f(1));
                let last = pick(LAST_NAMES, f(2));
                let mut email = String::with_capacity(first.len() + last.len() + 32);
                email.extend(first.chars().map(|c| c.to_ascii_lowercase()));
                email.push('.');
                email.extend(last.chars().map(|c| c.to_ascii_lowercase()));
                push_u64(&mut email, i + 1);
                email.push('@');
                email.push_str(pick(DOMAINS, f(3)));
                vec![
                    id,
                    text(format!("{first} {last}"), bytes),
                    text(email, bytes),
                    text(pick(COUNTRIES, f(4)).to_string(), bytes),
                    time(created, bytes),
                    int(11 * (f(5) % 91) + tag, bytes),
                    time(updated, bytes),
                ]
            }
            Entity::Orders => vec![
                id,
                int(1 + f(1) % (i + 1), bytes),
                int(11 * (50 + f(2) % 45_000) + tag, bytes),
                text(pick(CURRENCIES, f(3)).to_string(), bytes),
                text(pick(STATUSES, f(4)).to_string(), bytes),
                time(created, bytes),
                time(updated, bytes),
            ],
            Entity::Events => {
                let mut payload = String::with_capacity(48);
                payload.push_str("{\"path\":\"");
                payload.push_str(pick(PATHS, f(3)));
                payload.push_str("\",\"ms\":");
                push_u64(&mut payload, 11 * (f(4) % 500) + tag);
                payload.push('}');
                vec![
                    id,
                    int(1 + f(1) % (i + 1), bytes),
                    text(pick(EVENT_KINDS, f(2)).to_string(), bytes),
                    text(payload, bytes),
                    time(created, bytes),
                    time(updated, bytes),
                ]
            }
        };
        out.push(row);
        format_time(updated_secs)
    }
}

fn int(v: u64, bytes: &mut u64) -> Cell {
    *bytes += u64::from(v.checked_ilog10().unwrap_or(0)) + 1;
    Cell::Int(v)
}

fn text(s: String, bytes: &mut u64) -> Cell {
    *bytes += s.len() as u64;
    Cell::Text(s)
}

/// A time counts as its RFC 3339 text would (as the faker read before its
/// columns were typed), so byte totals stay comparable.
fn time(c: Cell, bytes: &mut u64) -> Cell {
    *bytes += 20;
    c
}

/// The type of a faker column.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Text,
    Json,
    Time,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Self::Int => DataType::Int64,
            Self::Text | Self::Json => DataType::Utf8,
            Self::Time => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// One generated value: a time is seconds after `BASE_EPOCH`.
enum Cell {
    Int(u64),
    Text(String),
    Time(u64),
}

/// The builders of one batch, a column each.
struct Columns(Vec<Builder>);

enum Builder {
    Int(Int64Builder),
    Text(StringBuilder),
    Time(TimestampMicrosecondBuilder),
}

impl Columns {
    fn new(schema: &Schema, rows: usize) -> Self {
        Self(
            schema
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Int64 => Builder::Int(Int64Builder::with_capacity(rows)),
                    DataType::Timestamp(..) => Builder::Time(
                        TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
                    ),
                    _ => Builder::Text(StringBuilder::with_capacity(rows, rows * 16)),
                })
                .collect(),
        )
    }

    fn push(&mut self, row: Vec<Cell>) {
        for (b, cell) in self.0.iter_mut().zip(row) {
            match (b, cell) {
                (Builder::Int(b), Cell::Int(v)) => {
                    b.append_value(i64::try_from(v).unwrap_or(i64::MAX))
                }
                (Builder::Text(b), Cell::Text(s)) => b.append_value(s),
                (Builder::Time(b), Cell::Time(secs)) => {
                    let micros = (BASE_EPOCH + secs).saturating_mul(1_000_000);
                    b.append_value(i64::try_from(micros).unwrap_or(i64::MAX));
                }
                // The schema and the row generator are written together.
                (Builder::Int(b), _) => b.append_null(),
                (Builder::Text(b), _) => b.append_null(),
                (Builder::Time(b), _) => b.append_null(),
            }
        }
    }

    fn finish(self, schema: SchemaRef) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let columns: Vec<ArrayRef> = self
            .0
            .into_iter()
            .map(|b| match b {
                Builder::Int(mut b) => Arc::new(b.finish()) as ArrayRef,
                Builder::Text(mut b) => Arc::new(b.finish()),
                Builder::Time(mut b) => Arc::new(b.finish()),
            })
            .collect();
        RecordBatch::try_new(schema, columns)
    }
}

fn pick(list: &'static [&'static str], h: u64) -> &'static str {
    // The lists are non-empty constants; the index is in range.
    list[usize::try_from(h % list.len() as u64).unwrap_or(0)]
}

fn push_u64(s: &mut String, v: u64) {
    let mut digits = [0u8; 20];
    let mut n = v;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits[..len].iter().rev() {
        s.push(char::from(*d));
    }
}

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// BASE + `secs` as `YYYY-MM-DDTHH:MM:SSZ` (fixed width up to the year
/// 9999, which `Faker::new` guarantees, so string order is time order).
fn format_time(secs: u64) -> String {
    let t = BASE_EPOCH + secs;
    let (days, sod) = (t / 86_400, t % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let mut s = String::with_capacity(20);
    push_digits(&mut s, year, 4);
    s.push('-');
    push_digits(&mut s, month, 2);
    s.push('-');
    push_digits(&mut s, day, 2);
    s.push('T');
    push_digits(&mut s, sod / 3600, 2);
    s.push(':');
    push_digits(&mut s, sod / 60 % 60, 2);
    s.push(':');
    push_digits(&mut s, sod % 60, 2);
    s.push('Z');
    s
}

/// The last `width` decimal digits of `v`, zero-padded.
fn push_digits(s: &mut String, v: u64, width: u32) {
    for k in (0..width).rev() {
        s.push(char::from(b'0' + (v / 10u64.pow(k) % 10) as u8));
    }
}

/// A cursor back to seconds since BASE (floored; may be negative).
fn parse_time(s: &str) -> Result<i64, ConnectorError> {
    let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|e| {
        ConnectorError::Failed(format!(
            "{s:?} is not an RFC 3339 {CURSOR_FIELD} cursor: {e}"
        ))
    })?;
    Ok(t.timestamp() - BASE_EPOCH as i64)
}

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Donald",
    "Radia",
    "Edsger",
    "Katherine",
    "John",
    "Hedy",
    "Tim",
    "Sophie",
    "Niklaus",
    "Karen",
    "Bjarne",
    "Shafi",
    "Guido",
    "Joan",
    "Yukihiro",
    "Lynn",
    "Rasmus",
    "Mary",
    "James",
    "Anita",
    "Brendan",
    "Carol",
    "Leslie",
];

const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Knuth",
    "Perlman",
    "Dijkstra",
    "Johnson",
    "McCarthy",
    "Lamarr",
    "Berners",
    "Wilson",
    "Wirth",
    "Jones",
    "Stroustrup",
    "Goldwasser",
    "Rossum",
    "Clarke",
    "Matsumoto",
    "Conway",
    "Lerdorf",
    "Keller",
    "Gosling",
    "Borg",
    "Eich",
    "Shaw",
    "Lamport",
];

const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.test",
    "inbox.test",
];

const COUNTRIES: &[&str] = &[
    "US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "CA", "BR", "MX", "JP", "KR", "IN", "AU",
];

const CURRENCIES: &[&str] = &["USD", "EUR", "GBP", "JPY", "CAD", "AUD"];

const STATUSES: &[&str] = &[
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
];

const EVENT_KINDS: &[&str] = &[
    "page_view",
    "click",
    "search",
    "add_to_cart",
    "purchase",
    "signup",
    "login",
    "logout",
];

const PATHS: &[&str] = &[
    "/",
    "/pricing",
    "/docs",
    "/blog",
    "/cart",
    "/checkout",
    "/account",
    "/search",
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use futures::TryStreamExt;
    use serde_json::json;

    use super::*;

    const ENTITIES: [&str; 3] = ["users", "orders", "events"];

    fn faker(config: Value) -> Faker {
        try_faker(config).unwrap()
    }

    fn try_faker(config: Value) -> Result<Faker, ConnectorError> {
        let map = config.as_object().cloned().unwrap();
        Faker::new(&Settings {
            provider: "faker",
            config: &map,
            credentials: &BTreeMap::new(),
            local_files: &crate::connectors::LocalFiles::default(),
            context: None,
        })
    }

    fn request(
        entity: &str,
        after: Option<&str>,
        up_to: Option<&str>,
        batch_size: usize,
    ) -> ReadRequest {
        ReadRequest {
            entity_key: entity.into(),
            cursor_field: Some("updated_at".into()),
            after: after.map(str::to_string),
            up_to: up_to.map(str::to_string),
            batch_size,
            lookback: None,
        }
    }

    async fn batches(f: &Faker, req: ReadRequest) -> Vec<Batch> {
        f.read(req).await.unwrap().try_collect().await.unwrap()
    }

    async fn read(
        f: &Faker,
        entity: &str,
        after: Option<&str>,
        up_to: Option<&str>,
    ) -> Vec<Vec<Value>> {
        rows(batches(f, request(entity, after, up_to, 7)).await)
    }

    fn rows(batches: Vec<Batch>) -> Vec<Vec<Value>> {
        batches.iter().flat_map(rows_of).collect()
    }

    fn rows_of(b: &Batch) -> Vec<Vec<Value>> {
        crate::batch::json::rows(&b.data).unwrap()
    }

    fn column(entity: &str, name: &str) -> usize {
        Entity::parse(entity)
            .unwrap()
            .schema()
            .index_of(name)
            .unwrap()
    }

    /// The creation time, which revisions keep.
    fn created_column(entity: &str) -> &'static str {
        match entity {
            "users" => "signup_at",
            "orders" => "created_at",
            _ => "occurred_at",
        }
    }

    /// The column every touch of a row is sure to change.
    fn changing_column(entity: &str) -> &'static str {
        match entity {
            "users" => "score",
            "orders" => "amount_cents",
            _ => "payload",
        }
    }

    fn strs(rows: &[Vec<Value>], entity: &str, name: &str) -> Vec<String> {
        let c = column(entity, name);
        rows.iter()
            .map(|r| r[c].as_str().unwrap().to_string())
            .collect()
    }

    fn ids(rows: &[Vec<Value>]) -> Vec<u64> {
        rows.iter().map(|r| r[0].as_u64().unwrap()).collect()
    }

    #[tokio::test]
    async fn same_config_reads_the_same_rows_and_another_seed_differs() {
        for entity in ENTITIES {
            let config = json!({"row_count": 50, "seed": 7, "revision": 3});
            let a = read(&faker(config.clone()), entity, None, None).await;
            let b = read(&faker(config), entity, None, None).await;
            assert_eq!(a.len(), 50);
            assert_eq!(a, b, "{entity}");
            let c = read(
                &faker(json!({"row_count": 50, "seed": 8, "revision": 3})),
                entity,
                None,
                None,
            )
            .await;
            assert_eq!(ids(&a), ids(&c));
            assert_ne!(a, c, "{entity}: another seed, other values");
            let d = read(
                &faker(json!({"row_count": 50, "seed": -8})),
                entity,
                None,
                None,
            )
            .await;
            assert_ne!(c, d, "{entity}");
        }
    }

    #[tokio::test]
    async fn a_full_read_has_every_row_once_in_cursor_order() {
        for revision in [0, 1, 4, 10, 23] {
            let f = faker(json!({"row_count": 103, "seed": 1, "revision": revision}));
            for entity in ENTITIES {
                let schema = f.entity_schema(entity).await.unwrap();
                let got = batches(&f, request(entity, None, None, 10)).await;
                let sizes: Vec<usize> = got.iter().map(|b| b.data.num_rows()).collect();
                assert_eq!(sizes.len(), 11);
                assert!(sizes[..10].iter().all(|&n| n == 10), "{sizes:?}");
                assert_eq!(sizes[10], 3);
                for b in &got {
                    assert_eq!(b.data.schema(), schema);
                    assert!(schema.fields().iter().all(|f| !f.is_nullable()));
                    let rows = rows_of(b);
                    assert!(rows.iter().all(|r| r.len() == schema.fields().len()));
                    let last = rows.last().unwrap();
                    assert_eq!(b.cursor.as_deref(), last.last().unwrap().as_str());
                    let text: usize = rows
                        .iter()
                        .flatten()
                        .map(|v| match v {
                            Value::String(s) => s.len(),
                            other => other.to_string().len(),
                        })
                        .sum();
                    assert_eq!(b.bytes, text as u64);
                }
                let all = rows(got);
                let mut sorted = ids(&all);
                sorted.sort_unstable();
                assert_eq!(
                    sorted,
                    (1..=103).collect::<Vec<_>>(),
                    "{entity} r{revision}"
                );
                let updated = strs(&all, entity, "updated_at");
                assert!(
                    updated.windows(2).all(|w| w[0] < w[1]),
                    "{entity} r{revision}: updated_at not increasing"
                );
                for (row, at) in all.iter().zip(&updated) {
                    for (c, v) in schema.fields().iter().zip(row) {
                        // Times come back as their RFC 3339 text.
                        let ok = match c.data_type() {
                            DataType::Int64 => v.is_u64(),
                            DataType::Utf8 | DataType::Timestamp(..) => v.is_string(),
                            _ => false,
                        };
                        assert!(ok, "{entity}.{} = {v}", c.name());
                    }
                    assert_eq!(at.len(), 20);
                    chrono::DateTime::parse_from_rfc3339(at).unwrap();
                }
            }
        }
    }

    #[tokio::test]
    async fn without_a_cursor_field_the_read_is_full_and_has_no_cursors() {
        let f = faker(json!({"row_count": 30, "revision": 2}));
        let mut req = request("orders", None, None, 8);
        req.cursor_field = None;
        let got = batches(&f, req).await;
        assert!(got.iter().all(|b| b.cursor.is_none()));
        assert_eq!(rows(got), read(&f, "orders", None, None).await);
    }

    #[tokio::test]
    async fn resuming_from_each_cursor_reads_exactly_the_rest() {
        let f = faker(json!({"row_count": 64, "seed": 3, "revision": 12}));
        for entity in ENTITIES {
            let full = batches(&f, request(entity, None, None, 9)).await;
            let all = rows(full.clone());
            let mut done = 0;
            for b in &full {
                done += b.data.num_rows();
                let rest = read(&f, entity, b.cursor.as_deref(), None).await;
                assert_eq!(rest, all[done..], "{entity} after {:?}", b.cursor);
            }
            assert_eq!(done, 64);
        }
    }

    #[tokio::test]
    async fn resuming_near_the_end_of_a_million_rows_reads_only_the_tail() {
        let f = faker(json!({"row_count": 1_000_000, "revision": 2}));
        // The last rows are revision 2's (i % 10 == 1): 999_971, 999_981, 999_991.
        let after = format_time(1_000_000 * 2 + 999_961);
        let tail = read(&f, "users", Some(&after), None).await;
        assert_eq!(ids(&tail), [999_972, 999_982, 999_992]);
        let up_to = format_time(9);
        let head = read(&f, "users", None, Some(&up_to)).await;
        // Untouched rows first: i % 10 >= 2.
        assert_eq!(ids(&head), [3, 4, 5, 6, 7, 8, 9, 10]);
    }

    #[tokio::test]
    async fn a_revision_changes_a_tenth_of_the_rows() {
        for entity in ENTITIES {
            let before = read(
                &faker(json!({"row_count": 200, "seed": 5})),
                entity,
                None,
                None,
            )
            .await;
            let max_cursor = strs(&before, entity, "updated_at").pop().unwrap();
            let f = faker(json!({"row_count": 200, "seed": 5, "revision": 1}));
            let changed = read(&f, entity, Some(&max_cursor), None).await;
            assert_eq!(
                ids(&changed),
                (0..20).map(|j| 10 * j + 1).collect::<Vec<_>>(),
                "{entity}"
            );
            let after = read(&f, entity, None, None).await;
            let distinct: BTreeSet<u64> = ids(&after).into_iter().collect();
            assert_eq!(distinct.len(), 200);
            // The untouched rows read the same; the touched ones differ in
            // every column but the id and the creation time.
            let by_id: BTreeMap<u64, &Vec<Value>> =
                before.iter().map(|r| (r[0].as_u64().unwrap(), r)).collect();
            let created = column(entity, created_column(entity));
            let guaranteed = column(entity, changing_column(entity));
            for row in &after[..180] {
                assert_eq!(&row, by_id.get(&row[0].as_u64().unwrap()).unwrap());
            }
            for row in &changed {
                let old = by_id.get(&row[0].as_u64().unwrap()).unwrap();
                assert_eq!(row[created], old[created]);
                assert_ne!(row[guaranteed], old[guaranteed], "{entity} {row:?}");
                assert_ne!(row.last(), old.last());
            }
            assert_eq!(&after[180..], &changed[..]);
        }
    }

    #[tokio::test]
    async fn every_touch_of_a_row_changes_it() {
        // Revision r + 1 touches the rows with i % 10 == r % 10, whether they
        // were untouched (r < 10) or last touched by r - 9.
        for entity in ENTITIES {
            let guaranteed = column(entity, changing_column(entity));
            let updated = column(entity, "updated_at");
            for revision in [0, 3, 9, 10, 20, 34] {
                let config = |r: u64| json!({"row_count": 40, "seed": 11, "revision": r});
                let mut before = read(&faker(config(revision)), entity, None, None).await;
                let mut after = read(&faker(config(revision + 1)), entity, None, None).await;
                before.sort_by_key(|r| r[0].as_u64().unwrap());
                after.sort_by_key(|r| r[0].as_u64().unwrap());
                for (a, b) in before.iter().zip(&after) {
                    let touched = (a[0].as_u64().unwrap() - 1) % 10 == revision % 10;
                    assert_eq!(touched, a != b, "{entity} r{revision} {a:?} {b:?}");
                    if touched {
                        assert_ne!(a[guaranteed], b[guaranteed], "{entity} r{revision}");
                        assert!(a[updated].as_str() < b[updated].as_str());
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn more_rows_leave_the_existing_ones_as_they_were() {
        for entity in ENTITIES {
            let small = read(
                &faker(json!({"row_count": 100, "seed": 4})),
                entity,
                None,
                None,
            )
            .await;
            let big = read(
                &faker(json!({"row_count": 150, "seed": 4})),
                entity,
                None,
                None,
            )
            .await;
            assert_eq!(small, big[..100], "{entity}: appended only");
            // With revisions, only the revised rows' updated_at moves.
            let updated = column(entity, "updated_at");
            let config = |rows: u64| json!({"row_count": rows, "seed": 4, "revision": 2});
            let mut small = read(&faker(config(100)), entity, None, None).await;
            let mut big = read(&faker(config(150)), entity, None, None).await;
            big.retain(|r| r[0].as_u64().unwrap() <= 100);
            for rows in [&mut small, &mut big] {
                rows.sort_by_key(|r| r[0].as_u64().unwrap());
                for r in rows.iter_mut() {
                    r.remove(updated);
                }
            }
            assert_eq!(small, big, "{entity}");
            if entity != "users" {
                let users = column(entity, "user_id");
                assert!(small.iter().all(|r| r[users].as_u64() <= r[0].as_u64()));
                assert!(small.iter().any(|r| r[users].as_u64() != Some(1)));
            }
        }
    }

    #[tokio::test]
    async fn windows_split_the_rest_and_cover_it() {
        let f = faker(json!({"row_count": 97, "seed": 2, "revision": 3}));
        for entity in ENTITIES {
            let all = read(&f, entity, None, None).await;
            let updated = strs(&all, entity, "updated_at");
            for (after, skip) in [(None, 0), (Some(updated[40].clone()), 41)] {
                let windows = f
                    .windows(entity, "updated_at", after.as_deref(), 4)
                    .await
                    .unwrap();
                assert_eq!(windows.len(), 4);
                assert_eq!(windows[0].after, after);
                assert_eq!(windows[3].up_to, None);
                for w in windows.windows(2) {
                    assert_eq!(w[0].up_to, w[1].after);
                    assert!(w[0].up_to.is_some());
                }
                let mut joined = Vec::new();
                for w in &windows {
                    let part = read(&f, entity, w.after.as_deref(), w.up_to.as_deref()).await;
                    let expected = (97 - skip) / 4;
                    assert!(
                        part.len().abs_diff(expected) <= 1,
                        "{} rows, ~{expected} expected",
                        part.len()
                    );
                    joined.extend(part);
                }
                assert_eq!(joined, all[skip..], "{entity}");
            }
        }
    }

    #[tokio::test]
    async fn one_window_when_asked_for_one_or_rows_are_few() {
        let f = faker(json!({"row_count": 3}));
        let all = read(&f, "users", None, None).await;
        let single = |after: Option<&str>| {
            vec![Window {
                after: after.map(str::to_string),
                up_to: None,
            }]
        };
        assert_eq!(
            f.windows("users", "updated_at", None, 1).await.unwrap(),
            single(None)
        );
        assert_eq!(
            f.windows("users", "updated_at", None, 0).await.unwrap(),
            single(None)
        );
        let last = strs(&all, "users", "updated_at").pop().unwrap();
        assert_eq!(
            f.windows("users", "updated_at", Some(&last), 8)
                .await
                .unwrap(),
            single(Some(&last))
        );
        // Three rows, eight windows asked: three windows of one row.
        let w = f.windows("users", "updated_at", None, 8).await.unwrap();
        assert_eq!(w.len(), 3);
        let empty = faker(json!({"row_count": 0}));
        assert_eq!(
            empty
                .windows("events", "updated_at", None, 4)
                .await
                .unwrap(),
            single(None)
        );
        assert!(read(&empty, "events", None, None).await.is_empty());
        assert!(
            batches(&empty, request("events", None, None, 5))
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn up_to_is_inclusive_and_after_exclusive() {
        let f = faker(json!({"row_count": 20, "revision": 1}));
        let all = read(&f, "orders", None, None).await;
        let updated = strs(&all, "orders", "updated_at");
        let part = read(&f, "orders", Some(&updated[3]), Some(&updated[8])).await;
        assert_eq!(part, all[4..=8]);
        assert_eq!(read(&f, "orders", None, Some(&updated[0])).await, all[..1]);
        assert!(
            read(&f, "orders", Some(&updated[8]), Some(&updated[3]))
                .await
                .is_empty()
        );
        // Bounds between rows, and with fractions and offsets, are times too.
        let half = format!("{}.5+00:00", &updated[5][..19]);
        assert_eq!(read(&f, "orders", Some(&half), None).await, all[6..]);
        assert_eq!(read(&f, "orders", None, Some(&half)).await, all[..6]);
        assert_eq!(
            read(&f, "orders", Some("2025-06-01T00:00:00Z"), None).await,
            all
        );
    }

    #[tokio::test]
    async fn unknown_entities_fields_and_cursors_fail() {
        let f = faker(json!({}));
        let err = |e: ConnectorError| e.to_string();
        assert!(
            err(f
                .read(request("invoices", None, None, 10))
                .await
                .err()
                .unwrap())
            .contains("invoices")
        );
        assert!(err(f.entity_schema("invoices").await.unwrap_err()).contains("invoices"));
        assert!(
            err(f
                .windows("invoices", "updated_at", None, 2)
                .await
                .unwrap_err())
            .contains("invoices")
        );
        let mut req = request("users", None, None, 10);
        req.cursor_field = Some("id".into());
        assert!(err(f.read(req).await.err().unwrap()).contains("id"));
        assert!(f.windows("users", "id", None, 2).await.is_err());
        assert!(
            f.read(request("users", Some("yesterday"), None, 10))
                .await
                .is_err()
        );
        assert!(f.check().await.is_ok());
    }

    #[test]
    fn bad_configs_fail_and_defaults_apply() {
        assert!(try_faker(json!({"row_count": "many"})).is_err());
        assert!(try_faker(json!({"row_count": -1})).is_err());
        assert!(try_faker(json!({"revision": 1.5})).is_err());
        assert!(try_faker(json!({"seed": "x"})).is_err());
        assert!(try_faker(json!({"row_count": 100_000_000, "revision": 5_000})).is_err());
        let f = faker(json!({}));
        assert_eq!(
            (
                f.model.rows,
                f.model.seed,
                f.model.revision,
                f.rows_per_second
            ),
            (1000, 0, 0, 0)
        );
    }

    #[test]
    fn positions_match_sorting_every_row() {
        for rows in [0, 1, 7, 10, 31, 100] {
            for revision in [0, 1, 2, 9, 10, 11, 19, 20, 27] {
                let m = Model {
                    rows,
                    seed: 0,
                    revision,
                };
                let mut by_time: Vec<u64> = (0..rows).collect();
                by_time.sort_by_key(|&i| m.time(i));
                let times: Vec<u64> = by_time.iter().map(|&i| m.time(i)).collect();
                assert!(times.windows(2).all(|w| w[0] < w[1]), "distinct times");
                for (pos, &i) in by_time.iter().enumerate() {
                    assert_eq!(
                        m.index_at(pos as u64),
                        i,
                        "rows {rows} r{revision} pos {pos}"
                    );
                    let t = times[pos] as i64;
                    assert_eq!(m.count_le(t), pos as u64 + 1);
                    assert_eq!(m.count_le(t - 1), pos as u64);
                }
                assert_eq!(m.count_le(-1), 0);
                assert_eq!(m.count_le(i64::MAX), rows);
                for i in 0..rows {
                    let r = m.last_touch(i);
                    let expected = (1..=revision)
                        .filter(|r| (r - 1) % 10 == i % 10)
                        .max()
                        .unwrap_or(0);
                    assert_eq!(r, expected);
                }
            }
        }
    }

    #[test]
    fn timestamps_are_fixed_width_rfc3339() {
        for secs in [
            0,
            1,
            59,
            3_599,
            86_399,
            86_400,
            5_097_600,
            31_535_999,
            31_536_000,
            1_000_000_007,
            MAX_EPOCH - BASE_EPOCH,
        ] {
            let expected = chrono::DateTime::from_timestamp((BASE_EPOCH + secs) as i64, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(format_time(secs), expected);
            assert_eq!(parse_time(&expected).unwrap(), secs as i64);
        }
        assert_eq!(format_time(0), "2026-01-01T00:00:00Z");
    }

    #[tokio::test]
    async fn rows_per_second_paces_the_batches() {
        let f = faker(json!({"row_count": 50, "rows_per_second": 500}));
        let began = std::time::Instant::now();
        let got = batches(&f, request("events", None, None, 10)).await;
        assert_eq!(got.len(), 5);
        // Batches go out at 0, 20, 40, 60 and 80 ms.
        assert!(
            began.elapsed() >= Duration::from_millis(80),
            "{:?}",
            began.elapsed()
        );
    }

    #[tokio::test]
    #[ignore = "a timing run: cargo test --release --lib connectors::faker -- --ignored --nocapture"]
    async fn million_users_read_speed() {
        let f = faker(json!({"row_count": 1_000_000, "revision": 3}));
        let began = std::time::Instant::now();
        let mut stream = f.read(request("users", None, None, 10_000)).await.unwrap();
        let mut n = 0;
        while let Some(b) = stream.try_next().await.unwrap() {
            n += b.data.num_rows();
        }
        let secs = began.elapsed().as_secs_f64();
        assert_eq!(n, 1_000_000);
        println!(
            "1,000,000 users in {secs:.3}s: {:.0} rows/s",
            n as f64 / secs
        );
    }
}
