//! Who may call what, for every RPC of `tributary.v1` at once: the table
//! below says which role each method needs, and is checked against the
//! server's own descriptor set, so an RPC added later fails here until it
//! is listed. Each method is then called with every kind of key, and from
//! another workspace with this one's ids in every id field its request has.

use std::{collections::BTreeSet, time::Duration};

use tributary::pb;

use crate::{
    both,
    helpers::TestApp,
    raw::{Outcome, Raw, Rpc, every_rpc, fields_of, message},
};

both!(
    every_rpc_refuses_missing_keys_and_roles_below_its_need,
    no_rpc_reaches_another_workspaces_resources,
    watch_runs_carries_no_other_workspaces_events,
);

/// What a method needs of its caller's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Any key: viewer, editor, admin, executor.
    Read,
    /// Editor or admin.
    Write,
    /// Admin only.
    Admin,
    /// Executor or admin.
    Execute,
}

use Need::*;

const TABLE: &[(&str, Need)] = &[
    ("CatalogService/ListProviders", Read),
    ("CatalogService/GetProviderCatalog", Read),
    ("ConnectionService/ListConnections", Read),
    ("ConnectionService/CreateConnection", Write),
    ("ConnectionService/GetConnection", Read),
    ("ConnectionService/GetConnectionBySlug", Read),
    ("ConnectionService/UpdateConnection", Write),
    ("ConnectionService/DeleteConnection", Write),
    ("ConnectionService/DisableConnection", Write),
    ("ConnectionService/ReactivateConnection", Write),
    ("ConnectionService/SetDefaultConnection", Write),
    ("ConnectionService/VerifyConnection", Write),
    ("ConnectionService/ListFiles", Read),
    ("ConnectionService/ValidateFileSelection", Read),
    ("ConnectionService/ListSchemaTables", Read),
    ("ConnectionService/ListSchemaColumns", Read),
    ("ExecutorService/ClaimRun", Execute),
    ("ExecutorService/Heartbeat", Execute),
    ("ExecutorService/ReportProgress", Execute),
    ("ExecutorService/AppendLogs", Execute),
    ("ExecutorService/CompleteRun", Execute),
    ("RunService/GetRun", Read),
    ("RunService/ListRuns", Read),
    ("RunService/CancelRun", Write),
    ("RunService/RetryRun", Write),
    ("RunService/ListRunLogs", Read),
    ("RunService/WatchRun", Read),
    ("RunService/WatchRuns", Read),
    ("SyncService/ListSyncs", Read),
    ("SyncService/CreateSync", Write),
    ("SyncService/GetSync", Read),
    ("SyncService/UpdateSync", Write),
    ("SyncService/DeleteSync", Write),
    ("SyncService/TriggerSync", Write),
    ("SyncService/ListSyncRuns", Read),
    ("SyncService/ResetSyncState", Write),
    ("WorkspaceService/GetWorkspace", Read),
    ("WorkspaceService/CreateWorkspace", Admin),
    ("WorkspaceService/ListWorkspaces", Read),
    ("WorkspaceService/CreateApiKey", Admin),
    ("WorkspaceService/ListApiKeys", Admin),
    ("WorkspaceService/RevokeApiKey", Admin),
];

fn need_of(rpc: &Rpc) -> Need {
    TABLE
        .iter()
        .find(|(name, _)| *name == rpc.name())
        .map(|(_, need)| *need)
        .unwrap_or_else(|| panic!("{} is not in the table", rpc.name()))
}

#[test]
fn the_table_lists_exactly_the_servers_rpcs() {
    let served: BTreeSet<String> = every_rpc().iter().map(|r| r.name().to_string()).collect();
    let listed: BTreeSet<String> = TABLE.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(listed.len(), TABLE.len(), "a method is listed twice");
    assert_eq!(
        served.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "served but not in the table: say who may call them"
    );
    assert_eq!(
        listed.difference(&served).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in the table but not served"
    );
}

const UNAUTHENTICATED: i32 = 16;
const PERMISSION_DENIED: i32 = 7;
const NOT_FOUND: i32 = 5;
const INVALID_ARGUMENT: i32 = 3;
const INTERNAL: i32 = 13;

/// Calls `rpc` with an all-default request (a stream is read briefly).
async fn call(raw: &mut Raw, rpc: &Rpc, body: Vec<u8>) -> Outcome {
    raw.call(&rpc.path, &[], message(&body), Duration::from_millis(300))
        .await
}

async fn every_rpc_refuses_missing_keys_and_roles_below_its_need(app: TestApp) {
    let key = |role| app.key_with_role(role);
    let keys = [
        ("no key", String::new(), None),
        ("a bogus key", "trb_not_a_key".to_string(), None),
        ("viewer", key(pb::ApiKeyRole::Viewer).await, Some(Read)),
        ("editor", key(pb::ApiKeyRole::Editor).await, Some(Write)),
        (
            "executor",
            key(pb::ApiKeyRole::Executor).await,
            Some(Execute),
        ),
        ("admin", app.admin_key.clone(), Some(Admin)),
    ];
    let allows = |role: Need, need: Need| {
        matches!(
            (role, need),
            (_, Read) | (Admin, _) | (Write, Write) | (Execute, Execute)
        )
    };
    let mut checked = 0;
    for (who, key, role) in keys {
        let mut raw = Raw::connect(app.addr, &key).await;
        for rpc in every_rpc() {
            let out = call(&mut raw, &rpc, Vec::new()).await;
            let what = format!("{} as {who}: {out:?}", rpc.name());
            match role {
                None => assert_eq!(out.code, Some(UNAUTHENTICATED), "{what}"),
                Some(r) if allows(r, need_of(&rpc)) => assert!(
                    !matches!(out.code, Some(UNAUTHENTICATED | PERMISSION_DENIED)),
                    "{what}"
                ),
                Some(_) => assert_eq!(out.code, Some(PERMISSION_DENIED), "{what}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * TABLE.len());
}

/// A request of `message` type with `ids` in whichever of its top-level
/// string fields they name.
fn request_with(message: &str, ids: &[(&str, &str)]) -> Option<Vec<u8>> {
    // Each as field number + wire type 2 (length-delimited), length, bytes.
    const STRING: i32 = prost_types::field_descriptor_proto::Type::String as i32;
    let fields = fields_of(message);
    let mut body = Vec::new();
    for (name, value) in ids {
        if let Some(&(number, STRING)) = fields.get(*name) {
            let tag = (number as u64) << 3 | 2;
            prost::encoding::encode_varint(tag, &mut body);
            prost::encoding::encode_varint(value.len() as u64, &mut body);
            body.extend_from_slice(value.as_bytes());
        }
    }
    (!body.is_empty()).then_some(body)
}

async fn no_rpc_reaches_another_workspaces_resources(app: TestApp) {
    // Workspace A (default) owns a connection, a sync with a run, and a key.
    let conn = app.faker_connection("Theirs").await;
    let sync = app.faker_sync(&conn.id, "Theirs", &["users"]).await;
    let run = app.trigger(&sync.id).await;
    let ws = app
        .workspaces()
        .get_workspace(pb::GetWorkspaceRequest::default())
        .await
        .unwrap()
        .into_inner();
    let viewer = app.key_with_role(pb::ApiKeyRole::Viewer).await;
    let keys = app
        .workspaces()
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner();
    let key_id = keys
        .api_keys
        .iter()
        .find(|k| viewer.starts_with(&k.prefix))
        .map(|k| k.id.clone())
        .unwrap();
    let ids = [
        ("connection_id", conn.id.as_str()),
        ("sync_id", sync.id.as_str()),
        ("run_id", run.id.as_str()),
        ("api_key_id", key_id.as_str()),
        ("workspace_id", ws.id.as_str()),
        ("slug", conn.slug.as_str()),
    ];

    // Workspace B, with its own admin key, names A's resources everywhere.
    let b = app.other_workspace("Elsewhere").await;
    let mut raw = Raw::connect(app.addr, &b.key).await;
    let mut own = Raw::connect(app.addr, &app.admin_key).await;
    let (mut checked, mut not_found, mut unnamed) = (0, 0, 0);
    for rpc in every_rpc() {
        let body = request_with(&rpc.input, &ids);
        let named = body.is_some();
        let leaks = |out: &Outcome| -> Vec<&str> {
            ids.iter()
                // B's own workspace names A as its parent (by design).
                .filter(|(field, _)| *field != "workspace_id" || named)
                .map(|(_, id)| *id)
                .filter(|id| out.body.windows(id.len()).any(|w| w == id.as_bytes()))
                .collect()
        };
        let Some(body) = body else {
            // Names no resource (the lists, the catalog, the caller's own
            // workspace): its answer carries none of A's.
            let out = call(&mut raw, &rpc, Vec::new()).await;
            assert_eq!(
                leaks(&out),
                [] as [&str; 0],
                "{} from another workspace: {out:?}",
                rpc.name()
            );
            assert_ne!(out.code, Some(INTERNAL), "{}: {out:?}", rpc.name());
            unnamed += 1;
            continue;
        };
        let out = call(&mut raw, &rpc, body.clone()).await;
        let what = format!("{} from another workspace: {out:?}", rpc.name());
        let leaked = leaks(&out);
        assert!(leaked.is_empty(), "{what} carries {leaked:?}");
        assert!(
            matches!(
                out.code,
                Some(NOT_FOUND | INVALID_ARGUMENT) | Some(0) | None
            ),
            "{what}"
        );
        checked += 1;
        not_found += usize::from(out.code == Some(NOT_FOUND));
        // The same request from A itself finds what B could not.
        if rpc.name().ends_with("/GetRun") || rpc.name().ends_with("/GetSync") {
            let mine = call(&mut own, &rpc, body).await;
            assert_eq!(
                mine.code,
                Some(0),
                "{} from its own workspace: {mine:?}",
                rpc.name()
            );
            // …and its answer carries the id, as a leak above would have.
            let id = if rpc.name().ends_with("/GetRun") {
                &run.id
            } else {
                &sync.id
            };
            assert!(mine.body.windows(id.len()).any(|w| w == id.as_bytes()));
        }
    }
    assert!(checked >= 30, "only {checked} RPCs name a resource");
    assert!(unnamed >= 5, "the lists were called too ({unnamed})");
    // Most were refused for the resource itself, not for the rest of the request.
    assert!(not_found >= 20, "{not_found} of {checked} NOT_FOUND");
}

/// WatchRuns names no resource, so the table above cannot catch a leak:
/// B watches everything while A's run changes, then B changes a run of its
/// own. Events arrive in commit order, so by B's own event A's would have
/// come first.
async fn watch_runs_carries_no_other_workspaces_events(app: TestApp) {
    let conn = app.faker_connection("A's").await;
    let sync = app.faker_sync(&conn.id, "A's", &["users"]).await;
    let b = app.other_workspace("B").await;
    let b_conn = app
        .connections_as(&b.key)
        .create_connection(pb::CreateConnectionRequest {
            name: "B's".into(),
            provider: "faker".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let b_sync = app
        .syncs_as(&b.key)
        .create_sync(pb::CreateSyncRequest {
            name: "B's".into(),
            connection_id: b_conn.id,
            entities: vec!["users".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut watch = app
        .runs_as(&b.key)
        .watch_runs(pb::WatchRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let a_run = app.trigger(&sync.id).await;
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: a_run.id.clone(),
            reason: "done".into(),
        })
        .await
        .unwrap();
    let b_run = app
        .syncs_as(&b.key)
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: b_sync.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = crate::helpers::next_event(&mut watch)
        .await
        .expect("an event");
    assert_eq!(
        (first.run_id.as_str(), first.sync_id.as_str()),
        (b_run.id.as_str(), b_sync.id.as_str()),
        "the first event B sees is its own, none of A's ({})",
        a_run.id
    );
}

/// Values no client should send, by the field's wire shape.
fn garbage_strings() -> Vec<String> {
    [
        "",
        " ",
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        "0195f7a0-0000-7000-8000-00000000000g",
        "'; DROP TABLE connections; --",
        "a\0b",
        "%",
        "_",
        "\\",
        "ünïcödé",
        "🦀",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(std::iter::once("x".repeat(100_000)))
    .collect()
}

const GARBAGE_NUMBERS: [i64; 6] = [-1, i32::MIN as i64, i32::MAX as i64, i64::MIN, i64::MAX, 0];

/// One field of a request set to a value, encoded after `base`.
fn with_field(base: &[u8], number: i32, value: Field) -> Vec<u8> {
    use prost::encoding::encode_varint;
    let mut body = base.to_vec();
    match value {
        Field::Bytes(bytes) => {
            encode_varint((number as u64) << 3 | 2, &mut body);
            encode_varint(bytes.len() as u64, &mut body);
            body.extend_from_slice(&bytes);
        }
        Field::Varint(n) => {
            encode_varint((number as u64) << 3, &mut body);
            encode_varint(n as u64, &mut body);
        }
    }
    body
}

enum Field {
    Bytes(Vec<u8>),
    Varint(i64),
}

/// The values to try in a field of protobuf type `ty`.
fn garbage_for(ty: i32) -> Vec<Field> {
    use prost_types::field_descriptor_proto::Type;
    match Type::try_from(ty) {
        Ok(Type::String) => garbage_strings()
            .into_iter()
            .map(|s| Field::Bytes(s.into_bytes()))
            .collect(),
        Ok(Type::Bytes) => vec![Field::Bytes(vec![0xff, 0x00, 0xfe])],
        // A nested message (Struct, Schedule, Timestamp…): empty, or
        // fields that are not what they seem.
        Ok(Type::Message) => vec![
            Field::Bytes(Vec::new()),
            Field::Bytes(vec![0x0a, 0x03, b'a', b'b', b'c', 0x10, 0xff, 0x01]),
            Field::Bytes(vec![
                0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
            ]),
        ],
        _ => GARBAGE_NUMBERS.iter().map(|n| Field::Varint(*n)).collect(),
    }
}

both!(garbage_in_every_field_of_every_rpc_is_a_deliberate_error);

/// Every top-level field of every request, set to each garbage value of its
/// type on top of a request that names real resources: never INTERNAL,
/// UNKNOWN, DATA_LOSS or UNAVAILABLE, every error with our ErrorInfo, a
/// malformed id is INVALID_ARGUMENT, and the resources survive.
async fn garbage_in_every_field_of_every_rpc_is_a_deliberate_error(app: TestApp) {
    let conn = app.faker_connection("Target").await;
    let sync = app.faker_sync(&conn.id, "Target sync", &["users"]).await;
    let run = app.trigger(&sync.id).await;
    let ids = [
        ("connection_id", conn.id.as_str()),
        ("sync_id", sync.id.as_str()),
        ("run_id", run.id.as_str()),
    ];
    let mut raw = Raw::connect(app.addr, &app.admin_key).await;
    let (mut calls, mut problems) = (0, Vec::new());
    for rpc in every_rpc() {
        // Deletes get garbage alone: the resources must outlive the test.
        let base = if rpc.name().contains("/Delete") {
            Vec::new()
        } else {
            request_with(&rpc.input, &ids).unwrap_or_default()
        };
        for (name, (number, ty)) in fields_of(&rpc.input) {
            for value in garbage_for(ty) {
                let shown = match &value {
                    Field::Bytes(b) => String::from_utf8_lossy(&b[..b.len().min(24)]).into_owned(),
                    Field::Varint(n) => n.to_string(),
                };
                // Resource ids are UUIDs; an executor names itself freely.
                let malformed_id = name.ends_with("_id")
                    && name != "executor_id"
                    && matches!(&value, Field::Bytes(b) if !b.is_empty() && uuid::Uuid::parse_str(&String::from_utf8_lossy(b)).is_err());
                let out = call(&mut raw, &rpc, with_field(&base, number, value)).await;
                calls += 1;
                let what = format!("{} {name}={shown:?}: {out:?}", rpc.name());
                match out.code {
                    Some(2 | 13 | 14 | 15) => problems.push(what),
                    Some(c) if c != 0 && out.domain != "tributary.dev" => {
                        problems.push(format!("no ErrorInfo: {what}"))
                    }
                    Some(c) if malformed_id && c != INVALID_ARGUMENT => {
                        problems.push(format!("a malformed id must be INVALID_ARGUMENT: {what}"))
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(calls > 1000, "{calls} calls");
    assert!(
        problems.is_empty(),
        "{} of {calls} calls:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The resources it named are still there (a valid update may have
    // renamed them: garbage that is valid is no error).
    app.connections()
        .get_connection(pb::GetConnectionRequest {
            connection_id: conn.id.clone(),
        })
        .await
        .unwrap();
    app.syncs()
        .get_sync(pb::GetSyncRequest {
            sync_id: sync.id.clone(),
        })
        .await
        .unwrap();
}
