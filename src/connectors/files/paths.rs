//! Paths a user gives for a file store, made relative to the store's root.
//! Pure rules: no I/O.

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// A ".." would climb above the root.
    Escapes,
    /// NUL bytes or other characters no store accepts.
    Invalid(&'static str),
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Escapes => f.write_str("climbs above the root with '..'"),
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

/// Longest path accepted, in bytes (S3's key limit).
pub const MAX_PATH_BYTES: usize = 1024;

/// `path` relative to the root: "/" and "" are the root, a leading '/' is
/// the root too (not the server's), "." and empty segments are dropped,
/// ".." goes up a level and may not climb above the root.
pub fn normalize(path: &str) -> Result<String, PathError> {
    if path.len() > MAX_PATH_BYTES {
        return Err(PathError::Invalid("is longer than 1024 bytes"));
    }
    if path.contains('\0') {
        return Err(PathError::Invalid("contains a NUL byte"));
    }
    if path.contains('\\') {
        return Err(PathError::Invalid(
            "contains '\\': separate folders with '/'",
        ));
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop().ok_or(PathError::Escapes)?;
            }
            s => out.push(s),
        }
    }
    Ok(out.join("/"))
}

/// `path` (normalised) joined under `root` (normalised).
pub fn join(root: &str, path: &str) -> String {
    match (root.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (_, true) => root.to_string(),
        _ => format!("{root}/{path}"),
    }
}

/// Whether `path` is `root` or below it (both normalised).
pub fn is_within(root: &str, path: &str) -> bool {
    root.is_empty()
        || path == root
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Folders between `root` and `path`: 0 for an item directly in the root.
pub fn depth_below(root: &str, path: &str) -> usize {
    let rest = if root.is_empty() {
        path
    } else {
        path.strip_prefix(root)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(path)
    };
    rest.matches('/').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_root_and_never_climb_above_it() {
        assert_eq!(normalize("/").unwrap(), "");
        assert_eq!(normalize("").unwrap(), "");
        assert_eq!(normalize("/a//b/./c/").unwrap(), "a/b/c");
        assert_eq!(normalize("a/b/../c").unwrap(), "a/c");
        assert_eq!(normalize("a/.."), Ok(String::new()));
        assert_eq!(normalize(".."), Err(PathError::Escapes));
        assert_eq!(normalize("a/../../etc/passwd"), Err(PathError::Escapes));
        assert!(normalize("a\0b").is_err());
        assert!(normalize("a\\..\\b").is_err());
        assert!(normalize(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn within_and_depth_compare_whole_segments() {
        assert!(is_within("", "a/b"));
        assert!(is_within("a", "a/b"));
        assert!(is_within("a", "a"));
        assert!(!is_within("a", "ab/c"));
        assert_eq!(depth_below("", "x.csv"), 0);
        assert_eq!(depth_below("a", "a/b/c/x.csv"), 2);
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("a", "x"), "a/x");
        assert_eq!(join("a", ""), "a");
    }
}
