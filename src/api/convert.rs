//! Conversions between protobuf messages and the records and domain types.
//! Decoding collects field violations; encoding never fails.

use std::collections::{BTreeMap, HashMap};

use prost_types::{ListValue, Struct, Timestamp, value::Kind};
use serde_json::{Map, Number, Value};

use crate::{
    domain::{
        connector_settings::{RateLimitUnit, Variable},
        enums::*,
        limits::in_timestamp_range,
        run_event::{EventBody, RunEvent},
        schedule::{Interval, Schedule},
        sync::BindingSpec,
    },
    error::Violations,
    pb,
    store::{
        connections::ConnectionRecord,
        runs::RunRecord,
        syncs::{BindingRow, SyncRecord},
        workspaces::{ApiKeyRecord, WorkspaceRecord},
    },
};

// === time ===

/// A stored time as a Timestamp; None outside Timestamp's range
/// (0001-01-01..9999-12-31), which no time the server sets can reach.
pub fn ts(micros: i64) -> Option<Timestamp> {
    in_timestamp_range(micros).then(|| Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    })
}

pub fn ts_opt(micros: Option<i64>) -> Option<Timestamp> {
    micros.and_then(ts)
}

/// A client's Timestamp in microseconds; None when it is not a valid
/// Timestamp (nanos outside 0..1e9, or outside 0001-01-01..9999-12-31).
pub fn micros_of(t: &Timestamp) -> Option<i64> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return None;
    }
    let micros = t
        .seconds
        .checked_mul(1_000_000)?
        .checked_add(i64::from(t.nanos / 1000))?;
    in_timestamp_range(micros).then_some(micros)
}

// === JSON <-> Struct ===

pub fn struct_to_json(s: Option<Struct>) -> Map<String, Value> {
    s.map(|s| {
        s.fields
            .into_iter()
            .map(|(k, v)| (k, value_to_json(v)))
            .collect()
    })
    .unwrap_or_default()
}

fn value_to_json(v: prost_types::Value) -> Value {
    match v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(b),
        // Struct numbers are doubles; whole ones become integers so that
        // "type": "integer" in a provider schema accepts 5432.
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                Value::Number(Number::from(n as i64))
            } else {
                Number::from_f64(n)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Some(Kind::StringValue(s)) => Value::String(s),
        Some(Kind::ListValue(l)) => Value::Array(l.values.into_iter().map(value_to_json).collect()),
        Some(Kind::StructValue(s)) => Value::Object(
            s.fields
                .into_iter()
                .map(|(k, v)| (k, value_to_json(v)))
                .collect(),
        ),
    }
}

pub fn json_to_struct(m: &Map<String, Value>) -> Struct {
    Struct {
        fields: m
            .iter()
            .map(|(k, v)| (k.clone(), json_to_value(v)))
            .collect(),
    }
}

fn json_to_value(v: &Value) -> prost_types::Value {
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(a) => Kind::ListValue(ListValue {
            values: a.iter().map(json_to_value).collect(),
        }),
        Value::Object(o) => Kind::StructValue(json_to_struct(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A JSON object stored as text, as a Struct.
pub fn text_to_struct(text: &str) -> Option<Struct> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Some(json_to_struct(&m)),
        _ => None,
    }
}

// === enums ===

/// Maps a domain enum to its proto number and back. Proto values are
/// declared in the same order as the domain variants, after UNSPECIFIED = 0.
macro_rules! enum_map {
    ($dom:ty, $pb:ty) => {
        impl From<$dom> for $pb {
            fn from(d: $dom) -> Self {
                let i = <$dom>::ALL.iter().position(|x| *x == d).unwrap_or(0) as i32 + 1;
                <$pb>::try_from(i).unwrap_or_default()
            }
        }
    };
}
enum_map!(ConnectionStatus, pb::ConnectionStatus);
enum_map!(SyncStatus, pb::SyncStatus);
enum_map!(ExecutionBackend, pb::ExecutionBackend);
enum_map!(ExecutionMode, pb::ExecutionMode);
enum_map!(TriggerMode, pb::TriggerMode);
enum_map!(LoadMode, pb::LoadMode);
enum_map!(TableNamingVersion, pb::TableNamingVersion);
enum_map!(TimeUnit, pb::TimeUnit);
enum_map!(RunStatus, pb::RunStatus);
enum_map!(RunMode, pb::RunMode);
enum_map!(TriggeredBy, pb::TriggeredBy);
enum_map!(ResultClass, pb::ResultClass);
enum_map!(ResultReasonCode, pb::ResultReasonCode);
enum_map!(Role, pb::ApiKeyRole);
enum_map!(LogLevel, pb::LogLevel);

/// A proto enum number the API does not define.
#[derive(Debug, PartialEq, Eq)]
pub struct UndefinedEnum(pub i32);

/// A domain enum from a proto number: Ok(None) for UNSPECIFIED (take the
/// default), Err for a number the API does not define.
pub fn from_pb<T: Copy>(all: &[T], n: i32) -> Result<Option<T>, UndefinedEnum> {
    match n {
        0 => Ok(None),
        n if n > 0 && (n as usize) <= all.len() => Ok(Some(all[n as usize - 1])),
        _ => Err(UndefinedEnum(n)),
    }
}

/// Decodes an enum field, adding a violation for an undefined number.
pub fn enum_field<T: Copy>(all: &[T], n: i32, field: &str, v: &mut Violations) -> Option<T> {
    from_pb(all, n).unwrap_or_else(|_| {
        v.add(field, format!("{n} is not a defined value"));
        None
    })
}

/// Decodes a repeated enum filter; UNSPECIFIED entries are errors here.
pub fn enum_list<T: Copy>(all: &[T], ns: &[i32], field: &str, v: &mut Violations) -> Vec<T> {
    let mut out = Vec::new();
    for (i, n) in ns.iter().enumerate() {
        match from_pb(all, *n) {
            Ok(Some(x)) => out.push(x),
            _ => v.add(
                format!("{field}[{i}]"),
                format!("{n} is not a valid filter value"),
            ),
        }
    }
    out
}

/// A stored enum as its proto number.
fn to_pb<D, P: From<D> + Into<i32>>(d: D) -> i32 {
    P::from(d).into()
}

fn pb_enum<D: Copy, P: From<D> + Into<i32>>(s: &str, parse: fn(&str) -> Option<D>) -> i32 {
    parse(s).map(|d| P::from(d).into()).unwrap_or(0)
}

// === resources ===

pub fn connection(c: ConnectionRecord) -> pb::Connection {
    let variables = crate::service::connections::stored_variables(&c)
        .into_iter()
        .map(variable_to_pb)
        .collect();
    pb::Connection {
        id: c.id,
        workspace_id: c.workspace_id,
        name: c.name,
        slug: c.slug,
        provider: c.provider,
        config: text_to_struct(&c.config),
        has_credentials: c.credentials_ciphertext.is_some(),
        status: to_pb::<_, pb::ConnectionStatus>(c.status),
        verification_error: c.verification_error,
        is_default: c.is_default,
        is_from_template: c.is_from_template,
        created_at: ts(c.created_at),
        updated_at: ts(c.updated_at),
        created_by: c.created_by,
        updated_by: c.updated_by,
        last_used_at: ts_opt(c.last_used_at),
        last_verified_at: ts_opt(c.last_verified_at),
        rate_limit_unit: rate_limit_unit_to_pb(c.rate_limit_unit.as_deref()),
        rate_limit_duration: c.rate_limit_duration.unwrap_or(0),
        variables,
        timezone: c.timezone.unwrap_or_default(),
        date_format: c.date_format.unwrap_or_default(),
        etag: c.etag,
    }
}

// === connector settings ===

fn rate_limit_unit_to_pb(unit: Option<&str>) -> i32 {
    let unit = match unit.and_then(RateLimitUnit::parse) {
        Some(RateLimitUnit::Second) => pb::RateLimitUnit::Second,
        Some(RateLimitUnit::Minute) => pb::RateLimitUnit::Minute,
        Some(RateLimitUnit::Hour) => pb::RateLimitUnit::Hour,
        None => pb::RateLimitUnit::Unspecified,
    };
    unit.into()
}

/// UNSPECIFIED is `None`; a number that is no RateLimitUnit is a violation.
pub fn rate_limit_unit(n: i32, v: &mut Violations) -> Option<RateLimitUnit> {
    match pb::RateLimitUnit::try_from(n) {
        Ok(pb::RateLimitUnit::Unspecified) => None,
        Ok(pb::RateLimitUnit::Second) => Some(RateLimitUnit::Second),
        Ok(pb::RateLimitUnit::Minute) => Some(RateLimitUnit::Minute),
        Ok(pb::RateLimitUnit::Hour) => Some(RateLimitUnit::Hour),
        Err(_) => {
            v.add("rate_limit_unit", format!("{n} is not a RateLimitUnit"));
            None
        }
    }
}

/// has_value is output only: the server derives it from the value.
pub fn variables(vars: Vec<pb::ConnectionVariable>) -> Vec<Variable> {
    vars.into_iter()
        .map(|v| Variable {
            key: v.key,
            value: v.value,
            label: v.label,
            secret: v.secret,
            has_value: false,
            locked: v.locked,
            configurable: v.configurable,
            required: v.required,
            advanced: v.advanced,
        })
        .collect()
}

/// A secret value never leaves the server, whatever the record holds.
fn variable_to_pb(v: Variable) -> pb::ConnectionVariable {
    pb::ConnectionVariable {
        value: if v.secret { String::new() } else { v.value },
        key: v.key,
        label: v.label,
        secret: v.secret,
        has_value: v.has_value,
        locked: v.locked,
        configurable: v.configurable,
        required: v.required,
        advanced: v.advanced,
    }
}

pub fn schedule_to_pb(s: &Schedule) -> pb::Schedule {
    let spec = match (&s.cron, &s.every) {
        (Some(c), _) => Some(pb::schedule::Spec::Cron(c.clone())),
        (None, Some(e)) => Some(pb::schedule::Spec::Every(pb::Interval {
            units: e.units,
            time_unit: pb_enum::<_, pb::TimeUnit>(&e.time_unit, TimeUnit::parse),
        })),
        _ => None,
    };
    pb::Schedule {
        spec,
        timezone: s.timezone.clone(),
    }
}

pub fn schedule_from_pb(s: pb::Schedule, v: &mut Violations) -> Schedule {
    let timezone = if s.timezone.is_empty() {
        "UTC".to_string()
    } else {
        s.timezone
    };
    match s.spec {
        Some(pb::schedule::Spec::Cron(c)) => Schedule {
            cron: Some(c),
            every: None,
            timezone,
        },
        Some(pb::schedule::Spec::Every(e)) => {
            let unit = enum_field(TimeUnit::ALL, e.time_unit, "schedule.every.time_unit", v);
            Schedule {
                cron: None,
                every: Some(Interval {
                    units: e.units,
                    time_unit: unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
                }),
                timezone,
            }
        }
        None => Schedule {
            cron: None,
            every: None,
            timezone,
        },
    }
}

pub fn binding(b: BindingRow) -> pb::TableBinding {
    pb::TableBinding {
        id: b.id,
        entity_key: b.entity_key,
        source_instance_key: b.source_instance_key,
        logical_table_name: b.logical_table_name,
        physical_table_name: b.physical_table_name,
        table_name: b.table_name,
        primary_key_columns: serde_json::from_str(&b.primary_key_columns).unwrap_or_default(),
        cursor_field: b.cursor_field,
        load_mode: to_pb::<_, pb::LoadMode>(b.load_mode),
        table_naming_version: to_pb::<_, pb::TableNamingVersion>(b.table_naming_version),
        created_at: ts(b.created_at),
        updated_at: ts(b.updated_at),
    }
}

pub fn binding_from_pb(b: pb::TableBinding, i: usize, v: &mut Violations) -> BindingSpec {
    BindingSpec {
        entity_key: b.entity_key,
        source_instance_key: b.source_instance_key,
        logical_table_name: b.logical_table_name,
        physical_table_name: b.physical_table_name,
        table_name: b.table_name,
        primary_key_columns: b.primary_key_columns,
        cursor_field: b.cursor_field,
        load_mode: enum_field(
            LoadMode::ALL,
            b.load_mode,
            &format!("table_bindings[{i}].load_mode"),
            v,
        ),
        table_naming_version: enum_field(
            TableNamingVersion::ALL,
            b.table_naming_version,
            &format!("table_bindings[{i}].table_naming_version"),
            v,
        ),
    }
}

/// A stored sync. Its freshness is the breach the engine recorded (see
/// `store::freshness`), so that reads agree with FreshnessChanged events.
pub fn sync(r: SyncRecord) -> pb::Sync {
    let s = r.sync;
    pb::Sync {
        id: s.id,
        workspace_id: s.workspace_id,
        name: s.name,
        slug: s.slug,
        connection_id: s.connection_id,
        provider_key: s.provider_key,
        entities: serde_json::from_str(&s.entities).unwrap_or_default(),
        source_config: text_to_struct(&s.source_config),
        destination_config: text_to_struct(&s.destination_config),
        destination_connection_id: s.destination_connection_id,
        execution_backend: to_pb::<_, pb::ExecutionBackend>(s.execution_backend),
        execution_mode: to_pb::<_, pb::ExecutionMode>(s.execution_mode),
        execution_config: text_to_struct(&s.execution_config),
        freshness_sla_seconds: s.freshness_sla_seconds,
        schedule: s
            .schedule
            .as_deref()
            .and_then(|t| serde_json::from_str::<Schedule>(t).ok())
            .map(|s| schedule_to_pb(&s)),
        status: to_pb::<_, pb::SyncStatus>(s.status),
        table_bindings: r.bindings.into_iter().map(binding).collect(),
        trigger_mode: to_pb::<_, pb::TriggerMode>(s.trigger_mode),
        task_slug: s.task_slug,
        last_error: s.last_error,
        last_success_at: ts_opt(s.last_success_at),
        created_at: ts(s.created_at),
        updated_at: ts(s.updated_at),
        created_by: s.created_by,
        updated_by: s.updated_by,
        etag: s.etag,
        freshness_breached: s.freshness_breached_at.is_some(),
        freshness_breached_at: ts_opt(s.freshness_breached_at),
        next_run_at: ts_opt(s.next_run_at),
    }
}

pub use crate::domain::run::{StoredEntitySummary, StoredSummary};

fn summary(text: Option<&str>) -> Option<pb::RunSummary> {
    let s: StoredSummary = serde_json::from_str(text?).ok()?;
    let entities: Vec<pb::EntitySummary> = s
        .entities
        .into_iter()
        .map(|e| pb::EntitySummary {
            entity_key: e.entity_key,
            records_read: e.records_read,
            records_written: e.records_written,
            bytes: e.bytes,
            cursor_before: e.cursor_before,
            cursor_after: e.cursor_after,
            started_at: ts_opt(e.started_at),
            completed_at: ts_opt(e.completed_at),
            destination_table: e.destination_table,
        })
        .collect();
    // Saturating: counters are bounded on input, but rows may predate that.
    let total =
        |f: fn(&pb::EntitySummary) -> i64| entities.iter().map(f).fold(0i64, i64::saturating_add);
    Some(pb::RunSummary {
        records_read: total(|e| e.records_read),
        records_written: total(|e| e.records_written),
        bytes: total(|e| e.bytes),
        entities,
    })
}

/// A RunSummary as the executor sends it, to store; the run-wide totals
/// are derived from the entities', so they are not kept. Times that are no
/// valid Timestamp are violations.
pub fn summary_from_pb(s: pb::RunSummary, v: &mut Violations) -> StoredSummary {
    let mut time = |t: Option<Timestamp>, field: String| {
        let t = t?;
        let micros = micros_of(&t);
        if micros.is_none() {
            v.add(
                field,
                "must be a valid Timestamp (0001-01-01 to 9999-12-31)",
            );
        }
        micros
    };
    StoredSummary {
        entities: s
            .entities
            .into_iter()
            .enumerate()
            .map(|(i, e)| StoredEntitySummary {
                started_at: time(e.started_at, format!("summary.entities[{i}].started_at")),
                completed_at: time(
                    e.completed_at,
                    format!("summary.entities[{i}].completed_at"),
                ),
                entity_key: e.entity_key,
                records_read: e.records_read,
                records_written: e.records_written,
                bytes: e.bytes,
                cursor_before: e.cursor_before,
                cursor_after: e.cursor_after,
                destination_table: e.destination_table,
            })
            .collect(),
    }
}

pub fn run(r: RunRecord) -> pb::Run {
    pb::Run {
        id: r.id,
        sync_id: r.sync_id,
        workspace_id: r.workspace_id,
        status: to_pb::<_, pb::RunStatus>(r.status),
        run_mode: to_pb::<_, pb::RunMode>(r.run_mode),
        triggered_by: to_pb::<_, pb::TriggeredBy>(r.triggered_by),
        trigger_ref: r.trigger_ref,
        attempt_number: r.attempt_number as i32,
        attempt_root_run_id: r.attempt_root_run_id,
        previous_attempt_run_id: r.previous_attempt_run_id,
        next_attempt_run_id: r.next_attempt_run_id,
        max_auto_resume_attempts: r.max_auto_resume_attempts as i32,
        execution_backend: to_pb::<_, pb::ExecutionBackend>(r.execution_backend),
        execution_mode: to_pb::<_, pb::ExecutionMode>(r.execution_mode),
        executor_id: r.executor_id,
        backend_run_ref: r.backend_run_ref,
        backend_run_url: r.backend_run_url,
        backend_status: r.backend_status.as_deref().and_then(text_to_struct),
        backend_heartbeat_at: ts_opt(r.backend_heartbeat_at),
        last_heartbeat_at: ts_opt(r.last_heartbeat_at),
        cancel_requested_at: ts_opt(r.cancel_requested_at),
        cancel_requested_by: r.cancel_requested_by,
        cancel_reason: r.cancel_reason,
        result_class: r.result_class.map_or(0, to_pb::<_, pb::ResultClass>),
        result_reason_code: r
            .result_reason_code
            .map_or(0, to_pb::<_, pb::ResultReasonCode>),
        error: r.error,
        summary: summary(r.summary.as_deref()),
        created_at: ts(r.created_at),
        started_at: ts_opt(r.started_at),
        completed_at: ts_opt(r.completed_at),
        updated_at: ts(r.updated_at),
        last_event_sequence: r.last_event_sequence,
    }
}

pub fn workspace(w: WorkspaceRecord) -> pb::Workspace {
    pb::Workspace {
        id: w.id,
        name: w.name,
        slug: w.slug,
        created_at: ts(w.created_at),
        updated_at: ts(w.updated_at),
        parent_workspace_id: w.parent_workspace_id.unwrap_or_default(),
    }
}

pub fn api_key(k: ApiKeyRecord) -> pb::ApiKey {
    pb::ApiKey {
        id: k.id,
        workspace_id: k.workspace_id,
        name: k.name,
        role: to_pb::<_, pb::ApiKeyRole>(k.role),
        prefix: k.prefix,
        created_at: ts(k.created_at),
        created_by: k.created_by,
        last_used_at: ts_opt(k.last_used_at),
        revoked_at: ts_opt(k.revoked_at),
        expires_at: ts_opt(k.expires_at),
    }
}

/// Credentials as received: write-only, never logged.
pub fn credentials(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

// === run events ===

/// A snapshot event: the whole run, numbered after its last persisted event.
pub fn snapshot(r: RunRecord) -> pb::RunEvent {
    pb::RunEvent {
        run_id: r.id.clone(),
        sync_id: r.sync_id.clone(),
        sequence: r.last_event_sequence,
        emitted_at: ts(crate::domain::now_micros()),
        event: Some(pb::run_event::Event::Snapshot(run(r))),
    }
}

pub fn run_event(e: &RunEvent) -> pb::RunEvent {
    use pb::run_event::Event;
    let event = match &e.body {
        EventBody::StatusChanged {
            from,
            to,
            result_class,
            result_reason_code,
            error,
        } => Event::StatusChanged(pb::StatusChanged {
            from: from.map_or(0, to_pb::<_, pb::RunStatus>),
            to: to_pb::<_, pb::RunStatus>(*to),
            result_class: result_class.map_or(0, to_pb::<_, pb::ResultClass>),
            result_reason_code: result_reason_code.map_or(0, to_pb::<_, pb::ResultReasonCode>),
            error: error.clone(),
        }),
        EventBody::Heartbeat {
            executor_id,
            totals,
        } => Event::Heartbeat(pb::Heartbeat {
            executor_id: executor_id.clone(),
            records_read: totals.records_read,
            records_written: totals.records_written,
            bytes: totals.bytes,
        }),
        EventBody::Progress { entity_key, totals } => Event::Progress(pb::Progress {
            entity_key: entity_key.clone(),
            records_read: totals.records_read,
            records_written: totals.records_written,
            bytes: totals.bytes,
        }),
        EventBody::Log {
            level,
            message,
            entity_key,
        } => Event::Log(log_line(level, message, entity_key)),
        EventBody::FreshnessChanged {
            breached,
            freshness_sla_seconds,
            last_success_at,
            breached_at,
            sync_status,
        } => Event::FreshnessChanged(pb::FreshnessChanged {
            sync_id: e.sync_id.clone(),
            breached: *breached,
            freshness_sla_seconds: *freshness_sla_seconds,
            last_success_at: ts_opt(*last_success_at),
            breached_at: ts_opt(*breached_at),
            sync_status: to_pb::<_, pb::SyncStatus>(*sync_status),
        }),
    };
    pb::RunEvent {
        run_id: e.run_id.clone(),
        sync_id: e.sync_id.clone(),
        sequence: e.sequence,
        emitted_at: ts(e.emitted_at),
        event: Some(event),
    }
}

fn log_line(level: &LogLevel, message: &str, entity_key: &str) -> pb::LogLine {
    pb::LogLine {
        level: to_pb::<_, pb::LogLevel>(*level),
        message: message.into(),
        entity_key: entity_key.into(),
    }
}

/// A persisted log line for ListRunLogs (which reads log events only; any
/// other event would come without a line).
pub fn log_entry(e: RunEvent) -> pb::RunLogEntry {
    let line = match &e.body {
        EventBody::Log {
            level,
            message,
            entity_key,
        } => Some(log_line(level, message, entity_key)),
        _ => None,
    };
    pb::RunLogEntry {
        sequence: e.sequence,
        emitted_at: ts(e.emitted_at),
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_proto_numbers() {
        for &s in RunStatus::ALL {
            let n: i32 = pb::RunStatus::from(s).into();
            assert_eq!(from_pb(RunStatus::ALL, n), Ok(Some(s)));
            assert_eq!(
                pb::RunStatus::try_from(n)
                    .map(|p| p.as_str_name().to_lowercase())
                    .ok(),
                Some(format!("run_status_{}", s.as_str()))
            );
        }
        for &s in ConnectionStatus::ALL {
            let n: i32 = pb::ConnectionStatus::from(s).into();
            assert_eq!(
                pb::ConnectionStatus::try_from(n)
                    .map(|p| p.as_str_name().to_lowercase())
                    .ok(),
                Some(format!("connection_status_{}", s.as_str()))
            );
        }
        for &s in ResultReasonCode::ALL {
            let n: i32 = pb::ResultReasonCode::from(s).into();
            assert_eq!(
                pb::ResultReasonCode::try_from(n)
                    .map(|p| p.as_str_name().to_lowercase())
                    .ok(),
                Some(format!("result_reason_code_{}", s.as_str()))
            );
        }
        assert_eq!(from_pb(RunStatus::ALL, 0), Ok(None));
        assert!(from_pb(RunStatus::ALL, 99).is_err());
    }

    #[test]
    fn struct_numbers_become_integers() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"port": 5432, "ratio": 0.5, "tags": ["a"], "n": null}"#)
                .unwrap_or_default();
        let back = struct_to_json(Some(json_to_struct(&m)));
        assert_eq!(back, m);
        assert_eq!(
            micros_of(&ts(1_700_000_000_123_456).unwrap_or_default()),
            Some(1_700_000_000_123_456)
        );
    }

    #[test]
    fn timestamps_stay_in_range_both_ways() {
        use crate::domain::limits::{MAX_TIMESTAMP_MICROS, MIN_TIMESTAMP_MICROS};
        for m in [MIN_TIMESTAMP_MICROS, -1, 0, MAX_TIMESTAMP_MICROS] {
            assert_eq!(ts(m).as_ref().and_then(micros_of), Some(m));
        }
        for m in [
            i64::MIN,
            MIN_TIMESTAMP_MICROS - 1,
            MAX_TIMESTAMP_MICROS + 1,
            i64::MAX,
        ] {
            assert_eq!(ts(m), None);
        }
        let t = |seconds, nanos| micros_of(&Timestamp { seconds, nanos });
        assert_eq!(t(i64::MAX, 0), None);
        assert_eq!(t(i64::MIN, 0), None);
        assert_eq!(t(253_402_300_800, 0), None);
        assert_eq!(t(0, -1), None);
        assert_eq!(t(0, 1_000_000_000), None);
        assert_eq!(t(-1, 999_999_000), Some(-1));
    }
}
