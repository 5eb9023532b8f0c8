//! Decoding of list requests (filters, sort, page), the page budget of
//! their responses, and the encoding of their continuation tokens. Tokens
//! are bound to the filters by a fingerprint.

use prost::Message;

use crate::{
    api::{
        MAX_MESSAGE_BYTES,
        convert::{enum_list, from_pb},
    },
    domain::{
        check_text,
        connection::MAX_NAME_LEN,
        enums::{ConnectionStatus, RunStatus, SyncStatus, TriggeredBy},
        limits::MAX_FILTER_VALUES,
        paging::{self, Cursor, Order, Page, TokenCodec, fingerprint},
    },
    error::{Error, Violations},
    pb,
    store::{connections, list::PageOf, runs, syncs},
};

/// Bytes of items one list response carries at most. The rest of what a
/// message may take (MAX_MESSAGE_BYTES, 4 MiB) is headroom for what comes
/// with the items: the users map (at most two names of at most 1 KiB per
/// item), the token and the counts. The largest item the input bounds of
/// `domain::limits` allow is far smaller, so every page holds at least one.
pub const PAGE_BUDGET: usize = MAX_MESSAGE_BYTES - 1024 * 1024;

/// Items per page of the lists that take no limit (workspaces, API keys,
/// schema tables); the page budget may cut a page shorter.
pub const UNLIMITED_PAGE: u64 = 1000;

/// A page as it is sent: its items that fit the budget, encoded, and where
/// the next page starts.
pub struct Fitted<M> {
    pub items: Vec<M>,
    pub total: i64,
    pub has_next: bool,
    /// The cursor of the last item sent, when another page follows.
    pub next: Option<Cursor>,
}

/// Encodes the items of `page` while they fit `PAGE_BUDGET`. A page cut
/// short says so (has_next) and continues right after its last item, in
/// offset and token mode alike; it always holds one item, so paging advances.
pub fn fit<T, M: Message>(page: PageOf<T>, encode: impl FnMut(T) -> M) -> Fitted<M> {
    fit_within(page, PAGE_BUDGET, encode)
}

fn fit_within<T, M: Message>(
    page: PageOf<T>,
    budget: usize,
    mut encode: impl FnMut(T) -> M,
) -> Fitted<M> {
    let PageOf {
        items: rows,
        mut cursors,
        total,
        mut has_next,
    } = page;
    let mut items = Vec::with_capacity(rows.len());
    let mut spent = 0usize;
    for row in rows {
        let m = encode(row);
        // As an element of a repeated field: tag, length prefix, message.
        let len = m.encoded_len();
        let len = 1 + prost::encoding::encoded_len_varint(len as u64) + len;
        if !items.is_empty() && spent + len > budget {
            has_next = true;
            break;
        }
        spent += len;
        items.push(m);
    }
    cursors.truncate(items.len());
    let next = if has_next { cursors.pop() } else { None };
    Fitted {
        items,
        total,
        has_next,
        next,
    }
}

/// A list response: the page's encoded items, plus the paging fields
/// every list carries (total, limit, offset, has_next, next_page_token, users).
macro_rules! list_response {
    ($resp:ident { $items:ident }, $q:expr, $page:expr, $tokens:expr, $users:expr) => {
        $crate::pb::$resp {
            next_page_token: $q.next_token($tokens, $page.next.as_ref()),
            total: $page.total,
            limit: $q.page.limit as i32,
            offset: $q.page.offset as i32,
            has_next: $page.has_next,
            users: $users,
            $items: $page.items,
        }
    };
}
pub(crate) use list_response;

/// A decoded list request: what to fetch, and how to sign its next token.
pub struct ListQuery<F, S> {
    pub filter: F,
    pub sort: S,
    pub order: Order,
    pub page: Page,
    pub fingerprint: String,
}

impl<F, S> ListQuery<F, S> {
    pub fn next_token(&self, codec: &TokenCodec, next: Option<&Cursor>) -> String {
        next.map(|c| codec.encode(&self.fingerprint, c))
            .unwrap_or_default()
    }
}

fn sorted(mut v: Vec<String>) -> String {
    v.sort();
    v.join(",")
}

/// Checks the free text of a list's filters: the search string (no longer
/// than any name can be; SQLite also caps LIKE patterns) and the values of
/// repeated string filters.
fn check_filter_text(q: &str, lists: &[(&str, &[String])], v: &mut Violations) {
    if q.chars().count() > MAX_NAME_LEN {
        v.add("q", format!("must be at most {MAX_NAME_LEN} characters"));
    }
    check_text(q, "q", v);
    for (field, values) in lists {
        check_filter_count(field, values.len(), v);
        for (i, value) in values.iter().enumerate() {
            check_text(value, &format!("{field}[{i}]"), v);
        }
    }
}

/// A repeated filter names at most MAX_FILTER_VALUES values (each one is a
/// bound parameter of the query).
fn check_filter_count(field: &str, n: usize, v: &mut Violations) {
    if n > MAX_FILTER_VALUES {
        v.add(
            field,
            format!("must hold at most {MAX_FILTER_VALUES} values (holds {n})"),
        );
    }
}

fn order(s: &str, v: &mut Violations) -> Order {
    Order::parse(s).unwrap_or_else(|| {
        v.add("order", "must be asc or desc");
        Order::Asc
    })
}

fn page(
    limit: Option<i32>,
    offset: Option<i32>,
    token: &str,
    default: u64,
    codec: &TokenCodec,
    fp: &str,
    mut v: Violations,
) -> Result<Page, Error> {
    match paging::parse(limit, offset, token, default, 100, codec, fp) {
        Ok(p) => v.check().map(|_| p),
        Err(Error::InvalidArgument(more)) => {
            v.0.extend(more.0);
            Err(Error::InvalidArgument(v))
        }
        Err(e) => Err(e),
    }
}

pub fn connections(
    r: &pb::ListConnectionsRequest,
    codec: &TokenCodec,
) -> Result<ListQuery<connections::Filter, connections::Sort>, Error> {
    let mut v = Violations::new();
    check_filter_text(&r.q, &[("providers", &r.providers)], &mut v);
    check_filter_count("statuses", r.statuses.len(), &mut v);
    let statuses = enum_list(ConnectionStatus::ALL, &r.statuses, "statuses", &mut v);
    let sort = connections::Sort::parse(&r.sort_by).unwrap_or_else(|| {
        v.add(
            "sort_by",
            "must be one of name, created_at, updated_at, last_verified_at, status, provider",
        );
        connections::Sort::Name
    });
    let order = order(&r.order, &mut v);
    let fp = fingerprint(&[
        "connections",
        &r.q,
        &sorted(r.providers.clone()),
        &sorted(r.statuses.iter().map(i32::to_string).collect()),
        &format!("{sort:?}"),
        order.as_str(),
    ]);
    let page = page(r.limit, r.offset, &r.page_token, 50, codec, &fp, v)?;
    let filter = connections::Filter {
        q: r.q.clone(),
        providers: r.providers.clone(),
        statuses,
    };
    Ok(ListQuery {
        filter,
        sort,
        order,
        page,
        fingerprint: fp,
    })
}

pub fn syncs(
    r: &pb::ListSyncsRequest,
    codec: &TokenCodec,
) -> Result<ListQuery<syncs::Filter, syncs::Sort>, Error> {
    let mut v = Violations::new();
    check_filter_text(
        &r.q,
        &[
            ("connection_ids", &r.connection_ids),
            ("provider_keys", &r.provider_keys),
        ],
        &mut v,
    );
    check_filter_count("statuses", r.statuses.len(), &mut v);
    let statuses = enum_list(SyncStatus::ALL, &r.statuses, "statuses", &mut v);
    let sort = syncs::Sort::parse(&r.sort_by).unwrap_or_else(|| {
        v.add(
            "sort_by",
            "must be one of name, created_at, updated_at, status, last_success_at",
        );
        syncs::Sort::Name
    });
    let order = order(&r.order, &mut v);
    let fp = fingerprint(&[
        "syncs",
        &r.q,
        &sorted(r.connection_ids.clone()),
        &sorted(r.statuses.iter().map(i32::to_string).collect()),
        &sorted(r.provider_keys.clone()),
        &format!("{sort:?}"),
        order.as_str(),
    ]);
    let page = page(r.limit, r.offset, &r.page_token, 50, codec, &fp, v)?;
    let filter = syncs::Filter {
        q: r.q.clone(),
        connection_ids: r.connection_ids.clone(),
        statuses,
        provider_keys: r.provider_keys.clone(),
    };
    Ok(ListQuery {
        filter,
        sort,
        order,
        page,
        fingerprint: fp,
    })
}

pub fn runs(
    r: &pb::ListRunsRequest,
    codec: &TokenCodec,
) -> Result<ListQuery<runs::Filter, ()>, Error> {
    let mut v = Violations::new();
    check_filter_count("statuses", r.statuses.len(), &mut v);
    check_filter_count("triggered_by", r.triggered_by.len(), &mut v);
    let statuses = enum_list(RunStatus::ALL, &r.statuses, "statuses", &mut v);
    let triggered_by = enum_list(TriggeredBy::ALL, &r.triggered_by, "triggered_by", &mut v);
    for (field, id) in [
        ("sync_id", &r.sync_id),
        ("attempt_root_run_id", &r.attempt_root_run_id),
    ] {
        if !id.is_empty() && !crate::domain::is_uuid(id) {
            v.add(field, "must be a UUID");
        }
    }
    let fp = fingerprint(&[
        "runs",
        &r.sync_id,
        &r.attempt_root_run_id,
        &sorted(r.statuses.iter().map(i32::to_string).collect()),
        &sorted(r.triggered_by.iter().map(i32::to_string).collect()),
    ]);
    let page = page(r.limit, r.offset, &r.page_token, 50, codec, &fp, v)?;
    let filter = runs::Filter {
        sync_id: (!r.sync_id.is_empty()).then(|| r.sync_id.clone()),
        statuses,
        triggered_by,
        attempt_root_run_id: (!r.attempt_root_run_id.is_empty())
            .then(|| r.attempt_root_run_id.clone()),
    };
    Ok(ListQuery {
        filter,
        sort: (),
        order: Order::Desc,
        page,
        fingerprint: fp,
    })
}

pub fn sync_runs(
    r: &pb::ListSyncRunsRequest,
    codec: &TokenCodec,
) -> Result<ListQuery<runs::Filter, ()>, Error> {
    let fp = fingerprint(&["sync_runs", &r.sync_id]);
    let page = page(
        r.limit,
        r.offset,
        &r.page_token,
        25,
        codec,
        &fp,
        Violations::new(),
    )?;
    let filter = runs::Filter {
        sync_id: Some(r.sync_id.clone()),
        ..Default::default()
    };
    Ok(ListQuery {
        filter,
        sort: (),
        order: Order::Desc,
        page,
        fingerprint: fp,
    })
}

/// A list without limit, offset or filters but `parts` (which the token is
/// bound to): pages of UNLIMITED_PAGE items, continued by page_token.
fn unlimited(parts: &[&str], token: &str, codec: &TokenCodec) -> Result<ListQuery<(), ()>, Error> {
    keyset(parts, token, None, UNLIMITED_PAGE, UNLIMITED_PAGE, codec)
}

/// A list in keyset order only, its token bound to `parts`: pages of
/// `limit` items (default `default`, at most `max`).
fn keyset(
    parts: &[&str],
    token: &str,
    limit: Option<i32>,
    default: u64,
    max: u64,
    codec: &TokenCodec,
) -> Result<ListQuery<(), ()>, Error> {
    let fp = fingerprint(parts);
    let page = paging::parse(limit, None, token, default, max, codec, &fp)?;
    Ok(ListQuery {
        filter: (),
        sort: (),
        order: Order::Asc,
        page,
        fingerprint: fp,
    })
}

pub fn workspaces(
    r: &pb::ListWorkspacesRequest,
    codec: &TokenCodec,
) -> Result<ListQuery<(), ()>, Error> {
    unlimited(&["workspaces"], &r.page_token, codec)
}

pub fn api_keys(
    r: &pb::ListApiKeysRequest,
    codec: &TokenCodec,
) -> Result<ListQuery<(), ()>, Error> {
    let revoked = r.include_revoked.to_string();
    unlimited(&["api_keys", &revoked], &r.page_token, codec)
}

/// Items of a ListFiles page unless page_size says otherwise.
pub const FILES_PAGE: u64 = 50;
pub const MAX_FILES_PAGE: u64 = 1000;

/// ListFiles: `page_size` 1..=1000 (0 is the default), a token bound to the
/// connection and the folder.
pub fn files(r: &pb::ListFilesRequest, codec: &TokenCodec) -> Result<ListQuery<(), ()>, Error> {
    if r.page_size < 0 || r.page_size as u64 > MAX_FILES_PAGE {
        return Err(crate::error::invalid(
            "page_size",
            format!("must be between 1 and {MAX_FILES_PAGE} (0: {FILES_PAGE})"),
        ));
    }
    let limit = (r.page_size > 0).then_some(r.page_size);
    keyset(
        &["files", &r.connection_id, &r.path],
        &r.page_token,
        limit,
        FILES_PAGE,
        MAX_FILES_PAGE,
        codec,
    )
}

pub fn schema_tables(
    r: &pb::ListSchemaTablesRequest,
    codec: &TokenCodec,
) -> Result<ListQuery<(), ()>, Error> {
    let system = r.include_system.to_string();
    unlimited(
        &["schema_tables", &r.connection_id, &system],
        &r.page_token,
        codec,
    )
}

/// An optional enum of a request: UNSPECIFIED is None; an undefined number a violation.
pub fn optional_enum<T: Copy>(all: &[T], n: i32, field: &str) -> Result<Option<T>, Error> {
    from_pb(all, n).map_err(|_| crate::error::invalid(field, format!("{n} is not a defined value")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::paging::SortValue;

    fn page(sizes: &[usize], has_next: bool) -> PageOf<usize> {
        PageOf::new(sizes.to_vec(), 99, has_next, |n| Cursor {
            value: SortValue::Int(*n as i64),
            id: format!("id{n}"),
        })
    }

    /// An item that encodes to about `n` bytes.
    fn item(n: usize) -> pb::Workspace {
        pb::Workspace {
            name: "x".repeat(n),
            ..Default::default()
        }
    }

    #[test]
    fn a_page_stops_early_after_the_last_item_that_fits() {
        // Three of ~400 bytes fit 1000 bytes; the fourth would not.
        let f = fit_within(page(&[401, 402, 403, 404, 405], false), 1300, item);
        assert_eq!(f.items.len(), 3);
        assert!(f.has_next);
        assert_eq!(f.next.map(|c| c.id), Some("id403".into()));
        assert_eq!(f.total, 99);
        // All fit: the store's continuation stands.
        let f = fit_within(page(&[1, 2], true), 1300, item);
        assert_eq!((f.items.len(), f.has_next), (2, true));
        assert_eq!(f.next.map(|c| c.id), Some("id2".into()));
        let f = fit_within(page(&[1, 2], false), 1300, item);
        assert!(!f.has_next && f.next.is_none());
        // One item over the budget is still sent, alone.
        let f = fit_within(page(&[5000, 1], false), 1300, item);
        assert_eq!(f.items.len(), 1);
        assert_eq!(f.next.map(|c| c.id), Some("id5000".into()));
        let f = fit_within(page(&[], false), 1300, item);
        assert!(f.items.is_empty() && !f.has_next && f.next.is_none());
    }
}
