//! Errors (DESIGN §7): google.rpc details on every error, the codec's
//! failures mapped (oversized: RESOURCE_EXHAUSTED; undecodable:
//! INVALID_ARGUMENT), request ids, no INTERNAL from anything a client sends,
//! and (DESIGN §6) no credential in any response, error or log line.

use std::time::Duration;

use prost::{
    Message,
    bytes::{Buf, BufMut},
};
use tonic::{
    Code, Request, Response, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::MetadataValue,
};
use tonic_types::StatusExt;
use tributary::pb::{self, ApiKeyRole};

use crate::{
    both,
    helpers::{TestApp, domain, eventually, expect_code, expect_violation, json_struct, logs},
};

both!(
    every_error_carries_error_info,
    not_found_and_already_exists_carry_resource_info,
    oversized_requests_are_resource_exhausted,
    undecodable_bodies_are_invalid_argument,
    responses_carry_a_request_id,
    no_credential_appears_in_responses_errors_or_logs,
);

const DOMAIN: &str = "tributary.dev";

/// Asserts the google.rpc ErrorInfo of an error: our domain and `want_reason`.
#[track_caller]
fn error_info(s: &Status, want_reason: &str) {
    let info = s
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {s:?}"));
    assert_eq!(info.domain, DOMAIN, "{s:?}");
    assert_eq!(info.reason, want_reason, "{s:?}");
}

async fn every_error_carries_error_info(app: TestApp) {
    let mut c = app.connections();
    let conn = app.faker_connection("Errors").await;

    // NOT_FOUND
    let s = expect_code(
        c.get_connection(pb::GetConnectionRequest {
            connection_id: uuid::Uuid::now_v7().to_string(),
        })
        .await,
        Code::NotFound,
    );
    error_info(&s, "NOT_FOUND");

    // INVALID_ARGUMENT, with one FieldViolation per bad field.
    let s = expect_violation(
        c.create_connection(pb::CreateConnectionRequest {
            name: String::new(),
            provider: "oracle".into(),
            slug: "Bad Slug".into(),
            ..Default::default()
        })
        .await,
        "name",
    );
    error_info(&s, "INVALID_ARGUMENT");
    let mut fields = crate::helpers::violations(&s);
    fields.sort();
    assert_eq!(fields, ["name", "provider", "slug"]);
    let bad = s.get_details_bad_request().unwrap();
    assert!(
        bad.field_violations
            .iter()
            .all(|v| !v.description.is_empty()),
        "{bad:?}"
    );

    // FAILED_PRECONDITION
    let sync = app.faker_sync(&conn.id, "In use", &["users"]).await;
    let s = expect_code(
        c.delete_connection(pb::DeleteConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    error_info(&s, "CONNECTION_IN_USE");
    let run = app.trigger(&sync.id).await;
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: run.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let s = expect_code(
        app.runs()
            .cancel_run(pb::CancelRunRequest {
                run_id: run.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    error_info(&s, "RUN_TERMINAL");

    // ABORTED
    c.update_connection(pb::UpdateConnectionRequest {
        connection_id: conn.id.clone(),
        name: Some("Changed".into()),
        etag: conn.etag.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let s = expect_code(
        c.update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            name: Some("Lost".into()),
            etag: conn.etag.clone(),
            ..Default::default()
        })
        .await,
        Code::Aborted,
    );
    error_info(&s, "ETAG_MISMATCH");

    // ALREADY_EXISTS, UNAUTHENTICATED and PERMISSION_DENIED (from the auth layer).
    let s = expect_code(
        c.create_connection(pb::CreateConnectionRequest {
            name: "Clash".into(),
            provider: "faker".into(),
            slug: conn.slug.clone(),
            ..Default::default()
        })
        .await,
        Code::AlreadyExists,
    );
    error_info(&s, "ALREADY_EXISTS");
    let s = expect_code(
        app.connections_as("trb_wrong")
            .list_connections(pb::ListConnectionsRequest::default())
            .await,
        Code::Unauthenticated,
    );
    error_info(&s, "UNAUTHENTICATED");
    // Even tonic's own errors: a method that does not exist.
    let s = raw_call(
        &app,
        "/tributary.v1.ConnectionService/NoSuchMethod",
        Vec::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(s.code(), Code::Unimplemented, "{s:?}");
    error_info(&s, "UNIMPLEMENTED");
    let viewer = app.key_with_role(ApiKeyRole::Viewer).await;
    let s = expect_code(
        app.connections_as(&viewer)
            .disable_connection(pb::DisableConnectionRequest {
                connection_id: conn.id.clone(),
            })
            .await,
        Code::PermissionDenied,
    );
    error_info(&s, "PERMISSION_DENIED");
}

async fn not_found_and_already_exists_carry_resource_info(app: TestApp) {
    let missing = uuid::Uuid::now_v7().to_string();
    let cases: Vec<(Status, &str)> = vec![
        (
            expect_code(
                app.connections()
                    .get_connection(pb::GetConnectionRequest {
                        connection_id: missing.clone(),
                    })
                    .await,
                Code::NotFound,
            ),
            "connection",
        ),
        (
            expect_code(
                app.syncs()
                    .get_sync(pb::GetSyncRequest {
                        sync_id: missing.clone(),
                    })
                    .await,
                Code::NotFound,
            ),
            "sync",
        ),
        (
            expect_code(
                app.runs()
                    .get_run(pb::GetRunRequest {
                        run_id: missing.clone(),
                    })
                    .await,
                Code::NotFound,
            ),
            "run",
        ),
    ];
    for (s, kind) in cases {
        let info = s
            .get_details_resource_info()
            .unwrap_or_else(|| panic!("no ResourceInfo in {s:?}"));
        assert_eq!(info.resource_type, kind, "{s:?}");
        assert_eq!(info.resource_name, missing, "{s:?}");
        assert_eq!(domain(&s), DOMAIN);
    }
    let s = expect_code(
        app.connections()
            .get_connection_by_slug(pb::GetConnectionBySlugRequest {
                slug: "no-such-slug".into(),
            })
            .await,
        Code::NotFound,
    );
    let info = s.get_details_resource_info().unwrap();
    assert_eq!(info.resource_type, "connection");
    assert_eq!(info.resource_name, "no-such-slug");
    let s = expect_code(
        app.catalog()
            .get_provider_catalog(pb::GetProviderCatalogRequest {
                provider: "oracle".into(),
            })
            .await,
        Code::NotFound,
    );
    assert_eq!(
        s.get_details_resource_info().unwrap().resource_name,
        "oracle"
    );

    // ALREADY_EXISTS: a connection slug and a workspace slug.
    let conn = app.faker_connection("Taken").await;
    let s = expect_code(
        app.connections()
            .create_connection(pb::CreateConnectionRequest {
                name: "Other".into(),
                provider: "faker".into(),
                slug: conn.slug.clone(),
                ..Default::default()
            })
            .await,
        Code::AlreadyExists,
    );
    let info = s
        .get_details_resource_info()
        .unwrap_or_else(|| panic!("no ResourceInfo in {s:?}"));
    assert_eq!(info.resource_type, "connection");
    assert_eq!(info.resource_name, conn.slug);
    let s = expect_code(
        app.workspaces()
            .create_workspace(pb::CreateWorkspaceRequest {
                name: "Default again".into(),
                slug: "default".into(),
            })
            .await,
        Code::AlreadyExists,
    );
    let info = s
        .get_details_resource_info()
        .unwrap_or_else(|| panic!("no ResourceInfo in {s:?}"));
    assert_eq!(info.resource_type, "workspace");
    assert_eq!(info.resource_name, "default");
    error_info(&s, "ALREADY_EXISTS");
}

async fn oversized_requests_are_resource_exhausted(app: TestApp) {
    let mut c = app.connections().max_encoding_message_size(64 << 20);
    let s = expect_code(
        c.create_connection(pb::CreateConnectionRequest {
            name: "x".repeat(5 << 20),
            provider: "faker".into(),
            ..Default::default()
        })
        .await,
        Code::ResourceExhausted,
    );
    assert_ne!(s.code(), Code::OutOfRange);
    error_info(&s, "RESOURCE_EXHAUSTED");
    // Just under the limit, the message is decoded and the name is judged on its merits.
    expect_violation(
        c.create_connection(pb::CreateConnectionRequest {
            name: "x".repeat(3 << 20),
            provider: "faker".into(),
            ..Default::default()
        })
        .await,
        "name",
    );
    // The channel is still usable, and nothing was created.
    let list = c
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.total, 0);
}

// === raw bytes on the wire ===

/// A codec that sends bytes as they are and receives bytes as they come.
#[derive(Clone, Copy, Default)]
struct Raw;

struct RawEncoder;
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// Calls `path` with `body` as the message bytes, as the admin.
async fn raw_call(app: &TestApp, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.unwrap();
    let mut req = Request::new(body);
    req.metadata_mut().insert(
        "x-api-key",
        MetadataValue::try_from(app.admin_key.as_str()).unwrap(),
    );
    grpc.unary(req, http::uri::PathAndQuery::from_static(path), Raw)
        .await
        .map(Response::into_inner)
}

async fn undecodable_bodies_are_invalid_argument(app: TestApp) {
    const GET: &str = "/tributary.v1.ConnectionService/GetConnection";
    // The raw path works: a well-formed body is answered normally.
    let conn = app.faker_connection("Raw").await;
    let ok = raw_call(
        &app,
        GET,
        pb::GetConnectionRequest {
            connection_id: conn.id.clone(),
        }
        .encode_to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(pb::Connection::decode(ok.as_slice()).unwrap(), conn);
    let s = raw_call(
        &app,
        GET,
        pb::GetConnectionRequest {
            connection_id: uuid::Uuid::now_v7().to_string(),
        }
        .encode_to_vec(),
    )
    .await
    .unwrap_err();
    assert_eq!(s.code(), Code::NotFound, "{s:?}");

    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("bad tag", vec![0xff, 0xff, 0xff]),
        ("truncated length-delimited field", vec![0x0a, 0x05, b'a']),
        (
            "string field that is not UTF-8",
            vec![0x0a, 0x02, 0xff, 0xfe],
        ),
        (
            "wrong wire type for a string",
            vec![0x0d, 0x01, 0x02, 0x03, 0x04],
        ),
        ("field number zero", vec![0x02, 0x00]),
    ];
    for (what, body) in bodies {
        let s = raw_call(&app, GET, body).await.unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{what}: {s:?}");
        error_info(&s, "INVALID_ARGUMENT");
    }
    // No message at all (a unary call whose request stream is empty).
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.unwrap();
    let mut req = Request::new(tokio_stream::empty::<Vec<u8>>());
    req.metadata_mut().insert(
        "x-api-key",
        MetadataValue::try_from(app.admin_key.as_str()).unwrap(),
    );
    let s = grpc
        .client_streaming(req, http::uri::PathAndQuery::from_static(GET), Raw)
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "no message: {s:?}");
    error_info(&s, "INVALID_ARGUMENT");
    // Other methods and services too.
    for path in [
        "/tributary.v1.ConnectionService/CreateConnection",
        "/tributary.v1.SyncService/CreateSync",
        "/tributary.v1.RunService/ListRuns",
        "/tributary.v1.WorkspaceService/CreateApiKey",
        "/tributary.v1.CatalogService/GetProviderCatalog",
    ] {
        let s = raw_call(&app, path, vec![0xff, 0xff, 0xff])
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{path}: {s:?}");
    }
    // Nothing was created.
    let list = app
        .connections()
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.total, 1);
}

async fn responses_carry_a_request_id(app: TestApp) {
    let mut c = app.connections();
    // Generated when the client sends none, on success and on error.
    let r = c
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap();
    let generated = r
        .metadata()
        .get("x-request-id")
        .expect("an x-request-id header")
        .to_str()
        .unwrap()
        .to_string();
    assert!(!generated.is_empty());
    let r2 = c
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap();
    assert_ne!(
        r2.metadata().get("x-request-id").unwrap().to_str().unwrap(),
        generated,
        "one id per call"
    );
    let s = c
        .get_connection(pb::GetConnectionRequest {
            connection_id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .unwrap_err();
    assert!(
        s.metadata()
            .get("x-request-id")
            .is_some_and(|v| !v.is_empty()),
        "{s:?}"
    );

    // Echoed when the client sends one, on success and on error.
    let mine = format!("trace-{}", uuid::Uuid::new_v4().simple());
    let mut req = Request::new(pb::ListConnectionsRequest::default());
    req.metadata_mut().insert(
        "x-request-id",
        MetadataValue::try_from(mine.as_str()).unwrap(),
    );
    let r = c.list_connections(req).await.unwrap();
    assert_eq!(
        r.metadata().get("x-request-id").unwrap().to_str().unwrap(),
        mine
    );
    let mine_err = format!("trace-{}", uuid::Uuid::new_v4().simple());
    let mut req = Request::new(pb::GetConnectionRequest {
        connection_id: "not-a-uuid".into(),
    });
    req.metadata_mut().insert(
        "x-request-id",
        MetadataValue::try_from(mine_err.as_str()).unwrap(),
    );
    let s = c.get_connection(req).await.unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert_eq!(
        s.metadata().get("x-request-id").unwrap().to_str().unwrap(),
        mine_err
    );
    // Even when the call is refused before it reaches a service.
    let refused = format!("trace-{}", uuid::Uuid::new_v4().simple());
    let mut req = Request::new(pb::ListConnectionsRequest::default());
    req.metadata_mut().insert(
        "x-request-id",
        MetadataValue::try_from(refused.as_str()).unwrap(),
    );
    let s = app
        .connections_as("")
        .list_connections(req)
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    assert_eq!(
        s.metadata().get("x-request-id").unwrap().to_str().unwrap(),
        refused
    );

    // The call's log line carries it.
    eventually(Duration::from_secs(5), || {
        let (a, b) = (mine.clone(), mine_err.clone());
        async move {
            let l = logs();
            (l.contains(&a) && l.contains(&b)).then_some(())
        }
    })
    .await;

    // An unreasonable id is replaced, not echoed.
    let long = "x".repeat(4000);
    let mut req = Request::new(pb::ListConnectionsRequest::default());
    req.metadata_mut().insert(
        "x-request-id",
        MetadataValue::try_from(long.as_str()).unwrap(),
    );
    let r = c.list_connections(req).await.unwrap();
    let got = r.metadata().get("x-request-id").unwrap().to_str().unwrap();
    assert!(!got.is_empty() && got != long);
}

// Garbage in every field of every RPC: see `every_rpc`.

// === secrets ===

/// Everything a client can see of a call's outcome, as text.
fn seen<T: std::fmt::Debug>(r: &Result<Response<T>, Status>) -> String {
    match r {
        Ok(resp) => format!("{:?} {:?}", resp.get_ref(), resp.metadata()),
        Err(s) => format!(
            "{s:?} {} {:?} {}",
            s.message(),
            s.get_error_details(),
            String::from_utf8_lossy(s.details())
        ),
    }
}

async fn no_credential_appears_in_responses_errors_or_logs(app: TestApp) {
    let pw = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let pw2 = format!("pw2-{}", uuid::Uuid::new_v4().simple());
    let token = format!("shpat_{}", uuid::Uuid::new_v4().simple());
    let secrets = [pw.clone(), pw2.clone(), token.clone()];
    let mut transcript = String::new();
    let mut c = app.connections();

    // A PostgreSQL source that cannot be reached (the test cluster with a
    // database that does not exist, or a closed port).
    let (host, port) = std::env::var("TRIBUTARY_TEST_POSTGRES_URL")
        .ok()
        .and_then(|u| {
            let after_at = u.rsplit_once('@')?.1.to_string();
            let hostport = after_at
                .split_once('/')
                .map_or(after_at.as_str(), |(h, _)| h);
            let (h, p) = hostport.split_once(':')?;
            Some((h.to_string(), p.parse::<u16>().ok()?))
        })
        .unwrap_or_else(|| ("127.0.0.1".into(), 1));
    let mut pg = pb::CreateConnectionRequest {
        name: "Warehouse".into(),
        provider: "postgres".into(),
        config: Some(json_struct(serde_json::json!({
            "host": host, "port": port, "database": "no_such_database_here",
            "username": "postgres", "sslmode": "disable"
        }))),
        ..Default::default()
    };
    pg.credentials.insert("password".into(), pw.clone());
    let r = c.create_connection(pg.clone()).await;
    transcript += &seen(&r);
    let pg_conn = r.unwrap().into_inner();
    assert!(pg_conn.has_credentials);

    let mut shop = pb::CreateConnectionRequest {
        name: "Shop".into(),
        provider: "shopify".into(),
        config: Some(json_struct(
            serde_json::json!({"shop_domain": "acme.myshopify.com"}),
        )),
        ..Default::default()
    };
    shop.credentials
        .insert("access_token".into(), token.clone());
    let r = c.create_connection(shop.clone()).await;
    transcript += &seen(&r);
    let shop_conn = r.unwrap().into_inner();

    // Reads.
    for id in [&pg_conn.id, &shop_conn.id] {
        transcript += &seen(
            &c.get_connection(pb::GetConnectionRequest {
                connection_id: id.clone(),
            })
            .await,
        );
    }
    transcript += &seen(
        &c.get_connection_by_slug(pb::GetConnectionBySlugRequest {
            slug: shop_conn.slug.clone(),
        })
        .await,
    );
    transcript += &seen(
        &c.list_connections(pb::ListConnectionsRequest::default())
            .await,
    );
    // Searching by the secret finds nothing (it is not a name or slug).
    let r = c
        .list_connections(pb::ListConnectionsRequest {
            q: token.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(r.as_ref().unwrap().get_ref().total, 0);

    // Verification fails for real, and says why without the password.
    let r = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: pg_conn.id.clone(),
            as_destination: false,
        })
        .await;
    transcript += &seen(&r);
    let verified = r.unwrap().into_inner();
    assert_eq!(verified.status(), pb::ConnectionStatus::Error);
    assert!(!verified.verification_error.unwrap_or_default().is_empty());
    let r = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: shop_conn.id.clone(),
            as_destination: false,
        })
        .await;
    transcript += &seen(&r);
    let r = c
        .list_schema_tables(pb::ListSchemaTablesRequest {
            connection_id: pg_conn.id.clone(),
            include_system: false,
            ..Default::default()
        })
        .await;
    assert!(r.is_err(), "the database does not exist");
    transcript += &seen(&r);
    let r = c
        .list_schema_columns(pb::ListSchemaColumnsRequest {
            connection_id: pg_conn.id.clone(),
            schema: "public".into(),
            table: "t".into(),
        })
        .await;
    transcript += &seen(&r);

    // Updates: a rename, a new password, and a stale one.
    let r = c
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: pg_conn.id.clone(),
            name: Some("Warehouse (renamed)".into()),
            ..Default::default()
        })
        .await;
    transcript += &seen(&r);
    let mut update = pb::UpdateConnectionRequest {
        connection_id: pg_conn.id.clone(),
        ..Default::default()
    };
    update.credentials.insert("password".into(), pw2.clone());
    let r = c.update_connection(update.clone()).await;
    transcript += &seen(&r);
    let updated = r.unwrap().into_inner();
    assert!(updated.has_credentials);
    assert_eq!(updated.status(), pb::ConnectionStatus::NeedsVerification);
    let mut stale = update.clone();
    stale.etag = pg_conn.etag.clone();
    let r = c.update_connection(stale).await;
    assert_eq!(r.as_ref().unwrap_err().code(), Code::Aborted);
    transcript += &seen(&r);
    let r = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: pg_conn.id.clone(),
            as_destination: false,
        })
        .await;
    transcript += &seen(&r);
    assert_eq!(
        r.unwrap().into_inner().status(),
        pb::ConnectionStatus::Error
    );

    // Errors of requests that carry the secrets.
    let mut typo = pg.clone();
    typo.credentials.insert("pasword".into(), pw.clone());
    let r = c.create_connection(typo).await;
    assert_eq!(r.as_ref().unwrap_err().code(), Code::InvalidArgument);
    transcript += &seen(&r);
    let mut bad_config = shop.clone();
    bad_config.config = Some(json_struct(
        serde_json::json!({"shop_domain": token.clone(), "api_version": pw.clone()}),
    ));
    let r = c.create_connection(bad_config).await;
    assert_eq!(r.as_ref().unwrap_err().code(), Code::InvalidArgument);
    transcript += &seen(&r);
    let mut wrong_provider = pb::CreateConnectionRequest {
        name: "Demo".into(),
        provider: "faker".into(),
        ..Default::default()
    };
    wrong_provider
        .credentials
        .insert("token".into(), token.clone());
    let r = c.create_connection(wrong_provider).await;
    assert_eq!(r.as_ref().unwrap_err().code(), Code::InvalidArgument);
    transcript += &seen(&r);
    let mut clash = shop.clone();
    clash.slug = shop_conn.slug.clone();
    let r = c.create_connection(clash).await;
    assert_eq!(r.as_ref().unwrap_err().code(), Code::AlreadyExists);
    transcript += &seen(&r);
    let mut empty_pw = update.clone();
    empty_pw.credentials.insert("bogus".into(), pw2.clone());
    let r = c.update_connection(empty_pw).await;
    assert_eq!(r.as_ref().unwrap_err().code(), Code::InvalidArgument);
    transcript += &seen(&r);
    let viewer = app.key_with_role(ApiKeyRole::Viewer).await;
    let r = app.connections_as(&viewer).create_connection(shop).await;
    transcript += &seen(&r);

    // Sanity: the transcript is real (it holds what the calls returned).
    assert!(transcript.contains(&pg_conn.id) && transcript.contains("acme.myshopify.com"));
    for secret in &secrets {
        assert!(
            !transcript.contains(secret.as_str()),
            "a credential reached a client: {secret} in\n{transcript}"
        );
    }
    // The calls above were logged; none of their lines carries a secret.
    let log = logs();
    assert!(log.contains("ConnectionService/CreateConnection"));
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "a credential reached a log line: {secret}"
        );
    }
}
