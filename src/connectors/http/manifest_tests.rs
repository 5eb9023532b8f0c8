use serde_json::json;

use super::*;

fn github_like() -> Value {
    json!({
        "client": {
            "base_url": "https://api.example.com/v1/",
            "headers": {"Accept": "application/json"},
            "params": {"per_page": "100"},
            "auth": {"type": "bearer", "token": "s3cret-token"},
            "paginator": {"type": "header_link"}
        },
        "resources": [
            {
                "name": "issues",
                "endpoint": {"path": "repos/{config.owner}/issues", "params": {"state": "all"}, "data_selector": "$"},
                "primary_key": ["id"],
                "incremental": {"cursor_path": "updated_at", "start_param": "since", "initial_value": "2024-01-01T00:00:00Z"}
            },
            {
                "name": "comments",
                "endpoint": {
                    "path": "issues/{issue_number}/comments",
                    "data_selector": "data.items",
                    "paginator": {"type": "offset", "limit": 50, "total_path": "meta.total"}
                },
                "parent": {"resource": "issues", "field": "number", "placeholder": "issue_number"}
            }
        ]
    })
}

fn violations(config: Value) -> Vec<Violation> {
    Manifest::parse(&config).expect_err("the manifest should be refused")
}

fn paths(config: Value) -> Vec<String> {
    violations(config).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn parses_a_full_manifest_with_defaults_filled() {
    let m = Manifest::parse(&github_like()).expect("valid manifest");
    assert_eq!(m.client.base_url, "https://api.example.com/v1/");
    assert_eq!(
        m.client.params.get("per_page").map(String::as_str),
        Some("100")
    );
    assert_eq!(
        m.client.auth,
        Some(Auth::Bearer {
            token: Secret("s3cret-token".into())
        })
    );
    let issues = m.resource("issues").unwrap();
    assert_eq!(
        issues.endpoint.placeholders().unwrap(),
        vec!["config.owner"]
    );
    assert_eq!(
        issues.paginator(&m.client),
        &Paginator::HeaderLink {
            links_next_key: "next".into()
        }
    );
    assert_eq!(
        issues.incremental.as_ref().unwrap().start_param.as_deref(),
        Some("since")
    );
    let comments = m.resource("comments").unwrap();
    assert_eq!(
        comments.paginator(&m.client),
        &Paginator::Offset {
            limit: 50,
            offset: 0,
            offset_param: "offset".into(),
            limit_param: "limit".into(),
            total_path: Some("meta.total".into()),
            maximum_offset: None,
            stop_after_empty_page: true,
        }
    );
    assert_eq!(
        comments.parent.as_ref().unwrap().placeholder(),
        "issue_number"
    );
}

#[test]
fn every_auth_kind_parses_and_dlt_aliases_are_accepted() {
    let cases = [
        (
            json!({"type": "api_key", "name": "X-API-Key", "api_key": "k"}),
            Auth::ApiKey {
                name: "X-API-Key".into(),
                location: KeyLocation::Header,
                value: Secret("k".into()),
            },
        ),
        (
            json!({"type": "api_key", "name": "apikey", "location": "query", "value": "k"}),
            Auth::ApiKey {
                name: "apikey".into(),
                location: KeyLocation::Query,
                value: Secret("k".into()),
            },
        ),
        (
            json!({"type": "http_basic", "username": "u", "password": "p"}),
            Auth::Basic {
                username: "u".into(),
                password: Secret("p".into()),
            },
        ),
        (
            json!({"type": "oauth2_client_credentials", "access_token_url": "https://auth.example.com/token", "client_id": "c", "client_secret": "s", "scopes": ["read"]}),
            Auth::Oauth2ClientCredentials {
                token_url: "https://auth.example.com/token".into(),
                client_id: "c".into(),
                client_secret: Secret("s".into()),
                scopes: vec!["read".into()],
                header: "Authorization".into(),
                prefix: "Bearer ".into(),
            },
        ),
        (
            json!({"type": "oauth2_refresh_token", "token_url": "https://auth.example.com/token", "client_id": "c", "refresh_token": "r"}),
            Auth::Oauth2RefreshToken {
                token_url: "https://auth.example.com/token".into(),
                client_id: "c".into(),
                client_secret: None,
                refresh_token: Secret("r".into()),
                scopes: vec![],
                header: "Authorization".into(),
                prefix: "Bearer ".into(),
            },
        ),
    ];
    for (auth, want) in cases {
        let mut config = github_like();
        config["client"]["auth"] = auth;
        assert_eq!(Manifest::parse(&config).unwrap().client.auth, Some(want));
    }
}

#[test]
fn secrets_never_show_in_debug_or_violations() {
    let m = Manifest::parse(&github_like()).unwrap();
    assert!(!format!("{m:?}").contains("s3cret-token"));
    let mut config = github_like();
    config["client"]["auth"] = json!({"type": "bearer", "token": 12345678});
    let v = violations(config);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].0, "client.auth");
    assert!(!v[0].1.contains("12345678"), "{v:?}");
}

#[test]
fn serde_errors_land_on_the_deepest_field() {
    let mut c = github_like();
    c["resources"][1]["endpoint"]["paginator"] = json!({"type": "offset"});
    assert_eq!(paths(c), vec!["resources.1.endpoint.paginator.limit"]);

    let mut c = github_like();
    c["resources"][0]["endpoint"]["data_selectr"] = json!("x");
    assert_eq!(paths(c), vec!["resources.0.endpoint.data_selectr"]);

    let mut c = github_like();
    c["client"]["paginator"] = json!({"type": "pages"});
    let v = violations(c);
    assert_eq!(v[0].0, "client.paginator.type");
    assert!(v[0].1.contains("page_number"), "{v:?}");

    let mut c = github_like();
    c["client"].as_object_mut().unwrap().remove("base_url");
    assert_eq!(paths(c), vec!["client.base_url"]);

    let mut c = github_like();
    c["resources"][0]["incremental"] = json!({"start_param": "since"});
    assert_eq!(paths(c), vec!["resources.0.incremental.cursor_path"]);

    let mut c = github_like();
    c["extra"] = json!(1);
    assert_eq!(paths(c), vec!["extra"]);

    assert_eq!(
        paths(json!({"client": {"base_url": "https://x"}})),
        vec!["resources"]
    );
    assert_eq!(paths(json!([])), vec![""]);
}

#[test]
fn rule_violations_name_their_fields() {
    let mut c = github_like();
    c["client"]["base_url"] = json!("ftp://example.com");
    c["client"]["headers"] = json!({"Bad Header": "x"});
    c["resources"][0]["name"] = json!("Issues");
    c["resources"][0]["endpoint"]["path"] = json!("repos/{owner/issues");
    c["resources"][0]["endpoint"]["data_selector"] = json!("data..items");
    c["resources"][1]["endpoint"]["paginator"] = json!({"type": "offset", "limit": 0});
    c["resources"][1]["parent"] = json!({"resource": "nope", "field": "number"});
    let mut got = paths(c);
    got.sort();
    assert_eq!(
        got,
        vec![
            "client.base_url",
            "client.headers.Bad Header",
            "resources.0.endpoint.data_selector",
            "resources.0.endpoint.path",
            "resources.0.name",
            "resources.1.endpoint.paginator.limit",
            // {issue_number}: no longer the parent's placeholder.
            "resources.1.endpoint.path",
            "resources.1.parent.placeholder",
            "resources.1.parent.resource",
        ]
    );
}

#[test]
fn duplicate_names_cycles_and_endless_paginators_are_refused() {
    let mut c = github_like();
    c["resources"][1]["name"] = json!("issues");
    // The second `issues` is also its own parent now.
    assert_eq!(
        paths(c),
        vec!["resources.1.name", "resources.1.parent.resource"]
    );

    let mut c = github_like();
    c["resources"][0]["endpoint"]["path"] = json!("comments/{id}/issues");
    c["resources"][0]["parent"] = json!({"resource": "comments", "field": "id"});
    assert_eq!(
        paths(c),
        vec!["resources.0.parent.resource", "resources.1.parent.resource"]
    );

    let mut c = github_like();
    c["client"]["paginator"] = json!({"type": "page_number", "stop_after_empty_page": false});
    assert_eq!(paths(c), vec!["client.paginator.stop_after_empty_page"]);

    let mut c = github_like();
    c["client"]["auth"] = json!({"type": "oauth2_client_credentials", "token_url": "not a url", "client_id": "", "client_secret": "s"});
    assert_eq!(
        paths(c),
        vec!["client.auth.token_url", "client.auth.client_id"]
    );
}

#[test]
fn placeholders_pair_their_braces() {
    assert_eq!(placeholders("a/{x}/b/{y}").unwrap(), vec!["x", "y"]);
    assert_eq!(placeholders("plain").unwrap(), Vec::<&str>::new());
    assert!(placeholders("a/{x").is_err());
    assert!(placeholders("a/x}").is_err());
    assert!(placeholders("a/{}").is_err());
    assert!(placeholders("a/{x{y}}").is_err());
}
