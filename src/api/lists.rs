//! Decoding of list requests (filters, sort, page) and encoding of their
//! continuation tokens. Tokens are bound to the filters by a fingerprint.

use crate::{
    api::convert::{enum_list, from_pb},
    domain::{
        check_text,
        connection::MAX_NAME_LEN,
        enums::{ConnectionStatus, RunStatus, SyncStatus, TriggeredBy},
        limits::MAX_FILTER_VALUES,
        paging::{self, Cursor, Order, Page, TokenCodec, fingerprint},
    },
    error::{Error, Violations},
    pb,
    store::{connections, runs, syncs},
};

/// A list response: the page's items, encoded, plus the paging fields
/// every list carries (total, limit, offset, has_next, next_page_token, users).
macro_rules! list_response {
    ($resp:ident { $items:ident }, $q:expr, $page:expr, $tokens:expr, $users:expr, $encode:expr) => {
        $crate::pb::$resp {
            next_page_token: $q.next_token($tokens, $page.next.as_ref()),
            total: $page.total,
            limit: $q.page.limit as i32,
            offset: $q.page.offset as i32,
            has_next: $page.has_next,
            users: $users,
            $items: $page.items.into_iter().map($encode).collect(),
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

/// An optional enum of a request: UNSPECIFIED is None; an undefined number a violation.
pub fn optional_enum<T: Copy>(all: &[T], n: i32, field: &str) -> Result<Option<T>, Error> {
    from_pb(all, n).map_err(|_| crate::error::invalid(field, format!("{n} is not a defined value")))
}
