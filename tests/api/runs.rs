//! RunService records: GetRun, ListRuns filters, CancelRun, RetryRun and
//! attempt chains. (No executor yet: runs stay PENDING until cancelled.)

use tonic::Code;
use tributary::pb::{
    self, ResultClass, ResultReasonCode, RunMode, RunStatus, SyncStatus, TriggerMode, TriggeredBy,
};

use crate::{
    both,
    helpers::{TestApp, expect_code, expect_violation, reason, violations},
};

async fn trigger_with(app: &TestApp, sync_id: &str, mode: RunMode) -> pb::Run {
    app.syncs()
        .trigger_sync(pb::TriggerSyncRequest {
            sync_id: sync_id.into(),
            run_mode: mode.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn trigger(app: &TestApp, sync_id: &str) -> pb::Run {
    trigger_with(app, sync_id, RunMode::Unspecified).await
}

async fn cancel(app: &TestApp, run_id: &str, why: &str) -> pb::Run {
    app.runs()
        .cancel_run(pb::CancelRunRequest {
            run_id: run_id.into(),
            reason: why.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn retry(app: &TestApp, run_id: &str) -> pb::Run {
    app.runs()
        .retry_run(pb::RetryRunRequest {
            run_id: run_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn get(app: &TestApp, run_id: &str) -> pb::Run {
    app.runs()
        .get_run(pb::GetRunRequest {
            run_id: run_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Ids of the runs a ListRuns request returns, in order; checks total.
async fn ids(app: &TestApp, req: pb::ListRunsRequest) -> Vec<String> {
    let r = app.runs().list_runs(req).await.unwrap().into_inner();
    assert_eq!(r.total as usize, r.runs.len());
    r.runs.into_iter().map(|r| r.id).collect()
}

fn retry_req(run_id: &str) -> pb::RetryRunRequest {
    pb::RetryRunRequest {
        run_id: run_id.into(),
        ..Default::default()
    }
}

both!(
    get_run_returns_the_run,
    list_runs_filters_combine,
    list_runs_checks_its_arguments,
    cancel_pending_run,
    cancel_terminal_run_is_refused,
    retry_cancelled_run_links_both_ways,
    retry_is_refused_for_active_or_already_retried_runs,
    attempt_chain_of_three_shares_its_root,
    trigger_full_refresh_is_kept,
    a_stored_status_this_build_does_not_know_is_an_error_not_a_guess,
);

/// Statuses are parsed once, as the store reads a row: a value this build
/// does not know is a server error everywhere, not FAILED in one place and
/// RUNNING (or UNSPECIFIED) in another.
async fn a_stored_status_this_build_does_not_know_is_an_error_not_a_guess(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let run = trigger(&app, &sync.id).await;
    app.store_sql(&format!(
        "UPDATE runs SET status = 'halted' WHERE id = '{}'",
        run.id
    ))
    .await;
    let mut r = app.runs();
    let list = r
        .list_runs(pb::ListRunsRequest {
            sync_id: sync.id.clone(),
            ..Default::default()
        })
        .await;
    let st = expect_code(list, Code::Internal);
    assert_eq!(
        st.message(),
        "internal error",
        "the cause is logged, not sent"
    );
    let cancel = r
        .cancel_run(pb::CancelRunRequest {
            run_id: run.id.clone(),
            reason: "stop".into(),
        })
        .await;
    expect_code(cancel, Code::Internal);
    let retry = r.retry_run(retry_req(&run.id)).await;
    expect_code(retry, Code::Internal);
    assert!(
        crate::helpers::logs().contains(r#"unknown RunStatus \"halted\" in the control store"#),
        "the log names the value"
    );
}

async fn get_run_returns_the_run(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let run = trigger(&app, &sync.id).await;
    assert!(uuid::Uuid::parse_str(&run.id).is_ok());
    assert_eq!(run.sync_id, sync.id);
    assert_eq!(run.workspace_id, sync.workspace_id);
    assert_eq!(run.execution_backend, sync.execution_backend);
    assert_eq!(run.execution_mode, sync.execution_mode);
    assert_eq!(run.max_auto_resume_attempts, 3, "the default");
    assert!(run.created_at.is_some() && run.started_at.is_none() && run.completed_at.is_none());
    assert_eq!(run.result_class(), ResultClass::Unspecified, "not terminal");
    assert_eq!(get(&app, &run.id).await, run);

    let mut r = app.runs();
    let st = expect_code(
        r.get_run(pb::GetRunRequest {
            run_id: uuid::Uuid::now_v7().to_string(),
        })
        .await,
        Code::NotFound,
    );
    assert_eq!(reason(&st), "NOT_FOUND");
    for bad in ["not-a-uuid", ""] {
        let st = expect_violation(
            r.get_run(pb::GetRunRequest { run_id: bad.into() }).await,
            "run_id",
        );
        assert_eq!(violations(&st), ["run_id"]);
    }

    // Another workspace neither sees nor touches it.
    let other = app.other_workspace("Other").await;
    let mut theirs = app.runs_as(&other.key);
    expect_code(
        theirs
            .get_run(pb::GetRunRequest {
                run_id: run.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        theirs
            .cancel_run(pb::CancelRunRequest {
                run_id: run.id.clone(),
                reason: String::new(),
            })
            .await,
        Code::NotFound,
    );
    expect_code(theirs.retry_run(retry_req(&run.id)).await, Code::NotFound);
    let listed = theirs
        .list_runs(pb::ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 0);
    assert_eq!(get(&app, &run.id).await.status(), RunStatus::Pending);
}

async fn list_runs_filters_combine(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let s1 = app.faker_sync(&conn.id, "One", &["users"]).await;
    // Orders depend on users: s2 selects both, into tables of its own.
    let s2 = app
        .syncs()
        .create_sync(pb::CreateSyncRequest {
            name: "Two".into(),
            connection_id: conn.id.clone(),
            entities: vec!["users".into(), "orders".into()],
            table_bindings: ["users", "orders"]
                .map(|e| pb::TableBinding {
                    entity_key: e.into(),
                    physical_table_name: format!("two_{e}"),
                    ..Default::default()
                })
                .into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // s1: r1 MANUAL (cancelled) -> r2 RETRY (cancelled); r3 MANUAL (pending).
    let r1 = trigger(&app, &s1.id).await.id;
    cancel(&app, &r1, "").await;
    let r2 = retry(&app, &r1).await.id;
    cancel(&app, &r2, "").await;
    let r3 = trigger(&app, &s1.id).await.id;
    // s2: r4 MANUAL (cancelled) -> r5 RETRY (pending).
    let r4 = trigger(&app, &s2.id).await.id;
    cancel(&app, &r4, "").await;
    let r5 = retry(&app, &r4).await.id;
    // s3: r6 ON_CREATE (pending).
    app.syncs()
        .create_sync(pb::CreateSyncRequest {
            name: "Three".into(),
            connection_id: conn.id.clone(),
            entities: vec!["events".into()],
            trigger_mode: TriggerMode::OnCreate.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let all = ids(&app, pb::ListRunsRequest::default()).await;
    assert_eq!(all.len(), 6);
    let r6 = all[0].clone();
    assert_eq!(
        all,
        [
            r6.as_str(),
            r5.as_str(),
            r4.as_str(),
            r3.as_str(),
            r2.as_str(),
            r1.as_str()
        ],
        "newest first"
    );

    let by_sync = |id: &str| pb::ListRunsRequest {
        sync_id: id.into(),
        ..Default::default()
    };
    let statuses = |st: &[RunStatus]| st.iter().map(|s| (*s).into()).collect::<Vec<i32>>();
    let triggers = |t: &[TriggeredBy]| t.iter().map(|s| (*s).into()).collect::<Vec<i32>>();

    assert_eq!(
        ids(&app, by_sync(&s1.id)).await,
        [r3.as_str(), r2.as_str(), r1.as_str()]
    );
    assert_eq!(ids(&app, by_sync(&s2.id)).await, [r5.as_str(), r4.as_str()]);
    assert!(
        ids(&app, by_sync(&uuid::Uuid::now_v7().to_string()))
            .await
            .is_empty()
    );

    // ORed within a field.
    let st = |s: &[RunStatus]| pb::ListRunsRequest {
        statuses: statuses(s),
        ..Default::default()
    };
    assert_eq!(
        ids(&app, st(&[RunStatus::Pending])).await,
        [r6.as_str(), r5.as_str(), r3.as_str()]
    );
    assert_eq!(
        ids(&app, st(&[RunStatus::Cancelled])).await,
        [r4.as_str(), r2.as_str(), r1.as_str()]
    );
    assert_eq!(
        ids(&app, st(&[RunStatus::Pending, RunStatus::Cancelled])).await,
        all
    );
    assert!(ids(&app, st(&[RunStatus::Succeeded])).await.is_empty());
    let tb = |t: &[TriggeredBy]| pb::ListRunsRequest {
        triggered_by: triggers(t),
        ..Default::default()
    };
    assert_eq!(
        ids(&app, tb(&[TriggeredBy::Retry])).await,
        [r5.as_str(), r2.as_str()]
    );
    assert_eq!(
        ids(&app, tb(&[TriggeredBy::Retry, TriggeredBy::OnCreate])).await,
        [r6.as_str(), r5.as_str(), r2.as_str()]
    );
    assert_eq!(
        ids(&app, tb(&[TriggeredBy::Manual])).await,
        [r4.as_str(), r3.as_str(), r1.as_str()]
    );
    let root = |id: &str| pb::ListRunsRequest {
        attempt_root_run_id: id.into(),
        ..Default::default()
    };
    assert_eq!(ids(&app, root(&r1)).await, [r2.as_str(), r1.as_str()]);
    assert_eq!(ids(&app, root(&r3)).await, [r3.as_str()]);

    // ANDed across fields.
    assert_eq!(
        ids(
            &app,
            pb::ListRunsRequest {
                statuses: statuses(&[RunStatus::Cancelled]),
                ..by_sync(&s1.id)
            }
        )
        .await,
        [r2.as_str(), r1.as_str()]
    );
    assert_eq!(
        ids(
            &app,
            pb::ListRunsRequest {
                triggered_by: triggers(&[TriggeredBy::Manual]),
                ..by_sync(&s1.id)
            }
        )
        .await,
        [r3.as_str(), r1.as_str()]
    );
    assert_eq!(
        ids(
            &app,
            pb::ListRunsRequest {
                statuses: statuses(&[RunStatus::Pending]),
                triggered_by: triggers(&[TriggeredBy::Retry, TriggeredBy::Manual]),
                ..Default::default()
            }
        )
        .await,
        [r5.as_str(), r3.as_str()]
    );
    assert_eq!(
        ids(
            &app,
            pb::ListRunsRequest {
                statuses: statuses(&[RunStatus::Pending]),
                ..root(&r4)
            }
        )
        .await,
        [r5.as_str()]
    );
    assert!(
        ids(
            &app,
            pb::ListRunsRequest {
                triggered_by: triggers(&[TriggeredBy::OnCreate]),
                ..by_sync(&s1.id)
            }
        )
        .await
        .is_empty()
    );
    assert!(
        ids(
            &app,
            pb::ListRunsRequest {
                sync_id: s2.id.clone(),
                ..root(&r1)
            }
        )
        .await
        .is_empty()
    );
}

async fn list_runs_checks_its_arguments(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let mut created = Vec::new();
    for _ in 0..3 {
        let run = trigger(&app, &sync.id).await;
        cancel(&app, &run.id, "").await;
        created.push(run.id);
    }
    let mut r = app.runs();
    for bad in [0, 101, -1] {
        let st = expect_violation(
            r.list_runs(pb::ListRunsRequest {
                limit: Some(bad),
                ..Default::default()
            })
            .await,
            "limit",
        );
        assert_eq!(violations(&st), ["limit"], "limit {bad}");
    }
    expect_violation(
        r.list_runs(pb::ListRunsRequest {
            offset: Some(-1),
            ..Default::default()
        })
        .await,
        "offset",
    );
    expect_violation(
        r.list_runs(pb::ListRunsRequest {
            sync_id: "nope".into(),
            ..Default::default()
        })
        .await,
        "sync_id",
    );
    expect_violation(
        r.list_runs(pb::ListRunsRequest {
            attempt_root_run_id: "nope".into(),
            ..Default::default()
        })
        .await,
        "attempt_root_run_id",
    );
    expect_violation(
        r.list_runs(pb::ListRunsRequest {
            statuses: vec![RunStatus::Pending.into(), 0],
            ..Default::default()
        })
        .await,
        "statuses[1]",
    );
    expect_violation(
        r.list_runs(pb::ListRunsRequest {
            triggered_by: vec![42],
            ..Default::default()
        })
        .await,
        "triggered_by[0]",
    );

    let page = r
        .list_runs(pb::ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((page.limit, page.total, page.has_next), (50, 3, false));
    let first = r
        .list_runs(pb::ListRunsRequest {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.runs[0].id, created[2]);
    assert!(first.has_next && !first.next_page_token.is_empty());
    let hundred = r
        .list_runs(pb::ListRunsRequest {
            limit: Some(100),
            offset: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        hundred
            .runs
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        [created[1].as_str(), created[0].as_str()]
    );
    // The users map names whoever cancelled.
    let who = hundred.runs[0].cancel_requested_by.clone().unwrap();
    assert!(hundred.users.contains_key(&who), "{:?}", hundred.users);
}

async fn cancel_pending_run(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let run = trigger(&app, &sync.id).await;
    let cancelled = cancel(&app, &run.id, "wrong config").await;
    assert_eq!(cancelled.id, run.id);
    assert_eq!(cancelled.status(), RunStatus::Cancelled);
    assert_eq!(cancelled.result_class(), ResultClass::Cancelled);
    assert_eq!(
        cancelled.result_reason_code(),
        ResultReasonCode::UserCancelled
    );
    assert_eq!(cancelled.cancel_reason.as_deref(), Some("wrong config"));
    assert_eq!(
        cancelled.cancel_requested_by.as_deref(),
        Some(sync.created_by.as_str()),
        "the caller's principal"
    );
    let at = cancelled.cancel_requested_at.unwrap();
    let done = cancelled.completed_at.unwrap();
    let created = run.created_at.unwrap();
    assert!((at.seconds, at.nanos) >= (created.seconds, created.nanos));
    assert!((done.seconds, done.nanos) >= (created.seconds, created.nanos));
    assert!(cancelled.started_at.is_none(), "it never started");
    assert_eq!(get(&app, &run.id).await, cancelled);

    // Without a reason, cancel_reason stays unset; the sync can run again.
    let next = trigger(&app, &sync.id).await;
    let c = cancel(&app, &next.id, "").await;
    assert_eq!(c.status(), RunStatus::Cancelled);
    assert!(c.cancel_reason.is_none());

    let mut r = app.runs();
    expect_code(
        r.cancel_run(pb::CancelRunRequest {
            run_id: uuid::Uuid::now_v7().to_string(),
            reason: String::new(),
        })
        .await,
        Code::NotFound,
    );
    expect_violation(
        r.cancel_run(pb::CancelRunRequest {
            run_id: "nope".into(),
            reason: String::new(),
        })
        .await,
        "run_id",
    );
}

async fn cancel_terminal_run_is_refused(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let run = trigger(&app, &sync.id).await;
    let cancelled = cancel(&app, &run.id, "first").await;
    let st = expect_code(
        app.runs()
            .cancel_run(pb::CancelRunRequest {
                run_id: run.id.clone(),
                reason: "second".into(),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&st), "RUN_TERMINAL");
    assert_eq!(
        get(&app, &run.id).await,
        cancelled,
        "terminal runs never change"
    );
}

async fn retry_cancelled_run_links_both_ways(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let first = trigger(&app, &sync.id).await;
    let cancelled = cancel(&app, &first.id, "").await;

    let second = retry(&app, &first.id).await;
    assert_ne!(second.id, first.id);
    assert_eq!(second.sync_id, sync.id);
    assert_eq!(second.status(), RunStatus::Pending);
    assert_eq!(second.attempt_number, 2);
    assert_eq!(second.triggered_by(), TriggeredBy::Retry);
    assert_eq!(second.trigger_ref, first.id, "names the retried run");
    assert_eq!(
        second.previous_attempt_run_id.as_deref(),
        Some(first.id.as_str())
    );
    assert_eq!(second.attempt_root_run_id, first.id);
    assert!(second.next_attempt_run_id.is_none());
    assert_eq!(
        second.run_mode(),
        RunMode::Incremental,
        "the retried run's mode"
    );
    assert_eq!(second.result_class(), ResultClass::Unspecified);
    assert!(second.cancel_requested_at.is_none() && second.cancel_reason.is_none());
    assert_eq!(get(&app, &second.id).await, second);

    // The old run points forward; apart from that link it is unchanged.
    let old = get(&app, &first.id).await;
    assert_eq!(old.next_attempt_run_id.as_deref(), Some(second.id.as_str()));
    assert_eq!(old.status(), RunStatus::Cancelled);
    assert_eq!(
        pb::Run {
            next_attempt_run_id: None,
            updated_at: None,
            ..old
        },
        pb::Run {
            updated_at: None,
            ..cancelled
        }
    );

    // RetryRun may choose another mode.
    cancel(&app, &second.id, "").await;
    let third = app
        .runs()
        .retry_run(pb::RetryRunRequest {
            run_id: second.id.clone(),
            run_mode: RunMode::FullRefresh.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(third.run_mode(), RunMode::FullRefresh);
    assert_eq!(third.attempt_number, 3);

    // A sync that cannot run cannot be retried either, and nothing is linked.
    cancel(&app, &third.id, "").await;
    app.syncs()
        .update_sync(pb::UpdateSyncRequest {
            sync_id: sync.id.clone(),
            status: Some(SyncStatus::Paused.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let st = expect_code(
        app.runs().retry_run(retry_req(&third.id)).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&st), "SYNC_NOT_RUNNABLE");
    assert!(get(&app, &third.id).await.next_attempt_run_id.is_none());

    let mut r = app.runs();
    expect_code(
        r.retry_run(retry_req(&uuid::Uuid::now_v7().to_string()))
            .await,
        Code::NotFound,
    );
    expect_violation(r.retry_run(retry_req("nope")).await, "run_id");
}

async fn retry_is_refused_for_active_or_already_retried_runs(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let first = trigger(&app, &sync.id).await;
    let st = expect_code(
        app.runs().retry_run(retry_req(&first.id)).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&st), "RUN_NOT_RETRYABLE");
    assert!(get(&app, &first.id).await.next_attempt_run_id.is_none());

    cancel(&app, &first.id, "").await;
    let second = retry(&app, &first.id).await;
    // The same run again: refused while its retry is pending, and after it ended.
    let st = expect_code(
        app.runs().retry_run(retry_req(&first.id)).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&st), "RUN_ALREADY_RETRIED");
    cancel(&app, &second.id, "").await;
    let st = expect_code(
        app.runs().retry_run(retry_req(&first.id)).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&st), "RUN_ALREADY_RETRIED");
    let chain = ids(
        &app,
        pb::ListRunsRequest {
            attempt_root_run_id: first.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        chain,
        [second.id.as_str(), first.id.as_str()],
        "no extra attempt was made"
    );
}

async fn attempt_chain_of_three_shares_its_root(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let a1 = trigger(&app, &sync.id).await;
    cancel(&app, &a1.id, "").await;
    let a2 = retry(&app, &a1.id).await;
    cancel(&app, &a2.id, "").await;
    let a3 = retry(&app, &a2.id).await;

    let chain = [
        get(&app, &a1.id).await,
        get(&app, &a2.id).await,
        get(&app, &a3.id).await,
    ];
    for (i, run) in chain.iter().enumerate() {
        assert_eq!(run.attempt_root_run_id, a1.id, "attempt {}", i + 1);
        assert_eq!(run.attempt_number, i as i32 + 1);
    }
    assert_eq!(chain[0].previous_attempt_run_id, None);
    assert_eq!(
        chain[0].next_attempt_run_id.as_deref(),
        Some(a2.id.as_str())
    );
    assert_eq!(
        chain[1].previous_attempt_run_id.as_deref(),
        Some(a1.id.as_str())
    );
    assert_eq!(
        chain[1].next_attempt_run_id.as_deref(),
        Some(a3.id.as_str())
    );
    assert_eq!(
        chain[2].previous_attempt_run_id.as_deref(),
        Some(a2.id.as_str())
    );
    assert_eq!(chain[2].next_attempt_run_id, None);
    assert_eq!(chain[2].status(), RunStatus::Pending);

    // Another chain of the same sync stays apart.
    cancel(&app, &a3.id, "").await;
    let b1 = trigger(&app, &sync.id).await;
    assert_eq!(b1.attempt_root_run_id, b1.id);
    assert_eq!(b1.attempt_number, 1);

    let listed = ids(
        &app,
        pb::ListRunsRequest {
            attempt_root_run_id: a1.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(listed, [a3.id.as_str(), a2.id.as_str(), a1.id.as_str()]);
}

async fn trigger_full_refresh_is_kept(app: TestApp) {
    let conn = app.faker_connection("Faker").await;
    let sync = app.faker_sync(&conn.id, "S", &["users"]).await;
    let full = trigger_with(&app, &sync.id, RunMode::FullRefresh).await;
    assert_eq!(full.run_mode(), RunMode::FullRefresh);
    assert_eq!(get(&app, &full.id).await.run_mode(), RunMode::FullRefresh);
    cancel(&app, &full.id, "").await;
    // A retry keeps the retried run's mode.
    let again = retry(&app, &full.id).await;
    assert_eq!(again.run_mode(), RunMode::FullRefresh);
    cancel(&app, &again.id, "").await;

    let inc = trigger_with(&app, &sync.id, RunMode::Incremental).await;
    assert_eq!(inc.run_mode(), RunMode::Incremental);
    cancel(&app, &inc.id, "").await;
    expect_violation(
        app.syncs()
            .trigger_sync(pb::TriggerSyncRequest {
                sync_id: sync.id.clone(),
                run_mode: 9,
                ..Default::default()
            })
            .await,
        "run_mode",
    );
    let modes: Vec<i32> = app
        .runs()
        .list_runs(pb::ListRunsRequest {
            sync_id: sync.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .runs
        .into_iter()
        .map(|r| r.run_mode)
        .collect();
    assert_eq!(
        modes,
        [
            i32::from(RunMode::Incremental),
            RunMode::FullRefresh.into(),
            RunMode::FullRefresh.into()
        ]
    );
}
