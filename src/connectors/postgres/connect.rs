//! A tokio-postgres client from a connection's settings, TLS by rustls.
//!
//! TLS is tokio-postgres-rustls (the MakeTlsConnect of rustls for
//! tokio-postgres, with channel binding): it runs on the rustls 0.23 and
//! tokio-rustls 0.26 that tonic and sqlx already bring, so no second TLS
//! stack (OpenSSL) enters the build. The crypto provider is ring, chosen
//! explicitly rather than by the process default.
//!
//! sslmode means what it means to libpq: `disable` never uses TLS;
//! `prefer` uses it when the server offers it, else goes on in plain (a
//! TLS handshake that fails is an error, not a retry in plain as in libpq);
//! `require` insists on it but, without a CA to check against, does not
//! verify the certificate (as libpq); `verify-ca` checks the chain against
//! `root_cert_pem` (else the public web roots); `verify-full` also checks
//! the host name.

use std::{collections::BTreeMap, fmt, sync::Arc, time::Duration};

use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use serde_json::{Map, Value};
use tokio_postgres::{
    Client, Config, NoTls, Socket,
    config::SslMode as PgSslMode,
    tls::{MakeTlsConnect, TlsConnect},
};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{super::config_str, error::PgReadError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// A connection's `sslmode` setting; unset means `prefer`, as in libpq.
    pub fn parse(setting: Option<&str>) -> Result<Self, PgReadError> {
        Ok(match setting {
            None | Some("prefer") => Self::Prefer,
            Some("disable") => Self::Disable,
            Some("require") => Self::Require,
            Some("verify-ca") => Self::VerifyCa,
            Some("verify-full") => Self::VerifyFull,
            Some(other) => {
                return Err(PgReadError::Config(format!(
                    "sslmode '{other}' is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }
}

/// Where and as whom to connect.
#[derive(Clone)]
pub struct ConnectOptions {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub password: Option<String>,
    pub sslmode: SslMode,
    /// PEM certificates of the CAs verify-ca and verify-full trust; the
    /// public web roots when None.
    pub root_cert_pem: Option<String>,
    pub connect_timeout: Duration,
}

/// How long a connection attempt may take, as for the sqlx checks.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl ConnectOptions {
    /// The options of a `postgres` connection's settings (see
    /// catalog/postgres.json): the same defaults as the verify/browse path.
    pub fn from_settings(
        config: &Map<String, Value>,
        credentials: &BTreeMap<String, String>,
    ) -> Result<Self, PgReadError> {
        let port = match config.get("port") {
            None => 5432,
            Some(p) => p
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| PgReadError::Config("port is not a TCP port number".into()))?,
        };
        let text = |key, default: &str| config_str(config, key).unwrap_or(default).to_string();
        Ok(Self {
            host: text("host", "localhost"),
            port,
            database: text("database", "postgres"),
            username: text("username", "postgres"),
            password: credentials.get("password").cloned(),
            sslmode: SslMode::parse(config_str(config, "sslmode"))?,
            // A CA certificate is public: it is config, not a credential.
            root_cert_pem: config_str(config, "root_cert_pem").map(str::to_string),
            connect_timeout: CONNECT_TIMEOUT,
        })
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("sslmode", &self.sslmode)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

/// A client whose connection ends when it is dropped. tokio-postgres keeps
/// a dropped client's connection until the server has sent every row of a
/// query still running: a cancelled run would make the source database
/// finish a whole-table COPY for nobody. Dropping this closes the socket
/// instead, and the server ends the query at its next write.
pub struct PgClient {
    client: Client,
    connection: tokio::task::AbortHandle,
}

impl std::ops::Deref for PgClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for PgClient {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Drop for PgClient {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Connects and authenticates; the connection runs on its own task until
/// the client is dropped (see `PgClient`).
pub async fn connect(options: &ConnectOptions) -> Result<PgClient, PgReadError> {
    let mut config = Config::new();
    config
        .host(&options.host)
        .port(options.port)
        .dbname(&options.database)
        .user(&options.username)
        .application_name("tributary")
        .connect_timeout(options.connect_timeout);
    if let Some(password) = &options.password {
        config.password(password);
    }
    let connecting = async {
        match options.sslmode {
            SslMode::Disable => establish(config.ssl_mode(PgSslMode::Disable), NoTls).await,
            mode => {
                let pg_mode = match mode {
                    SslMode::Prefer => PgSslMode::Prefer,
                    _ => PgSslMode::Require,
                };
                let tls =
                    MakeRustlsConnect::new(tls_config(mode, options.root_cert_pem.as_deref())?);
                establish(config.ssl_mode(pg_mode), tls).await
            }
        }
    };
    // connect_timeout bounds each TCP connect; this bounds the whole
    // handshake (a server that accepts and then says nothing).
    tokio::time::timeout(options.connect_timeout, connecting)
        .await
        .unwrap_or_else(|_| {
            Err(PgReadError::Failed(format!(
                "cannot connect: no answer within {:?}",
                options.connect_timeout
            )))
        })
}

async fn establish<T>(config: &Config, tls: T) -> Result<PgClient, PgReadError>
where
    T: MakeTlsConnect<Socket> + Send,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| PgReadError::driver("cannot connect", &e))?;
    let connection = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "postgres connection ended with an error");
        }
    })
    .abort_handle();
    Ok(PgClient { client, connection })
}

fn tls_config(mode: SslMode, root_cert_pem: Option<&str>) -> Result<ClientConfig, PgReadError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PgReadError::Failed(format!("cannot set up TLS: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(root_store(root_cert_pem)?),
                provider,
            )
            .build()
            .map_err(|e| PgReadError::Config(format!("cannot set up TLS: {e}")))?;
            if mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
        _ => Arc::new(NoVerification(provider)),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn root_store(pem: Option<&str>) -> Result<RootCertStore, PgReadError> {
    let Some(pem) = pem else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert =
            cert.map_err(|_| PgReadError::Config("the root certificate is not valid PEM".into()))?;
        store
            .add(cert)
            .map_err(|e| PgReadError::Config(format!("the root certificate is not usable: {e}")))?;
    }
    if store.is_empty() {
        return Err(PgReadError::Config(
            "the root certificate PEM holds no certificate".into(),
        ));
    }
    Ok(store)
}

/// prefer and require: encrypted, not authenticated (libpq's meaning).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// verify-ca: the chain must lead to a trusted CA; the name is not checked.
/// rustls checks the name after the chain, so a name error means the chain
/// was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that stops reading (cancelled, failed, shut down) drops its
    /// client: the server must stop the COPY at once, not run it to the end.
    #[tokio::test]
    async fn a_dropped_client_ends_its_copy_on_the_server() {
        let url = match std::env::var("TRIBUTARY_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("TRIBUTARY_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "TRIBUTARY_REQUIRE_POSTGRES=1 but TRIBUTARY_TEST_POSTGRES_URL is unset"
                );
                return;
            }
        };
        let options = crate::warehouse::postgres::parse_url(&url).unwrap();
        let marker = format!("abandoned_{}", uuid::Uuid::new_v4().simple());
        // 1 kB rows, 10 ms each: ~17 minutes in all, a write every ~80 ms.
        let copy = format!(
            "COPY (SELECT repeat('x', 1000) AS {marker}, pg_sleep(0.01) \
             FROM generate_series(1, 100000)) TO STDOUT"
        );
        let client = connect(&options).await.unwrap();
        let stream = client.copy_out(copy.as_str()).await.unwrap();
        let admin = connect(&options).await.unwrap();
        let running = || async {
            let row = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' \
                     AND pid <> pg_backend_pid()",
                    &[&marker],
                )
                .await
                .unwrap();
            row.get::<_, i64>(0)
        };
        assert_eq!(running().await, 1, "the COPY runs");
        drop(stream);
        drop(client);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while running().await > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server still runs the abandoned COPY"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    #[test]
    fn options_from_settings() {
        let config = serde_json::json!({"host": "db", "database": "app", "username": "r", "sslmode": "require"});
        let credentials = BTreeMap::from([("password".to_string(), "pw".to_string())]);
        let o = ConnectOptions::from_settings(config.as_object().unwrap(), &credentials).unwrap();
        assert_eq!(
            (o.host.as_str(), o.port, o.database.as_str()),
            ("db", 5432, "app")
        );
        assert_eq!(
            (o.username.as_str(), o.password.as_deref()),
            ("r", Some("pw"))
        );
        assert_eq!(o.sslmode, SslMode::Require);
        assert_eq!(o.root_cert_pem, None);
        let ca = serde_json::json!({"sslmode": "verify-ca", "root_cert_pem": "PEM"});
        let o = ConnectOptions::from_settings(ca.as_object().unwrap(), &credentials).unwrap();
        assert_eq!(
            (o.sslmode, o.root_cert_pem.as_deref()),
            (SslMode::VerifyCa, Some("PEM"))
        );
        let bad = serde_json::json!({"port": 70000});
        assert!(ConnectOptions::from_settings(bad.as_object().unwrap(), &credentials).is_err());
        let bad = serde_json::json!({"sslmode": "allow"});
        assert!(ConnectOptions::from_settings(bad.as_object().unwrap(), &credentials).is_err());
    }
}
