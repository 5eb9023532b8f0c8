//! Bounds on what requests and responses carry (issue 9): every free-form
//! field, count and duration is bounded and checked before anything is
//! written, time math never wraps, page tokens are checked with their full
//! tag, a list page stops early rather than build a response that cannot
//! be sent, and error trailers stay under the 8 KiB gRPC's C++, Python and
//! Java clients accept.

use std::collections::HashSet;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
};
use prost::Message;
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;
use tributary::pb::{self, ApiKeyRole, TimeUnit, schedule::Spec};

use crate::{
    both,
    helpers::{TestApp, expect_code, expect_violation, json_struct, violations},
};

both!(
    forged_page_tokens_are_refused,
    free_form_fields_are_bounded_before_anything_is_written,
    executor_reports_are_bounded,
    intervals_and_slas_are_bounded_and_their_time_math_checked,
    a_page_of_connections_stops_early_and_continues_exactly,
    a_page_of_syncs_stops_early_and_continues_exactly,
    a_page_of_run_logs_stops_early_and_continues_exactly,
    lists_without_a_limit_page_with_checked_tokens,
    many_violations_fit_in_error_trailers,
);

fn text(bytes: usize) -> String {
    "x".repeat(bytes)
}

/// `levels` objects, each inside the one before.
fn nested(levels: usize) -> Value {
    let mut j = json!("leaf");
    for _ in 0..levels {
        j = json!({ "n": j });
    }
    j
}

fn sync_req(connection_id: &str, name: &str) -> pb::CreateSyncRequest {
    pb::CreateSyncRequest {
        name: name.into(),
        connection_id: connection_id.into(),
        entities: vec!["users".into()],
        // A schema of its own: table names are unique per destination.
        destination_config: Some(json_struct(json!({ "schema": name }))),
        ..Default::default()
    }
}

async fn total_syncs(app: &TestApp) -> i64 {
    app.syncs()
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .total
}

// === page tokens (item 8) ===

async fn forged_page_tokens_are_refused(app: TestApp) {
    for name in ["a", "b", "c"] {
        app.faker_connection(name).await;
    }
    let mut c = app.connections();
    let list = |token: String| pb::ListConnectionsRequest {
        limit: Some(1),
        page_token: token,
        ..Default::default()
    };
    let token = c
        .list_connections(list(String::new()))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    let page = c
        .list_connections(list(token.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.connections[0].name, "b", "the real token works");

    let (body, tag) = token.split_once('.').unwrap();
    let tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
    assert_eq!(tag.len(), 16);
    let mut flipped = tag.clone();
    flipped[15] ^= 0x01;
    let mut longer = tag.clone();
    longer.push(0);
    // A one-byte tag was accepted whenever it matched the real one's first
    // byte: one forgery in 256 tries.
    for forged in [&tag[..1], &tag[..15], &flipped[..], &longer[..], &[][..]] {
        let forged = format!("{body}.{}", URL_SAFE_NO_PAD.encode(forged));
        let st = expect_violation(c.list_connections(list(forged)).await, "page_token");
        assert_eq!(violations(&st), ["page_token"]);
    }
}

// === free-form fields (item 6a) ===

async fn free_form_fields_are_bounded_before_anything_is_written(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let mut s = app.syncs();
    let with = |f: fn(&mut pb::CreateSyncRequest)| {
        let mut r = sync_req(&conn.id, "bounded");
        f(&mut r);
        r
    };

    // The issue's case: 2.2 MiB of source_config, twice, made every
    // default-size ListSyncs of the workspace fail.
    let huge = || Some(json_struct(json!({ "pad": text(2_200 * 1024) })));
    for name in ["one", "two"] {
        let r = pb::CreateSyncRequest {
            source_config: huge(),
            ..sync_req(&conn.id, name)
        };
        let st = expect_violation(s.create_sync(r).await, "source_config");
        assert_eq!(violations(&st), ["source_config"], "{}", st.message());
    }
    s.list_syncs(pb::ListSyncsRequest::default()).await.unwrap();

    let too_many_keys: serde_json::Map<String, Value> =
        (0..257).map(|i| (format!("k{i}"), json!(i))).collect();
    let cases: Vec<(&str, pb::CreateSyncRequest)> = vec![
        (
            "source_config",
            with(|r| r.source_config = Some(json_struct(json!({ "pad": text(65 * 1024) })))),
        ),
        (
            "source_config",
            with(|r| r.source_config = Some(json_struct(json!({ "l": vec![0; 1001] })))),
        ),
        (
            "destination_config",
            with(|r| r.destination_config = Some(json_struct(nested(11)))),
        ),
        (
            "execution_config",
            pb::CreateSyncRequest {
                execution_config: Some(json_struct(Value::Object(too_many_keys))),
                ..sync_req(&conn.id, "keys")
            },
        ),
        (
            "execution_config",
            with(|r| r.execution_config = Some(json_struct(json!({ text(257): 1 })))),
        ),
        (
            "entities",
            with(|r| r.entities = (0..257).map(|i| format!("e{i}")).collect()),
        ),
        ("entities[0]", with(|r| r.entities = vec![text(256)])),
        (
            "table_bindings",
            with(|r| {
                r.table_bindings = (0..257)
                    .map(|i| pb::TableBinding {
                        entity_key: "users".into(),
                        source_instance_key: format!("i{i}"),
                        ..Default::default()
                    })
                    .collect()
            }),
        ),
        (
            "table_bindings[0].primary_key_columns",
            with(|r| {
                r.table_bindings = vec![pb::TableBinding {
                    entity_key: "users".into(),
                    primary_key_columns: (0..17).map(|i| format!("c{i}")).collect(),
                    ..Default::default()
                }]
            }),
        ),
    ];
    for (field, req) in cases {
        expect_violation(s.create_sync(req).await, field);
    }
    assert_eq!(total_syncs(&app).await, 0, "nothing was written");

    // At the bounds, all is well.
    let keys: serde_json::Map<String, Value> =
        (0..256).map(|i| (format!("k{i}"), json!(i))).collect();
    let edge = s
        .create_sync(pb::CreateSyncRequest {
            source_config: Some(json_struct(
                json!({ "pad": text(60 * 1024), "deep": nested(9) }),
            )),
            execution_config: Some(json_struct(Value::Object(keys))),
            destination_config: Some(json_struct(json!({ "schema": "edge", "l": vec![0; 1000] }))),
            ..sync_req(&conn.id, "edge")
        })
        .await
        .unwrap()
        .into_inner();

    // UpdateSync is bounded alike, and a refused update changes nothing.
    let st = expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: edge.id.clone(),
            source_config: huge(),
            ..Default::default()
        })
        .await,
        "source_config",
    );
    assert_eq!(violations(&st), ["source_config"]);
    let got = s
        .get_sync(pb::GetSyncRequest {
            sync_id: edge.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.etag, edge.etag);
    assert_eq!(got.source_config, edge.source_config);

    // Connections: config like any Struct, credentials by count and size.
    let mut c = app.connections();
    let sqlite = |path: String| pb::CreateConnectionRequest {
        name: "Local".into(),
        provider: "sqlite".into(),
        config: Some(json_struct(json!({ "path": path }))),
        ..Default::default()
    };
    let st = expect_violation(c.create_connection(sqlite(text(70 * 1024))).await, "config");
    assert_eq!(violations(&st), ["config"]);
    let secret = text(17 * 1024);
    let http = |credentials: Vec<(String, String)>| pb::CreateConnectionRequest {
        name: "API".into(),
        provider: "http_api".into(),
        config: Some(json_struct(json!({
            "client": { "base_url": "https://api.example.com" },
            "resources": [{ "name": "items", "endpoint": { "path": "items" } }]
        }))),
        credentials: credentials.into_iter().collect(),
        ..Default::default()
    };
    let st = expect_violation(
        c.create_connection(http(vec![("api_key".into(), secret.clone())]))
            .await,
        "credentials",
    );
    assert!(
        !st.message().contains(&secret[..64]),
        "a secret is never echoed"
    );
    let many = (0..65).map(|i| (format!("k{i}"), "v".into())).collect();
    expect_violation(c.create_connection(http(many)).await, "credentials");
    let listed = c
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 1, "only the faker connection exists");
    let st = expect_violation(
        c.update_connection(pb::UpdateConnectionRequest {
            connection_id: conn.id.clone(),
            config: Some(json_struct(
                json!({ "row_count": 5, "pad": text(70 * 1024) }),
            )),
            ..Default::default()
        })
        .await,
        "config",
    );
    assert_eq!(violations(&st), ["config"]);
    // Just under the limit is accepted.
    c.create_connection(pb::CreateConnectionRequest {
        name: "Near the limit".into(),
        provider: "postgres".into(),
        config: Some(json_struct(
            json!({ "host": text(60 * 1024), "database": "d", "username": "u" }),
        )),
        ..Default::default()
    })
    .await
    .unwrap();
}

/// A RUNNING run of an EXTERNAL faker sync, claimed by `executor_id`.
async fn claimed_run(
    app: &TestApp,
    executor_id: &str,
) -> (
    pb::executor_service_client::ExecutorServiceClient<crate::helpers::Authed>,
    pb::Run,
) {
    let conn = app.faker_connection("External source").await;
    let sync = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            execution_backend: pb::ExecutionBackend::External.into(),
            ..sync_req(&conn.id, "external")
        })
        .await
        .unwrap()
        .into_inner();
    app.trigger(&sync.id).await;
    let key = app.key_with_role(ApiKeyRole::Executor).await;
    let mut x = app.executor_as(&key);
    let run = x
        .claim_run(pb::ClaimRunRequest {
            executor_id: executor_id.into(),
            sync_ids: vec![sync.id],
        })
        .await
        .unwrap()
        .into_inner()
        .run
        .expect("a claimed run");
    (x, run)
}

async fn executor_reports_are_bounded(app: TestApp) {
    let (mut x, run) = claimed_run(&app, "bounded-executor").await;
    let beat = |f: fn(&mut pb::HeartbeatRequest)| {
        let mut r = pb::HeartbeatRequest {
            run_id: run.id.clone(),
            executor_id: "bounded-executor".into(),
            ..Default::default()
        };
        f(&mut r);
        r
    };
    const MAX_COUNTER: i64 = (1 << 53) - 1;
    expect_violation(
        x.heartbeat(beat(|r| {
            r.backend_status = Some(json_struct(json!({ "pad": text(65 * 1024) })))
        }))
        .await,
        "backend_status",
    );
    expect_violation(
        x.heartbeat(beat(|r| r.records_read = MAX_COUNTER + 1))
            .await,
        "records_read",
    );
    expect_violation(x.heartbeat(beat(|r| r.bytes = i64::MAX)).await, "bytes");
    x.heartbeat(beat(|r| {
        r.records_read = MAX_COUNTER;
        r.backend_status = Some(json_struct(json!({ "state": "running" })));
    }))
    .await
    .unwrap();
    expect_violation(
        x.report_progress(pb::ReportProgressRequest {
            run_id: run.id.clone(),
            executor_id: "bounded-executor".into(),
            progress: Some(pb::Progress {
                entity_key: "users".into(),
                records_written: i64::MAX,
                ..Default::default()
            }),
            cursor: None,
        })
        .await,
        "progress.records_written",
    );
    let complete = |summary: pb::RunSummary| pb::CompleteRunRequest {
        run_id: run.id.clone(),
        executor_id: "bounded-executor".into(),
        status: pb::RunStatus::Succeeded.into(),
        summary: Some(summary),
        ..Default::default()
    };
    let entity = |key: String| pb::EntitySummary {
        entity_key: key,
        ..Default::default()
    };
    expect_violation(
        x.complete_run(complete(pb::RunSummary {
            entities: (0..257).map(|i| entity(format!("e{i}"))).collect(),
            ..Default::default()
        }))
        .await,
        "summary.entities",
    );
    expect_violation(
        x.complete_run(complete(pb::RunSummary {
            entities: vec![pb::EntitySummary {
                started_at: Some(prost_types::Timestamp {
                    seconds: i64::MAX,
                    nanos: 0,
                }),
                ..entity("users".into())
            }],
            ..Default::default()
        }))
        .await,
        "summary.entities[0].started_at",
    );
    // The run is still the executor's to end; a cancel reason is bounded too.
    let st = expect_violation(
        app.runs()
            .cancel_run(pb::CancelRunRequest {
                run_id: run.id.clone(),
                reason: "r".repeat(1001),
            })
            .await,
        "reason",
    );
    assert_eq!(violations(&st), ["reason"]);
    x.complete_run(complete(pb::RunSummary {
        entities: vec![pb::EntitySummary {
            records_read: MAX_COUNTER,
            ..entity("users".into())
        }],
        ..Default::default()
    }))
    .await
    .unwrap();
}

// === durations and time math (item 7) ===

fn every(units: i32, unit: TimeUnit) -> pb::Schedule {
    pb::Schedule {
        spec: Some(Spec::Every(pb::Interval {
            units,
            time_unit: unit.into(),
        })),
        timezone: String::new(),
    }
}

async fn intervals_and_slas_are_bounded_and_their_time_math_checked(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let mut s = app.syncs();
    let scheduled = |name: &str, schedule: pb::Schedule| pb::CreateSyncRequest {
        trigger_mode: pb::TriggerMode::Scheduled.into(),
        status: pb::SyncStatus::Active.into(),
        schedule: Some(schedule),
        ..sync_req(&conn.id, name)
    };
    let too_long = [
        (150_000_000, TimeUnit::Days),
        (5_000_000, TimeUnit::Days),
        (i32::MAX, TimeUnit::Weeks),
        (367, TimeUnit::Days),
        (13, TimeUnit::Months),
    ];
    for (units, unit) in too_long {
        let st = expect_violation(
            s.create_sync(scheduled("long", every(units, unit))).await,
            "schedule.every.units",
        );
        assert_eq!(violations(&st), ["schedule.every.units"]);
    }
    let st = expect_violation(
        s.create_sync(pb::CreateSyncRequest {
            freshness_sla_seconds: Some(i64::MAX),
            status: pb::SyncStatus::Active.into(),
            ..sync_req(&conn.id, "sla")
        })
        .await,
        "freshness_sla_seconds",
    );
    assert_eq!(violations(&st), ["freshness_sla_seconds"]);
    assert_eq!(total_syncs(&app).await, 0);

    // UpdateSync refuses them alike, and changes nothing.
    let plain = s
        .create_sync(sync_req(&conn.id, "plain"))
        .await
        .unwrap()
        .into_inner();
    for (units, unit) in too_long {
        expect_violation(
            s.update_sync(pb::UpdateSyncRequest {
                sync_id: plain.id.clone(),
                trigger_mode: Some(pb::TriggerMode::Scheduled.into()),
                status: Some(pb::SyncStatus::Active.into()),
                schedule: Some(every(units, unit)),
                ..Default::default()
            })
            .await,
            "schedule.every.units",
        );
    }
    expect_violation(
        s.update_sync(pb::UpdateSyncRequest {
            sync_id: plain.id.clone(),
            freshness_sla_seconds: Some(i64::MAX),
            ..Default::default()
        })
        .await,
        "freshness_sla_seconds",
    );
    let got = s
        .get_sync(pb::GetSyncRequest {
            sync_id: plain.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.etag, plain.etag);

    // The longest valid intervals fire one year out, within Timestamp's range.
    let now = chrono::Utc::now().timestamp();
    let year = 366 * 86_400;
    for (i, (units, unit)) in [
        (527_040, TimeUnit::Minutes),
        (8_784, TimeUnit::Hours),
        (366, TimeUnit::Days),
        (52, TimeUnit::Weeks),
        (12, TimeUnit::Months),
    ]
    .into_iter()
    .enumerate()
    {
        let sync = s
            .create_sync(scheduled(&format!("yearly_{i}"), every(units, unit)))
            .await
            .unwrap()
            .into_inner();
        let next = sync.next_run_at.expect("a next run").seconds;
        assert!(next > now + 360 * 86_400, "{units} {unit:?}: {next}");
        assert!(next <= now + year + 60, "{units} {unit:?}: {next}");
    }
    // The longest SLA is accepted, and a new sync is not overdue.
    let sla = s
        .create_sync(pb::CreateSyncRequest {
            freshness_sla_seconds: Some(year),
            status: pb::SyncStatus::Active.into(),
            ..sync_req(&conn.id, "sla")
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!sla.freshness_breached);
    assert_eq!(sla.freshness_sla_seconds, Some(year));
}

// === pages stop early (item 6b) ===

/// Larger than any one message may be: 4 MiB.
const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// Pages through a list with `page` until it says no page follows; returns
/// every id in order, checking each page fits in one message.
async fn page_through<F, Fut>(mut page: F) -> Vec<String>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = (Vec<String>, bool, String, usize)>,
{
    let (mut ids, mut token) = (Vec::new(), String::new());
    loop {
        let (items, has_next, next, encoded) = page(token).await;
        assert!(encoded < MAX_MESSAGE, "a page of {encoded} bytes");
        assert!(!items.is_empty(), "a page always advances");
        ids.extend(items);
        assert_eq!(has_next, !next.is_empty());
        if !has_next {
            return ids;
        }
        token = next;
    }
}

fn exactly_once(got: &[String], want: &HashSet<String>) {
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "an item came twice");
    assert_eq!(got.len(), want.len(), "an item is missing");
    assert!(got.iter().all(|id| want.contains(id)));
}

async fn a_page_of_connections_stops_early_and_continues_exactly(app: TestApp) {
    // 70 connections of ~60 KiB: together ~4.3 MB, more than a message holds.
    let mut created = HashSet::new();
    let mut c = app.connections();
    for i in 0..70 {
        let conn = c
            .create_connection(pb::CreateConnectionRequest {
                name: format!("big {i:02}"),
                provider: "postgres".into(),
                config: Some(json_struct(json!({
                    "host": format!("{i}.{}", text(60 * 1024)),
                    "database": "d",
                    "username": "u"
                }))),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        created.insert(conn.id);
    }
    let list = |r: pb::ListConnectionsRequest| {
        let mut c = app.connections();
        async move { c.list_connections(r).await.unwrap().into_inner() }
    };

    // Offset mode: a page of 100 stops early and says so.
    let first = list(pb::ListConnectionsRequest {
        limit: Some(100),
        ..Default::default()
    })
    .await;
    let n = first.connections.len();
    assert!(n > 1 && n < 70, "{n} items in the first page");
    assert!(first.has_next && !first.next_page_token.is_empty());
    assert_eq!((first.total, first.limit, first.offset), (70, 100, 0));
    assert!(first.encoded_len() < MAX_MESSAGE);
    // Offset + items received continues where its token does.
    let by_offset = list(pb::ListConnectionsRequest {
        limit: Some(100),
        offset: Some(n as i32),
        ..Default::default()
    })
    .await;
    let by_token = list(pb::ListConnectionsRequest {
        limit: Some(100),
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_offset.connections[0].id, by_token.connections[0].id);

    // Token mode, sorted either way: every connection exactly once.
    for order in ["asc", "desc"] {
        let ids = page_through(|token| {
            let r = pb::ListConnectionsRequest {
                limit: Some(100),
                order: order.into(),
                sort_by: "created_at".into(),
                page_token: token,
                ..Default::default()
            };
            async move {
                let p = list(r).await;
                let encoded = p.encoded_len();
                let ids = p.connections.into_iter().map(|c| c.id).collect();
                (ids, p.has_next, p.next_page_token, encoded)
            }
        })
        .await;
        exactly_once(&ids, &created);
    }
}

async fn a_page_of_syncs_stops_early_and_continues_exactly(app: TestApp) {
    // 24 syncs of three ~60 KiB configs: ~4.4 MB, where the default page
    // (50) used to fail with OUT_OF_RANGE.
    let conn = app.faker_connection("Source").await;
    let pad = text(60 * 1024);
    let mut created = HashSet::new();
    for i in 0..24 {
        let name = format!("big_{i:02}");
        let sync = app
            .syncs()
            .create_sync(pb::CreateSyncRequest {
                source_config: Some(json_struct(json!({ "pad": pad }))),
                destination_config: Some(json_struct(json!({ "schema": name, "pad": pad }))),
                execution_config: Some(json_struct(json!({ "pad": pad }))),
                ..sync_req(&conn.id, &name)
            })
            .await
            .unwrap()
            .into_inner();
        created.insert(sync.id);
    }
    let ids = page_through(|token| {
        let mut s = app.syncs();
        async move {
            let p = s
                .list_syncs(pb::ListSyncsRequest {
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(p.total, 24);
            let encoded = p.encoded_len();
            let ids = p.syncs.into_iter().map(|s| s.id).collect();
            (ids, p.has_next, p.next_page_token, encoded)
        }
    })
    .await;
    exactly_once(&ids, &created);
    let first = app
        .syncs()
        .list_syncs(pb::ListSyncsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(first.has_next && first.syncs.len() < 24);
}

async fn a_page_of_run_logs_stops_early_and_continues_exactly(app: TestApp) {
    // 1000 lines of ~4.3 KB: a page of 1000 would take ~4.3 MB.
    let (mut x, run) = claimed_run(&app, "chatty").await;
    let line = |i: usize| pb::LogLine {
        level: pb::LogLevel::Info.into(),
        message: format!("{i:04} {}", text(3995)),
        entity_key: "e".repeat(255),
    };
    for batch in 0..2 {
        x.append_logs(pb::AppendLogsRequest {
            run_id: run.id.clone(),
            executor_id: "chatty".into(),
            lines: (batch * 500..(batch + 1) * 500).map(line).collect(),
        })
        .await
        .unwrap();
    }
    let mut pages = 0;
    let lines = page_through(|token| {
        pages += 1;
        let mut r = app.runs();
        let run_id = run.id.clone();
        async move {
            let p = r
                .list_run_logs(pb::ListRunLogsRequest {
                    run_id,
                    limit: Some(1000),
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            let encoded = p.encoded_len();
            let ids = p
                .entries
                .into_iter()
                .map(|e| e.line.unwrap().message[..4].to_string())
                .collect();
            (ids, p.has_next, p.next_page_token, encoded)
        }
    })
    .await;
    assert!(pages > 1, "the first page stopped early");
    let want: Vec<String> = (0..1000).map(|i| format!("{i:04}")).collect();
    assert_eq!(lines, want, "every line once, in order");
}

/// Workspaces, API keys and schema tables page like every list: their
/// tokens are checked, and the last page says it is the last.
async fn lists_without_a_limit_page_with_checked_tokens(app: TestApp) {
    for name in ["a", "b"] {
        app.faker_connection(name).await;
    }
    let token = app
        .connections()
        .list_connections(pb::ListConnectionsRequest {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty());
    let mut w = app.workspaces();
    let st = expect_violation(
        w.list_api_keys(pb::ListApiKeysRequest {
            page_token: token.clone(),
            ..Default::default()
        })
        .await,
        "page_token",
    );
    assert_eq!(violations(&st), ["page_token"]);
    expect_violation(
        w.list_workspaces(pb::ListWorkspacesRequest { page_token: token })
            .await,
        "page_token",
    );
    let keys = w
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys.api_keys.len(), 1);
    assert!(!keys.has_next && keys.next_page_token.is_empty());
    let workspaces = w
        .list_workspaces(pb::ListWorkspacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(workspaces.workspaces.len(), 1);
    assert!(!workspaces.has_next && workspaces.next_page_token.is_empty());
}

// === error trailers (item 6c) ===

/// What gRPC's C++, Python and Java clients accept of response metadata.
const CLIENT_METADATA_LIMIT: usize = 8 * 1024;

/// What an error takes in trailers: its grpc-message, percent-encoded as
/// gRPC does (printable ASCII but space " # % < > ` ? { } goes as is, any
/// other byte takes three), plus its grpc-status-details-bin in base64
/// without padding.
fn trailer_bytes(s: &Status) -> usize {
    let message: usize = s
        .message()
        .bytes()
        .map(|b| {
            if (0x21..0x7f).contains(&b) && !b"\"#%<>`?{}".contains(&b) {
                1
            } else {
                3
            }
        })
        .sum();
    message + STANDARD_NO_PAD.encode(s.details()).len()
}

/// The number of violations a message says were left out.
fn left_out(s: &Status) -> usize {
    let m = s.message();
    let Some(end) = m.rfind(" more violations not listed)") else {
        return 0;
    };
    let start = m[..end].rfind('(').unwrap() + 1;
    m[start..end].parse().unwrap()
}

async fn many_violations_fit_in_error_trailers(app: TestApp) {
    let conn = app.faker_connection("Source").await;
    let mut s = app.syncs();
    let create = |entities: Vec<String>| pb::CreateSyncRequest {
        entities,
        ..sync_req(&conn.id, "many")
    };

    // 60 unknown entities: 50 violations sent, the 10 others counted.
    let unknown = (0..60).map(|i| format!("no_such_entity_{i:02}")).collect();
    let st = expect_code(s.create_sync(create(unknown)).await, Code::InvalidArgument);
    let sent = violations(&st);
    assert_eq!(sent.len(), 50);
    assert_eq!(sent[0], "entities[0]");
    assert!(
        st.message().ends_with("(10 more violations not listed)"),
        "{}",
        st.message()
    );
    let bytes = trailer_bytes(&st);
    assert!(bytes < CLIENT_METADATA_LIMIT, "{bytes} bytes of trailers");

    // 60 names of 250 characters each: fewer fit, and the count says so.
    let long = (0..60)
        .map(|i| format!("{i:03}{}", "n".repeat(247)))
        .collect();
    let st = expect_code(s.create_sync(create(long)).await, Code::InvalidArgument);
    let sent = violations(&st).len();
    assert!((1..=50).contains(&sent), "{sent} violations sent");
    assert_eq!(sent + left_out(&st), 60, "{}", st.message());
    let bytes = trailer_bytes(&st);
    assert!(bytes < CLIENT_METADATA_LIMIT, "{bytes} bytes of trailers");
    assert!(st.get_details_error_info().is_some());
    assert_eq!(total_syncs(&app).await, 0);
}
