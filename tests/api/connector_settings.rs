//! Seed 004's connector settings on a connection (timezone, date_format,
//! rate limit, variables): kept through Create, Get and Update, bounded,
//! secret variable values never returned, locked variables admin-only.

use sea_orm::{ConnectionTrait, Database, Statement};
use tonic::Code;
use tributary::pb::{self, ConnectionVariable, RateLimitUnit};

use crate::{
    both,
    helpers::{TestApp, expect_code, expect_violation, json_struct, logs, violations},
};

both!(
    every_setting_round_trips,
    secret_values_are_never_returned_and_kept,
    every_bound_is_a_field_violation,
    locked_variables_need_an_admin,
);

const SECRET: &str = "sk_live_connector_settings_do_not_echo";

fn var(key: &str, value: &str) -> ConnectionVariable {
    ConnectionVariable {
        key: key.into(),
        value: value.into(),
        ..Default::default()
    }
}

fn secret_var(key: &str, value: &str) -> ConnectionVariable {
    ConnectionVariable {
        secret: true,
        ..var(key, value)
    }
}

fn create_req(name: &str, variables: Vec<ConnectionVariable>) -> pb::CreateConnectionRequest {
    pb::CreateConnectionRequest {
        name: name.into(),
        provider: "faker".into(),
        config: Some(json_struct(serde_json::json!({}))),
        variables,
        ..Default::default()
    }
}

async fn get(app: &TestApp, id: &str) -> pb::Connection {
    app.connections()
        .get_connection(pb::GetConnectionRequest {
            connection_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn update(id: &str) -> pb::UpdateConnectionRequest {
    pb::UpdateConnectionRequest {
        connection_id: id.into(),
        ..Default::default()
    }
}

/// The stored `variables` and `variables_ciphertext` of a connection, read
/// behind the server's back.
async fn stored_variables(app: &TestApp, id: &str) -> (String, Option<String>) {
    let url = app.database_url.clone().unwrap_or_else(|| {
        let db = app.data_dir.path().join("tributary.db");
        format!("sqlite://{}?mode=ro", db.display())
    });
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let sql = format!("SELECT variables, variables_ciphertext FROM connections WHERE id = '{id}'");
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    let out = (
        row.try_get("", "variables").unwrap(),
        row.try_get("", "variables_ciphertext").unwrap(),
    );
    db.close().await.unwrap();
    out
}

async fn every_setting_round_trips(app: TestApp) {
    let shop = ConnectionVariable {
        key: "shop_domain".into(),
        value: "acme.myshopify.com".into(),
        label: "Shop domain".into(),
        secret: false,
        has_value: true,
        locked: false,
        configurable: true,
        required: true,
        advanced: false,
    };
    let page_size = ConnectionVariable {
        key: "page_size".into(),
        value: String::new(),
        label: "Page size".into(),
        secret: false,
        has_value: false,
        locked: false,
        configurable: false,
        required: false,
        advanced: true,
    };
    let created = app
        .connections()
        .create_connection(pb::CreateConnectionRequest {
            timezone: "Europe/Berlin".into(),
            date_format: "%Y-%m-%d".into(),
            rate_limit_unit: RateLimitUnit::Minute.into(),
            rate_limit_duration: 120,
            ..create_req("shop", vec![shop.clone(), page_size.clone()])
        })
        .await
        .unwrap()
        .into_inner();
    for c in [created.clone(), get(&app, &created.id).await] {
        assert_eq!(c.timezone, "Europe/Berlin");
        assert_eq!(c.date_format, "%Y-%m-%d");
        assert_eq!(c.rate_limit_unit(), RateLimitUnit::Minute);
        assert_eq!(c.rate_limit_duration, 120);
        assert_eq!(c.variables, vec![shop.clone(), page_size.clone()]);
    }

    // Absent fields are left as they are.
    let renamed = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            name: Some("shop 2".into()),
            ..update(&created.id)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.timezone, "Europe/Berlin");
    assert_eq!(renamed.rate_limit_duration, 120);
    assert_eq!(renamed.variables.len(), 2);

    let changed = ConnectionVariable {
        value: "other.myshopify.com".into(),
        locked: true,
        ..shop.clone()
    };
    let updated = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            timezone: Some("America/New_York".into()),
            date_format: Some("%d/%m/%Y %H:%M".into()),
            rate_limit_unit: Some(RateLimitUnit::Hour.into()),
            rate_limit_duration: Some(1_000_000),
            variables: vec![changed.clone()],
            ..update(&created.id)
        })
        .await
        .unwrap()
        .into_inner();
    for c in [updated, get(&app, &created.id).await] {
        assert_eq!(c.timezone, "America/New_York");
        assert_eq!(c.date_format, "%d/%m/%Y %H:%M");
        assert_eq!(c.rate_limit_unit(), RateLimitUnit::Hour);
        assert_eq!(c.rate_limit_duration, 1_000_000);
        assert_eq!(c.variables, vec![changed.clone()]);
        // A variables change may break or mend the connection.
        assert_eq!(c.status(), pb::ConnectionStatus::NeedsVerification);
    }

    // "", UNSPECIFIED and 0 clear; replace_variables with none clears them.
    let cleared = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            timezone: Some(String::new()),
            date_format: Some(String::new()),
            rate_limit_unit: Some(RateLimitUnit::Unspecified.into()),
            rate_limit_duration: Some(0),
            replace_variables: true,
            ..update(&created.id)
        })
        .await
        .unwrap()
        .into_inner();
    for c in [cleared, get(&app, &created.id).await] {
        assert_eq!(c.timezone, "");
        assert_eq!(c.date_format, "");
        assert_eq!(c.rate_limit_unit(), RateLimitUnit::Unspecified);
        assert_eq!(c.rate_limit_duration, 0);
        assert!(c.variables.is_empty());
    }
}

async fn secret_values_are_never_returned_and_kept(app: TestApp) {
    let created = app
        .connections()
        .create_connection(create_req(
            "secretive",
            vec![secret_var("api_token", SECRET), var("region", "eu")],
        ))
        .await
        .unwrap()
        .into_inner();
    let hidden = ConnectionVariable {
        has_value: true,
        ..secret_var("api_token", "")
    };
    assert_eq!(created.variables[0], hidden);
    assert!(created.variables[1].has_value);

    // An update that leaves the secret's value out keeps it.
    let updated = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            variables: vec![secret_var("api_token", ""), var("region", "us")],
            ..update(&created.id)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.variables[0], hidden);
    assert_eq!(updated.variables[1].value, "us");
    // And so does one that does not touch the variables.
    let renamed = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            name: Some("renamed".into()),
            ..update(&created.id)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.variables[0], hidden);

    // A secret created without a value has none.
    let empty = app
        .connections()
        .create_connection(create_req("no value", vec![secret_var("api_token", "")]))
        .await
        .unwrap()
        .into_inner();
    assert!(!empty.variables[0].has_value);

    let by_slug = app
        .connections()
        .get_connection_by_slug(pb::GetConnectionBySlugRequest {
            slug: renamed.slug.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let listed = app
        .connections()
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    // A refused update (a bad sibling) does not echo the secret either.
    let refused = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            variables: vec![secret_var("api_token", SECRET), var("Bad", "")],
            ..update(&created.id)
        })
        .await;
    let refused = expect_violation(refused, "variables[1].key");
    let every_response = format!(
        "{created:?} {updated:?} {renamed:?} {by_slug:?} {listed:?} {:?} {refused:?}",
        get(&app, &created.id).await
    );
    assert!(!every_response.contains(SECRET));
    // At rest, the value is sealed.
    let (plain, sealed) = stored_variables(&app, &created.id).await;
    assert!(
        plain.contains("api_token") && !plain.contains(SECRET),
        "{plain}"
    );
    let sealed = sealed.expect("the secret value is stored");
    assert!(!sealed.contains(SECRET));
    assert!(!logs().contains(SECRET));
}

async fn every_bound_is_a_field_violation(app: TestApp) {
    let c = app.connections();
    let long_label = "l".repeat(256);
    let vars = vec![
        var("ok_key", "1"),
        var("9starts_with_digit", ""),
        var("ok_key", "2"),
        var("big", &"x".repeat(16 * 1024 + 1)),
        ConnectionVariable {
            label: long_label.clone(),
            ..var("labelled", "")
        },
        var(&format!("k{}", "a".repeat(64)), ""),
        var("", ""),
    ];
    let s = expect_code(
        c.clone()
            .create_connection(pb::CreateConnectionRequest {
                timezone: "Mars/Olympus_Mons".into(),
                date_format: "%Y-%Q".into(),
                rate_limit_duration: 10,
                ..create_req("bad", vars.clone())
            })
            .await,
        Code::InvalidArgument,
    );
    let mut got = violations(&s);
    got.sort();
    let mut want = vec![
        "timezone",
        "date_format",
        "rate_limit_unit",
        "variables[1].key",
        "variables[2].key",
        "variables[3].value",
        "variables[4].label",
        "variables[5].key",
        "variables[6].key",
    ];
    want.sort();
    assert_eq!(got, want, "{}", s.message());

    let too_long = "%Y".repeat(33);
    for (req, field) in [
        (
            pb::CreateConnectionRequest {
                date_format: too_long,
                ..create_req("bad", vec![])
            },
            "date_format",
        ),
        (
            pb::CreateConnectionRequest {
                rate_limit_unit: RateLimitUnit::Second.into(),
                ..create_req("bad", vec![])
            },
            "rate_limit_duration",
        ),
        (
            pb::CreateConnectionRequest {
                rate_limit_unit: RateLimitUnit::Second.into(),
                rate_limit_duration: 1_000_001,
                ..create_req("bad", vec![])
            },
            "rate_limit_duration",
        ),
        (
            pb::CreateConnectionRequest {
                rate_limit_unit: RateLimitUnit::Second.into(),
                rate_limit_duration: -1,
                ..create_req("bad", vec![])
            },
            "rate_limit_duration",
        ),
        (
            pb::CreateConnectionRequest {
                rate_limit_unit: 9,
                rate_limit_duration: 1,
                ..create_req("bad", vec![])
            },
            "rate_limit_unit",
        ),
        (
            create_req("bad", (0..101).map(|i| var(&format!("v{i}"), "")).collect()),
            "variables",
        ),
    ] {
        expect_violation(c.clone().create_connection(req).await, field);
    }
    // Nothing was written by any refused create.
    let listed = c
        .clone()
        .list_connections(pb::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 0);

    // Update: the pair is checked against what is stored.
    let made = c
        .clone()
        .create_connection(pb::CreateConnectionRequest {
            rate_limit_unit: RateLimitUnit::Second.into(),
            rate_limit_duration: 5,
            ..create_req("ok", vec![])
        })
        .await
        .unwrap()
        .into_inner();
    for (req, field) in [
        (
            pb::UpdateConnectionRequest {
                rate_limit_unit: Some(RateLimitUnit::Unspecified.into()),
                ..update(&made.id)
            },
            // The stored duration still needs a unit.
            "rate_limit_unit",
        ),
        (
            pb::UpdateConnectionRequest {
                timezone: Some("Not/AZone".into()),
                ..update(&made.id)
            },
            "timezone",
        ),
        (
            pb::UpdateConnectionRequest {
                variables: vec![var("dup", ""), var("dup", "")],
                ..update(&made.id)
            },
            "variables[1].key",
        ),
    ] {
        expect_violation(c.clone().update_connection(req).await, field);
    }
    let after = get(&app, &made.id).await;
    assert_eq!(after.etag, made.etag, "a refused update wrote nothing");
    assert_eq!(after.rate_limit_unit(), RateLimitUnit::Second);
}

async fn locked_variables_need_an_admin(app: TestApp) {
    let editor = app.key_with_role(pb::ApiKeyRole::Editor).await;
    let as_editor = app.connections_as(&editor);
    let locked = |v: ConnectionVariable| ConnectionVariable { locked: true, ..v };

    // An editor may not add a locked variable; an admin may.
    let req = create_req(
        "locked",
        vec![locked(secret_var("api_token", SECRET)), var("free", "a")],
    );
    expect_code(
        as_editor.clone().create_connection(req.clone()).await,
        Code::PermissionDenied,
    );
    let made = app
        .connections()
        .create_connection(req)
        .await
        .unwrap()
        .into_inner();

    // Unchanged (the secret sent without its value, or with the same one —
    // which also shows the value was kept), the editor may edit the rest.
    for token in ["", SECRET, ""] {
        let ok = as_editor
            .clone()
            .update_connection(pb::UpdateConnectionRequest {
                variables: vec![locked(secret_var("api_token", token)), var("free", "b")],
                ..update(&made.id)
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ok.variables[1].value, "b");
    }

    // Changing its value, unlocking it or removing it is refused.
    for vars in [
        vec![locked(secret_var("api_token", "other"))],
        vec![secret_var("api_token", "")],
        vec![var("free", "c")],
    ] {
        let s = expect_code(
            as_editor
                .clone()
                .update_connection(pb::UpdateConnectionRequest {
                    variables: vars,
                    ..update(&made.id)
                })
                .await,
            Code::PermissionDenied,
        );
        assert!(s.message().contains("api_token"), "{}", s.message());
        assert!(!s.message().contains(SECRET));
    }
    let s = expect_code(
        as_editor
            .clone()
            .update_connection(pb::UpdateConnectionRequest {
                replace_variables: true,
                ..update(&made.id)
            })
            .await,
        Code::PermissionDenied,
    );
    assert!(s.message().contains("api_token"));
    assert_eq!(get(&app, &made.id).await.variables.len(), 2);

    // The admin may do all of it.
    let unlocked = app
        .connections()
        .update_connection(pb::UpdateConnectionRequest {
            variables: vec![secret_var("api_token", "rotated")],
            ..update(&made.id)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!unlocked.variables[0].locked);
    assert!(unlocked.variables[0].has_value);
    // Now unlocked, the editor may remove it.
    let emptied = as_editor
        .clone()
        .update_connection(pb::UpdateConnectionRequest {
            replace_variables: true,
            ..update(&made.id)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(emptied.variables.is_empty());
}
