//! The scheduler: slots fire on time, once, even with two replicas
//! scheduling the same PostgreSQL store.

use std::time::Duration;

use tributary::pb::{self, RunStatus, SyncStatus, TriggerMode, TriggeredBy, schedule::Spec};

use crate::helpers::{Backend, TestApp, eventually, spawn_app_with, spawn_replica_with};

async fn scheduled_sync(app: &TestApp, spec: Spec) -> pb::Sync {
    let conn = app
        .faker_with("tiny", serde_json::json!({"row_count": 5}))
        .await;
    app.syncs()
        .create_sync(pb::CreateSyncRequest {
            name: "Scheduled".into(),
            connection_id: conn.id,
            entities: vec!["users".into()],
            status: SyncStatus::Active.into(),
            trigger_mode: TriggerMode::Scheduled.into(),
            schedule: Some(pb::Schedule {
                spec: Some(spec),
                timezone: "Europe/Berlin".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn runs_of(app: &TestApp, sync_id: &str) -> Vec<pb::Run> {
    app.runs()
        .list_runs(pb::ListRunsRequest {
            sync_id: sync_id.into(),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .runs
}

fn micros(t: &prost_types::Timestamp) -> i64 {
    t.seconds * 1_000_000 + i64::from(t.nanos) / 1000
}

/// Every run was created within `late` after the slot it names.
fn on_time(runs: &[pb::Run], late: Duration) {
    for r in runs {
        assert_eq!(r.triggered_by(), TriggeredBy::Schedule);
        let slot = chrono::DateTime::parse_from_rfc3339(&r.trigger_ref)
            .unwrap_or_else(|e| panic!("trigger_ref {:?}: {e}", r.trigger_ref))
            .timestamp_micros();
        let created = micros(r.created_at.as_ref().unwrap());
        assert!(
            created >= slot && created - slot < late.as_micros() as i64,
            "run for slot {} created {}µs after it",
            r.trigger_ref,
            created - slot
        );
    }
}

/// An interval schedule (every minute, from the sync's creation) fires its
/// first slot on time; the sync's next_run_at moves to the slot after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interval_schedule_fires_on_time() {
    let app = spawn_app_with(Backend::Sqlite, |a| a.scheduler = true)
        .await
        .unwrap();
    let sync = scheduled_sync(
        &app,
        Spec::Every(pb::Interval {
            units: 1,
            time_unit: pb::TimeUnit::Minutes.into(),
        }),
    )
    .await;
    let first = micros(sync.next_run_at.as_ref().expect("a first slot"));
    let created = micros(sync.created_at.as_ref().unwrap());
    assert_eq!(first - created, 60_000_000, "one interval after creation");
    let runs = eventually(Duration::from_secs(90), || async {
        let runs = runs_of(&app, &sync.id).await;
        (!runs.is_empty()).then_some(runs)
    })
    .await;
    assert_eq!(runs.len(), 1);
    on_time(&runs, Duration::from_secs(1));
    let after = app
        .syncs()
        .get_sync(pb::GetSyncRequest {
            sync_id: sync.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        micros(after.next_run_at.as_ref().unwrap()),
        first + 60_000_000
    );
}

/// Two replicas schedule one store: each slot fires once (one run per
/// trigger_ref), on time; a slot that comes while a run is in progress is
/// skipped, never queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_fire_a_slot_twice() {
    let Some(a) = spawn_app_with(Backend::Postgres, |a| {
        a.scheduler = true;
        a.executor_concurrency = 2;
    })
    .await
    else {
        return;
    };
    let b = spawn_replica_with(&a, |a| {
        a.scheduler = true;
        a.executor_concurrency = 2;
    })
    .await;
    let sync = scheduled_sync(&a, Spec::Cron("* * * * * *".into())).await;
    let runs = eventually(Duration::from_secs(30), || async {
        let runs = runs_of(&b, &sync.id).await;
        (runs
            .iter()
            .filter(|r| r.status() == RunStatus::Succeeded)
            .count()
            >= 4)
            .then_some(runs)
    })
    .await;
    let mut slots: Vec<&str> = runs.iter().map(|r| r.trigger_ref.as_str()).collect();
    let n = slots.len();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), n, "one run per slot: {slots:?}");
    on_time(&runs, Duration::from_millis(1500));
    drop(b);
}
