//! scry's Prometheus exporter: a script's maps as metrics.
//!
//! - [`labels`]: label names for each map's keys, taken from the script's source
//!   (`@syscalls[comm]` → `comm`, `@x[args->fd]` → `fd`, anything else `key0`, `key1`, ...).
//! - [`format`]: the Prometheus text exposition format (version 0.0.4) of
//!   [`scry_output::MapDump`]s, with a cardinality limit.
//! - [`server`]: a minimal HTTP/1.1 responder for `GET /metrics` on a `std::net` listener.
//!
//! The maps are rendered once per refresh period by the caller ([`Exporter::update`]) and
//! every scrape returns the latest rendering, so a scrape costs one copy of a string and
//! never touches the kernel.

pub mod format;
pub mod labels;
pub mod server;

pub use format::{Exporter, Rendered};
pub use labels::{LabelNames, label_names};
pub use server::{Server, ServerError, Shared};
