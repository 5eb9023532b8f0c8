//! A `postgres` connection's TLS settings as the catalog declares them:
//! every libpq sslmode, and `root_cert_pem` for the verifying ones. A mode
//! that verifies never passes against a server it cannot verify (here one
//! without TLS, or with a certificate our CA did not sign).

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use serde_json::json;
use tributary::pb::{self, ConnectionStatus};

use crate::{
    both,
    helpers::{TestApp, expect_violation, fresh_postgres, json_struct},
};

both!(a_postgres_source_verifies_tls_as_its_sslmode_says,);

/// A CA certificate of our own, as PEM.
fn ca_pem() -> String {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap()
        .pem()
}

async fn a_postgres_source_verifies_tls_as_its_sslmode_says(app: TestApp) {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let rest = url.strip_prefix("postgres://").unwrap();
    let (user, rest) = rest.split_once('@').unwrap();
    let (hostport, database) = rest.split_once('/').unwrap();
    let (host, port) = hostport.split_once(':').unwrap();
    let config = |tls: serde_json::Value| {
        let mut c = json!({
            "host": host, "port": port.parse::<u16>().unwrap(), "database": database,
            "username": user,
        });
        c.as_object_mut()
            .unwrap()
            .extend(tls.as_object().unwrap().clone());
        json_struct(c)
    };
    let create = |name: &str, tls: serde_json::Value| pb::CreateConnectionRequest {
        name: name.into(),
        provider: "postgres".into(),
        config: Some(config(tls)),
        ..Default::default()
    };
    let verify = |id: String| {
        let mut c = app.connections();
        async move {
            c.verify_connection(pb::VerifyConnectionRequest {
                connection_id: id,
                as_destination: false,
            })
            .await
            .unwrap()
            .into_inner()
        }
    };
    let ca = ca_pem();
    for mode in ["verify-ca", "verify-full"] {
        let conn = app
            .connections()
            .create_connection(create(mode, json!({"sslmode": mode, "root_cert_pem": ca})))
            .await
            .unwrap()
            .into_inner();
        let checked = verify(conn.id).await;
        assert_eq!(checked.status(), ConnectionStatus::Error, "{mode}");
        assert!(
            checked.verification_error().contains("TLS"),
            "{mode}: {checked:?}"
        );
    }
    // prefer goes on in plain when the server offers no TLS.
    let conn = app
        .connections()
        .create_connection(create("prefer", json!({"sslmode": "prefer"})))
        .await
        .unwrap()
        .into_inner();
    let checked = verify(conn.id).await;
    assert_eq!(
        checked.status(),
        ConnectionStatus::Active,
        "{:?}",
        checked.verification_error
    );
    // libpq's `allow` is not offered, nor is an empty certificate.
    expect_violation(
        app.connections()
            .create_connection(create("allow", json!({"sslmode": "allow"})))
            .await,
        "config.sslmode",
    );
    expect_violation(
        app.connections()
            .create_connection(create(
                "empty",
                json!({"sslmode": "verify-ca", "root_cert_pem": ""}),
            ))
            .await,
        "config.root_cert_pem",
    );
}
