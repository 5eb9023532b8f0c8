//! Connection rules: what a valid connection is and which status verbs apply.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{catalog::ProviderCatalog, enums::ConnectionStatus, schema, slug};
use crate::error::{Error, Violations};

pub const MAX_NAME_LEN: usize = 255;

/// Checks a display name (1..255 characters, not blank).
pub fn check_name(name: &str, field: &str, v: &mut Violations) {
    let n = name.chars().count();
    if name.trim().is_empty() || n > MAX_NAME_LEN {
        v.add(
            field,
            format!("must be 1..{MAX_NAME_LEN} characters and not blank"),
        );
    }
    super::check_text(name, field, v);
}

/// Checks an explicit slug; an empty one is derived later.
pub fn check_slug(s: &str, field: &str, v: &mut Violations) {
    if !s.is_empty()
        && let Err(why) = slug::check(s)
    {
        v.add(field, why);
    }
}

/// Checks config and credentials against the provider's schemas.
pub fn check_settings(
    catalog: &ProviderCatalog,
    config: &Map<String, Value>,
    credentials: &BTreeMap<String, String>,
    v: &mut Violations,
) {
    schema::check(
        &catalog.config_schema,
        &Value::Object(config.clone()),
        "config",
        v,
    );
    let creds: Map<String, Value> = credentials
        .iter()
        .map(|(k, val)| (k.clone(), Value::String(val.clone())))
        .collect();
    schema::check(
        &catalog.credentials_schema,
        &Value::Object(creds),
        "credentials",
        v,
    );
}

/// Fills config fields the user left out from the provider's defaults.
pub fn with_defaults(
    catalog: &ProviderCatalog,
    mut config: Map<String, Value>,
) -> Map<String, Value> {
    if let Value::Object(defaults) = &catalog.defaults {
        for (k, val) in defaults {
            config.entry(k.clone()).or_insert_with(|| val.clone());
        }
    }
    config
}

/// ReactivateConnection: DISABLED -> NEEDS_VERIFICATION.
pub fn reactivate(status: ConnectionStatus) -> Result<ConnectionStatus, Error> {
    match status {
        ConnectionStatus::Disabled => Ok(ConnectionStatus::NeedsVerification),
        other => Err(Error::precondition(
            "CONNECTION_NOT_DISABLED",
            format!("only a disabled connection can be reactivated; this one is {other}"),
        )),
    }
}

/// VerifyConnection is refused for a disabled connection.
pub fn check_verifiable(status: ConnectionStatus) -> Result<(), Error> {
    if status == ConnectionStatus::Disabled {
        return Err(Error::precondition(
            "CONNECTION_DISABLED",
            "the connection is disabled; reactivate it before verifying",
        ));
    }
    Ok(())
}

/// A connection's syncs may run unless it is disabled.
pub fn check_runnable(status: ConnectionStatus) -> Result<(), Error> {
    if status == ConnectionStatus::Disabled {
        return Err(Error::precondition(
            "CONNECTION_DISABLED",
            "the sync's connection is disabled; reactivate it first",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_verbs() {
        assert_eq!(
            reactivate(ConnectionStatus::Disabled).ok(),
            Some(ConnectionStatus::NeedsVerification)
        );
        assert!(reactivate(ConnectionStatus::Active).is_err());
        assert!(check_verifiable(ConnectionStatus::Disabled).is_err());
        assert!(check_verifiable(ConnectionStatus::Error).is_ok());
    }

    #[test]
    fn names() {
        let mut v = Violations::new();
        check_name("ok", "name", &mut v);
        assert!(v.is_empty());
        check_name("  ", "name", &mut v);
        check_name(&"x".repeat(256), "name", &mut v);
        assert_eq!(v.0.len(), 2);
    }
}
