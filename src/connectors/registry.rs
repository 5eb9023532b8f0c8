//! The providers this build has a connector for, each beside what it can do
//! with it: the catalog's `supported` is derived from here, so it cannot
//! advertise what the server does not do. A provider with a manifest
//! (`catalog/*.json`) but no entry here supports nothing yet.

use super::{ConnectorError, Settings, Source, catalog, faker, files, http, postgres, sqlite};

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

/// The provider whose connections' config is itself a manifest.
pub const HTTP_API: &str = "http_api";

/// What an HTTP source does: verify and read (OAuth when its manifest
/// fetches tokens).
fn http_support(oauth: bool) -> Support {
    Support {
        verify: true,
        browse_schema: false,
        list_files: false,
        read: true,
        destination: false,
        oauth,
    }
}

/// The built-in manifest of a SaaS provider's catalog file.
fn manifest(provider: &str) -> Option<&'static serde_json::Value> {
    catalog::get(provider)?.manifest.as_ref()
}

/// What this build does for `provider` (nothing when it has no connector).
pub fn support(provider: &str) -> Support {
    if let Some(e) = ENTRIES.iter().find(|e| e.provider == provider) {
        return e.support;
    }
    if provider == HTTP_API {
        return http_support(false);
    }
    manifest(provider)
        .map(|m| http_support(http::source::uses_oauth(m)))
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
    let defaults = || {
        catalog::get(s.provider)
            .map(|c| c.defaults.clone())
            .unwrap_or_default()
    };
    match ENTRIES.iter().find(|e| e.provider == s.provider) {
        Some(e) => (e.open)(s),
        None if s.provider == HTTP_API => {
            let config = serde_json::Value::Object(s.config.clone());
            Ok(Box::new(http::source::HttpSource::open(
                s,
                &config,
                &serde_json::Value::Null,
                false,
            )?))
        }
        None if manifest(s.provider).is_some() => Ok(Box::new(http::source::HttpSource::open(
            s,
            manifest(s.provider).unwrap_or(&serde_json::Value::Null),
            &defaults(),
            true,
        )?)),
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
            support("dropbox"),
            Support::default(),
            "no connector, no support"
        );
        assert!(support(HTTP_API).read && support(HTTP_API).verify);
    }

    #[test]
    fn every_built_in_manifest_parses_and_reads_exactly_its_catalog_resources() {
        for (provider, c) in catalog::all() {
            let Some(m) = &c.manifest else { continue };
            let parsed = http::manifest::Manifest::parse(m)
                .unwrap_or_else(|v| panic!("{provider}'s manifest: {v:?}"));
            let mut read: Vec<&str> = parsed.resources.iter().map(|r| r.name.as_str()).collect();
            let mut listed: Vec<&str> = c.resources.iter().map(|r| r.entity_key.as_str()).collect();
            read.sort_unstable();
            listed.sort_unstable();
            assert_eq!(
                read, listed,
                "{provider}: manifest resources vs catalog resources"
            );
            assert!(support(provider).read, "{provider}");
        }
    }
}
