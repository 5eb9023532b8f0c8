use super::*;

// Every expected base string and signature below was computed apart from
// this code, with Python's standard library:
//   enc = lambda s: urllib.parse.quote(s, safe='-._~')
//   norm = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in params))
//   base = "&".join([method.upper(), enc(base_uri), enc(norm)])
//   base64.b64encode(hmac.new((enc(cs) + "&" + enc(ts)).encode(), base.encode(),
//                             hashlib.sha256).digest())
// with params = the six oauth_* parameters + the URL's decoded query pairs.

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// The quoted value of `name` in an `OAuth …` header.
fn field<'a>(header: &'a str, name: &str) -> &'a str {
    let start = header.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let len = header[start..].find('"').unwrap();
    &header[start..start + len]
}

#[test]
fn signs_a_netsuite_record_request_with_its_query() {
    let u = url(
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/customer\
         ?limit=5&q=lastModifiedDate%20AFTER%20%222024-01-01%22",
    );
    let header = authorization(
        "GET",
        &u,
        "1234567_SB1",
        "ck-abc",
        "cs secret+1",
        "tok~id",
        "ts/secret",
        "nonce123",
        1_700_000_000,
    );
    assert_eq!(
        header,
        "OAuth realm=\"1234567_SB1\", oauth_consumer_key=\"ck-abc\", oauth_token=\"tok~id\", \
         oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1700000000\", \
         oauth_nonce=\"nonce123\", oauth_version=\"1.0\", \
         oauth_signature=\"GP80TV9w%2F1RmAVI%2FtFePNA08%2B9oSorVXRanBiF4wgiM%3D\""
    );
}

#[test]
fn signs_a_suiteql_post_without_query() {
    let u = url("https://1234567.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql");
    let header = authorization(
        "POST",
        &u,
        "1234567",
        "consumer",
        "csecret",
        "token",
        "tsecret",
        "abcdef",
        1_700_000_001,
    );
    assert_eq!(
        field(&header, "oauth_signature"),
        encode("ZJCCCSbYgn7m+2NDd4z9uHpG+mKrQvP60NS2G1L7/Uc=")
    );
    assert_eq!(field(&header, "oauth_signature_method"), "HMAC-SHA256");
    assert_eq!(field(&header, "oauth_version"), "1.0");
}

#[test]
fn base_string_encodes_spaces_plus_and_tilde_and_keeps_a_non_default_port() {
    // `+` in a query is a form-encoded space, `%2B` a plus; `~` is unreserved.
    let u = url("http://Example.COM:8080/a/b?q=a+b&x=1%2B2&t=~x");
    let oauth = [
        ("oauth_consumer_key", "k"),
        ("oauth_token", "t"),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_timestamp", "1"),
        ("oauth_nonce", "n"),
        ("oauth_version", "1.0"),
    ];
    assert_eq!(
        base_string("get", &u, &oauth),
        "GET&http%3A%2F%2Fexample.com%3A8080%2Fa%2Fb&oauth_consumer_key%3Dk%26oauth_nonce%3Dn\
         %26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1%26oauth_token%3Dt\
         %26oauth_version%3D1.0%26q%3Da%2520b%26t%3D~x%26x%3D1%252B2"
    );
    let header = authorization("get", &u, "r", "k", "s", "t", "u", "n", 1);
    assert_eq!(
        field(&header, "oauth_signature"),
        encode("Sejr4tiNZR5lLMj5ZX3B5QlEfnRQsVT3xoLNfrLOGTo=")
    );
}

#[test]
fn encode_keeps_only_the_unreserved_set() {
    assert_eq!(encode("a b+c~d-e.f_g"), "a%20b%2Bc~d-e.f_g");
    assert_eq!(encode("/=&\"é"), "%2F%3D%26%22%C3%A9");
}

#[test]
fn query_parameters_change_the_signature() {
    let sign = |u: &str| {
        let h = authorization("GET", &url(u), "r", "k", "s", "t", "u", "n", 1);
        field(&h, "oauth_signature").to_string()
    };
    assert_ne!(
        sign("https://h/p?offset=0"),
        sign("https://h/p?offset=1000")
    );
    assert_ne!(sign("https://h/p"), sign("https://h/p?offset=0"));
}

#[test]
fn the_realm_is_sent_but_not_signed() {
    let u = url("https://h/p?limit=1");
    let a = authorization("GET", &u, "111", "k", "s", "t", "u", "n", 1);
    let b = authorization("GET", &u, "222_SB1", "k", "s", "t", "u", "n", 1);
    assert_eq!(field(&a, "realm"), "111");
    assert_eq!(field(&b, "realm"), "222_SB1");
    assert_eq!(field(&a, "oauth_signature"), field(&b, "oauth_signature"));
}
