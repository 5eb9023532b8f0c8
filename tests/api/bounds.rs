//! Bounds on what requests carry (issue 9): page tokens are checked with
//! their full tag.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use tributary::pb;

use crate::{
    both,
    helpers::{TestApp, expect_violation, violations},
};

both!(forged_page_tokens_are_refused,);

// === page tokens (item 8) ===

async fn forged_page_tokens_are_refused(app: TestApp) {
    for name in ["a", "b", "c"] {
        app.faker_connection(name).await;
    }
    let mut c = app.connections();
    let list = |token: String| pb::ListConnectionsRequest {
        limit: Some(1),
        page_token: token,
        ..Default::default()
    };
    let token = c
        .list_connections(list(String::new()))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    let page = c
        .list_connections(list(token.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.connections[0].name, "b", "the real token works");

    let (body, tag) = token.split_once('.').unwrap();
    let tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
    assert_eq!(tag.len(), 16);
    let mut flipped = tag.clone();
    flipped[15] ^= 0x01;
    let mut longer = tag.clone();
    longer.push(0);
    // A one-byte tag was accepted whenever it matched the real one's first
    // byte: one forgery in 256 tries.
    for forged in [&tag[..1], &tag[..15], &flipped[..], &longer[..], &[][..]] {
        let forged = format!("{body}.{}", URL_SAFE_NO_PAD.encode(forged));
        let st = expect_violation(c.list_connections(list(forged)).await, "page_token");
        assert_eq!(violations(&st), ["page_token"]);
    }
}
