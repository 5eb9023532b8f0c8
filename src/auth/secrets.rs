//! Credentials at rest: AES-256-GCM under a server key from
//! TRIBUTARY_SECRET_KEY or `<data-dir>/secret.key` (created 0600 on first start).

use std::{collections::BTreeMap, fs, io::Write, path::Path};

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng},
};
use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Encrypts and decrypts credential maps.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
    key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
            key,
        }
    }

    /// A key for another purpose, derived so that it reveals nothing of this one.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(purpose.as_bytes());
        h.update(self.key);
        h.finalize().into()
    }

    /// base64(nonce || ciphertext) of the JSON map.
    pub fn seal(&self, creds: &BTreeMap<String, String>) -> anyhow::Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let plain = serde_json::to_vec(creds)?;
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_slice())
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<BTreeMap<String, String>> {
        let bytes = STANDARD
            .decode(sealed)
            .context("credentials are not base64")?;
        if bytes.len() < 12 {
            bail!("credentials ciphertext is truncated");
        }
        let (nonce, body) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| {
                anyhow::anyhow!("credentials do not decrypt under this server's secret key")
            })?;
        Ok(serde_json::from_slice(&plain)?)
    }
}

/// Parses a 32-byte key written as 64 hex digits or base64.
pub fn parse_key(s: &str) -> anyhow::Result<[u8; 32]> {
    let s = s.trim();
    let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(s)?
    } else {
        STANDARD
            .decode(s)
            .context("the secret key must be 64 hex digits or base64 of 32 bytes")?
    };
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the secret key must be 32 bytes"))
}

/// The configured key, or the one in `data_dir/secret.key`, created on first start.
pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    if let Some(k) = configured {
        return parse_key(k);
    }
    let path = data_dir.join("secret.key");
    if path.exists() {
        return parse_key(
            &fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    write_private(&path, &hex::encode(key))?;
    Ok(key)
}

/// Writes a file readable by its owner only (0600).
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let b = SecretBox::new([3; 32]);
        let creds = BTreeMap::from([("password".to_string(), "hunter2".to_string())]);
        let sealed = b.seal(&creds).unwrap_or_default();
        assert!(!sealed.contains("hunter2"));
        assert_eq!(b.open(&sealed).ok(), Some(creds));
        assert!(SecretBox::new([4; 32]).open(&sealed).is_err());
        assert_ne!(b.derive("a"), b.derive("b"));
    }

    #[test]
    fn key_formats() {
        assert!(parse_key(&"ab".repeat(32)).is_ok());
        assert!(parse_key(&STANDARD.encode([1u8; 32])).is_ok());
        assert!(parse_key("short").is_err());
    }
}
