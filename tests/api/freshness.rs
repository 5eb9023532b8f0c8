//! Freshness SLAs: the server notices a breach and a recovery by itself,
//! records it on the sync (freshness_breached_at) and announces it once,
//! as a FreshnessChanged event on WatchRuns, however many replicas watch.

use std::time::Duration;

use tonic::Streaming;
use tributary::{
    config::ServeArgs,
    pb::{self, RunStatus, SyncStatus, run_event::Event},
};

use crate::{
    both,
    helpers::{
        Backend, TestApp, next_event, spawn_app_with, spawn_replica_with, wait_until_following,
    },
};

both!(
    spawn = super::spawn_monitoring;
    a_stale_sync_breaches_once_and_a_success_recovers_it,
    freshness_changes_pass_only_the_filters_of_their_sync,
);

/// The monitor (which runs where the scheduler does) looking every 100 ms,
/// and an executor for the runs that bring syncs back.
fn monitoring(a: &mut ServeArgs) {
    a.scheduler = true;
    a.freshness_tick = Duration::from_millis(100);
    a.executor_concurrency = 2;
    a.engine.heartbeat_interval = Duration::from_millis(200);
}

/// A monitoring server. On PostgreSQL its watchers hear of changes through
/// its NOTIFY listener: wait until that is up, as changes are live only.
async fn spawn_monitoring(backend: Backend) -> Option<TestApp> {
    let app = spawn_app_with(backend, monitoring).await?;
    if backend == Backend::Postgres {
        wait_until_following(&app).await;
    }
    Some(app)
}

fn micros(t: &prost_types::Timestamp) -> i64 {
    t.seconds * 1_000_000 + i64::from(t.nanos) / 1000
}

/// A DRAFT sync of `entity` with a 1 s SLA, of a connection of its own: no
/// SLA binds it until it is made ACTIVE, so watchers can be in place first.
async fn draft_with_sla(app: &TestApp, name: &str, entity: &str) -> pb::Sync {
    let conn = app
        .faker_with(
            &format!("{name} source"),
            serde_json::json!({"row_count": 5}),
        )
        .await;
    app.syncs()
        .create_sync(pb::CreateSyncRequest {
            name: name.into(),
            connection_id: conn.id,
            entities: vec![entity.into()],
            freshness_sla_seconds: Some(1),
            status: SyncStatus::Draft.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn update(app: &TestApp, req: pb::UpdateSyncRequest) {
    app.syncs().update_sync(req).await.unwrap();
}

async fn activate(app: &TestApp, sync_id: &str) {
    let status = Some(SyncStatus::Active.into());
    update(
        app,
        pb::UpdateSyncRequest {
            sync_id: sync_id.into(),
            status,
            ..Default::default()
        },
    )
    .await;
}

async fn get_sync(app: &TestApp, sync_id: &str) -> pb::Sync {
    let s = app
        .syncs()
        .get_sync(pb::GetSyncRequest {
            sync_id: sync_id.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        s.freshness_breached,
        s.freshness_breached_at.is_some(),
        "freshness_breached agrees with freshness_breached_at: {s:?}"
    );
    s
}

async fn watch_runs(app: &TestApp, req: pb::WatchRunsRequest) -> Streaming<pb::RunEvent> {
    app.runs().watch_runs(req).await.unwrap().into_inner()
}

fn of_sync(sync_id: &str) -> pb::WatchRunsRequest {
    pb::WatchRunsRequest {
        sync_id: sync_id.into(),
        ..Default::default()
    }
}

/// The FreshnessChanged that `e` must be, checking it is of no run.
#[track_caller]
fn freshness(e: pb::RunEvent) -> pb::FreshnessChanged {
    match e.event {
        Some(Event::FreshnessChanged(f)) => {
            assert_eq!((e.run_id.as_str(), e.sequence), ("", 0), "of no run");
            assert_eq!(e.sync_id, f.sync_id);
            f
        }
        other => panic!("expected a freshness change, got {other:?}"),
    }
}

/// The stream's next event that is not a heartbeat (live, at any time).
async fn next_but_heartbeats(s: &mut Streaming<pb::RunEvent>) -> pb::RunEvent {
    loop {
        let e = next_event(s).await.expect("the stream stays open");
        if !matches!(e.event, Some(Event::Heartbeat(_))) {
            return e;
        }
    }
}

async fn a_stale_sync_breaches_once_and_a_success_recovers_it(app: TestApp) {
    let sync = draft_with_sla(&app, "Stale", "users").await;
    let created = micros(sync.created_at.as_ref().unwrap());
    let mut s = watch_runs(&app, of_sync(&sync.id)).await;
    assert!(!get_sync(&app, &sync.id).await.freshness_breached);
    activate(&app, &sync.id).await;

    // Never succeeded: the SLA counts from creation, so the breach began
    // one second after it.
    let breach = freshness(next_event(&mut s).await.unwrap());
    assert_eq!(breach.sync_id, sync.id);
    assert!(breach.breached);
    assert_eq!(breach.freshness_sla_seconds, Some(1));
    assert_eq!(breach.sync_status(), SyncStatus::Active);
    assert!(breach.last_success_at.is_none());
    let began = breach.breached_at.expect("when the breach began");
    assert_eq!(micros(&began), created + 1_000_000);
    let stale = get_sync(&app, &sync.id).await;
    assert_eq!(stale.freshness_breached_at, Some(began));

    // A success ends the breach in the transaction that records it: the
    // recovery comes right after the run's SUCCEEDED, and no other change
    // of freshness before it (the breach was announced once).
    let run = app.trigger(&sync.id).await;
    loop {
        let e = next_but_heartbeats(&mut s).await;
        match e.event {
            Some(Event::StatusChanged(c)) if c.to() == RunStatus::Succeeded => break,
            Some(Event::StatusChanged(c)) => assert!(
                !matches!(c.to(), RunStatus::Failed | RunStatus::Cancelled),
                "the run must succeed: {c:?}"
            ),
            Some(Event::FreshnessChanged(f)) => panic!("a change before the success: {f:?}"),
            _ => {}
        }
    }
    let recovery = freshness(next_but_heartbeats(&mut s).await);
    assert!(!recovery.breached);
    assert_eq!(recovery.breached_at, Some(began), "the breach that ended");
    let success = recovery.last_success_at.expect("the success");
    assert_eq!(Some(success), app.run(&run.id).await.completed_at);

    // The field was cleared. With a 1 s SLA the sync goes stale again one
    // second after that success: a new breach, which a read may show.
    let after = get_sync(&app, &sync.id).await;
    assert_eq!(after.last_success_at, Some(success));
    let again = freshness(next_but_heartbeats(&mut s).await);
    assert!(again.breached);
    let began_again = again.breached_at.expect("when it began");
    assert_eq!(micros(&began_again), micros(&success) + 1_000_000);
    if let Some(shown) = after.freshness_breached_at {
        assert_eq!(shown, began_again, "only the new breach, never the old one");
    }
    assert_eq!(
        get_sync(&app, &sync.id).await.freshness_breached_at,
        Some(began_again)
    );
}

async fn freshness_changes_pass_only_the_filters_of_their_sync(app: TestApp) {
    let alpha = draft_with_sla(&app, "Alpha", "users").await;
    let beta = draft_with_sla(&app, "Beta", "events").await;
    let mut everything = watch_runs(&app, pb::WatchRunsRequest::default()).await;
    let mut of_beta = watch_runs(&app, of_sync(&beta.id)).await;
    let mut of_betas_connection = watch_runs(
        &app,
        pb::WatchRunsRequest {
            connection_id: beta.connection_id.clone(),
            ..Default::default()
        },
    )
    .await;
    let mut pending_only = watch_runs(
        &app,
        pb::WatchRunsRequest {
            statuses: vec![RunStatus::Pending.into()],
            ..Default::default()
        },
    )
    .await;
    activate(&app, &alpha.id).await;
    let f = freshness(next_event(&mut everything).await.unwrap());
    assert_eq!((f.sync_id.as_str(), f.breached), (alpha.id.as_str(), true));

    // Beta's breach comes after Alpha's: the first change the sync and
    // connection filters let through is Beta's.
    activate(&app, &beta.id).await;
    for s in [&mut everything, &mut of_beta, &mut of_betas_connection] {
        let f = freshness(next_event(s).await.unwrap());
        assert_eq!((f.sync_id.as_str(), f.breached), (beta.id.as_str(), true));
    }
    // A statuses filter lets no freshness change through: the first event
    // it passes is the creation of a run that came after both.
    let run = app.trigger(&beta.id).await;
    let e = next_event(&mut pending_only).await.unwrap();
    assert_eq!(e.run_id, run.id, "only run events: {e:?}");
    assert!(matches!(e.event, Some(Event::StatusChanged(_))));
}

/// Two replicas both run the monitor: each breach and each recovery is
/// recorded by one and announced once, to the watchers of both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_monitoring_replicas_announce_each_change_once() {
    let Some(a) = spawn_app_with(Backend::Postgres, monitoring).await else {
        return;
    };
    let b = spawn_replica_with(&a, monitoring).await;
    wait_until_following(&a).await;
    wait_until_following(&b).await;
    let sync = draft_with_sla(&a, "Shared", "users").await;
    let created = micros(sync.created_at.as_ref().unwrap());
    let mut watchers = [
        watch_runs(&a, of_sync(&sync.id)).await,
        watch_runs(&b, of_sync(&sync.id)).await,
    ];
    activate(&a, &sync.id).await;
    for s in &mut watchers {
        let f = freshness(next_event(s).await.unwrap());
        assert!(f.breached);
        assert_eq!(micros(f.breached_at.as_ref().unwrap()), created + 1_000_000);
    }
    // NOTIFYs arrive in commit order, so had the other replica recorded the
    // breach too, its event would come before the recovery; and once the
    // SLA is gone no breach can be recorded.
    update(
        &b,
        pb::UpdateSyncRequest {
            sync_id: sync.id.clone(),
            clear_freshness_sla: true,
            ..Default::default()
        },
    )
    .await;
    for s in &mut watchers {
        let f = freshness(next_event(s).await.unwrap());
        assert!(!f.breached, "one breach event, not two: {f:?}");
        assert_eq!(f.freshness_sla_seconds, None);
    }
    for app in [&a, &b] {
        assert_eq!(get_sync(app, &sync.id).await.freshness_breached_at, None);
    }
    // Likewise the recovery came once: the next change is a new breach.
    update(
        &a,
        pb::UpdateSyncRequest {
            sync_id: sync.id.clone(),
            freshness_sla_seconds: Some(1),
            ..Default::default()
        },
    )
    .await;
    for s in &mut watchers {
        let f = freshness(next_event(s).await.unwrap());
        assert!(f.breached, "one recovery event, not two: {f:?}");
    }
    drop(b);
}
