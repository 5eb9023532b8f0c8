//! Paginators as pure functions: the first request of a resource, and from
//! a response the next request or None when the resource is read through.
//! The engine sends what these return; no I/O here.

use reqwest::{Url, header::HeaderMap};
use serde_json::Value;

use super::{
    json_path,
    manifest::{Method, Paginator},
};

/// One page's request: a URL (with whatever query it carries), the query
/// parameters appended to it, and a POST's JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub params: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Request {
    pub fn new(url: Url, params: Vec<(String, String)>) -> Self {
        Self {
            method: Method::Get,
            url,
            params,
            body: None,
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` set to `value`, replacing any value it had.
    pub fn set(&mut self, name: &str, value: String) {
        match self.params.iter_mut().find(|(k, _)| k == name) {
            Some(p) => p.1 = value,
            None => self.params.push((name.to_string(), value)),
        }
    }

    /// The URL sent: `url` with `params` appended to its query.
    pub fn full_url(&self) -> Url {
        let mut url = self.url.clone();
        if !self.params.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.params);
        }
        url
    }

    /// A request of the URL `link` names (relative to this request's), with
    /// no parameters of its own: a next link carries the whole query.
    fn follow(&self, link: &str) -> Result<Self, String> {
        let url = self
            .full_url()
            .join(link)
            .map_err(|e| format!("the next-page link is not a URL ({e})"))?;
        Ok(Self {
            url,
            params: Vec::new(),
            ..self.clone()
        })
    }
}

/// What the paginator looks at in a response.
pub struct Response<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a Value,
    /// Records the page held (after the data selector).
    pub records: usize,
}

/// The first page's request: `request` with the paginator's start values.
pub fn first(paginator: &Paginator, mut request: Request) -> Request {
    match paginator {
        Paginator::PageNumber {
            page_param,
            base_page,
            ..
        } => request.set(page_param, base_page.to_string()),
        Paginator::Offset {
            limit,
            offset,
            offset_param,
            limit_param,
            ..
        } => {
            request.set(offset_param, offset.to_string());
            request.set(limit_param, limit.to_string());
        }
        Paginator::Cursor { .. }
        | Paginator::HeaderLink { .. }
        | Paginator::JsonLink { .. }
        | Paginator::None => {}
    }
    request
}

/// The request after `request`, given its `response`; None at the end.
/// Err when the response breaks the paginator's contract (a total that is
/// not a number, a next link that is not a URL).
pub fn next(
    paginator: &Paginator,
    request: &Request,
    response: &Response,
) -> Result<Option<Request>, String> {
    if response.status == 204 {
        return Ok(None);
    }
    let empty = response.records == 0;
    match paginator {
        Paginator::PageNumber {
            page_param,
            base_page,
            total_path,
            maximum_page,
            stop_after_empty_page,
        } => {
            if empty && *stop_after_empty_page {
                return Ok(None);
            }
            let page = current(request, page_param, *base_page)? + 1;
            // total_path: the number of pages, counted from base_page.
            if let Some(path) = total_path
                && page >= base_page + total(response.body, path)?
            {
                return Ok(None);
            }
            // maximum_page: the last page requested.
            if maximum_page.is_some_and(|max| page > max) {
                return Ok(None);
            }
            let mut next = request.clone();
            next.set(page_param, page.to_string());
            Ok(Some(next))
        }
        Paginator::Offset {
            limit,
            offset,
            offset_param,
            total_path,
            maximum_offset,
            stop_after_empty_page,
            ..
        } => {
            if empty && *stop_after_empty_page {
                return Ok(None);
            }
            let at = current(request, offset_param, *offset)? + limit;
            // total_path: the number of records.
            if let Some(path) = total_path
                && at >= total(response.body, path)?
            {
                return Ok(None);
            }
            // maximum_offset: the first offset not requested.
            if maximum_offset.is_some_and(|max| at >= max) {
                return Ok(None);
            }
            let mut next = request.clone();
            next.set(offset_param, at.to_string());
            Ok(Some(next))
        }
        Paginator::Cursor {
            cursor_path,
            cursor_param,
            cursor_body_path,
        } => Ok(
            json_path::select_text(response.body, cursor_path).map(|token| {
                let mut next = request.clone();
                match cursor_body_path {
                    Some(at) => {
                        let body = next.body.get_or_insert(Value::Null);
                        json_path::set(body, at, Value::String(token));
                    }
                    None => next.set(cursor_param, token),
                }
                next
            }),
        ),
        Paginator::HeaderLink { links_next_key } => {
            let link = response
                .headers
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(parse_link_header)
                .find(|l| {
                    l.rels
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(links_next_key))
                });
            link.map(|l| request.follow(&l.target)).transpose()
        }
        Paginator::JsonLink { next_url_path } => {
            json_path::select_text(response.body, next_url_path)
                .map(|link| request.follow(&link))
                .transpose()
        }
        Paginator::None => Ok(None),
    }
}

/// The number `param` holds in `request`, or `start` when absent.
fn current(request: &Request, param: &str, start: u64) -> Result<u64, String> {
    match request.param(param) {
        None => Ok(start),
        Some(v) => v
            .parse()
            .map_err(|_| format!("query parameter {param} is not a whole number")),
    }
}

/// The whole number at `path` in `body` (a number or its text).
fn total(body: &Value, path: &str) -> Result<u64, String> {
    let bad = || format!("the response has no whole number at {path} (the paginator's total_path)");
    match json_path::select(body, path) {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// One link of an RFC 8288 `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub target: String,
    /// The relation types of its `rel` parameter (space-separated there).
    pub rels: Vec<String>,
}

/// The links of one `Link` header value: `<url>; rel="next", <url>;
/// rel=last`. Commas inside `<…>` or quoted values do not split links; a
/// malformed link is skipped up to the next comma.
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            return links;
        }
        let target = rest
            .strip_prefix('<')
            .and_then(|r| r.split_once('>'))
            .map(|(t, after)| (t.to_string(), after));
        let Some((target, after)) = target else {
            rest = skip_link(rest);
            continue;
        };
        rest = after;
        let mut rels = Vec::new();
        loop {
            rest = rest.trim_start();
            let Some(r) = rest.strip_prefix(';') else {
                break;
            };
            let (name, value, r) = link_param(r);
            rest = r;
            if name.eq_ignore_ascii_case("rel") && rels.is_empty() {
                rels = value.split_whitespace().map(str::to_string).collect();
            }
        }
        links.push(Link { target, rels });
        rest = skip_link(rest);
    }
}

/// One `; name=value` parameter (after its `;`): name, unquoted value, rest.
fn link_param(s: &str) -> (&str, String, &str) {
    let s = s.trim_start();
    let end = s.find(['=', ';', ',']).unwrap_or(s.len());
    let name = s[..end].trim();
    let Some(after_eq) = s[end..].strip_prefix('=') else {
        return (name, String::new(), &s[end..]);
    };
    let v = after_eq.trim_start();
    if let Some(quoted) = v.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.extend(chars.next().map(|(_, c)| c)),
                '"' => return (name, value, &quoted[i + 1..]),
                c => value.push(c),
            }
        }
        (name, value, "")
    } else {
        let end = v.find([';', ',']).unwrap_or(v.len());
        (name, v[..end].trim().to_string(), &v[end..])
    }
}

/// `s` from just past the next comma that is outside `<…>` and quotes.
fn skip_link(s: &str) -> &str {
    let (mut angle, mut quote) = (false, false);
    for (i, c) in s.char_indices() {
        match c {
            '<' if !quote => angle = true,
            '>' if !quote => angle = false,
            '"' if !angle => quote = !quote,
            ',' if !angle && !quote => return &s[i + 1..],
            _ => {}
        }
    }
    ""
}

#[cfg(test)]
#[path = "paginate_tests.rs"]
mod tests;
