//! Hot reads come from a cache: every write must show in the next read on
//! the same replica, and (on PostgreSQL) on other replicas once the change
//! notification lands.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use tonic::Code;
use tributary::pb;

use crate::{
    both,
    helpers::{
        Backend, TestApp, eventually, json_struct, spawn_app, spawn_replica, spawn_replica_with,
        wait_until_following,
    },
};

both!(every_write_shows_in_the_next_read);

async fn create(app: &TestApp, name: &str) -> pb::Connection {
    app.connections()
        .create_connection(pb::CreateConnectionRequest {
            name: name.into(),
            provider: "faker".into(),
            config: Some(json_struct(serde_json::json!({}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn get(app: &TestApp, id: &str) -> Result<pb::Connection, tonic::Status> {
    app.connections()
        .get_connection(pb::GetConnectionRequest {
            connection_id: id.into(),
        })
        .await
        .map(|r| r.into_inner())
}

/// (total, names in order) of the first page.
async fn list(app: &TestApp) -> (i64, Vec<String>) {
    let r = app
        .connections()
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    (r.total, r.connections.into_iter().map(|c| c.name).collect())
}

async fn every_write_shows_in_the_next_read(app: TestApp) {
    let a = create(&app, "alpha").await;
    // Each read below is made twice: the second comes from the cache.
    for _ in 0..2 {
        assert_eq!(get(&app, &a.id).await.unwrap().name, "alpha");
        assert_eq!(list(&app).await, (1, vec!["alpha".to_string()]));
    }
    let b = create(&app, "beta").await;
    assert_eq!(list(&app).await, (2, vec!["alpha".into(), "beta".into()]));

    let renamed = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: a.id.clone(),
            name: Some("gamma".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(get(&app, &a.id).await.unwrap(), renamed);
    assert_eq!(list(&app).await, (2, vec!["beta".into(), "gamma".into()]));

    let disabled = app
        .connections()
        .disable_connection(pb::DisableConnectionRequest {
            connection_id: a.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(get(&app, &a.id).await.unwrap(), disabled);

    // A default swap changes two rows: both show.
    for (id, other) in [(&a.id, &b.id), (&b.id, &a.id)] {
        app.connections()
            .set_default_connection(pb::SetDefaultConnectionRequest {
                connection_id: id.clone(),
            })
            .await
            .unwrap();
        assert!(get(&app, id).await.unwrap().is_default);
        assert!(!get(&app, other).await.unwrap().is_default);
    }

    app.connections()
        .delete_connection(pb::DeleteConnectionRequest {
            connection_id: b.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(get(&app, &b.id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(list(&app).await, (1, vec!["gamma".into()]));
}

/// Replica B caches reads; writes made through replica A retire them
/// through NOTIFY within milliseconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_one_replica_reach_the_others_cache() {
    let Some(a) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let b = spawn_replica(&a).await;
    wait_until_following(&b).await;

    let c = create(&a, "alpha").await;
    for _ in 0..2 {
        assert_eq!(get(&b, &c.id).await.unwrap().name, "alpha");
        assert_eq!(list(&b).await, (1, vec!["alpha".to_string()]));
    }
    a.connections()
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: c.id.clone(),
            name: Some("beta".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    create(&a, "gamma").await;
    let within = Duration::from_secs(2);
    eventually(within, || async {
        (get(&b, &c.id).await.unwrap().name == "beta").then_some(())
    })
    .await;
    eventually(within, || async {
        (list(&b).await == (2, vec!["beta".into(), "gamma".into()])).then_some(())
    })
    .await;

    a.connections()
        .delete_connection(pb::DeleteConnectionRequest {
            connection_id: c.id.clone(),
        })
        .await
        .unwrap();
    eventually(within, || async {
        (get(&b, &c.id).await.err()?.code() == Code::NotFound).then_some(())
    })
    .await;
}

/// With `--read-cache=false` a replica reads the store every time. A change
/// made behind the API's back (no notification) shows the difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_cache_false_reads_the_store_every_time() {
    let Some(a) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let strict = spawn_replica_with(&a, |args| args.read_cache = false).await;
    wait_until_following(&a).await;
    wait_until_following(&strict).await;
    let c = create(&a, "alpha").await;
    // A hears its own writes through NOTIFY too, a little later, and would
    // then drop what it cached. Notifications arrive in commit order on one
    // listener, so once A's WatchRuns shows a run the strict replica
    // triggered after renaming the marker, A has applied every change before.
    let marker = create(&a, "marker").await;
    let sync = a.faker_sync(&marker.id, "barrier", &["events"]).await;
    let mut watch = a
        .runs()
        .watch_runs(pb::WatchRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    strict
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: marker.id.clone(),
            name: Some("marker seen".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let run = strict
        .syncs()
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: sync.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    loop {
        let e = crate::helpers::next_event(&mut watch)
            .await
            .expect("an event");
        if e.run_id == run.id {
            break;
        }
    }
    assert_eq!(get(&a, &marker.id).await.unwrap().name, "marker seen");
    for app in [&a, &strict] {
        assert_eq!(get(app, &c.id).await.unwrap().name, "alpha");
    }
    let db = sea_orm::Database::connect(a.database_url.clone().unwrap())
        .await
        .unwrap();
    db.execute_unprepared(&format!(
        "UPDATE connections SET name = 'renamed' WHERE id = '{}'",
        c.id
    ))
    .await
    .unwrap();
    assert_eq!(get(&strict, &c.id).await.unwrap().name, "renamed");
    assert_eq!(
        list(&strict).await,
        (2, vec!["marker seen".to_string(), "renamed".to_string()])
    );
    assert_eq!(
        get(&a, &c.id).await.unwrap().name,
        "alpha",
        "A serves its cache"
    );
}
