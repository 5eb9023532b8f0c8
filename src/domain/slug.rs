//! Slugs: lowercase `[a-z0-9-]`, at most 63 characters, unique per workspace.

pub const MAX_LEN: usize = 63;

/// Why `s` is not a valid slug, if it is not.
pub fn check(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > MAX_LEN {
        return Err(format!("must be 1..{MAX_LEN} characters"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may contain only lowercase letters, digits and '-'".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must not start or end with '-'".into());
    }
    Ok(())
}

/// A slug derived from a display name: "Shop #1 (EU)" -> "shop-1-eu".
pub fn derive(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out
        .trim_end_matches('-')
        .chars()
        .take(MAX_LEN - 4)
        .collect();
    out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "item".into() } else { out }
}

/// The n-th candidate for a derived slug: base, base-2, base-3 …
pub fn candidate(base: &str, n: usize) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_from_names() {
        assert_eq!(derive("Shop #1 (EU)"), "shop-1-eu");
        assert_eq!(derive("  Über Store  "), "ber-store");
        assert_eq!(derive("!!!"), "item");
        assert!(derive(&"a".repeat(200)).len() <= MAX_LEN - 4);
        assert_eq!(candidate("shop", 1), "shop");
        assert_eq!(candidate("shop", 3), "shop-3");
    }

    #[test]
    fn checks_explicit_slugs() {
        assert!(check("my-shop-2").is_ok());
        assert!(check("My-Shop").is_err());
        assert!(check("-x").is_err());
        assert!(check("").is_err());
        assert!(check(&"a".repeat(64)).is_err());
        assert!(check("a_b").is_err());
    }
}
