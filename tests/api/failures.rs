//! Failures by kind (issue 11, item 2): each kind ends a run with its
//! reason code, and the kinds that may pass are tried again inside the run
//! (from the last committed cursor) before it fails. The faker's
//! `failures` setting makes its reads fail as asked.

use tributary::pb::{self, LoadMode, ResultReasonCode, RunStatus};

use crate::{
    both,
    engine::{run_to_end, warehouse_rows},
    helpers::{TestApp, cursor_sync},
    rows::{same_rows, source_rows},
};

both!(
    spawn = crate::helpers::spawn_executing;
    passing_failures_are_retried_and_the_copy_is_exact,
    each_kind_of_failure_ends_the_run_with_its_reason,
);

async fn run_with(app: &TestApp, name: &str, failures: serde_json::Value) -> pb::Run {
    let config = serde_json::json!({"row_count": 60, "seed": 4, "failures": failures});
    let conn = app.faker_with(name, config).await;
    let sync = app
        .bound_sync(
            &conn.id,
            "users",
            LoadMode::Upsert,
            &format!("{name}_users"),
        )
        .await;
    run_to_end(app, &sync.id).await.0
}

async fn passing_failures_are_retried_and_the_copy_is_exact(app: TestApp) {
    // Reads fail twice after 2 batches (of 10 rows, see bound_sync's
    // batch_size), the first time rows are already committed: the engine
    // reads on from the last committed cursor, and the table is the source.
    let failures = serde_json::json!({"kind": "transient", "times": 2, "after_batches": 2});
    let config = serde_json::json!({"row_count": 60, "seed": 4, "failures": failures});
    let conn = app.faker_with("flaky", config.clone()).await;
    let sync = app
        .new_sync(cursor_sync(
            &conn.id,
            "users",
            "flaky_users",
            LoadMode::AppendEvent,
            "updated_at",
            10,
        ))
        .await;
    let (run, _) = run_to_end(&app, &sync.id).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    let lines = app.log_lines(&run.id).await;
    // Each failure came after committed batches, so each is a first retry.
    let retries = lines
        .iter()
        .filter(|l| l.contains("reading failed") && l.contains("try 2 of 5 in 500ms"))
        .count();
    assert_eq!(retries, 2, "{lines:#?}");
    // APPEND_EVENT: a row read twice would be a second row.
    let (cols, rows) = source_rows(config, "users").await;
    same_rows(
        warehouse_rows(&app, "flaky_users", &cols).await,
        &rows,
        "flaky",
    );

    // Rate limited, with the wait the source asked for.
    let limited = serde_json::json!({"kind": "rate_limited", "times": 1, "retry_after_ms": 50});
    let run = run_with(&app, "limited", limited).await;
    assert_eq!(run.status(), RunStatus::Succeeded, "{:?}", run.error);
    assert!(
        app.log_lines(&run.id)
            .await
            .iter()
            .any(|l| l.contains("try 2 of 5 in 50ms")),
        "the wait is the source's Retry-After"
    );
}

async fn each_kind_of_failure_ends_the_run_with_its_reason(app: TestApp) {
    let cases = [
        ("auth", ResultReasonCode::AuthError, 1),
        ("config", ResultReasonCode::ConfigError, 1),
        ("failed", ResultReasonCode::SourceError, 1),
        // Tried five times, then final.
        ("rate_limited", ResultReasonCode::RateLimited, 5),
        ("transient", ResultReasonCode::SourceError, 5),
    ];
    for (kind, reason, tries) in cases {
        let failures = serde_json::json!({"kind": kind, "times": 100, "retry_after_ms": 1});
        let run = run_with(&app, kind, failures).await;
        assert_eq!(
            (run.status(), run.result_reason_code()),
            (RunStatus::Failed, reason),
            "{kind}: {:?}",
            run.error
        );
        assert!(
            run.error().contains("the failure its config asks for"),
            "{kind}: {:?}",
            run.error
        );
        let retries = app
            .log_lines(&run.id)
            .await
            .iter()
            .filter(|l| l.contains("reading failed"))
            .count();
        assert_eq!(retries, tries - 1, "{kind}: retries logged");
    }
}
