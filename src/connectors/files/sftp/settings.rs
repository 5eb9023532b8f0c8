//! An sftp connection's settings, read once when the store opens. Pure
//! rules: no I/O.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::connectors::{ConnectorError, config_str};

/// Where and as whom to connect, and which host key to trust.
pub(super) struct SftpSettings {
    pub host: String,
    pub port: u16,
    pub username: String,
    /// As configured: absolute, or relative to the user's home folder.
    pub root_path: String,
    /// The pinned host key, "SHA256:<base64 without padding>".
    pub fingerprint: Option<String>,
    pub password: Option<String>,
    pub private_key: Option<String>,
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for SftpSettings {
    // Credentials stay out of any debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("root_path", &self.root_path)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl SftpSettings {
    pub fn parse(
        config: &Map<String, Value>,
        credentials: &BTreeMap<String, String>,
    ) -> Result<Self, ConnectorError> {
        let required = |key: &str| {
            config_str(config, key)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
                .ok_or_else(|| ConnectorError::Config(format!("{key} is required")))
        };
        let port = match config.get("port") {
            None | Some(Value::Null) => 22,
            // A whole number, even one that came through a float.
            Some(v) => v
                .as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && (0.0..=65535.0).contains(f))
                        .map(|f| f as u64)
                })
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| {
                    ConnectorError::Config("port must be an integer from 1 to 65535".into())
                })?,
        };
        let fingerprint = match config_str(config, "host_key_fingerprint") {
            None => None,
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(normalize_fingerprint(v).ok_or_else(|| {
                ConnectorError::Config(format!(
                    "host_key_fingerprint {v:?} is not a SHA256 fingerprint as OpenSSH prints \
                     it (ssh-keygen -lf <key> -E sha256): \"SHA256:\" and 43 base64 characters"
                ))
            })?),
        };
        let secret = |key: &str| credentials.get(key).filter(|v| !v.is_empty()).cloned();
        let settings = Self {
            host: required("host")?,
            port,
            username: required("username")?,
            root_path: config_str(config, "root_path")
                .filter(|v| !v.is_empty())
                .unwrap_or("/")
                .to_string(),
            fingerprint,
            password: secret("password"),
            private_key: secret("private_key"),
            passphrase: secret("private_key_passphrase"),
        };
        if settings.password.is_none() && settings.private_key.is_none() {
            return Err(ConnectorError::Config(
                "give a password or a private_key in the connection's credentials".into(),
            ));
        }
        if settings.root_path.contains('\0') {
            return Err(ConnectorError::Config(
                "root_path contains a NUL byte".into(),
            ));
        }
        Ok(settings)
    }
}

/// A fingerprint as OpenSSH prints it, "SHA256:" and the unpadded base64
/// of the key's SHA-256: a trailing '=' some tools add is dropped, the
/// prefix is matched without regard to case. None when it is not one.
pub(super) fn normalize_fingerprint(v: &str) -> Option<String> {
    let v = v.trim();
    let (prefix, hash) = v.split_once(':')?;
    let hash = hash.trim_end_matches('=');
    let base64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    (prefix.eq_ignore_ascii_case("sha256") && hash.len() == 43 && hash.chars().all(base64))
        .then(|| format!("SHA256:{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn key() -> BTreeMap<String, String> {
        BTreeMap::from([("private_key".to_string(), "k".to_string())])
    }

    const FP: &str = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";

    #[test]
    fn fingerprints_are_openssh_sha256_ones() {
        assert_eq!(normalize_fingerprint(FP).as_deref(), Some(FP));
        assert_eq!(
            normalize_fingerprint(&format!(" sha256:{}= ", &FP[7..])).as_deref(),
            Some(FP)
        );
        assert_eq!(normalize_fingerprint(&FP[7..]), None);
        assert_eq!(normalize_fingerprint("MD5:aa:bb"), None);
        assert_eq!(normalize_fingerprint(&format!("{FP}x")), None);
    }

    #[test]
    fn settings_have_defaults_and_refuse_what_cannot_connect() {
        let s = SftpSettings::parse(&config(json!({"host": "h", "username": "u"})), &key())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.port, s.root_path.as_str()), (22, "/"));
        let float_port = SftpSettings::parse(
            &config(json!({"host": "h", "username": "u", "port": 2222.0})),
            &key(),
        );
        assert_eq!(float_port.map(|s| s.port).ok(), Some(2222));
        assert!(s.fingerprint.is_none());

        let no_secret = SftpSettings::parse(
            &config(json!({"host": "h", "username": "u"})),
            &BTreeMap::new(),
        );
        assert!(matches!(no_secret, Err(ConnectorError::Config(_))));
        let bad_port = SftpSettings::parse(
            &config(json!({"host": "h", "username": "u", "port": 70000})),
            &key(),
        );
        assert!(matches!(bad_port, Err(ConnectorError::Config(_))));
        let bad_pin = SftpSettings::parse(
            &config(json!({"host": "h", "username": "u", "host_key_fingerprint": "abc"})),
            &key(),
        );
        assert!(matches!(bad_pin, Err(ConnectorError::Config(m)) if m.contains("SHA256:")));
    }

    #[test]
    fn debug_output_never_shows_credentials() {
        let creds = BTreeMap::from([
            ("password".to_string(), "hunter22".to_string()),
            (
                "private_key_passphrase".to_string(),
                "open sesame".to_string(),
            ),
        ]);
        let s = SftpSettings::parse(&config(json!({"host": "h", "username": "u"})), &creds)
            .unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter22") && !shown.contains("open sesame"));
    }
}
