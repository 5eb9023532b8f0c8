//! Flexiroam through its built-in manifest, against a local server shaped
//! as the Reseller API: every call carries the session token from
//! `user/login/v1` in a `token` header, lists are POSTs, and every answer
//! is the `{"success", "data", "msg"}` envelope with the records in `data`
//! (no paging, no date filter, so each run reads in full).

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use tributary::pb;

use crate::{
    helpers::{Backend, TestApp, spawn_executing},
    http_peer::{connect, run_ok, serve, sync_of},
    saas_checks::{assert_landed, verify, verify_fails},
};

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.reseller-84.sig";

#[derive(Default)]
struct Account {
    data_plans: Vec<Value>,
    sims: Vec<Value>,
    sim_plans: Vec<Value>,
    /// (path, body) of every list call.
    calls: Vec<(&'static str, Value)>,
}

type Shared = Arc<Mutex<Account>>;

/// One list endpoint: checks the token header, records the call and
/// answers the collection in the envelope.
async fn list(account: Shared, path: &'static str, headers: HeaderMap, body: String) -> Response {
    if headers.get("token").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "data": null, "msg": "Invalid token"})),
        )
            .into_response();
    }
    let mut a = account.lock().unwrap();
    // A body that is not JSON is kept as Null, which the test then refuses.
    a.calls
        .push((path, serde_json::from_str(&body).unwrap_or(Value::Null)));
    let data = match path {
        "user/contract/plan/v1" => a.data_plans.clone(),
        "product/inventory/view/v1" => a.sims.clone(),
        "plan/inventory/view/v1" => a.sim_plans.clone(),
        _ => unreachable!("only routed paths"),
    };
    Json(json!({"success": true, "data": data, "msg": "Success"})).into_response()
}

fn data_plan(n: u64) -> Value {
    let countries = &["MYS", "SGP", "THA"][..n as usize];
    json!({
        "plan_code": format!("FR-GLB-{n}GB-30D"),
        "name": format!("Global {n} GB / 30 days"),
        "data_mb": n * 1024,
        "validity_days": 30,
        "price": format!("{}.50", n * 4),
        "currency": "USD",
        "countries": countries,
        "description": if n == 2 { Value::Null } else { json!("") },
    })
}

fn sim(n: u64) -> Value {
    json!({
        "sku": format!("20190929762{n:02}"),
        "iccid": format!("89852350920000{n:06}"),
        "qr_code": format!("LPA:1$rsp-0026.oberthur.net$DQMYO-XGETL-{n:05}"),
        "product_code": if n == 3 { "FRX-SIM" } else { "FRX-ESIM" },
        "sim_type": if n == 3 { "pSIM" } else { "eSIM" },
        "profile_names": "J",
        "order_no": format!("ORD-2024-{n:04}"),
        "availability": n % 2,
        "created_at": format!("2024-0{n}-12 08:30:00"),
    })
}

fn sim_plan(n: u64) -> Value {
    json!({
        "plan_uid": format!("61a87155bea5{n:x}"),
        "sku": format!("20190929762{:02}", 1 + n % 3),
        "plan_code": format!("FR-GLB-{}GB-30D", 1 + n % 3),
        "status": if n == 1 { "Active" } else { "Pending" },
        "plan_start_type_id": 1,
        "start_date": if n == 1 { json!("2024-05-01 00:00:00") } else { Value::Null },
        "end_date": if n == 1 { json!("2024-05-31 00:00:00") } else { Value::Null },
        "usage": {"data_used_mb": n * 150, "data_left_mb": 1024 - n * 150},
    })
}

fn account() -> Account {
    Account {
        data_plans: (1..=3).map(data_plan).collect(),
        sims: (1..=3).map(sim).collect(),
        sim_plans: (1..=4).map(sim_plan).collect(),
        ..Default::default()
    }
}

async fn flexiroam_server() -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(account()));
    let mut router = Router::new();
    for path in [
        "user/contract/plan/v1",
        "product/inventory/view/v1",
        "plan/inventory/view/v1",
    ] {
        router = router.route(
            &format!("/{path}"),
            post(
                move |State(s): State<Shared>, headers: HeaderMap, body: String| {
                    list(s, path, headers, body)
                },
            ),
        );
    }
    let base = serve(router.with_state(state.clone())).await;
    (state, base)
}

async fn flexiroam_connection(app: &TestApp, base: &str, token: &str) -> pb::Connection {
    connect(
        app,
        "flexiroam",
        json!({"base_url": base}),
        &[("token", token)],
    )
    .await
}

#[tokio::test]
async fn flexiroam_verifies_with_a_session_token_and_refuses_a_wrong_one() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = flexiroam_server().await;
    let good = flexiroam_connection(&app, &base, TOKEN).await;
    let v = verify(&app, &good.id).await;
    assert_eq!(
        v.status(),
        pb::ConnectionStatus::Active,
        "{:?}",
        v.verification_error
    );
    // VerifyConnection reads the cheap first resource, the offered plans.
    assert_eq!(
        state.lock().unwrap().calls.first().map(|c| c.0),
        Some("user/contract/plan/v1")
    );
    let bad = flexiroam_connection(&app, &base, "eyJ.lapsed-session.sig").await;
    verify_fails(&app, &bad.id, "eyJ.lapsed-session.sig").await;
}

#[tokio::test]
async fn flexiroam_syncs_plans_sims_and_sim_plans_in_full_each_run() {
    let Some(app) = spawn_executing(Backend::Sqlite).await else {
        return;
    };
    let (state, base) = flexiroam_server().await;
    let conn = flexiroam_connection(&app, &base, TOKEN).await;
    let sync = sync_of(&app, &conn.id, &["data_plans", "sims", "sim_plans"]).await;
    run_ok(&app, &sync.id).await;
    let (plans, sims, sim_plans) = {
        let s = state.lock().unwrap();
        for path in [
            "user/contract/plan/v1",
            "product/inventory/view/v1",
            "plan/inventory/view/v1",
        ] {
            let bodies: Vec<&Value> = s
                .calls
                .iter()
                .filter(|c| c.0 == path)
                .map(|c| &c.1)
                .collect();
            assert!(!bodies.is_empty(), "{path} was not read");
            // Lists are POSTs whose (empty) body asks for no filter.
            assert!(
                bodies.iter().all(|b| **b == json!({})),
                "{path}: {bodies:?}"
            );
        }
        (s.data_plans.clone(), s.sims.clone(), s.sim_plans.clone())
    };
    assert_landed(&app, "data_plans", &plans, &["plan_code"]).await;
    assert_landed(&app, "sims", &sims, &["sku"]).await;
    assert_landed(&app, "sim_plans", &sim_plans, &["plan_uid"]).await;

    // Read in full: an unloaded plan leaves the table, a started one changes.
    {
        let mut s = state.lock().unwrap();
        s.sim_plans.remove(3);
        s.sim_plans[1]["status"] = json!("Active");
        s.sim_plans[1]["start_date"] = json!("2024-06-02 10:15:00");
        s.sims.push(sim(4));
    }
    run_ok(&app, &sync.id).await;
    let (plans, sims, sim_plans) = {
        let s = state.lock().unwrap();
        (s.data_plans.clone(), s.sims.clone(), s.sim_plans.clone())
    };
    assert_landed(&app, "data_plans", &plans, &["plan_code"]).await;
    assert_landed(&app, "sims", &sims, &["sku"]).await;
    assert_landed(&app, "sim_plans", &sim_plans, &["plan_uid"]).await;
}
