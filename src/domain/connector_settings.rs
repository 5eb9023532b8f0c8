//! Seed 004's connector settings of a connection: the time zone and date
//! format that date parameters are rendered with, a rate limit, and named
//! variables that manifests refer to. Pure rules: bounds, the keeping of
//! secret values an update leaves out, and which changes need an admin.

use chrono::format::{Item, StrftimeItems};
use serde::{Deserialize, Serialize};

use crate::error::Violations;

pub const MAX_VARIABLES: usize = 100;
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
pub const MAX_LABEL_CHARS: usize = 255;
pub const MAX_DATE_FORMAT_CHARS: usize = 64;
pub const MAX_RATE_LIMIT: i32 = 1_000_000;

/// `^[a-z][a-z0-9_]{0,63}$`: safe in a `{placeholder}` and a header name.
fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitUnit {
    Second,
    Minute,
    Hour,
}

impl RateLimitUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "second" => Self::Second,
            "minute" => Self::Minute,
            "hour" => Self::Hour,
            _ => return None,
        })
    }
}

/// A variable as stored and returned. A secret one's `value` is kept apart
/// (sealed) and is empty here; `has_value` says whether it has one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Variable {
    pub key: String,
    pub value: String,
    pub label: String,
    pub secret: bool,
    pub has_value: bool,
    pub locked: bool,
    pub configurable: bool,
    pub required: bool,
    pub advanced: bool,
}

/// The settings as a request sets them (an absent field is `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorSettings {
    pub timezone: Option<String>,
    pub date_format: Option<String>,
    pub rate_limit_unit: Option<RateLimitUnit>,
    pub rate_limit_duration: Option<i32>,
    /// With secret values in the clear.
    pub variables: Vec<Variable>,
}

/// Every bound of the settings, one violation per bad field.
pub fn check(s: &ConnectorSettings, v: &mut Violations) {
    if let Some(tz) = &s.timezone
        && tz.parse::<chrono_tz::Tz>().is_err()
    {
        v.add(
            "timezone",
            "must be an IANA time zone such as Europe/Berlin",
        );
    }
    if let Some(f) = &s.date_format {
        if f.chars().count() > MAX_DATE_FORMAT_CHARS {
            v.add(
                "date_format",
                format!("must be at most {MAX_DATE_FORMAT_CHARS} characters"),
            );
        } else if StrftimeItems::new(f).any(|i| matches!(i, Item::Error)) {
            v.add("date_format", "is not a valid strftime format");
        }
    }
    match (s.rate_limit_unit, s.rate_limit_duration) {
        (_, Some(d)) if !(1..=MAX_RATE_LIMIT).contains(&d) => v.add(
            "rate_limit_duration",
            format!("must be 1..{MAX_RATE_LIMIT} requests per unit"),
        ),
        (None, Some(_)) => v.add("rate_limit_unit", "is required with rate_limit_duration"),
        (Some(_), None) => v.add("rate_limit_duration", "is required with rate_limit_unit"),
        _ => {}
    }
    check_variables(&s.variables, v);
}

fn check_variables(vars: &[Variable], v: &mut Violations) {
    if vars.len() > MAX_VARIABLES {
        v.add(
            "variables",
            format!("at most {MAX_VARIABLES} variables are allowed"),
        );
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, var) in vars.iter().enumerate() {
        let at = |f: &str| format!("variables[{i}].{f}");
        if !valid_key(&var.key) {
            v.add(
                at("key"),
                "must match ^[a-z][a-z0-9_]{0,63}$ (lowercase letter first)",
            );
        } else if !seen.insert(var.key.as_str()) {
            v.add(at("key"), format!("'{}' is used twice", var.key));
        }
        // The value itself is never echoed: it may be a secret.
        if var.value.len() > MAX_VALUE_BYTES {
            v.add(at("value"), "must be at most 16 KiB");
        }
        if var.label.chars().count() > MAX_LABEL_CHARS {
            v.add(
                at("label"),
                format!("must be at most {MAX_LABEL_CHARS} characters"),
            );
        }
    }
}

/// An update's variables with the stored value filled in for each secret
/// variable it sends without one (`old` holds values in the clear).
pub fn keep_secret_values(old: &[Variable], new: Vec<Variable>) -> Vec<Variable> {
    new.into_iter()
        .map(|mut var| {
            if var.secret
                && var.value.is_empty()
                && let Some(o) = old.iter().find(|o| o.key == var.key && o.secret)
            {
                var.value = o.value.clone();
            }
            var
        })
        .collect()
}

/// The key of the first locked variable that going from `old` to `new`
/// adds, changes (any field, the lock included) or removes: only an admin
/// may do that. Both sides hold values in the clear.
pub fn locked_change<'a>(old: &'a [Variable], new: &'a [Variable]) -> Option<&'a str> {
    let same = |a: &Variable, b: &Variable| {
        let norm = |v: &Variable| Variable {
            has_value: false,
            ..v.clone()
        };
        norm(a) == norm(b)
    };
    for o in old.iter().filter(|o| o.locked) {
        match new.iter().find(|n| n.key == o.key) {
            Some(n) if same(o, n) => {}
            _ => return Some(&o.key),
        }
    }
    new.iter()
        .filter(|n| n.locked)
        .find(|n| !old.iter().any(|o| o.key == n.key && same(o, n)))
        .map(|n| n.key.as_str())
}

/// The variables as stored: secret values taken out (returned apart, to be
/// sealed) and `has_value` set from the values.
pub fn split_secrets(
    vars: Vec<Variable>,
) -> (Vec<Variable>, std::collections::BTreeMap<String, String>) {
    let mut secrets = std::collections::BTreeMap::new();
    let stored = vars
        .into_iter()
        .map(|mut var| {
            var.has_value = !var.value.is_empty();
            if var.secret && var.has_value {
                secrets.insert(var.key.clone(), std::mem::take(&mut var.value));
            }
            var
        })
        .collect();
    (stored, secrets)
}

/// Stored variables with the sealed values put back.
pub fn with_secret_values(
    stored: Vec<Variable>,
    secrets: &std::collections::BTreeMap<String, String>,
) -> Vec<Variable> {
    stored
        .into_iter()
        .map(|mut var| {
            if var.secret
                && let Some(value) = secrets.get(&var.key)
            {
                var.value = value.clone();
            }
            var
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(key: &str, value: &str) -> Variable {
        Variable {
            key: key.into(),
            value: value.into(),
            ..Default::default()
        }
    }

    #[test]
    fn bounds_name_their_fields() {
        let s = ConnectorSettings {
            timezone: Some("Mars/Olympus".into()),
            date_format: Some("%Y-%Q".into()),
            rate_limit_unit: None,
            rate_limit_duration: Some(5),
            variables: vec![var("ok", ""), var("Bad", ""), var("ok", "")],
        };
        let mut v = Violations::new();
        check(&s, &mut v);
        let fields: Vec<&str> = v.fields().collect();
        assert_eq!(
            fields,
            [
                "timezone",
                "date_format",
                "rate_limit_unit",
                "variables[1].key",
                "variables[2].key"
            ]
        );
    }

    #[test]
    fn valid_settings_pass() {
        let s = ConnectorSettings {
            timezone: Some("America/New_York".into()),
            date_format: Some("%Y-%m-%dT%H:%M:%S".into()),
            rate_limit_unit: Some(RateLimitUnit::Minute),
            rate_limit_duration: Some(60),
            variables: vec![var("shop_id", "42")],
        };
        let mut v = Violations::new();
        check(&s, &mut v);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn a_secret_left_empty_keeps_its_value_and_locks_see_it() {
        let mut old = var("token", "s3cret");
        old.secret = true;
        old.locked = true;
        let mut sent = old.clone();
        sent.value.clear();
        let new = keep_secret_values(std::slice::from_ref(&old), vec![sent]);
        assert_eq!(new[0].value, "s3cret");
        assert_eq!(locked_change(std::slice::from_ref(&old), &new), None);
        let mut changed = new.clone();
        changed[0].value = "other".into();
        assert_eq!(
            locked_change(std::slice::from_ref(&old), &changed),
            Some("token")
        );
        assert_eq!(
            locked_change(std::slice::from_ref(&old), &[]),
            Some("token")
        );
    }
}
