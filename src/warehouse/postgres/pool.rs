//! The warehouse's connections: a `postgres://` URL parsed into the
//! connector's options (so the destination shares the source's rustls TLS),
//! and a small pool of clients.
//!
//! The pool is a few slots of clients behind a semaphore rather than a pool
//! crate (deadpool-postgres): the warehouse needs nothing more (no health
//! checks beyond `is_closed`, no recycling hooks), it adds no dependency,
//! and connections are made lazily through the connector's TLS setup. A
//! slot whose connection died reconnects on its next checkout.

use std::{
    ops::{Deref, DerefMut},
    str::FromStr,
};

use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard, Semaphore, SemaphorePermit};
use tokio_postgres::{Client, Config, config::Host};

use crate::{
    connectors::postgres::{
        connect::{CONNECT_TIMEOUT, ConnectOptions, PgClient, SslMode, connect},
        error::PgReadError,
    },
    warehouse::{DestinationError, Result},
};

/// Connections per namespace: runs of one namespace write concurrently
/// (an executor's runs, fan-out windows), but each write holds its client
/// for one transaction only.
pub const POOL_SIZE: usize = 4;

/// How long a statement waits for a lock (a reader's long query holding
/// the table a swap drops, as SQLite's busy timeout): past it the call
/// fails as passing (55P03) rather than wedging the run.
pub const LOCK_TIMEOUT_SECS: u64 = 60;

/// The options of a `postgres://` (or `postgresql://`) URL. Errors never
/// repeat the URL: it may hold the password.
pub fn parse_url(url: &str) -> Result<ConnectOptions> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(DestinationError::failed(
            "a PostgreSQL warehouse URL must start with postgres:// or postgresql://",
        ));
    }
    // tokio-postgres knows sslmode up to `require` only: the TLS settings
    // are read here, with libpq's meaning (see `connect`).
    let (url, tls) = take_tls_params(url);
    let config = Config::from_str(&url).map_err(|e| {
        DestinationError::failed(format!("the PostgreSQL warehouse URL is invalid: {e}"))
    })?;
    let mut options = options_of(&config)?;
    if let Some(mode) = tls.sslmode {
        options.sslmode = SslMode::parse(Some(&mode)).map_err(|e| {
            DestinationError::failed(format!("the PostgreSQL warehouse URL is invalid: {e}"))
        })?;
    }
    if let Some(path) = tls.sslrootcert {
        let pem = std::fs::read_to_string(&path).map_err(|e| {
            DestinationError::failed(format!(
                "cannot read the warehouse's sslrootcert {path}: {e}"
            ))
        })?;
        options.root_cert_pem = Some(pem);
    }
    Ok(options)
}

/// The TLS parameters of a URL's query, which the connector reads itself.
#[derive(Debug, Default, PartialEq, Eq)]
struct TlsParams {
    sslmode: Option<String>,
    /// A PEM file of the CAs verify-ca and verify-full trust.
    sslrootcert: Option<String>,
}

/// The URL without its `sslmode` and `sslrootcert` parameters, and those.
fn take_tls_params(url: &str) -> (String, TlsParams) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), TlsParams::default());
    };
    let mut tls = TlsParams::default();
    let mut rest = Vec::new();
    for param in query.split('&') {
        match param.split_once('=') {
            Some(("sslmode", v)) => tls.sslmode = Some(v.to_string()),
            Some(("sslrootcert", v)) => tls.sslrootcert = Some(v.to_string()),
            _ => rest.push(param),
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, tls)
}

/// The connector's options of a tokio-postgres `Config` (its first host).
pub fn options_of(config: &Config) -> Result<ConnectOptions> {
    let host = match config.get_hosts().first() {
        None => "localhost".to_string(),
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
    };
    let username = config.get_user().unwrap_or("postgres").to_string();
    let password = match config.get_password() {
        None => None,
        Some(p) => Some(String::from_utf8(p.to_vec()).map_err(|_| {
            DestinationError::failed("the PostgreSQL warehouse password is not UTF-8")
        })?),
    };
    let sslmode = match config.get_ssl_mode() {
        tokio_postgres::config::SslMode::Disable => SslMode::Disable,
        tokio_postgres::config::SslMode::Require => SslMode::Require,
        _ => SslMode::Prefer,
    };
    Ok(ConnectOptions {
        host,
        port: config.get_ports().first().copied().unwrap_or(5432),
        // libpq's default database is the user's.
        database: config.get_dbname().unwrap_or(&username).to_string(),
        username,
        password,
        sslmode,
        root_cert_pem: None,
        connect_timeout: config
            .get_connect_timeout()
            .copied()
            .unwrap_or(CONNECT_TIMEOUT),
    })
}

/// Where the warehouse is, for messages: never the password.
pub fn label(options: &ConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        options.username, options.host, options.port, options.database
    )
}

pub struct Pool {
    options: ConnectOptions,
    /// As many permits as slots: a permit guarantees a free slot.
    permits: Semaphore,
    /// Each slot holds its client once one was made.
    slots: Vec<Mutex<Option<PgClient>>>,
}

/// A checked-out client, back in its slot when dropped.
pub struct Pooled<'a> {
    client: MappedMutexGuard<'a, PgClient>,
    _permit: SemaphorePermit<'a>,
}

impl Pool {
    pub fn new(options: ConnectOptions, size: usize) -> Self {
        let size = size.max(1);
        Self {
            options,
            permits: Semaphore::new(size),
            slots: (0..size).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// A free slot's client, connecting when the slot has none (or its
    /// connection died); waits while every connection is in use.
    pub async fn get(&self) -> Result<Pooled<'_>> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| DestinationError::failed("the warehouse pool is closed"))?;
        let mut slot = self
            .slots
            .iter()
            .find_map(|s| s.try_lock().ok())
            .ok_or_else(|| DestinationError::transient("no free warehouse connection"))?;
        if slot.as_ref().is_none_or(|c| c.is_closed()) {
            *slot = None;
            let client = connect(&self.options).await.map_err(|e| {
                let message = format!(
                    "cannot connect to the warehouse {}: {e}",
                    label(&self.options)
                );
                match e {
                    // Wrong credentials or TLS settings: no retry mends them.
                    PgReadError::Auth(_) => DestinationError::auth(message),
                    PgReadError::Config(_) => DestinationError::config(message),
                    // Refused or unreachable servers may come back.
                    PgReadError::Failed(_) => DestinationError::transient(message),
                }
            })?;
            client
                .batch_execute(&format!("SET lock_timeout = '{LOCK_TIMEOUT_SECS}s'"))
                .await
                .map_err(|e| {
                    DestinationError::transient(format!(
                        "cannot set up the warehouse connection {}: {}",
                        label(&self.options),
                        super::error::pg("setting lock_timeout")(e)
                    ))
                })?;
            *slot = Some(client);
        }
        let client = MutexGuard::try_map(slot, Option::as_mut)
            .map_err(|_| DestinationError::transient("no free warehouse connection"))?;
        Ok(Pooled {
            client,
            _permit: permit,
        })
    }
}

impl Deref for Pooled<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn tls_settings_are_read_with_libpq_meaning() {
        let o = parse_url("postgres://u@db/dw?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(o.sslmode, SslMode::VerifyFull);
        assert_eq!(o.database, "dw");
        let o = parse_url("postgres://u@db/dw?sslmode=disable").unwrap();
        assert_eq!(o.sslmode, SslMode::Disable);
        // Unset: prefer, as libpq; the database defaults to the user's.
        let o = parse_url("postgresql://u@db").unwrap();
        assert_eq!((o.sslmode, o.database.as_str()), (SslMode::Prefer, "u"));
        assert!(parse_url("postgres://u@db/dw?sslmode=allow").is_err());

        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("ca.pem");
        let e = parse_url(&format!(
            "postgres://u:pw@db/dw?sslmode=verify-ca&sslrootcert={}",
            missing.display()
        ))
        .expect_err("no such file");
        assert!(
            e.message.contains("sslrootcert") && !e.message.contains("pw@"),
            "{e}"
        );
        std::fs::write(&missing, "PEM").unwrap();
        let o = parse_url(&format!(
            "postgres://u@db/dw?sslrootcert={}&sslmode=verify-ca",
            missing.display()
        ))
        .unwrap();
        assert_eq!(o.root_cert_pem.as_deref(), Some("PEM"));
        assert_eq!(o.sslmode, SslMode::VerifyCa);
    }

    #[tokio::test]
    async fn pooled_connections_wait_for_locks_a_bounded_time() {
        let Some(db) =
            super::super::test_db::fresh("pooled_connections_wait_for_locks_a_bounded_time").await
        else {
            return;
        };
        let pool = Pool::new(options_of(&db.config()).unwrap(), 1);
        let client = pool.get().await.unwrap();
        let row = client.query_one("SHOW lock_timeout", &[]).await.unwrap();
        assert_eq!(
            row.get::<_, String>(0),
            format!("{}min", LOCK_TIMEOUT_SECS / 60)
        );
    }

    #[tokio::test]
    async fn an_unreachable_warehouse_is_passing_and_unnamed_by_its_password() {
        // Port 1 on loopback: refused at once.
        let pool = Pool::new(parse_url("postgres://u:s3cret@127.0.0.1:1/dw").unwrap(), 1);
        let e = pool.get().await.err().expect("refused");
        assert_eq!(e.kind, crate::domain::failure::FailureKind::Transient);
        assert!(
            e.message.contains("127.0.0.1:1/dw") && !e.message.contains("s3cret"),
            "{e}"
        );
    }
}
