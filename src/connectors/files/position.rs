//! Where a file set's read stands: the file (by modified time and path) and
//! how many of its rows are committed. Files are read in (modified, path)
//! order, so a position says which files are done; a rewritten file has a
//! newer modified time and comes after it again.

use serde::{Deserialize, Serialize};

use crate::connectors::ConnectorError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The file's modification time, RFC 3339 with microseconds.
    pub modified: String,
    pub file: String,
    /// Rows of the file committed so far; absent once the whole file is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// What a read does with one file, given the position it resumes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    Skip,
    /// Read it, skipping its first N rows (committed by an earlier attempt).
    From(u64),
}

impl Position {
    pub fn new(modified_micros: Option<i64>, file: &str, rows: Option<u64>) -> Self {
        Self {
            modified: rfc3339(modified_micros.unwrap_or(0)),
            file: file.to_string(),
            rows,
        }
    }

    pub fn parse(text: &str) -> Result<Self, ConnectorError> {
        let p: Self = serde_json::from_str(text).map_err(|_| {
            ConnectorError::Config(format!(
                "the committed position {text} is not a file set's position; start a FULL_REFRESH run"
            ))
        })?;
        micros(&p.modified)?;
        Ok(p)
    }

    pub fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// How to read the file at (`modified_micros`, `path`) after this
    /// position.
    pub fn resume(
        &self,
        modified_micros: Option<i64>,
        path: &str,
    ) -> Result<Resume, ConnectorError> {
        let mine = (micros(&self.modified)?, self.file.as_str());
        let theirs = (modified_micros.unwrap_or(0), path);
        Ok(match theirs.cmp(&mine) {
            std::cmp::Ordering::Less => Resume::Skip,
            std::cmp::Ordering::Equal => match self.rows {
                None => Resume::Skip,
                Some(n) => Resume::From(n),
            },
            std::cmp::Ordering::Greater => Resume::From(0),
        })
    }
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn micros(text: &str) -> Result<i64, ConnectorError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_micros())
        .map_err(|_| {
            ConnectorError::Config(format!(
                "the committed position's time {text} is not RFC 3339"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_files_by_modified_time_then_path() {
        let t = 1_733_500_000_123_456;
        let done = Position::new(Some(t), "b.csv", None);
        let text = done.text();
        assert_eq!(
            text,
            r#"{"modified":"2024-12-06T15:46:40.123456Z","file":"b.csv"}"#
        );
        let back = Position::parse(&text).unwrap();
        assert_eq!(back, done);
        assert_eq!(back.resume(Some(t), "b.csv").unwrap(), Resume::Skip);
        assert_eq!(back.resume(Some(t), "a.csv").unwrap(), Resume::Skip);
        assert_eq!(back.resume(Some(t), "c.csv").unwrap(), Resume::From(0));
        assert_eq!(back.resume(Some(t - 1), "z.csv").unwrap(), Resume::Skip);
        // Rewritten in place: a newer time, read again in full.
        assert_eq!(back.resume(Some(t + 1), "b.csv").unwrap(), Resume::From(0));
        let mid = Position::new(Some(t), "b.csv", Some(120));
        assert_eq!(mid.resume(Some(t), "b.csv").unwrap(), Resume::From(120));
        assert!(Position::parse("42").is_err());
    }
}
