//! WatchRun and WatchRuns: snapshot, replay, live events, the end of a
//! stream, resumption, filters, limits, and events across replicas.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::{Code, Streaming};
use tributary::pb::{self, RunStatus, run_event::Event};

use crate::{
    both,
    helpers::{
        Backend, TestApp, eventually, expect_violation, next_event, spawn_app, spawn_app_with,
        spawn_executing, spawn_replica, wait_until_following,
    },
};

both!(
    watch_run_replays_then_streams_to_the_end,
    a_resumed_watch_misses_nothing,
    watch_runs_filters_by_sync_and_status,
    watch_checks_its_arguments,
    a_crowd_of_watchers_each_see_the_whole_run,
);

const WITHIN: Duration = Duration::from_secs(10);

async fn watch(app: &TestApp, run_id: &str, after: i64) -> Streaming<pb::RunEvent> {
    app.runs()
        .watch_run(pb::WatchRunRequest {
            run_id: run_id.into(),
            after_sequence: after,
            follow_attempts: false,
        })
        .await
        .unwrap()
        .into_inner()
}

/// A PENDING run of a new faker sync (of its own connection) of `entity`.
async fn pending_run(app: &TestApp, sync_name: &str, entity: &str) -> (pb::Sync, pb::Run) {
    let conn = app.faker_connection(&format!("{sync_name} source")).await;
    let sync = app.faker_sync(&conn.id, sync_name, &[entity]).await;
    let run = app.trigger(&sync.id).await;
    (sync, run)
}

async fn cancel(app: &TestApp, run_id: &str) {
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: run_id.into(),
            reason: "test".into(),
        })
        .await
        .unwrap();
}

/// (sequence, to) of a StatusChanged event.
fn status_change(e: &pb::RunEvent) -> (i64, RunStatus) {
    match &e.event {
        Some(Event::StatusChanged(c)) => (e.sequence, c.to()),
        other => panic!("expected a status change, got {other:?}"),
    }
}

fn snapshot(e: &pb::RunEvent) -> (i64, RunStatus) {
    match &e.event {
        Some(Event::Snapshot(r)) => (e.sequence, r.status()),
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

async fn watch_run_replays_then_streams_to_the_end(app: TestApp) {
    let (sync, run) = pending_run(&app, "Orders", "users").await;
    let mut s = watch(&app, &run.id, 0).await;
    let first = next_event(&mut s).await.unwrap();
    assert_eq!(
        (first.run_id.as_str(), first.sync_id.as_str()),
        (run.id.as_str(), sync.id.as_str())
    );
    assert_eq!(snapshot(&first), (1, RunStatus::Pending));
    // Replay: the run's creation.
    let created = next_event(&mut s).await.unwrap();
    assert_eq!(status_change(&created), (1, RunStatus::Pending));
    assert!(
        matches!(&created.event, Some(Event::StatusChanged(c)) if c.from() == RunStatus::Unspecified)
    );
    // Live: the cancel, then the stream ends on its own.
    cancel(&app, &run.id).await;
    let cancelled = next_event(&mut s).await.unwrap();
    assert_eq!(status_change(&cancelled), (2, RunStatus::Cancelled));
    assert!(matches!(&cancelled.event, Some(Event::StatusChanged(c))
        if c.from() == RunStatus::Pending && c.result_class() == pb::ResultClass::Cancelled));
    assert!(
        next_event(&mut s).await.is_none(),
        "the stream ends after the terminal event"
    );
}

async fn a_resumed_watch_misses_nothing(app: TestApp) {
    let (_, run) = pending_run(&app, "Users", "users").await;
    cancel(&app, &run.id).await;
    // A watcher that saw event 1 comes back: snapshot, then only event 2.
    let mut s = watch(&app, &run.id, 1).await;
    assert_eq!(
        snapshot(&next_event(&mut s).await.unwrap()),
        (2, RunStatus::Cancelled)
    );
    assert_eq!(
        status_change(&next_event(&mut s).await.unwrap()),
        (2, RunStatus::Cancelled)
    );
    assert!(next_event(&mut s).await.is_none());
    // One that saw everything gets the snapshot alone.
    let mut s = watch(&app, &run.id, 2).await;
    assert_eq!(
        snapshot(&next_event(&mut s).await.unwrap()),
        (2, RunStatus::Cancelled)
    );
    assert!(next_event(&mut s).await.is_none());
}

/// The persisted sequences a watch delivers to the run's end, after the
/// snapshot it starts with (heartbeats are not numbered).
async fn sequences_to_end(mut s: Streaming<pb::RunEvent>) -> Vec<i64> {
    let first = next_event(&mut s).await.expect("a snapshot");
    assert!(
        matches!(first.event, Some(Event::Snapshot(_))),
        "snapshot first"
    );
    let mut seqs = Vec::new();
    while let Some(e) = next_event(&mut s).await {
        if !matches!(e.event, Some(Event::Heartbeat(_) | Event::Snapshot(_))) {
            seqs.push(e.sequence);
        }
    }
    seqs
}

/// Watchers joining one run in groups, before it starts and while it runs,
/// each get every persisted event once and in order, whether they started
/// from the store or from the feed an earlier watcher read.
async fn a_crowd_of_watchers_each_see_the_whole_run(app: TestApp) {
    let Some(app) = spawn_executing(app.backend).await else {
        return;
    };
    let config = serde_json::json!({"row_count": 3000, "rows_per_second": 3000});
    let conn = app.faker_with("crowd source", config).await;
    let sync = app
        .bound_sync(&conn.id, "users", pb::LoadMode::Replace, "crowd")
        .await;
    let run = app.trigger(&sync.id).await;
    let mut watchers = Vec::new();
    let mut reached = 0;
    for _ in 0..4 {
        // Six from the start, and one resuming after half of what is there.
        for after in [0, 0, 0, reached / 2, 0, 0, 0] {
            let s = watch(&app, &run.id, after).await;
            watchers.push((after, tokio::spawn(sequences_to_end(s))));
        }
        // The next group joins once the run has moved on (or ended).
        reached = eventually(Duration::from_secs(30), || async {
            let r = app.run(&run.id).await;
            let ended = r.status() == RunStatus::Succeeded;
            (r.last_event_sequence > reached || ended).then_some(r.last_event_sequence)
        })
        .await;
    }
    let end = eventually(Duration::from_secs(30), || async {
        let r = app.run(&run.id).await;
        (r.status() == RunStatus::Succeeded).then_some(r)
    })
    .await;
    assert!(end.last_event_sequence > 4, "the run had events to share");
    for (after, w) in watchers {
        let want: Vec<i64> = (after + 1..=end.last_event_sequence).collect();
        assert_eq!(w.await.unwrap(), want, "after {after}");
    }
}

async fn watch_runs_filters_by_sync_and_status(app: TestApp) {
    let (a, run_a) = pending_run(&app, "Alpha", "users").await;
    let mut by_sync = app
        .runs()
        .watch_runs(pb::WatchRunsRequest {
            sync_id: a.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut by_connection = app
        .runs()
        .watch_runs(pb::WatchRunsRequest {
            connection_id: a.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut pending_only = app
        .runs()
        .watch_runs(pb::WatchRunsRequest {
            statuses: vec![RunStatus::Pending.into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Each starts with the snapshots of the runs in progress that pass.
    for s in [&mut by_sync, &mut by_connection, &mut pending_only] {
        let e = next_event(s).await.unwrap();
        assert_eq!(
            (e.run_id.as_str(), snapshot(&e)),
            (run_a.id.as_str(), (1, RunStatus::Pending))
        );
    }
    let (_, run_b) = pending_run(&app, "Beta", "events").await; // another sync and connection
    cancel(&app, &run_b.id).await;
    cancel(&app, &run_a.id).await;
    for s in [&mut by_sync, &mut by_connection] {
        let e = next_event(s).await.unwrap();
        assert_eq!(e.run_id, run_a.id, "only sync Alpha's events");
        assert_eq!(status_change(&e), (2, RunStatus::Cancelled));
    }
    // PENDING-only sees B created and both leave PENDING.
    let seen: Vec<(String, (i64, RunStatus))> = [
        next_event(&mut pending_only).await.unwrap(),
        next_event(&mut pending_only).await.unwrap(),
        next_event(&mut pending_only).await.unwrap(),
    ]
    .iter()
    .map(|e| (e.run_id.clone(), status_change(e)))
    .collect();
    assert_eq!(
        seen,
        [
            (run_b.id.clone(), (1, RunStatus::Pending)),
            (run_b.id.clone(), (2, RunStatus::Cancelled)),
            (run_a.id.clone(), (2, RunStatus::Cancelled)),
        ]
    );
}

async fn watch_checks_its_arguments(app: TestApp) {
    let unknown = uuid::Uuid::now_v7().to_string();
    let r = app
        .runs()
        .watch_run(pb::WatchRunRequest {
            run_id: unknown,
            ..Default::default()
        })
        .await;
    assert_eq!(r.unwrap_err().code(), Code::NotFound);
    let r = app
        .runs()
        .watch_run(pb::WatchRunRequest {
            run_id: "nope".into(),
            ..Default::default()
        })
        .await;
    expect_violation(r, "run_id");
    let (_, run) = pending_run(&app, "Args", "users").await;
    let r = app
        .runs()
        .watch_run(pb::WatchRunRequest {
            run_id: run.id,
            after_sequence: -1,
            ..Default::default()
        })
        .await;
    expect_violation(r, "after_sequence");
    let r = app
        .runs()
        .watch_runs(pb::WatchRunsRequest {
            statuses: vec![42],
            ..Default::default()
        })
        .await;
    expect_violation(r, "statuses[0]");
}

/// --max-stream-duration ends a stream with UNAVAILABLE, as a load
/// balancer would; the client resumes from the last sequence it saw.
#[tokio::test]
async fn capped_streams_end_unavailable_and_resume() {
    let app = spawn_app_with(Backend::Sqlite, |a| {
        a.max_stream_duration = Duration::from_millis(300)
    })
    .await
    .unwrap();
    let (_, run) = pending_run(&app, "Capped", "users").await;
    let mut s = watch(&app, &run.id, 0).await;
    assert_eq!(snapshot(&next_event(&mut s).await.unwrap()).0, 1);
    assert_eq!(status_change(&next_event(&mut s).await.unwrap()).0, 1);
    let end = tokio::time::timeout(WITHIN, s.next()).await.unwrap();
    assert_eq!(end.unwrap().unwrap_err().code(), Code::Unavailable);
    cancel(&app, &run.id).await;
    let mut s = watch(&app, &run.id, 1).await;
    assert_eq!(snapshot(&next_event(&mut s).await.unwrap()).0, 2);
    assert_eq!(
        status_change(&next_event(&mut s).await.unwrap()),
        (2, RunStatus::Cancelled)
    );
}

/// A watcher on replica B sees the events of a run that replica A changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_on_another_replica_sees_every_event() {
    let Some(a) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let b = spawn_replica(&a).await;
    wait_until_following(&b).await;
    let (_, run) = pending_run(&a, "Replicated", "users").await;
    let mut s = watch(&b, &run.id, 0).await;
    assert_eq!(
        snapshot(&next_event(&mut s).await.unwrap()),
        (1, RunStatus::Pending)
    );
    assert_eq!(status_change(&next_event(&mut s).await.unwrap()).0, 1);
    cancel(&a, &run.id).await;
    assert_eq!(
        status_change(&next_event(&mut s).await.unwrap()),
        (2, RunStatus::Cancelled)
    );
    assert!(next_event(&mut s).await.is_none());
}
