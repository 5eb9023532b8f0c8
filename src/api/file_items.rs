//! File store entries and selection reports as the API shows them.

use crate::{
    connectors::files::{
        Entry, EntryKind,
        selection::{Problem, Resolved},
    },
    pb,
};

pub fn file_item(e: Entry) -> pb::FileItem {
    pb::FileItem {
        name: e.name().to_string(),
        kind: match e.kind {
            EntryKind::File => pb::FileKind::File,
            EntryKind::Folder => pb::FileKind::Folder,
        } as i32,
        mime_type: match e.kind {
            EntryKind::File => mime_type(&e.path).to_string(),
            EntryKind::Folder => String::new(),
        },
        size: i64::try_from(e.size).unwrap_or(i64::MAX),
        modified_at: super::convert::ts_opt(e.modified_micros),
        id: e.path,
    }
}

/// The media type of a file by its extension (a compressed file's
/// compression, as HTTP names it); octet-stream when unknown.
fn mime_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => "text/csv",
        Some("tsv") => "text/tab-separated-values",
        Some("jsonl" | "ndjson") => "application/x-ndjson",
        Some("json") => "application/json",
        Some("parquet") => "application/vnd.apache.parquet",
        Some("txt") => "text/plain",
        Some("gz") => "application/gzip",
        Some("zip") => "application/zip",
        Some("xml") => "application/xml",
        _ => "application/octet-stream",
    }
}

pub fn file_selection(r: Resolved) -> pb::ValidateFileSelectionResponse {
    let details: Vec<pb::FileSelectionViolation> = r
        .violations
        .into_iter()
        .map(|v| pb::FileSelectionViolation {
            item: v.item,
            problem: match v.problem {
                Problem::NotFound => pb::FileSelectionProblem::NotFound,
                Problem::OutsideRoot => pb::FileSelectionProblem::OutsideRoot,
                Problem::EscapesRoot => pb::FileSelectionProblem::EscapesRoot,
                Problem::InvalidPath => pb::FileSelectionProblem::InvalidPath,
                Problem::TooManyItems => pb::FileSelectionProblem::TooManyItems,
                Problem::TooManyBytes => pb::FileSelectionProblem::TooManyBytes,
                Problem::TooDeep => pb::FileSelectionProblem::TooDeep,
            } as i32,
            message: v.message,
        })
        .collect();
    pb::ValidateFileSelectionResponse {
        valid: details.is_empty(),
        total_items: r.files.len() as i64,
        total_bytes: i64::try_from(r.total_bytes).unwrap_or(i64::MAX),
        max_depth: i32::try_from(r.max_depth).unwrap_or(i32::MAX),
        violations: details.iter().map(|d| d.message.clone()).collect(),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_the_extension() {
        assert_eq!(mime_type("a/b.CSV"), "text/csv");
        assert_eq!(mime_type("x.parquet"), "application/vnd.apache.parquet");
        assert_eq!(mime_type("x.csv.gz"), "application/gzip");
        assert_eq!(mime_type("README"), "application/octet-stream");
    }
}
