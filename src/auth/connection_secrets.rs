//! A stored connection's secrets as connectors get them: its credentials
//! and connector settings opened, and a rotated credential (an OAuth2
//! refresh token) sealed back into its record in one transaction.

use std::{collections::BTreeMap, sync::Arc};

use super::secrets::SecretBox;
use crate::{
    connectors::{ConnectionContext, CredentialStore},
    domain::connector_settings::{self as cs, ConnectorSettings, RateLimitUnit, Variable},
    store::{self, Store, connections::ConnectionRecord},
};

/// The connection's credentials in the clear.
pub fn credentials(
    c: &ConnectionRecord,
    secrets: &SecretBox,
) -> anyhow::Result<BTreeMap<String, String>> {
    match &c.credentials_ciphertext {
        Some(sealed) => secrets.open(sealed),
        None => Ok(BTreeMap::new()),
    }
}

/// The variables as stored (secret values apart, sealed).
pub fn stored_variables(c: &ConnectionRecord) -> Vec<Variable> {
    serde_json::from_str(&c.variables).unwrap_or_default()
}

/// The connector settings of `c`, secret variable values in the clear.
pub fn settings(c: &ConnectionRecord, secrets: &SecretBox) -> anyhow::Result<ConnectorSettings> {
    let values = match &c.variables_ciphertext {
        Some(sealed) => secrets.open(sealed)?,
        None => BTreeMap::new(),
    };
    Ok(ConnectorSettings {
        timezone: c.timezone.clone(),
        date_format: c.date_format.clone(),
        rate_limit_unit: c.rate_limit_unit.as_deref().and_then(RateLimitUnit::parse),
        rate_limit_duration: c.rate_limit_duration,
        variables: cs::with_secret_values(stored_variables(c), &values),
    })
}

/// What an HTTP source of `c` needs beyond config and credentials.
pub fn context(
    c: &ConnectionRecord,
    store: &Store,
    secrets: &SecretBox,
) -> anyhow::Result<ConnectionContext> {
    Ok(ConnectionContext {
        connection_id: c.id.clone(),
        settings: settings(c, secrets)?,
        credential_store: Some(Arc::new(Rotator {
            store: store.clone(),
            secrets: secrets.clone(),
            connection_id: c.id.clone(),
        })),
    })
}

struct Rotator {
    store: Store,
    secrets: SecretBox,
    connection_id: String,
}

/// Attempts before a rotation gives up on concurrent edits of the record.
const ROTATE_ATTEMPTS: usize = 5;

#[async_trait::async_trait]
impl CredentialStore for Rotator {
    async fn rotate(&self, key: &str, old: &str, new: &str) -> Result<(), String> {
        // Messages name no value: they reach run logs.
        let failed = |what: &str| format!("cannot {what} the connection's credentials");
        for _ in 0..ROTATE_ATTEMPTS {
            let tx = self.store.begin().await.map_err(|_| failed("update"))?;
            let Some(mut c) = store::connections::find(&tx, &self.connection_id)
                .await
                .map_err(|_| failed("read"))?
            else {
                return Err("the connection no longer exists".into());
            };
            let mut creds = credentials(&c, &self.secrets).map_err(|_| failed("decrypt"))?;
            if creds.get(key).map(String::as_str) != Some(old) {
                // Another run (or an edit) moved it on already.
                return Ok(());
            }
            creds.insert(key.to_string(), new.to_string());
            c.credentials_ciphertext = Some(self.secrets.seal(&creds).map_err(|_| failed("seal"))?);
            let etag = c.etag.clone();
            match store::connections::save(&tx, c, &etag).await {
                Ok(_) => {
                    tx.commit().await.map_err(|_| failed("save"))?;
                    return Ok(());
                }
                // Changed between our read and write: read it again.
                Err(crate::error::Error::Aborted { .. }) => continue,
                Err(_) => return Err(failed("save")),
            }
        }
        Err(failed("update (it kept changing)"))
    }
}
