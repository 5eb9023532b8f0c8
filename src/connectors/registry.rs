//! The providers this build has a connector for, each beside what it can do
//! with it: the catalog's `supported` is derived from here, so it cannot
//! advertise what the server does not do. A provider with a manifest
//! (`catalog/*.json`) but no entry here supports nothing yet.

use super::{ConnectorError, Settings, Source, faker, files, postgres, sqlite};

/// What this build does for a provider's connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Support {
    pub verify: bool,
    pub browse_schema: bool,
    pub list_files: bool,
    pub read: bool,
    pub destination: bool,
    pub oauth: bool,
}

struct Entry {
    provider: &'static str,
    support: Support,
    open: fn(&Settings<'_>) -> Result<Box<dyn Source>, ConnectorError>,
}

const DATABASE: Support = Support {
    verify: true,
    browse_schema: true,
    list_files: false,
    read: true,
    // `warehouse::connections` opens them as destinations.
    destination: true,
    oauth: false,
};

const FILE_STORE: Support = Support {
    verify: true,
    browse_schema: false,
    list_files: true,
    read: true,
    destination: false,
    oauth: false,
};

const ENTRIES: &[Entry] = &[
    Entry {
        provider: "faker",
        support: Support {
            verify: true,
            browse_schema: false,
            list_files: false,
            read: true,
            destination: false,
            oauth: false,
        },
        open: open_faker,
    },
    Entry {
        provider: "postgres",
        support: DATABASE,
        open: open_postgres,
    },
    Entry {
        provider: "sqlite",
        support: DATABASE,
        open: open_sqlite,
    },
    Entry {
        provider: "s3",
        support: FILE_STORE,
        open: open_s3,
    },
    Entry {
        provider: "sftp",
        support: FILE_STORE,
        open: open_sftp,
    },
];

fn open_s3(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    Ok(Box::new(files::FileSource::new(files::s3::open(s)?)))
}

fn open_sftp(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    Ok(Box::new(files::FileSource::new(files::sftp::open(s)?)))
}

fn open_faker(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    Ok(Box::new(faker::Faker::new(s)?))
}

fn open_postgres(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    Ok(Box::new(postgres::Postgres::new(s)))
}

fn open_sqlite(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    Ok(Box::new(sqlite::Sqlite::new(s)?))
}

/// What this build does for `provider` (nothing when it has no connector).
pub fn support(provider: &str) -> Support {
    ENTRIES
        .iter()
        .find(|e| e.provider == provider)
        .map(|e| e.support)
        .unwrap_or_default()
}

/// The providers whose connections can be a sync's destination.
pub fn destinations() -> Vec<&'static str> {
    ENTRIES
        .iter()
        .filter(|e| e.support.destination)
        .map(|e| e.provider)
        .collect()
}

/// The connector of a connection's provider.
pub fn open(s: &Settings<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    match ENTRIES.iter().find(|e| e.provider == s.provider) {
        Some(e) => (e.open)(s),
        None => {
            let known: Vec<&str> = ENTRIES.iter().map(|e| e.provider).collect();
            Err(ConnectorError::Unsupported(format!(
                "verifying {} connections is not available in this version; {} are",
                s.provider,
                known.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connector_has_a_manifest_and_says_what_it_does() {
        for e in ENTRIES {
            assert!(
                super::super::catalog::get(e.provider).is_some(),
                "{} has a connector but no catalog entry",
                e.provider
            );
            assert!(e.support.verify, "{}", e.provider);
        }
        assert_eq!(
            support("shopify"),
            Support::default(),
            "no connector, no support"
        );
    }
}
