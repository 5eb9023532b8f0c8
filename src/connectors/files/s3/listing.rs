//! Name order over S3's key order. Pure rules: no I/O.
//!
//! S3 lists a folder in key order, where a sub-folder `data` sorts as its
//! common prefix `data/`, after `data-2024.csv` and `data.csv` ('-' and '.'
//! are below '/'); `FileStore::list` pages in name order, where `data`
//! comes first. A window of S3's listing sorted by name is right except for
//! such folders whose prefix sorts beyond the window's last key: those are
//! the `hidden_folders` of that key, each checked on its own.

use crate::connectors::files::{Entry, EntryKind};

/// Name order; a file sorts before a folder of the same name (S3 allows
/// both: a key `x` beside keys `x/…`).
pub(super) fn sort_by_name(entries: &mut Vec<Entry>) {
    entries.sort_by(|a, b| {
        (a.name(), a.kind == EntryKind::Folder).cmp(&(b.name(), b.kind == EntryKind::Folder))
    });
    entries.dedup_by(|a, b| a.path == b.path && a.kind == b.kind);
}

/// The first `limit` entries, less one where the cut would part a file
/// from a folder of its name: the next page starts after that name, so
/// the two go on one page (unless a page holds one entry).
pub(super) fn truncate(entries: &mut Vec<Entry>, limit: usize) {
    let parts_a_pair =
        limit >= 2 && entries.len() > limit && entries[limit - 1].name() == entries[limit].name();
    entries.truncate(if parts_a_pair { limit - 1 } else { limit });
}

/// The names, relative to the listed folder, of the folders that sort
/// before (or with) `last_key` by name but whose prefix sorts after it by
/// key: its beginnings that a byte below '/' follows, and the key itself
/// when it is a file's (not a common prefix ending in '/').
pub(super) fn hidden_folders(last_key: &str) -> Vec<&str> {
    let bytes = last_key.as_bytes();
    let mut out: Vec<&str> = (1..bytes.len())
        .filter(|&i| bytes[i] < b'/')
        // Bytes below '/' are ASCII, so `i` is a character boundary.
        .map(|i| &last_key[..i])
        .collect();
    if !last_key.ends_with('/') && !last_key.is_empty() {
        out.push(last_key);
    }
    out
}

/// The sort key S3 gives an entry named `name`: folders as their prefix.
pub(super) fn key_of(name: &str, kind: EntryKind) -> String {
    match kind {
        EntryKind::Folder => format!("{name}/"),
        EntryKind::File => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, kind: EntryKind) -> Entry {
        Entry {
            path: name.into(),
            kind,
            size: 0,
            modified_micros: None,
        }
    }

    #[test]
    fn folders_sort_by_name_not_by_prefix() {
        let mut v = vec![
            e("data-2024.csv", EntryKind::File),
            e("data.csv", EntryKind::File),
            e("data", EntryKind::Folder),
            e("data", EntryKind::File),
            e("b", EntryKind::File),
        ];
        sort_by_name(&mut v);
        let names: Vec<_> = v.iter().map(|x| (x.name(), x.kind)).collect();
        assert_eq!(
            names,
            [
                ("b", EntryKind::File),
                ("data", EntryKind::File),
                ("data", EntryKind::Folder),
                ("data-2024.csv", EntryKind::File),
                ("data.csv", EntryKind::File)
            ]
        );
    }

    #[test]
    fn a_page_never_ends_between_a_file_and_a_folder_of_one_name() {
        let all = vec![
            e("a", EntryKind::File),
            e("x", EntryKind::File),
            e("x", EntryKind::Folder),
            e("y", EntryKind::File),
        ];
        let mut v = all.clone();
        truncate(&mut v, 2);
        assert_eq!(v, all[..1]);
        let mut v = all.clone();
        truncate(&mut v, 3);
        assert_eq!(v, all[..3]);
    }

    #[test]
    fn hidden_folders_are_the_beginnings_before_low_bytes() {
        assert_eq!(
            hidden_folders("data-2024.csv"),
            ["data", "data-2024", "data-2024.csv"]
        );
        assert_eq!(hidden_folders("data-x/"), ["data"]);
        assert_eq!(hidden_folders("plain"), ["plain"]);
        assert_eq!(hidden_folders("é-x"), ["é", "é-x"]);
    }
}
