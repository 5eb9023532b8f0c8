//! Which files of the server's disk connectors may open (DESIGN §6): only
//! inside the directories the operator allows with `--allow-local-files`,
//! after resolving `..` and symlinks, and never the server's own files (the
//! data dir, the control store, the warehouse), whatever the flags.
//!
//! Every refused path gets the same message, so a caller learns nothing
//! about a file it may not open: not whether it exists, nor what it is.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context;

use super::ConnectorError;

/// The one answer for any path a connector may not open.
pub const REFUSED: &str = "path refused: it must be the absolute path of an existing file \
     inside a directory this server allows with --allow-local-files, and not one of the \
     server's own files";

/// The one answer for any path a destination may not create or open.
pub const REFUSED_TO_WRITE: &str = "path refused: it must be an absolute path inside a \
     directory this server allows with --allow-local-files, in a directory that exists, and \
     not one of the server's own files";

/// The answer when this server allows no local files at all.
pub const NOT_ALLOWED: &str = "this server opens no local files: its operator must start it \
     with --allow-local-files DIR to let connections open SQLite files in DIR";

/// Files SQLite keeps next to a database, with the database's contents or its locks.
const SIDECARS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// The local files policy of this process; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LocalFiles {
    /// Canonical allowed directories; empty: no local file may be opened.
    allowed: Arc<[PathBuf]>,
    /// Canonical paths of the server's own directories and files.
    own: Arc<[PathBuf]>,
}

impl LocalFiles {
    /// The policy for `allowed` directories (each must exist and be a
    /// directory) that never opens anything under `own`: the server's own
    /// directories and SQLite files (with their sidecars).
    pub fn new(allowed: &[PathBuf], own: &[PathBuf]) -> anyhow::Result<Self> {
        let allowed = allowed
            .iter()
            .map(|dir| {
                let canonical = std::fs::canonicalize(dir)
                    .with_context(|| format!("--allow-local-files {}", dir.display()))?;
                anyhow::ensure!(
                    canonical.is_dir(),
                    "--allow-local-files {}: not a directory",
                    dir.display()
                );
                Ok(canonical)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        // A path not (yet) on disk cannot be canonicalized; its absolute form
        // still keeps it off limits.
        let own = own
            .iter()
            .map(|p| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)))
            .collect::<std::io::Result<Vec<_>>>()
            .context("resolving the server's own paths")?;
        Ok(Self {
            allowed: allowed.into(),
            own: own.into(),
        })
    }

    /// Fails with `LocalFilesNotAllowed` when no directory is allowed: then
    /// no connection that needs a local file can ever work.
    pub fn ensure_enabled(&self) -> Result<(), ConnectorError> {
        if self.allowed.is_empty() {
            Err(ConnectorError::LocalFilesNotAllowed)
        } else {
            Ok(())
        }
    }

    /// The canonical path of the file `path` names, when a connector may
    /// open it; `REFUSED` otherwise. Call it at every open: the file system
    /// may have changed since the last one.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, ConnectorError> {
        self.ensure_enabled()?;
        // The connection's settings, or the operator's flags, are at fault.
        let refused = || ConnectorError::Config(REFUSED.into());
        let path = Path::new(path);
        // Relative paths would depend on the server's working directory.
        if !path.is_absolute() {
            return Err(refused());
        }
        let canonical = std::fs::canonicalize(path).map_err(|_| refused())?;
        if !self.permits(&canonical) || !canonical.is_file() {
            return Err(refused());
        }
        Ok(canonical)
    }

    /// As `resolve`, for a file a destination writes: it may not exist yet,
    /// but its directory must, inside an allowed one.
    pub fn resolve_for_writing(&self, path: &str) -> Result<PathBuf, ConnectorError> {
        self.ensure_enabled()?;
        let refused = || ConnectorError::Config(REFUSED_TO_WRITE.into());
        let p = Path::new(path);
        // Anything already there, a dangling symlink included, must resolve
        // as an existing file does.
        if p.symlink_metadata().is_ok() {
            return self.resolve(path).map_err(|_| refused());
        }
        let (Some(dir), Some(name)) = (p.parent(), p.file_name()) else {
            return Err(refused());
        };
        if !p.is_absolute() || name == ".." {
            return Err(refused());
        }
        let canonical = std::fs::canonicalize(dir)
            .map_err(|_| refused())?
            .join(name);
        if !self.permits(&canonical) {
            return Err(refused());
        }
        Ok(canonical)
    }

    /// A canonical path lies inside an allowed directory and is none of the
    /// server's own files.
    fn permits(&self, canonical: &Path) -> bool {
        self.allowed.iter().any(|dir| canonical.starts_with(dir))
            && !self.own.iter().any(|own| is_own(canonical, own))
    }
}

/// `path` is `own`, lies under it, or is one of its SQLite sidecars.
fn is_own(path: &Path, own: &Path) -> bool {
    path.starts_with(own)
        || SIDECARS.iter().any(|suffix| {
            let mut sidecar = own.as_os_str().to_owned();
            sidecar.push(suffix);
            path == Path::new(&sidecar)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(r: Result<PathBuf, ConnectorError>) -> String {
        match r {
            Err(ConnectorError::Config(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn allows_files_inside_and_refuses_everything_else_alike() {
        let allowed = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let db = allowed.path().join("source.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::write(data.path().join("tributary.db"), b"").unwrap();
        std::fs::create_dir(allowed.path().join("sub")).unwrap();
        let files = LocalFiles::new(
            &[allowed.path().to_path_buf()],
            &[data.path().to_path_buf()],
        )
        .unwrap();

        let canonical = std::fs::canonicalize(&db).unwrap();
        assert_eq!(files.resolve(db.to_str().unwrap()).unwrap(), canonical);

        let data_name = data.path().file_name().unwrap().to_str().unwrap();
        let a = allowed.path().display().to_string();
        for path in [
            data.path().join("tributary.db").display().to_string(),
            format!("{a}/../{data_name}/tributary.db"),
            format!("{a}/nope.db"),
            format!("{a}/sub"),
            a.clone(),
            "source.db".into(),
            String::new(),
            "/etc/passwd".into(),
        ] {
            assert_eq!(refused(files.resolve(&path)), REFUSED, "{path}");
        }
    }

    #[test]
    fn a_destination_may_name_a_new_file_inside_but_nothing_else() {
        let allowed = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let data = allowed.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let files =
            LocalFiles::new(&[allowed.path().to_path_buf()], std::slice::from_ref(&data)).unwrap();
        let a = allowed.path().display().to_string();
        let new = files.resolve_for_writing(&format!("{a}/new.db")).unwrap();
        assert_eq!(
            new,
            std::fs::canonicalize(allowed.path())
                .unwrap()
                .join("new.db")
        );
        let dangling = allowed.path().join("link.db");
        std::os::unix::fs::symlink(outside.path().join("x.db"), &dangling).unwrap();
        let o = outside.path().display().to_string();
        for path in [
            format!("{o}/new.db"),
            format!(
                "{a}/../{}/new.db",
                outside.path().file_name().unwrap().to_str().unwrap()
            ),
            format!("{a}/missing/new.db"),
            format!("{a}/data/new.db"),
            dangling.display().to_string(),
            format!("{a}/.."),
            "new.db".into(),
        ] {
            assert_eq!(
                refused(files.resolve_for_writing(&path)),
                REFUSED_TO_WRITE,
                "{path}"
            );
        }
    }

    #[test]
    fn own_files_and_their_sidecars_stay_refused_inside_an_allowed_dir() {
        let dir = tempfile::tempdir().unwrap();
        let warehouse = dir.path().join("warehouse.db");
        for name in [
            "warehouse.db",
            "warehouse.db-wal",
            "warehouse.db-x",
            "other.db",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let files = LocalFiles::new(&[dir.path().to_path_buf()], &[warehouse]).unwrap();
        let at = |name: &str| dir.path().join(name).display().to_string();
        assert_eq!(refused(files.resolve(&at("warehouse.db"))), REFUSED);
        assert_eq!(refused(files.resolve(&at("warehouse.db-wal"))), REFUSED);
        assert!(files.resolve(&at("warehouse.db-x")).is_ok());
        assert!(files.resolve(&at("other.db")).is_ok());
    }

    #[test]
    fn no_allowed_dir_allows_nothing_and_a_missing_dir_is_an_error() {
        let none = LocalFiles::default();
        assert!(matches!(
            none.resolve("/etc/passwd"),
            Err(ConnectorError::LocalFilesNotAllowed)
        ));
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let e = LocalFiles::new(std::slice::from_ref(&missing), &[]).unwrap_err();
        assert!(format!("{e:#}").contains("--allow-local-files"), "{e:#}");
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        let e = LocalFiles::new(&[file], &[]).unwrap_err();
        assert!(format!("{e:#}").contains("not a directory"), "{e:#}");
    }
}
