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
    use http::source::HttpSource;
    if let Some(e) = ENTRIES.iter().find(|e| e.provider == s.provider) {
        return (e.open)(s);
    }
    if s.provider == HTTP_API {
        let manifest = serde_json::Value::Object(s.config.clone());
        return Ok(Box::new(HttpSource::open(
            s,
            &manifest,
            &serde_json::Value::Null,
            false,
        )?));
    }
    if let Some(c) = catalog::get(s.provider)
        && let Some(manifest) = &c.manifest
    {
        return Ok(Box::new(HttpSource::open(s, manifest, &c.defaults, true)?));
    }
    let known: Vec<&str> = catalog::all()
        .keys()
        .map(String::as_str)
        .filter(|p| support(p).verify)
        .collect();
    Err(ConnectorError::Unsupported(format!(
        "verifying {} connections is not available in this version; {} are",
        s.provider,
        known.join(", ")
    )))
}

/// Every provider of the catalog with what this build does for it, as the
/// README's Markdown table (kept equal to it by a test).
pub fn markdown_table() -> String {
    let yes = |b: bool| if b { "✓" } else { "" };
    let mut out = String::from(
        "| provider | name | verify | browse schema | list files | read | destination | OAuth | entities (incremental) |\n\
         | --- | --- | :-: | :-: | :-: | :-: | :-: | :-: | --- |\n",
    );
    for (key, c) in catalog::all() {
        let s = support(key);
        let entities = if c.dynamic_resources {
            "named by the connection".to_string()
        } else {
            let listed: Vec<&crate::domain::catalog::ResourceSpec> = c
                .resources
                .iter()
                .filter(|r| r.entity_key != crate::domain::catalog::TEMPLATE)
                .collect();
            let incremental = listed.iter().filter(|r| !r.cursor_field.is_empty()).count();
            format!("{} ({incremental})", listed.len())
        };
        out.push_str(&format!(
            "| `{key}` | {} | {} | {} | {} | {} | {} | {} | {entities} |\n",
            c.display_name,
            yes(s.verify),
            yes(s.browse_schema),
            yes(s.list_files),
            yes(s.read),
            yes(s.destination),
            yes(s.oauth),
        ));
    }
    out
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

    /// The README's provider table is this build's: regenerate it with
    /// `TRIBUTARY_WRITE_README=1 cargo test --lib readme`.
    #[test]
    fn the_readme_lists_every_provider_as_the_registry_says() {
        const BEGIN: &str = "<!-- providers:begin (generated from the registry: TRIBUTARY_WRITE_README=1 cargo test --lib readme) -->\n";
        const END: &str = "<!-- providers:end -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let (head, rest) = readme
            .split_once(BEGIN)
            .expect("the README's provider table markers");
        let (table, tail) = rest
            .split_once(END)
            .expect("the README's provider table end");
        let want = markdown_table();
        if std::env::var_os("TRIBUTARY_WRITE_README").is_some() {
            std::fs::write(path, format!("{head}{BEGIN}{want}{END}{tail}")).unwrap();
        } else {
            assert_eq!(
                table, want,
                "README.md's provider table is stale: regenerate it"
            );
        }
    }
}
