//! Authentication and authorization (DESIGN §6): keys in x-api-key or
//! `authorization: Bearer`, revocation and expiry on the next call, roles,
//! workspace isolation (NOT_FOUND, never PERMISSION_DENIED), and health and
//! reflection open without a key.

use std::time::Duration;

use tonic::{
    Code, Request, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tributary::pb::{self, ApiKeyRole, connection_service_client::ConnectionServiceClient};

use crate::{
    both,
    helpers::{TestApp, domain, eventually, expect_code, expect_violation, reason},
};

/// The services a reflection `$version` (v1 or v1alpha) lists, asked without a key.
macro_rules! list_services {
    ($version:ident, $app:expr) => {{
        use tonic_reflection::pb::$version::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = ServerReflectionClient::new($app.channel.clone())
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .unwrap()
            .into_inner();
        let resp = stream.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
            panic!("not a service list: {resp:?}");
        };
        list.service
            .into_iter()
            .map(|s| s.name)
            .collect::<Vec<String>>()
    }};
}

both!(
    calls_without_a_valid_key_are_unauthenticated,
    bearer_authorization_works_like_x_api_key,
    revoked_key_is_refused_on_its_next_call,
    expired_key_is_refused,
    api_keys_are_shown_once_and_listed_without_the_key,
    create_api_key_validates_role_name_and_ttl,
    workspaces_see_themselves_and_the_ones_they_created,
    create_workspace_validates_its_name_and_slug,
    health_and_reflection_are_open,
);

/// Sends a raw `authorization` header with every call.
#[derive(Clone)]
struct Authorization(AsciiMetadataValue);

impl Interceptor for Authorization {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

fn with_authorization(
    app: &TestApp,
    header: &str,
) -> ConnectionServiceClient<InterceptedService<Channel, Authorization>> {
    ConnectionServiceClient::with_interceptor(
        app.channel.clone(),
        Authorization(MetadataValue::try_from(header).unwrap()),
    )
}

#[track_caller]
fn unauthenticated<T: std::fmt::Debug>(r: Result<tonic::Response<T>, Status>) -> Status {
    let s = expect_code(r, Code::Unauthenticated);
    assert_eq!(reason(&s), "UNAUTHENTICATED", "{s:?}");
    assert_eq!(domain(&s), "tributary.dev", "{s:?}");
    s
}

#[track_caller]
fn denied<T: std::fmt::Debug>(r: Result<tonic::Response<T>, Status>) -> Status {
    let s = expect_code(r, Code::PermissionDenied);
    assert_eq!(reason(&s), "PERMISSION_DENIED", "{s:?}");
    assert_eq!(domain(&s), "tributary.dev", "{s:?}");
    s
}

fn list_all() -> pb::ListConnectionsRequest {
    pb::ListConnectionsRequest::default()
}

fn faker(name: &str) -> pb::CreateConnectionRequest {
    pb::CreateConnectionRequest {
        name: name.into(),
        provider: "faker".into(),
        ..Default::default()
    }
}

async fn connection_total(app: &TestApp) -> i64 {
    app.connections()
        .list_connections(list_all())
        .await
        .unwrap()
        .into_inner()
        .total
}

async fn calls_without_a_valid_key_are_unauthenticated(app: TestApp) {
    // No key at all, on every service.
    unauthenticated(app.connections_as("").list_connections(list_all()).await);
    unauthenticated(app.connections_as("").create_connection(faker("x")).await);
    unauthenticated(
        app.syncs_as("")
            .list_syncs(pb::ListSyncsRequest::default())
            .await,
    );
    unauthenticated(
        app.runs_as("")
            .list_runs(pb::ListRunsRequest::default())
            .await,
    );
    unauthenticated(
        app.catalog_as("")
            .list_providers(pb::ListProvidersRequest::default())
            .await,
    );
    unauthenticated(
        app.workspaces_as("")
            .get_workspace(pb::GetWorkspaceRequest::default())
            .await,
    );
    unauthenticated(
        app.executor_as("")
            .claim_run(pb::ClaimRunRequest::default())
            .await,
    );

    // Keys that are not keys: never echoed back.
    let forged = format!("trb_{}", "0".repeat(64));
    let near_miss = format!("{}0", &app.admin_key[..app.admin_key.len() - 1]);
    let near_miss = if near_miss == app.admin_key {
        format!("{}1", &app.admin_key[..app.admin_key.len() - 1])
    } else {
        near_miss
    };
    for bad in ["nope", forged.as_str(), near_miss.as_str()] {
        let s = unauthenticated(app.connections_as(bad).list_connections(list_all()).await);
        assert!(!s.message().contains(bad), "the key is echoed: {s:?}");
    }
    // Other schemes and an empty bearer token are not keys either.
    unauthenticated(
        with_authorization(&app, &format!("Basic {}", app.admin_key))
            .list_connections(list_all())
            .await,
    );
    unauthenticated(
        with_authorization(&app, "Bearer ")
            .list_connections(list_all())
            .await,
    );
    unauthenticated(
        with_authorization(&app, &app.admin_key)
            .list_connections(list_all())
            .await,
    );

    // Nothing was created by the refused CreateConnection.
    assert_eq!(connection_total(&app).await, 0);
    // And the real key works on the same channel.
    app.connections()
        .list_connections(list_all())
        .await
        .unwrap();
}

async fn bearer_authorization_works_like_x_api_key(app: TestApp) {
    let mut bearer = with_authorization(&app, &format!("Bearer {}", app.admin_key));
    let created = bearer
        .create_connection(faker("Via bearer"))
        .await
        .unwrap()
        .into_inner();
    let listed = bearer
        .list_connections(list_all())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.connections[0].id, created.id);
    // The scheme is case-insensitive.
    let got = with_authorization(&app, &format!("bearer {}", app.admin_key))
        .get_connection(pb::GetConnectionRequest {
            connection_id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.id, created.id);

    // The bearer key is really resolved: a viewer's bearer key reads but cannot write.
    let viewer = app.key_with_role(ApiKeyRole::Viewer).await;
    let mut as_viewer = with_authorization(&app, &format!("Bearer {viewer}"));
    as_viewer.list_connections(list_all()).await.unwrap();
    denied(as_viewer.create_connection(faker("Nope")).await);
    // A bad bearer key is refused.
    unauthenticated(
        with_authorization(&app, "Bearer trb_not_a_key")
            .list_connections(list_all())
            .await,
    );
    assert_eq!(connection_total(&app).await, 1);
}

async fn revoked_key_is_refused_on_its_next_call(app: TestApp) {
    let created = app
        .workspaces()
        .create_api_key(pb::CreateApiKeyRequest {
            name: "short-lived".into(),
            role: ApiKeyRole::Editor.into(),
            ttl_seconds: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let key = created.key.clone();
    let meta = created.api_key.unwrap();
    let mut c = app.connections_as(&key);
    c.list_connections(list_all()).await.unwrap();
    c.create_connection(faker("Before revoke")).await.unwrap();

    let revoked = app
        .workspaces()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            api_key_id: meta.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.id, meta.id);
    assert!(revoked.revoked_at.is_some());

    // The very next call, on the same client and connection, is refused.
    let s = unauthenticated(c.list_connections(list_all()).await);
    assert!(s.message().contains("revoked"), "{s:?}");
    unauthenticated(c.create_connection(faker("After revoke")).await);
    assert_eq!(connection_total(&app).await, 1);

    // Revoking again keeps the first time; unknown ids are NOT_FOUND.
    let again = app
        .workspaces()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            api_key_id: meta.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    expect_code(
        app.workspaces()
            .revoke_api_key(pb::RevokeApiKeyRequest {
                api_key_id: uuid::Uuid::now_v7().to_string(),
            })
            .await,
        Code::NotFound,
    );
    expect_violation(
        app.workspaces()
            .revoke_api_key(pb::RevokeApiKeyRequest {
                api_key_id: "not-a-uuid".into(),
            })
            .await,
        "api_key_id",
    );
    // The admin key is unaffected.
    app.connections()
        .list_connections(list_all())
        .await
        .unwrap();
}

async fn expired_key_is_refused(app: TestApp) {
    let created = app
        .workspaces()
        .create_api_key(pb::CreateApiKeyRequest {
            name: "one second".into(),
            role: ApiKeyRole::Viewer.into(),
            ttl_seconds: 1,
        })
        .await
        .unwrap()
        .into_inner();
    let meta = created.api_key.unwrap();
    let micros = |t: prost_types::Timestamp| t.seconds * 1_000_000 + i64::from(t.nanos) / 1_000;
    let lifetime = micros(meta.expires_at.unwrap()) - micros(meta.created_at.unwrap());
    assert!(
        (900_000..=1_000_000).contains(&lifetime),
        "expires one second after creation: {meta:?}"
    );

    let key = created.key;
    let s = eventually(Duration::from_secs(15), || {
        let mut c = app.connections_as(&key);
        async move { c.list_connections(list_all()).await.err() }
    })
    .await;
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    assert!(s.message().contains("expired"), "{s:?}");
    // It stays refused, and a key without ttl does not expire with it.
    unauthenticated(app.connections_as(&key).list_connections(list_all()).await);
    app.connections()
        .list_connections(list_all())
        .await
        .unwrap();
}

async fn api_keys_are_shown_once_and_listed_without_the_key(app: TestApp) {
    let mut w = app.workspaces();
    let me = w
        .get_workspace(pb::GetWorkspaceRequest::default())
        .await
        .unwrap()
        .into_inner();
    let before = w
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.api_keys.len(), 1, "the bootstrap admin key");
    let admin_meta = before.api_keys[0].clone();
    assert_eq!(admin_meta.role(), ApiKeyRole::Admin);
    assert!(app.admin_key.starts_with(&admin_meta.prefix));

    let created = w
        .create_api_key(pb::CreateApiKeyRequest {
            name: "ci deploys".into(),
            role: ApiKeyRole::Editor.into(),
            ttl_seconds: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let meta = created.api_key.clone().unwrap();
    let key = created.key.clone();
    assert!(key.starts_with("trb_") && key.len() > 20, "{key}");
    assert!(meta.prefix.starts_with("trb_") && meta.prefix.len() >= 8);
    assert!(key.starts_with(&meta.prefix));
    assert_ne!(meta.prefix, key, "the prefix is not the key");
    assert_eq!(meta.role(), ApiKeyRole::Editor);
    assert_eq!(meta.name, "ci deploys");
    assert_eq!(meta.workspace_id, me.id);
    assert_eq!(meta.created_by, admin_meta.id);
    assert!(meta.created_at.is_some() && meta.revoked_at.is_none() && meta.expires_at.is_none());
    // The key in the response is the only place it appears.
    assert!(!format!("{meta:?}").contains(&key));
    // It works.
    app.connections_as(&key)
        .create_connection(faker("By ci"))
        .await
        .unwrap();

    let listed = w
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner();
    let dump = format!("{listed:?}");
    assert!(!dump.contains(&key), "ListApiKeys shows a key: {dump}");
    assert!(!dump.contains(&app.admin_key), "ListApiKeys shows a key");
    let ids: Vec<&str> = listed.api_keys.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, [admin_meta.id.as_str(), meta.id.as_str()]);
    let listed_meta = &listed.api_keys[1];
    assert_eq!(listed_meta.prefix, meta.prefix);
    assert_eq!(listed_meta.role(), ApiKeyRole::Editor);
    // Its use is recorded (asynchronously, at minute resolution).
    eventually(Duration::from_secs(10), || {
        let mut w = app.workspaces();
        let id = meta.id.clone();
        async move {
            let l = w
                .list_api_keys(pb::ListApiKeysRequest::default())
                .await
                .unwrap()
                .into_inner();
            l.api_keys
                .into_iter()
                .find(|k| k.id == id)
                .and_then(|k| k.last_used_at)
        }
    })
    .await;

    // Revoked keys are listed only on request.
    w.revoke_api_key(pb::RevokeApiKeyRequest {
        api_key_id: meta.id.clone(),
    })
    .await
    .unwrap();
    let active = w
        .list_api_keys(pb::ListApiKeysRequest {
            include_revoked: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        active
            .api_keys
            .iter()
            .map(|k| k.id.as_str())
            .collect::<Vec<_>>(),
        [admin_meta.id.as_str()]
    );
    let all = w
        .list_api_keys(pb::ListApiKeysRequest {
            include_revoked: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.api_keys.len(), 2);
    let revoked = all.api_keys.iter().find(|k| k.id == meta.id).unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(!format!("{all:?}").contains(&key));
}

async fn create_api_key_validates_role_name_and_ttl(app: TestApp) {
    let mut w = app.workspaces();
    let req = |name: &str, role: i32, ttl_seconds: i64| pb::CreateApiKeyRequest {
        name: name.into(),
        role,
        ttl_seconds,
    };
    let s = expect_violation(
        w.create_api_key(req("no role", ApiKeyRole::Unspecified.into(), 0))
            .await,
        "role",
    );
    assert_eq!(domain(&s), "tributary.dev");
    expect_violation(w.create_api_key(req("bad role", 99, 0)).await, "role");
    expect_violation(
        w.create_api_key(req("", ApiKeyRole::Viewer.into(), 0))
            .await,
        "name",
    );
    expect_violation(
        w.create_api_key(req("negative", ApiKeyRole::Viewer.into(), -1))
            .await,
        "ttl_seconds",
    );
    expect_violation(
        w.create_api_key(req("forever", ApiKeyRole::Viewer.into(), i64::MAX))
            .await,
        "ttl_seconds",
    );
    let listed = w
        .list_api_keys(pb::ListApiKeysRequest {
            include_revoked: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.api_keys.len(), 1, "nothing was created: {listed:?}");
}

async fn create_workspace_validates_its_name_and_slug(app: TestApp) {
    let mut w = app.workspaces();
    let req = |name: &str, slug: &str| pb::CreateWorkspaceRequest {
        name: name.into(),
        slug: slug.into(),
    };
    w.create_workspace(req("Acme", "acme-corp")).await.unwrap();
    let s = expect_code(
        w.create_workspace(req("Again", "acme-corp")).await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&s), "ALREADY_EXISTS");
    expect_violation(w.create_workspace(req("", "")).await, "name");
    expect_violation(
        w.create_workspace(req("Bad slug", "Bad_Slug")).await,
        "slug",
    );
}

async fn workspaces_see_themselves_and_the_ones_they_created(app: TestApp) {
    let mut root = app.workspaces();
    let me = root
        .get_workspace(pb::GetWorkspaceRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.slug, "default");
    assert!(me.parent_workspace_id.is_empty());
    let by_id = root
        .get_workspace(pb::GetWorkspaceRequest {
            workspace_id: me.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id, me);

    let a = root
        .create_workspace(pb::CreateWorkspaceRequest {
            name: "Team A".into(),
            slug: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let b = root
        .create_workspace(pb::CreateWorkspaceRequest {
            name: "Team B".into(),
            slug: "team-b-explicit".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let (wa, wb) = (a.workspace.unwrap(), b.workspace.unwrap());
    assert_eq!(wb.slug, "team-b-explicit");

    // The creator sees itself and both, in creation order, and each by id.
    let listed = root
        .list_workspaces(pb::ListWorkspacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed
            .workspaces
            .iter()
            .map(|w| w.id.as_str())
            .collect::<Vec<_>>(),
        [me.id.as_str(), wa.id.as_str(), wb.id.as_str()]
    );
    for w in [&wa, &wb] {
        let got = root
            .get_workspace(pb::GetWorkspaceRequest {
                workspace_id: w.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&got, w);
    }

    // A sees itself only; B (a sibling) and the parent are NOT_FOUND to it.
    let mut wa_client = app.workspaces_as(&a.key);
    let own = wa_client
        .get_workspace(pb::GetWorkspaceRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own, wa);
    let listed = wa_client
        .list_workspaces(pb::ListWorkspacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.workspaces, std::slice::from_ref(&wa));
    for other in [&wb.id, &me.id] {
        let s = expect_code(
            wa_client
                .get_workspace(pb::GetWorkspaceRequest {
                    workspace_id: other.clone(),
                })
                .await,
            Code::NotFound,
        );
        assert_eq!(reason(&s), "NOT_FOUND");
    }
    // A viewer of A sees the same as A's admin.
    let viewer = app
        .workspaces_as(&a.key)
        .create_api_key(pb::CreateApiKeyRequest {
            name: "a viewer".into(),
            role: ApiKeyRole::Viewer.into(),
            ttl_seconds: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(viewer.api_key.unwrap().workspace_id, wa.id);
    let vl = app
        .workspaces_as(&viewer.key)
        .list_workspaces(pb::ListWorkspacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(vl.workspaces, std::slice::from_ref(&wa));
    expect_code(
        app.workspaces_as(&viewer.key)
            .get_workspace(pb::GetWorkspaceRequest {
                workspace_id: wb.id.clone(),
            })
            .await,
        Code::NotFound,
    );

    // Ids that name nothing.
    expect_code(
        root.get_workspace(pb::GetWorkspaceRequest {
            workspace_id: uuid::Uuid::now_v7().to_string(),
        })
        .await,
        Code::NotFound,
    );
    expect_violation(
        root.get_workspace(pb::GetWorkspaceRequest {
            workspace_id: "default".into(),
        })
        .await,
        "workspace_id",
    );
}

async fn health_and_reflection_are_open(app: TestApp) {
    // Health, without a key.
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "tributary.v1.ConnectionService",
        "tributary.v1.CatalogService",
        "tributary.v1.SyncService",
        "tributary.v1.RunService",
        "tributary.v1.ExecutorService",
        "tributary.v1.WorkspaceService",
    ] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|s| panic!("health of {service:?}: {s:?}"))
            .into_inner();
        assert_eq!(r.status(), ServingStatus::Serving, "{service:?}");
    }
    expect_code(
        health
            .check(HealthCheckRequest {
                service: "tributary.v1.NoSuchService".into(),
            })
            .await,
        Code::NotFound,
    );

    let want = [
        "tributary.v1.ConnectionService",
        "tributary.v1.CatalogService",
        "tributary.v1.SyncService",
        "tributary.v1.RunService",
        "tributary.v1.ExecutorService",
        "tributary.v1.WorkspaceService",
        "grpc.health.v1.Health",
    ];

    // Reflection v1 and v1alpha (older grpcurl builds use it), without a key.
    for names in [list_services!(v1, app), list_services!(v1alpha, app)] {
        for w in want {
            assert!(names.iter().any(|n| n == w), "{w} missing from {names:?}");
        }
    }
    // Everything else still needs a key.
    unauthenticated(app.connections_as("").list_connections(list_all()).await);
}

/// Replicas on one PostgreSQL store cache keys; a revocation made through
/// one replica reaches the others' caches through NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_every_replica() {
    let Some(a) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
        return;
    };
    let b = crate::helpers::spawn_replica(&a).await;
    let key = a.key_with_role(pb::ApiKeyRole::Viewer).await;
    let key_id = a
        .workspaces()
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner()
        .api_keys
        .into_iter()
        .find(|k| key.starts_with(&k.prefix) && k.role() == pb::ApiKeyRole::Viewer)
        .unwrap()
        .id;
    // Once B's change listener runs, B caches the key on first use; from
    // then on only the notification can make B refuse it.
    crate::helpers::wait_until_following(&b).await;
    for _ in 0..3 {
        b.connections_as(&key)
            .list_connections(pb::ListConnectionsRequest::default())
            .await
            .unwrap();
    }
    a.workspaces()
        .revoke_api_key(pb::RevokeApiKeyRequest { api_key_id: key_id })
        .await
        .unwrap();
    // Refused on A at once, and on B as soon as the notification lands (milliseconds).
    let on_a = a
        .connections_as(&key)
        .list_connections(pb::ListConnectionsRequest::default())
        .await;
    assert_eq!(on_a.unwrap_err().code(), tonic::Code::Unauthenticated);
    let status = crate::helpers::eventually(std::time::Duration::from_secs(2), || async {
        b.connections_as(&key)
            .list_connections(pb::ListConnectionsRequest::default())
            .await
            .err()
    })
    .await;
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    // And it stays refused.
    for _ in 0..5 {
        let r = b
            .connections_as(&key)
            .list_connections(pb::ListConnectionsRequest::default())
            .await;
        assert_eq!(r.unwrap_err().code(), tonic::Code::Unauthenticated);
    }
}
