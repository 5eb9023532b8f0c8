//! API key material: random keys shown once, stored as SHA-256 hashes.
//! Keys carry 256 bits of entropy, so a fast hash is enough: there is
//! nothing to brute-force that a slow hash would protect.

use rand::RngCore;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "trb_";

/// A new key and the characters shown to recognise it.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let prefix = key[..12].to_string();
    (key, prefix)
}

pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hashed() {
        let (a, pa) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.starts_with(&pa));
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }
}
