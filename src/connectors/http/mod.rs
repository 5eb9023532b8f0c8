//! The http_api declarative engine: a manifest (MANIFEST.md: base URL,
//! auth, paginator, resources, incremental bounds) read into Arrow
//! batches by `source::HttpSource`, for the `http_api` provider and every
//! SaaS provider whose catalog file carries one. The parts below the
//! source are pure or single-request: manifest rules, templates, body
//! selectors, endpoint URLs, paginators, records to Arrow, date bounds,
//! one authenticated request, the per-connection limiter.

pub mod bounds;
pub mod client;
pub mod endpoint;
pub mod json_path;
pub mod limiter;
pub mod manifest;
pub mod oauth1;
pub mod paginate;
pub mod records;
pub mod source;
pub mod template;
