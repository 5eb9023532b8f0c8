//! The http_api declarative engine: a manifest (base URL, auth, paginator,
//! resources) read into Arrow batches. So far its parts: the manifest and
//! its validation, body selectors, endpoint URLs, paginators, the
//! records-to-Arrow inference and one authenticated GET (see
//! README-next.md for what is left).

pub mod client;
pub mod endpoint;
pub mod json_path;
pub mod limiter;
pub mod manifest;
pub mod paginate;
pub mod records;
pub mod source;
pub mod template;
