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
    client_garbage_never_produces_internal,
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

// === garbage in, no INTERNAL out ===

/// Collects every call whose outcome breaks §7, so one run reports them all.
#[derive(Default)]
struct Probe {
    problems: Vec<String>,
}

impl Probe {
    /// Any code a client's mistake may produce, but never INTERNAL (or UNKNOWN,
    /// DATA_LOSS, UNAVAILABLE), and every error with our ErrorInfo.
    fn check<T: std::fmt::Debug>(
        &mut self,
        what: impl std::fmt::Display,
        r: Result<Response<T>, Status>,
    ) -> Option<Status> {
        let s = r.err()?;
        if matches!(
            s.code(),
            Code::Internal | Code::Unknown | Code::DataLoss | Code::Unavailable
        ) {
            self.problems
                .push(format!("{what}: {:?} {}", s.code(), s.message()));
        } else if domain(&s) != DOMAIN {
            self.problems.push(format!(
                "{what}: {:?} without ErrorInfo: {}",
                s.code(),
                s.message()
            ));
        }
        Some(s)
    }

    /// As `check`, and the call must be INVALID_ARGUMENT naming `field`.
    fn violation<T: std::fmt::Debug>(
        &mut self,
        what: impl std::fmt::Display,
        r: Result<Response<T>, Status>,
        field: &str,
    ) {
        let what = what.to_string();
        match self.check(&what, r) {
            Some(s) if s.code() == Code::InvalidArgument => {
                let v = crate::helpers::violations(&s);
                if !v.iter().any(|f| f == field) {
                    self.problems.push(format!(
                        "{what}: expected a violation of {field}, got {v:?}"
                    ));
                }
            }
            Some(s) => self.problems.push(format!(
                "{what}: expected INVALID_ARGUMENT on {field}, got {:?} {}",
                s.code(),
                s.message()
            )),
            None => self.problems.push(format!(
                "{what}: expected INVALID_ARGUMENT on {field}, got OK"
            )),
        }
    }
}

async fn client_garbage_never_produces_internal(app: TestApp) {
    let mut p = Probe::default();
    let mut c = app.connections();
    let mut s = app.syncs();
    let mut r = app.runs();
    let mut w = app.workspaces();
    let mut cat = app.catalog();

    // Real resources to aim at, and a page token of another list.
    let conn = app.faker_connection("Target").await;
    let conn2 = app.faker_connection("Target two").await;
    let sync = app.faker_sync(&conn.id, "Target sync", &["users"]).await;
    let sync2 = app
        .faker_sync(&conn2.id, "Target sync two", &["events"])
        .await;
    let sync_token = s
        .list_syncs(pb::ListSyncsRequest {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!sync_token.is_empty());
    let conn_token = c
        .list_connections(pb::ListConnectionsRequest {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!conn_token.is_empty());

    let huge = "x".repeat(100_000);
    let ids: Vec<&str> = vec![
        "",
        " ",
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        "0195f7a0-0000-7000-8000-00000000000g",
        "'; DROP TABLE connection; --",
        "\0",
        "a\0b",
        "%",
        "_",
        "\\",
        "ünïcödé",
        "🦀",
        &huge,
    ];
    for (i, id) in ids.iter().enumerate() {
        let id = *id;
        let label = |m: &str| format!("{m}({:?})", id.chars().take(40).collect::<String>());
        let owned = || id.to_string();
        // As ids.
        p.check(
            label("GetConnection"),
            c.get_connection(pb::GetConnectionRequest {
                connection_id: owned(),
            })
            .await,
        );
        p.check(
            label("DisableConnection"),
            c.disable_connection(pb::DisableConnectionRequest {
                connection_id: owned(),
            })
            .await,
        );
        p.check(
            label("VerifyConnection"),
            c.verify_connection(pb::VerifyConnectionRequest {
                connection_id: owned(),
            })
            .await,
        );
        p.check(
            label("SetDefaultConnection"),
            c.set_default_connection(pb::SetDefaultConnectionRequest {
                connection_id: owned(),
            })
            .await,
        );
        p.check(
            label("DeleteConnection"),
            c.delete_connection(pb::DeleteConnectionRequest {
                connection_id: owned(),
            })
            .await,
        );
        p.check(
            label("ListSchemaTables"),
            c.list_schema_tables(pb::ListSchemaTablesRequest {
                connection_id: owned(),
                include_system: true,
            })
            .await,
        );
        p.check(
            label("GetSync"),
            s.get_sync(pb::GetSyncRequest { sync_id: owned() }).await,
        );
        p.check(
            label("TriggerSync"),
            s.trigger_sync(pb::TriggerSyncRequest {
                sync_id: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListSyncRuns"),
            s.list_sync_runs(pb::ListSyncRunsRequest {
                sync_id: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("DeleteSync"),
            s.delete_sync(pb::DeleteSyncRequest { sync_id: owned() })
                .await,
        );
        p.check(
            label("GetRun"),
            r.get_run(pb::GetRunRequest { run_id: owned() }).await,
        );
        p.check(
            label("CancelRun"),
            r.cancel_run(pb::CancelRunRequest {
                run_id: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("RetryRun"),
            r.retry_run(pb::RetryRunRequest {
                run_id: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListRuns.sync_id"),
            r.list_runs(pb::ListRunsRequest {
                sync_id: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListRuns.attempt_root_run_id"),
            r.list_runs(pb::ListRunsRequest {
                attempt_root_run_id: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("GetWorkspace"),
            w.get_workspace(pb::GetWorkspaceRequest {
                workspace_id: owned(),
            })
            .await,
        );
        p.check(
            label("RevokeApiKey"),
            w.revoke_api_key(pb::RevokeApiKeyRequest {
                api_key_id: owned(),
            })
            .await,
        );
        p.check(
            label("GetProviderCatalog"),
            cat.get_provider_catalog(pb::GetProviderCatalogRequest { provider: owned() })
                .await,
        );

        // As names, slugs, keys, queries and filters, one field at a time.
        p.check(
            label("GetConnectionBySlug"),
            c.get_connection_by_slug(pb::GetConnectionBySlugRequest { slug: owned() })
                .await,
        );
        p.check(
            label("CreateConnection.name"),
            c.create_connection(pb::CreateConnectionRequest {
                name: owned(),
                provider: "faker".into(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("CreateConnection.slug"),
            c.create_connection(pb::CreateConnectionRequest {
                name: "Slugged".into(),
                provider: "faker".into(),
                slug: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("CreateConnection.provider"),
            c.create_connection(pb::CreateConnectionRequest {
                name: "Provided".into(),
                provider: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("CreateConnection.config"),
            c.create_connection(pb::CreateConnectionRequest {
                name: "Configured".into(),
                provider: "postgres".into(),
                config: Some(json_struct(serde_json::json!({
                    "host": id, "database": id, "username": id, "schema": id
                }))),
                ..Default::default()
            })
            .await,
        );
        let mut key = pb::CreateConnectionRequest {
            name: "Credential key".into(),
            provider: "postgres".into(),
            config: Some(json_struct(
                serde_json::json!({"host": "h", "database": "d", "username": "u"}),
            )),
            ..Default::default()
        };
        key.credentials.insert(owned(), "x".into());
        p.check(
            label("CreateConnection.credentials.key"),
            c.create_connection(key).await,
        );
        let mut value = pb::CreateConnectionRequest {
            name: "Credential value".into(),
            provider: "postgres".into(),
            config: Some(json_struct(
                serde_json::json!({"host": "h", "database": "d", "username": "u"}),
            )),
            ..Default::default()
        };
        value.credentials.insert("password".into(), owned());
        p.check(
            label("CreateConnection.credentials.value"),
            c.create_connection(value).await,
        );
        p.check(
            label("UpdateConnection.name"),
            c.update_connection(pb::UpdateConnectionRequest {
                connection_id: conn2.id.clone(),
                name: Some(owned()),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("UpdateConnection.slug"),
            c.update_connection(pb::UpdateConnectionRequest {
                connection_id: conn2.id.clone(),
                slug: Some(owned()),
                ..Default::default()
            })
            .await,
        );
        // (An empty etag means "no etag": it is not garbage.)
        if !id.is_empty() {
            let stale = p.check(
                label("UpdateConnection.etag"),
                c.update_connection(pb::UpdateConnectionRequest {
                    connection_id: conn.id.clone(),
                    name: Some("Never applied".into()),
                    etag: owned(),
                    ..Default::default()
                })
                .await,
            );
            if stale.as_ref().map(Status::code) != Some(Code::Aborted) {
                p.problems.push(format!(
                    "{}: expected ABORTED, got {stale:?}",
                    label("UpdateConnection.etag")
                ));
            }
        }
        p.check(
            label("ListConnections.q"),
            c.list_connections(pb::ListConnectionsRequest {
                q: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListConnections.providers"),
            c.list_connections(pb::ListConnectionsRequest {
                providers: vec![owned()],
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListConnections.sort_by"),
            c.list_connections(pb::ListConnectionsRequest {
                sort_by: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListConnections.order"),
            c.list_connections(pb::ListConnectionsRequest {
                order: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListSyncs.q"),
            s.list_syncs(pb::ListSyncsRequest {
                q: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListSyncs.connection_ids"),
            s.list_syncs(pb::ListSyncsRequest {
                connection_ids: vec![owned()],
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListSyncs.provider_keys"),
            s.list_syncs(pb::ListSyncsRequest {
                provider_keys: vec![owned()],
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ListSyncs.sort_by"),
            s.list_syncs(pb::ListSyncsRequest {
                sort_by: owned(),
                ..Default::default()
            })
            .await,
        );
        // A sync that is valid but for the one field (its own destination
        // schema, so its tables are free).
        let valid_sync = || pb::CreateSyncRequest {
            name: format!("Probe {i}"),
            connection_id: conn.id.clone(),
            entities: vec!["events".into()],
            destination_config: Some(json_struct(
                serde_json::json!({"schema": format!("probe_{i}")}),
            )),
            ..Default::default()
        };
        p.check(
            label("CreateSync.name"),
            s.create_sync(pb::CreateSyncRequest {
                name: owned(),
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("CreateSync.slug"),
            s.create_sync(pb::CreateSyncRequest {
                slug: owned(),
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("CreateSync.task_slug"),
            s.create_sync(pb::CreateSyncRequest {
                task_slug: owned(),
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("CreateSync.entities"),
            s.create_sync(pb::CreateSyncRequest {
                entities: vec![owned()],
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("CreateSync.connection_id"),
            s.create_sync(pb::CreateSyncRequest {
                connection_id: owned(),
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("CreateSync.destination_config"),
            s.create_sync(pb::CreateSyncRequest {
                destination_config: Some(json_struct(serde_json::json!({"schema": id}))),
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("CreateSync.table_bindings"),
            s.create_sync(pb::CreateSyncRequest {
                table_bindings: vec![pb::TableBinding {
                    entity_key: "events".into(),
                    physical_table_name: owned(),
                    primary_key_columns: vec![owned()],
                    cursor_field: owned(),
                    ..Default::default()
                }],
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("CreateSync.schedule"),
            s.create_sync(pb::CreateSyncRequest {
                trigger_mode: pb::TriggerMode::Scheduled.into(),
                schedule: Some(pb::Schedule {
                    spec: Some(pb::schedule::Spec::Cron(owned())),
                    timezone: owned(),
                }),
                ..valid_sync()
            })
            .await,
        );
        p.check(
            label("UpdateSync.name"),
            s.update_sync(pb::UpdateSyncRequest {
                sync_id: sync2.id.clone(),
                name: Some(owned()),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("UpdateSync.slug"),
            s.update_sync(pb::UpdateSyncRequest {
                sync_id: sync2.id.clone(),
                slug: Some(owned()),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("UpdateSync.task_slug"),
            s.update_sync(pb::UpdateSyncRequest {
                sync_id: sync2.id.clone(),
                task_slug: Some(owned()),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("UpdateSync.etag"),
            s.update_sync(pb::UpdateSyncRequest {
                sync_id: sync2.id.clone(),
                etag: owned(),
                ..Default::default()
            })
            .await,
        );
        p.check(
            label("ResetSyncState"),
            s.reset_sync_state(pb::ResetSyncStateRequest {
                sync_id: sync.id.clone(),
                entities: vec![owned()],
            })
            .await,
        );
        // Free text stored on a run: a cancel reason.
        if let Ok(run) = s
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: sync.id.clone(),
                ..Default::default()
            })
            .await
        {
            let run = run.into_inner();
            let cancelled = p.check(
                label("CancelRun.reason"),
                r.cancel_run(pb::CancelRunRequest {
                    run_id: run.id.clone(),
                    reason: owned(),
                })
                .await,
            );
            if cancelled.is_some() {
                r.cancel_run(pb::CancelRunRequest {
                    run_id: run.id,
                    reason: String::new(),
                })
                .await
                .unwrap();
            }
        } else {
            p.problems
                .push(label("TriggerSync of the target sync failed"));
        }
        p.check(
            label("CreateApiKey.name"),
            w.create_api_key(pb::CreateApiKeyRequest {
                name: owned(),
                role: ApiKeyRole::Viewer.into(),
                ttl_seconds: 0,
            })
            .await,
        );
        p.check(
            label("CreateWorkspace.name"),
            w.create_workspace(pb::CreateWorkspaceRequest {
                name: owned(),
                slug: String::new(),
            })
            .await,
        );
        p.check(
            label("CreateWorkspace.slug"),
            w.create_workspace(pb::CreateWorkspaceRequest {
                name: "Slugged workspace".into(),
                slug: owned(),
            })
            .await,
        );
        if id.len() < 1000 {
            let as_key: String = id
                .chars()
                .filter(|ch| ch.is_ascii_graphic() || *ch == ' ')
                .collect();
            p.check(
                label("x-api-key"),
                app.connections_as(as_key.trim())
                    .list_connections(pb::ListConnectionsRequest::default())
                    .await,
            );
        }
    }

    // Undefined enum numbers and out-of-range numbers, each named.
    p.violation(
        "ListConnections.statuses=[99]",
        c.list_connections(pb::ListConnectionsRequest {
            statuses: vec![99],
            ..Default::default()
        })
        .await,
        "statuses[0]",
    );
    p.violation(
        "ListConnections.statuses=[1,-1]",
        c.list_connections(pb::ListConnectionsRequest {
            statuses: vec![1, -1],
            ..Default::default()
        })
        .await,
        "statuses[1]",
    );
    p.violation(
        "ListSyncs.statuses=[99]",
        s.list_syncs(pb::ListSyncsRequest {
            statuses: vec![99],
            ..Default::default()
        })
        .await,
        "statuses[0]",
    );
    p.violation(
        "ListRuns.statuses=[99]",
        r.list_runs(pb::ListRunsRequest {
            statuses: vec![99],
            ..Default::default()
        })
        .await,
        "statuses[0]",
    );
    p.violation(
        "ListRuns.triggered_by=[99]",
        r.list_runs(pb::ListRunsRequest {
            triggered_by: vec![99],
            ..Default::default()
        })
        .await,
        "triggered_by[0]",
    );
    p.violation(
        "ListRuns.sync_id=nope",
        r.list_runs(pb::ListRunsRequest {
            sync_id: "nope".into(),
            ..Default::default()
        })
        .await,
        "sync_id",
    );
    for limit in [0, -1, 101, i32::MAX, i32::MIN] {
        p.violation(
            format!("ListConnections.limit={limit}"),
            c.list_connections(pb::ListConnectionsRequest {
                limit: Some(limit),
                ..Default::default()
            })
            .await,
            "limit",
        );
        p.violation(
            format!("ListSyncs.limit={limit}"),
            s.list_syncs(pb::ListSyncsRequest {
                limit: Some(limit),
                ..Default::default()
            })
            .await,
            "limit",
        );
        p.violation(
            format!("ListRuns.limit={limit}"),
            r.list_runs(pb::ListRunsRequest {
                limit: Some(limit),
                ..Default::default()
            })
            .await,
            "limit",
        );
        p.violation(
            format!("ListSyncRuns.limit={limit}"),
            s.list_sync_runs(pb::ListSyncRunsRequest {
                sync_id: sync.id.clone(),
                limit: Some(limit),
                ..Default::default()
            })
            .await,
            "limit",
        );
    }
    for offset in [-1, i32::MIN] {
        p.violation(
            format!("ListConnections.offset={offset}"),
            c.list_connections(pb::ListConnectionsRequest {
                offset: Some(offset),
                ..Default::default()
            })
            .await,
            "offset",
        );
    }
    // A huge offset is a valid, empty page.
    let far = c
        .list_connections(pb::ListConnectionsRequest {
            offset: Some(i32::MAX),
            ..Default::default()
        })
        .await;
    if let Some(s) = p.check("ListConnections.offset=MAX", far) {
        p.problems
            .push(format!("ListConnections.offset=MAX: {s:?}"));
    }
    let garbage_tokens = [
        "garbage".to_string(),
        ".".into(),
        "a.b".into(),
        "\0".into(),
        huge.clone(),
        format!("{sync_token}x"),
        sync_token.replacen('e', "f", 1),
        // A well-formed token of another list.
        sync_token.clone(),
    ];
    for token in &garbage_tokens {
        let label = token.chars().take(30).collect::<String>();
        p.violation(
            format!("ListConnections.page_token={label:?}"),
            c.list_connections(pb::ListConnectionsRequest {
                page_token: token.clone(),
                ..Default::default()
            })
            .await,
            "page_token",
        );
        p.violation(
            format!("ListRuns.page_token={label:?}"),
            r.list_runs(pb::ListRunsRequest {
                page_token: token.clone(),
                ..Default::default()
            })
            .await,
            "page_token",
        );
    }
    p.violation(
        "ListSyncs.page_token=<a connections token>",
        s.list_syncs(pb::ListSyncsRequest {
            page_token: conn_token.clone(),
            ..Default::default()
        })
        .await,
        "page_token",
    );
    p.violation(
        "ListConnections.page_token=<its own token, other filters>",
        c.list_connections(pb::ListConnectionsRequest {
            page_token: conn_token.clone(),
            q: "target".into(),
            ..Default::default()
        })
        .await,
        "page_token",
    );
    p.violation(
        "TriggerSync.run_mode=99",
        s.trigger_sync(pb::TriggerSyncRequest {
            sync_id: sync.id.clone(),
            run_mode: 99,
            ..Default::default()
        })
        .await,
        "run_mode",
    );
    p.violation(
        "CreateApiKey.role=-5",
        w.create_api_key(pb::CreateApiKeyRequest {
            name: "neg".into(),
            role: -5,
            ttl_seconds: 0,
        })
        .await,
        "role",
    );
    p.violation(
        "CreateApiKey.ttl_seconds=MIN",
        w.create_api_key(pb::CreateApiKeyRequest {
            name: "neg".into(),
            role: ApiKeyRole::Viewer.into(),
            ttl_seconds: i64::MIN,
        })
        .await,
        "ttl_seconds",
    );
    let odd_sync = |i: usize| pb::CreateSyncRequest {
        name: format!("Odd {i}"),
        connection_id: conn.id.clone(),
        entities: vec!["events".into()],
        destination_config: Some(json_struct(
            serde_json::json!({"schema": format!("odd_{i}")}),
        )),
        ..Default::default()
    };
    let cases = [
        (
            "execution_backend",
            pb::CreateSyncRequest {
                execution_backend: 99,
                ..odd_sync(0)
            },
        ),
        (
            "execution_mode",
            pb::CreateSyncRequest {
                execution_mode: 99,
                ..odd_sync(1)
            },
        ),
        (
            "status",
            pb::CreateSyncRequest {
                status: 99,
                ..odd_sync(2)
            },
        ),
        (
            "trigger_mode",
            pb::CreateSyncRequest {
                trigger_mode: 99,
                ..odd_sync(3)
            },
        ),
        (
            "freshness_sla_seconds",
            pb::CreateSyncRequest {
                freshness_sla_seconds: Some(-1),
                ..odd_sync(4)
            },
        ),
        (
            "schedule.every.units",
            pb::CreateSyncRequest {
                trigger_mode: pb::TriggerMode::Scheduled.into(),
                schedule: Some(pb::Schedule {
                    spec: Some(pb::schedule::Spec::Every(pb::Interval {
                        units: -1,
                        time_unit: 99,
                    })),
                    timezone: "Mars/Olympus_Mons".into(),
                }),
                ..odd_sync(5)
            },
        ),
        (
            "schedule.every.time_unit",
            pb::CreateSyncRequest {
                trigger_mode: pb::TriggerMode::Scheduled.into(),
                schedule: Some(pb::Schedule {
                    spec: Some(pb::schedule::Spec::Every(pb::Interval {
                        units: 1,
                        time_unit: 99,
                    })),
                    timezone: String::new(),
                }),
                ..odd_sync(6)
            },
        ),
        (
            "schedule.timezone",
            pb::CreateSyncRequest {
                trigger_mode: pb::TriggerMode::Scheduled.into(),
                schedule: Some(pb::Schedule {
                    spec: Some(pb::schedule::Spec::Cron("*/5 * * * *".into())),
                    timezone: "Mars/Olympus_Mons".into(),
                }),
                ..odd_sync(7)
            },
        ),
        (
            "table_bindings[0].load_mode",
            pb::CreateSyncRequest {
                table_bindings: vec![pb::TableBinding {
                    entity_key: "events".into(),
                    physical_table_name: "events_x".into(),
                    load_mode: 99,
                    ..Default::default()
                }],
                ..odd_sync(8)
            },
        ),
    ];
    for (field, req) in cases {
        p.violation(
            format!("CreateSync.{field}"),
            s.create_sync(req).await,
            field,
        );
    }
    // Extreme but well-formed numbers: whatever the answer, not INTERNAL.
    p.check(
        "CreateSync.freshness_sla_seconds=MAX",
        s.create_sync(pb::CreateSyncRequest {
            freshness_sla_seconds: Some(i64::MAX),
            ..odd_sync(9)
        })
        .await,
    );
    p.check(
        "CreateSync.schedule.every=MAX months",
        s.create_sync(pb::CreateSyncRequest {
            trigger_mode: pb::TriggerMode::Scheduled.into(),
            status: pb::SyncStatus::Active.into(),
            schedule: Some(pb::Schedule {
                spec: Some(pb::schedule::Spec::Every(pb::Interval {
                    units: i32::MAX,
                    time_unit: pb::TimeUnit::Months.into(),
                })),
                timezone: String::new(),
            }),
            ..odd_sync(10)
        })
        .await,
    );
    p.violation(
        "UpdateSync.status=99",
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: sync.id.clone(),
            status: Some(99),
            ..Default::default()
        })
        .await,
        "status",
    );
    p.violation(
        "RetryRun.run_mode=99",
        r.retry_run(pb::RetryRunRequest {
            run_id: uuid::Uuid::now_v7().to_string(),
            run_mode: 99,
            ..Default::default()
        })
        .await,
        "run_mode",
    );
    // Text PostgreSQL cannot store (NUL) and queries longer than any name,
    // named field by field.
    p.violation(
        "CreateConnection.name=a\\0b",
        c.create_connection(pb::CreateConnectionRequest {
            name: "a\0b".into(),
            provider: "faker".into(),
            ..Default::default()
        })
        .await,
        "name",
    );
    p.violation(
        "UpdateConnection.name=a\\0b",
        c.update_connection(pb::UpdateConnectionRequest {
            connection_id: conn2.id.clone(),
            name: Some("a\0b".into()),
            ..Default::default()
        })
        .await,
        "name",
    );
    p.violation(
        "ListConnections.q=\\0",
        c.list_connections(pb::ListConnectionsRequest {
            q: "\0".into(),
            ..Default::default()
        })
        .await,
        "q",
    );
    p.violation(
        "ListConnections.q=256 chars",
        c.list_connections(pb::ListConnectionsRequest {
            q: "x".repeat(256),
            ..Default::default()
        })
        .await,
        "q",
    );
    p.violation(
        "ListConnections.providers=[faker, \\0]",
        c.list_connections(pb::ListConnectionsRequest {
            providers: vec!["faker".into(), "\0".into()],
            ..Default::default()
        })
        .await,
        "providers[1]",
    );
    p.violation(
        "GetConnectionBySlug=Not A Slug",
        c.get_connection_by_slug(pb::GetConnectionBySlugRequest {
            slug: "Not A Slug".into(),
        })
        .await,
        "slug",
    );
    p.violation(
        "CreateApiKey.name=\\0",
        w.create_api_key(pb::CreateApiKeyRequest {
            name: "\0".into(),
            role: ApiKeyRole::Viewer.into(),
            ttl_seconds: 0,
        })
        .await,
        "name",
    );
    p.violation(
        "CreateWorkspace.name=\\0",
        w.create_workspace(pb::CreateWorkspaceRequest {
            name: "\0".into(),
            slug: "nul-name".into(),
        })
        .await,
        "name",
    );
    // A huge bad value comes back clipped, so the error fits in the headers
    // clients accept (16 KiB in tonic), still naming the field.
    let huge_provider = "p".repeat(200_000);
    let st = expect_violation(
        c.create_connection(pb::CreateConnectionRequest {
            name: "Huge provider".into(),
            provider: huge_provider.clone(),
            ..Default::default()
        })
        .await,
        "provider",
    );
    assert!(st.message().len() < 4096, "{} bytes", st.message().len());
    let st = expect_code(
        cat.get_provider_catalog(pb::GetProviderCatalogRequest {
            provider: huge_provider.clone(),
        })
        .await,
        Code::NotFound,
    );
    let info = st.get_details_resource_info().unwrap();
    assert!(huge_provider.starts_with(info.resource_name.trim_end_matches('…')));
    assert!(info.resource_name.len() < 1024);
    // So do many violations at once: every one is bad, the error still arrives.
    let many: Vec<String> = (0..2000).map(|i| format!("no_such_entity_{i}")).collect();
    let st = expect_violation(
        s.create_sync(pb::CreateSyncRequest {
            name: "Many".into(),
            connection_id: conn.id.clone(),
            entities: many,
            ..Default::default()
        })
        .await,
        "entities[0]",
    );
    assert!(crate::helpers::violations(&st).len() > 10);
    assert_eq!(domain(&st), DOMAIN);

    // Deeply nested and odd JSON in config.
    let mut deep = serde_json::json!("leaf");
    for _ in 0..60 {
        deep = serde_json::json!({ "n": deep });
    }
    for config in [
        serde_json::json!({"row_count": 1e300}),
        serde_json::json!({"row_count": -0.5}),
        serde_json::json!({"row_count": "many"}),
        serde_json::json!({"seed": [1, [2, [3]]]}),
        serde_json::json!({"nested": deep}),
    ] {
        p.check(
            format!(
                "CreateConnection.config={}",
                config.to_string().chars().take(40).collect::<String>()
            ),
            c.create_connection(pb::CreateConnectionRequest {
                name: "Configured".into(),
                provider: "faker".into(),
                config: Some(json_struct(config)),
                ..Default::default()
            })
            .await,
        );
    }

    assert!(
        p.problems.is_empty(),
        "{} calls broke the error contract:\n{}",
        p.problems.len(),
        p.problems.join("\n")
    );
    // The fixtures are intact: garbage wrote nothing over them.
    let got = c
        .get_connection(pb::GetConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.name, "Target");
    let got = s
        .get_sync(pb::GetSyncRequest {
            sync_id: sync.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.name, "Target sync");
}

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
        })
        .await;
    transcript += &seen(&r);
    let verified = r.unwrap().into_inner();
    assert_eq!(verified.status(), pb::ConnectionStatus::Error);
    assert!(!verified.verification_error.unwrap_or_default().is_empty());
    let r = c
        .verify_connection(pb::VerifyConnectionRequest {
            connection_id: shop_conn.id.clone(),
        })
        .await;
    transcript += &seen(&r);
    let r = c
        .list_schema_tables(pb::ListSchemaTablesRequest {
            connection_id: pg_conn.id.clone(),
            include_system: false,
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
