use reqwest::header::{HeaderValue, LINK};
use serde_json::json;

use super::*;

fn start() -> Request {
    Request::new(
        Url::parse("https://api.example.com/v1/items?fixed=1").unwrap(),
        vec![("q".into(), "a b".into())],
    )
}

fn respond(body: Value, records: usize) -> (HeaderMap, Value, usize) {
    (HeaderMap::new(), body, records)
}

fn step(p: &Paginator, req: &Request, r: &(HeaderMap, Value, usize)) -> Option<Request> {
    let resp = Response {
        status: 200,
        headers: &r.0,
        body: &r.1,
        records: r.2,
    };
    next(p, req, &resp).expect("a next step")
}

fn page_number(total_path: Option<&str>, maximum_page: Option<u64>, stop: bool) -> Paginator {
    Paginator::PageNumber {
        page_param: "page".into(),
        base_page: 1,
        total_path: total_path.map(Into::into),
        maximum_page,
        stop_after_empty_page: stop,
    }
}

#[test]
fn page_number_counts_up_and_stops_after_an_empty_page() {
    let p = page_number(None, None, true);
    let r1 = first(&p, start());
    assert_eq!(r1.param("page"), Some("1"));
    assert_eq!(r1.param("q"), Some("a b"), "the resource's own params stay");
    let r2 = step(&p, &r1, &respond(json!([1, 2]), 2)).unwrap();
    assert_eq!(r2.param("page"), Some("2"));
    assert_eq!(
        r2.full_url().as_str(),
        "https://api.example.com/v1/items?fixed=1&q=a+b&page=2"
    );
    assert_eq!(step(&p, &r2, &respond(json!([]), 0)), None);
}

#[test]
fn page_number_stops_at_the_total_pages_or_the_maximum_page() {
    let p = page_number(Some("meta.pages"), None, true);
    let r1 = first(&p, start());
    let r2 = step(&p, &r1, &respond(json!({"meta": {"pages": 2}}), 5)).unwrap();
    assert_eq!(r2.param("page"), Some("2"));
    assert_eq!(
        step(&p, &r2, &respond(json!({"meta": {"pages": "2"}}), 5)),
        None
    );

    let p = page_number(None, Some(2), false);
    let r2 = step(&p, &first(&p, start()), &respond(json!([]), 0)).unwrap();
    assert_eq!(
        r2.param("page"),
        Some("2"),
        "an empty page does not stop it"
    );
    assert_eq!(step(&p, &r2, &respond(json!([1]), 1)), None);

    let p = page_number(Some("meta.pages"), None, true);
    let (h, b) = (HeaderMap::new(), json!({"meta": {}}));
    let resp = Response {
        status: 200,
        headers: &h,
        body: &b,
        records: 3,
    };
    assert!(
        next(&p, &first(&p, start()), &resp)
            .unwrap_err()
            .contains("meta.pages")
    );
}

#[test]
fn offset_adds_the_limit_until_the_total() {
    let p = Paginator::Offset {
        limit: 10,
        offset: 0,
        offset_param: "offset".into(),
        limit_param: "limit".into(),
        total_path: Some("total".into()),
        maximum_offset: None,
        stop_after_empty_page: true,
    };
    let r1 = first(&p, start());
    assert_eq!(
        (r1.param("offset"), r1.param("limit")),
        (Some("0"), Some("10"))
    );
    let r2 = step(&p, &r1, &respond(json!({"total": 25}), 10)).unwrap();
    let r3 = step(&p, &r2, &respond(json!({"total": 25}), 10)).unwrap();
    assert_eq!(
        (r3.param("offset"), r3.param("limit")),
        (Some("20"), Some("10"))
    );
    assert_eq!(step(&p, &r3, &respond(json!({"total": 25}), 5)), None);
    assert_eq!(
        step(&p, &r1, &respond(json!({"total": 25}), 0)),
        None,
        "empty page"
    );
}

#[test]
fn offset_without_total_stops_at_the_maximum_offset() {
    let p = Paginator::Offset {
        limit: 5,
        offset: 0,
        offset_param: "skip".into(),
        limit_param: "take".into(),
        total_path: None,
        maximum_offset: Some(10),
        stop_after_empty_page: false,
    };
    let r2 = step(&p, &first(&p, start()), &respond(json!([]), 5)).unwrap();
    assert_eq!(r2.param("skip"), Some("5"));
    assert_eq!(step(&p, &r2, &respond(json!([]), 5)), None);
}

#[test]
fn cursor_passes_the_body_token_until_it_is_missing_or_empty() {
    let p = Paginator::Cursor {
        cursor_path: "meta.next_cursor".into(),
        cursor_param: "cursor".into(),
        cursor_body_path: None,
    };
    let r1 = first(&p, start());
    assert_eq!(r1, start());
    let r2 = step(
        &p,
        &r1,
        &respond(json!({"meta": {"next_cursor": "abc=="}}), 3),
    )
    .unwrap();
    assert_eq!(r2.param("cursor"), Some("abc=="));
    let r3 = step(&p, &r2, &respond(json!({"meta": {"next_cursor": 77}}), 3)).unwrap();
    assert_eq!(r3.param("cursor"), Some("77"));
    assert_eq!(r3.params.len(), 2, "the cursor replaces the previous one");
    assert_eq!(
        step(&p, &r3, &respond(json!({"meta": {"next_cursor": ""}}), 3)),
        None
    );
    assert_eq!(
        step(&p, &r3, &respond(json!({"meta": {"next_cursor": null}}), 3)),
        None
    );
    assert_eq!(step(&p, &r3, &respond(json!({"meta": {}}), 3)), None);
}

#[test]
fn header_link_follows_rel_next_among_several_links() {
    let p = Paginator::HeaderLink {
        links_next_key: "next".into(),
    };
    let mut headers = HeaderMap::new();
    headers.append(
        LINK,
        HeaderValue::from_static(
            r#"<https://api.example.com/v1/items?page_info=p1,x&limit=50>; rel="previous", <https://api.example.com/v1/items?page_info=n2&limit=50>; rel="next""#,
        ),
    );
    let r = (headers, json!([]), 50);
    let r2 = step(&p, &start(), &r).unwrap();
    assert_eq!(
        r2.url.as_str(),
        "https://api.example.com/v1/items?page_info=n2&limit=50"
    );
    assert!(r2.params.is_empty(), "the link carries the whole query");

    // A relative link, `rel` among others and unquoted, in a second header line.
    let mut headers = HeaderMap::new();
    headers.append(
        LINK,
        HeaderValue::from_static(r#"</v1/items?page=9>; rel="last""#),
    );
    headers.append(
        LINK,
        HeaderValue::from_static("</v1/items?page=3>; title=\"a;b, c\"; REL=next"),
    );
    let r3 = step(&p, &r2, &(headers, json!([]), 50)).unwrap();
    assert_eq!(r3.url.as_str(), "https://api.example.com/v1/items?page=3");

    let mut headers = HeaderMap::new();
    headers.append(
        LINK,
        HeaderValue::from_static(r#"<https://x/1>; rel="prev first""#),
    );
    assert_eq!(step(&p, &r3, &(headers, json!([]), 50)), None);
    assert_eq!(
        step(&p, &r3, &respond(json!([]), 50)),
        None,
        "no Link header"
    );
}

#[test]
fn link_header_parsing_keeps_commas_inside_urls_and_quotes() {
    let links = parse_link_header(
        r#"<https://a/?x=1,2>; rel="next prefetch"; title="x, y", junk, <https://b/>;rel=last"#,
    );
    assert_eq!(
        links,
        vec![
            Link {
                target: "https://a/?x=1,2".into(),
                rels: vec!["next".into(), "prefetch".into()]
            },
            Link {
                target: "https://b/".into(),
                rels: vec!["last".into()]
            },
        ]
    );
    assert_eq!(parse_link_header(""), vec![]);
    assert_eq!(parse_link_header("garbage"), vec![]);
}

#[test]
fn json_link_follows_the_body_url_absolute_or_relative() {
    let p = Paginator::JsonLink {
        next_url_path: "links.next".into(),
    };
    let r2 = step(
        &p,
        &start(),
        &respond(
            json!({"links": {"next": "https://api.example.com/v1/items?page%5Bcursor%5D=z"}}),
            1,
        ),
    )
    .unwrap();
    assert_eq!(
        r2.url.as_str(),
        "https://api.example.com/v1/items?page%5Bcursor%5D=z"
    );
    assert!(r2.params.is_empty());
    let r3 = step(
        &p,
        &r2,
        &respond(json!({"links": {"next": "/v1/items?p=3"}}), 1),
    )
    .unwrap();
    assert_eq!(r3.url.as_str(), "https://api.example.com/v1/items?p=3");
    assert_eq!(
        step(&p, &r3, &respond(json!({"links": {"next": null}}), 1)),
        None
    );
}

#[test]
fn none_and_no_content_end_the_resource() {
    assert_eq!(
        step(&Paginator::None, &start(), &respond(json!([1]), 1)),
        None
    );
    let p = Paginator::Cursor {
        cursor_path: "next".into(),
        cursor_param: "c".into(),
        cursor_body_path: None,
    };
    let (h, b) = (HeaderMap::new(), json!({"next": "x"}));
    let resp = Response {
        status: 204,
        headers: &h,
        body: &b,
        records: 0,
    };
    assert_eq!(next(&p, &start(), &resp).unwrap(), None);
}

#[test]
fn a_body_cursor_goes_into_the_post_body() {
    let p = Paginator::Cursor {
        cursor_path: "next_page_token".into(),
        cursor_param: "unused".into(),
        cursor_body_path: Some("page_token".into()),
    };
    let mut r1 = start();
    r1.method = crate::connectors::http::manifest::Method::Post;
    r1.body = Some(json!({"max_results": 2}));
    let r2 = step(&p, &r1, &respond(json!({"next_page_token": "t2"}), 2)).expect("a next page");
    assert_eq!(r2.body, Some(json!({"max_results": 2, "page_token": "t2"})));
    assert_eq!(r2.params, r1.params, "the query is left as it was");
    assert_eq!(step(&p, &r2, &respond(json!({}), 2)), None);
}
