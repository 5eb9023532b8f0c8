//! TLS and mutual TLS (`--tls-cert`, `--tls-key`, `--tls-client-ca`), with
//! certificates made for the test: a CA, a server cert for localhost, and
//! client certs signed by the CA or by a stranger.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tributary::{app::App, config::ServeArgs};

struct Pki {
    dir: TempDir,
    ca_pem: String,
}

/// A certificate (pem, key pem) for `name`, signed by `issuer`.
fn leaf(name: &str, issuer: &CertifiedIssuer<'_, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .signed_by(&key, issuer)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// Starts a TLS server (mutual when `require_client_cert`); returns its port and a stopper.
async fn serve_tls(
    pki: &Pki,
    server: &(String, String),
    require_client_cert: bool,
) -> (u16, oneshot::Sender<()>) {
    let d = pki.dir.path();
    std::fs::write(d.join("server.pem"), &server.0).unwrap();
    std::fs::write(d.join("server.key"), &server.1).unwrap();
    std::fs::write(d.join("ca.pem"), &pki.ca_pem).unwrap();
    let mut args = ServeArgs::embedded(d.join("data"));
    args.tls_cert = Some(d.join("server.pem"));
    args.tls_key = Some(d.join("server.key"));
    args.tls_client_ca = require_client_cert.then(|| d.join("ca.pem"));
    let app = App::build(args).await.unwrap();
    let port = app.local_addr().port();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    (port, stop)
}

async fn connect(
    port: u16,
    ca_pem: &str,
    identity: Option<&(String, String)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Endpoint::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

async fn serving(channel: Channel) -> bool {
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .is_ok_and(|r| r.into_inner().status == 1)
}

#[tokio::test]
async fn tls_serves_only_tls() {
    let ca = ca();
    let pki = Pki {
        dir: tempfile::tempdir().unwrap(),
        ca_pem: ca.pem(),
    };
    let (port, _stop) = serve_tls(&pki, &leaf("localhost", &ca), false).await;
    assert!(serving(connect(port, &pki.ca_pem, None).await.unwrap()).await);
    // A client that trusts another CA refuses the server.
    assert!(connect(port, &self::ca().pem(), None).await.is_err());
    // Plaintext HTTP/2 gets nowhere.
    let plain = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await;
    assert!(plain.is_err() || !serving(plain.unwrap()).await);
}

#[tokio::test]
async fn mutual_tls_requires_a_client_cert_from_the_ca() {
    let ca = ca();
    let pki = Pki {
        dir: tempfile::tempdir().unwrap(),
        ca_pem: ca.pem(),
    };
    let (port, _stop) = serve_tls(&pki, &leaf("localhost", &ca), true).await;
    let trusted = leaf("client", &ca);
    assert!(serving(connect(port, &pki.ca_pem, Some(&trusted)).await.unwrap()).await);
    // No client certificate, or one from a stranger: refused in the handshake.
    for identity in [None, Some(leaf("client", &self::ca()))] {
        let refused = match connect(port, &pki.ca_pem, identity.as_ref()).await {
            Err(_) => true,
            Ok(ch) => !serving(ch).await,
        };
        assert!(refused);
    }
}
