//! List semantics shared by every list RPC: filters, sort, offset paging,
//! keyset page tokens that stay stable under concurrent inserts.

use std::collections::{HashMap, HashSet};

use tributary::pb::{self, ConnectionStatus};

use crate::{
    both,
    helpers::{TestApp, expect_violation, json_struct},
};

both!(
    offset_pages_are_consistent,
    search_is_case_insensitive_and_literal,
    token_paging_misses_nothing_while_rows_are_inserted,
    tokens_are_bound_to_their_filters,
    limits_are_checked,
    users_map_names_the_principals,
    totals_follow_every_write,
);

// These create sqlite connections: their servers need --allow-local-files.
both!(
    spawn = crate::helpers::spawn_with_local_files;
    sort_and_order,
    filters_or_within_and_across,
);

async fn create(app: &TestApp, name: &str, provider: &str) -> pb::Connection {
    let config = match provider {
        "sqlite" => serde_json::json!({"path": "/tmp/none.db"}),
        _ => serde_json::json!({}),
    };
    app.connections()
        .create_connection(pb::CreateConnectionRequest {
            name: name.into(),
            provider: provider.into(),
            config: Some(json_struct(config)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

fn list(q: &str) -> pb::ListConnectionsRequest {
    pb::ListConnectionsRequest {
        q: q.into(),
        ..Default::default()
    }
}

async fn offset_pages_are_consistent(app: TestApp) {
    for i in 0..23 {
        create(&app, &format!("conn {i:02}"), "faker").await;
    }
    let mut c = app.connections();
    let mut seen = Vec::new();
    for (offset, expect_len, expect_next) in [(0, 10, true), (10, 10, true), (20, 3, false)] {
        let page = c
            .list_connections(pb::ListConnectionsRequest {
                limit: Some(10),
                offset: Some(offset),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.total, 23);
        assert_eq!((page.limit, page.offset), (10, offset));
        assert_eq!(page.connections.len(), expect_len);
        assert_eq!(page.has_next, expect_next);
        assert_eq!(page.next_page_token.is_empty(), !expect_next);
        seen.extend(page.connections.into_iter().map(|c| c.name));
    }
    let expected: Vec<String> = (0..23).map(|i| format!("conn {i:02}")).collect();
    assert_eq!(seen, expected, "sorted by name, no overlap, no gap");
    let past = c
        .list_connections(pb::ListConnectionsRequest {
            offset: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(past.connections.is_empty() && !past.has_next && past.total == 23);
    let default = c
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default.limit, 50);
}

async fn sort_and_order(app: TestApp) {
    let b = create(&app, "bravo", "sqlite").await;
    let a = create(&app, "alpha", "faker").await;
    let c3 = create(&app, "charlie", "faker").await;
    let mut c = app.connections();
    c.verify_connection(pb::VerifyConnectionRequest {
        connection_id: c3.id.clone(),
        as_destination: false,
    })
    .await
    .unwrap();
    c.disable_connection(pb::DisableConnectionRequest {
        connection_id: a.id.clone(),
    })
    .await
    .unwrap();
    let names = |r: pb::ListConnectionsResponse| {
        r.connections
            .into_iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
    };
    let sorted = |by: &str, order: &str| pb::ListConnectionsRequest {
        sort_by: by.into(),
        order: order.into(),
        ..Default::default()
    };
    assert_eq!(
        names(
            c.list_connections(sorted("", ""))
                .await
                .unwrap()
                .into_inner()
        ),
        ["alpha", "bravo", "charlie"]
    );
    assert_eq!(
        names(
            c.list_connections(sorted("name", "desc"))
                .await
                .unwrap()
                .into_inner()
        ),
        ["charlie", "bravo", "alpha"]
    );
    assert_eq!(
        names(
            c.list_connections(sorted("created_at", "asc"))
                .await
                .unwrap()
                .into_inner()
        ),
        ["bravo", "alpha", "charlie"]
    );
    assert_eq!(
        names(
            c.list_connections(sorted("provider", "asc"))
                .await
                .unwrap()
                .into_inner()
        )[2],
        "bravo"
    );
    // Never-verified connections sort first ascending, on both engines.
    assert_eq!(
        names(
            c.list_connections(sorted("last_verified_at", "desc"))
                .await
                .unwrap()
                .into_inner()
        )[0],
        "charlie"
    );
    // status: active < disabled < needs_verification
    assert_eq!(
        names(
            c.list_connections(sorted("status", "asc"))
                .await
                .unwrap()
                .into_inner()
        ),
        ["charlie", "alpha", "bravo"]
    );
    expect_violation(c.list_connections(sorted("colour", "")).await, "sort_by");
    expect_violation(
        c.list_connections(sorted("name", "sideways")).await,
        "order",
    );
    let _ = b;
}

async fn filters_or_within_and_across(app: TestApp) {
    let f1 = create(&app, "f1", "faker").await;
    create(&app, "f2", "faker").await;
    create(&app, "s1", "sqlite").await;
    let mut c = app.connections();
    c.disable_connection(pb::DisableConnectionRequest {
        connection_id: f1.id.clone(),
    })
    .await
    .unwrap();
    let count = |r: pb::ListConnectionsResponse| (r.total, r.connections.len() as i64);
    let both_providers = pb::ListConnectionsRequest {
        providers: vec!["faker".into(), "sqlite".into()],
        ..Default::default()
    };
    assert_eq!(
        count(
            c.list_connections(both_providers)
                .await
                .unwrap()
                .into_inner()
        ),
        (3, 3)
    );
    let faker_disabled = pb::ListConnectionsRequest {
        providers: vec!["faker".into()],
        statuses: vec![ConnectionStatus::Disabled.into()],
        ..Default::default()
    };
    let r = c
        .list_connections(faker_disabled)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.total, 1);
    assert_eq!(r.connections[0].id, f1.id);
    let statuses = pb::ListConnectionsRequest {
        statuses: vec![
            ConnectionStatus::Disabled.into(),
            ConnectionStatus::NeedsVerification.into(),
        ],
        ..Default::default()
    };
    assert_eq!(
        count(c.list_connections(statuses).await.unwrap().into_inner()),
        (3, 3)
    );
    let none = pb::ListConnectionsRequest {
        providers: vec!["sqlite".into()],
        q: "f".into(),
        ..Default::default()
    };
    assert_eq!(
        count(c.list_connections(none).await.unwrap().into_inner()),
        (0, 0)
    );
}

async fn search_is_case_insensitive_and_literal(app: TestApp) {
    create(&app, "Shopify EU", "faker").await;
    create(&app, "shopify_us", "faker").await;
    create(&app, "shopifyXus", "faker").await;
    create(&app, "100% real", "faker").await;
    let mut c = app.connections();
    let names = |r: pb::ListConnectionsResponse| {
        r.connections
            .into_iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            c.list_connections(list("SHOPIFY"))
                .await
                .unwrap()
                .into_inner()
        )
        .len(),
        3
    );
    // '_' and '%' are literal, not LIKE wildcards.
    assert_eq!(
        names(c.list_connections(list("y_u")).await.unwrap().into_inner()),
        ["shopify_us"]
    );
    assert_eq!(
        names(c.list_connections(list("0%")).await.unwrap().into_inner()),
        ["100% real"]
    );
    // The slug matches too ("shopify-eu").
    assert_eq!(
        names(c.list_connections(list("fy-e")).await.unwrap().into_inner()),
        ["Shopify EU"]
    );
}

async fn token_paging_misses_nothing_while_rows_are_inserted(app: TestApp) {
    let mut original = HashSet::new();
    for i in 0..60 {
        original.insert(create(&app, &format!("row {:03}", i * 2), "faker").await.id);
    }
    // A writer interleaves new rows (odd numbers) while a reader pages by token.
    let writer = {
        let c = app.connections();
        tokio::spawn(async move {
            let mut c = c;
            let mut ids = Vec::new();
            for i in 0..40 {
                let r = c
                    .create_connection(pb::CreateConnectionRequest {
                        name: format!("row {:03}", i * 2 + 1),
                        provider: "faker".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                ids.push(r.into_inner().id);
            }
            ids
        })
    };
    let mut c = app.connections();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut last_name = String::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_connections(pb::ListConnectionsRequest {
                limit: Some(7),
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        for conn in page.connections {
            assert!(
                conn.name > last_name,
                "order holds across pages: {} after {last_name}",
                conn.name
            );
            last_name = conn.name.clone();
            *seen.entry(conn.id).or_default() += 1;
        }
        if page.next_page_token.is_empty() {
            assert!(!page.has_next);
            break;
        }
        token = page.next_page_token;
    }
    let inserted = writer.await.unwrap();
    assert!(pages >= 9);
    assert!(seen.values().all(|&n| n == 1), "no row repeated");
    assert!(
        original.iter().all(|id| seen.contains_key(id)),
        "no row that existed throughout was missed"
    );
    assert!(
        seen.keys()
            .all(|id| original.contains(id) || inserted.contains(id))
    );
}

async fn tokens_are_bound_to_their_filters(app: TestApp) {
    for i in 0..5 {
        create(&app, &format!("x{i}"), "faker").await;
    }
    let mut c = app.connections();
    let first = c
        .list_connections(pb::ListConnectionsRequest {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    // Same token, other filters or sort: refused.
    let changed = pb::ListConnectionsRequest {
        limit: Some(2),
        q: "x".into(),
        page_token: first.next_page_token.clone(),
        ..Default::default()
    };
    expect_violation(c.list_connections(changed).await, "page_token");
    let resorted = pb::ListConnectionsRequest {
        limit: Some(2),
        order: "desc".into(),
        page_token: first.next_page_token.clone(),
        ..Default::default()
    };
    expect_violation(c.list_connections(resorted).await, "page_token");
    // A tampered token is refused too.
    let mut forged = first.next_page_token.clone();
    forged.insert(3, 'A');
    expect_violation(
        c.list_connections(pb::ListConnectionsRequest {
            page_token: forged,
            ..Default::default()
        })
        .await,
        "page_token",
    );
    // The limit may change between pages; the next page follows the first.
    let second = c
        .list_connections(pb::ListConnectionsRequest {
            limit: Some(3),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        second
            .connections
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["x2", "x3", "x4"]
    );
    assert!(!second.has_next);
}

async fn limits_are_checked(app: TestApp) {
    let mut c = app.connections();
    for bad in [0, 101, -5] {
        expect_violation(
            c.list_connections(pb::ListConnectionsRequest {
                limit: Some(bad),
                ..Default::default()
            })
            .await,
            "limit",
        );
    }
    expect_violation(
        c.list_connections(pb::ListConnectionsRequest {
            offset: Some(-1),
            ..Default::default()
        })
        .await,
        "offset",
    );
    let s = expect_violation(
        c.list_connections(pb::ListConnectionsRequest {
            limit: Some(0),
            offset: Some(-1),
            ..Default::default()
        })
        .await,
        "limit",
    );
    assert!(
        crate::helpers::violations(&s).contains(&"offset".to_string()),
        "every bad field is reported"
    );
    c.list_connections(pb::ListConnectionsRequest {
        limit: Some(100),
        ..Default::default()
    })
    .await
    .unwrap();
    c.list_connections(pb::ListConnectionsRequest {
        limit: Some(1),
        ..Default::default()
    })
    .await
    .unwrap();
}

async fn users_map_names_the_principals(app: TestApp) {
    let editor = app.key_with_role(pb::ApiKeyRole::Editor).await;
    let made = app
        .connections_as(&editor)
        .create_connection(pb::CreateConnectionRequest {
            name: "by editor".into(),
            provider: "faker".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let r = app
        .connections()
        .list_connections(list(""))
        .await
        .unwrap()
        .into_inner();
    let name = r
        .users
        .get(&made.created_by)
        .expect("created_by is in the users map");
    assert!(name.contains("Editor key"), "{name}");
    assert!(
        !r.users.values().any(|n| n.contains(&editor)),
        "never a key"
    );
}

/// Totals are cached under a list version (see store::counts): every kind of
/// write must show in the next total, filtered or not.
async fn totals_follow_every_write(app: TestApp) {
    let total = |r: pb::ListConnectionsRequest| {
        let mut c = app.connections();
        async move { c.list_connections(r).await.unwrap().into_inner().total }
    };
    let disabled = || pb::ListConnectionsRequest {
        statuses: vec![ConnectionStatus::Disabled.into()],
        ..Default::default()
    };
    let named = |q: &str| pb::ListConnectionsRequest {
        q: q.into(),
        ..Default::default()
    };
    assert_eq!(total(list("")).await, 0);
    let a = create(&app, "alpha", "faker").await;
    assert_eq!(total(list("")).await, 1);
    let b = create(&app, "beta", "faker").await;
    assert_eq!((total(list("")).await, total(disabled()).await), (2, 0));
    let mut c = app.connections();
    c.disable_connection(pb::DisableConnectionRequest {
        connection_id: a.id.clone(),
    })
    .await
    .unwrap();
    assert_eq!(total(disabled()).await, 1);
    // The slug stays "beta", so a search for the new name proves the recount.
    assert_eq!(total(named("gamma")).await, 0);
    c.update_connection(pb::UpdateConnectionRequest {
        connection_id: b.id.clone(),
        name: Some("gamma".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(total(named("gamma")).await, 1);
    c.delete_connection(pb::DeleteConnectionRequest {
        connection_id: a.id,
    })
    .await
    .unwrap();
    assert_eq!((total(list("")).await, total(disabled()).await), (1, 0));
}

/// A write through one replica shows in the totals another replica serves,
/// as soon as its change notification lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_are_fresh_across_replicas() {
    let Some(a) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
        return;
    };
    let b = crate::helpers::spawn_replica(&a).await;
    let total_on_b = || {
        let mut c = b.connections();
        async move {
            c.list_connections(list(""))
                .await
                .unwrap()
                .into_inner()
                .total
        }
    };
    crate::helpers::wait_until_following(&b).await;
    assert_eq!(total_on_b().await, 0);
    for (name, expect) in [("one", 1), ("two", 2)] {
        create(&a, name, "faker").await;
        crate::helpers::eventually(std::time::Duration::from_secs(2), || async {
            (total_on_b().await == expect).then_some(())
        })
        .await;
    }
}
