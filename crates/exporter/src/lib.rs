//! scry's Prometheus exporter: a script's maps as metrics.
//!
//! - [`labels`]: label names for each map's keys, taken from the script's source
//!   (`@syscalls[comm]` → `comm`, `@x[args->fd]` → `fd`, anything else `key0`, `key1`, ...).
//! - [`format`]: the OpenMetrics text exposition of [`scry_output::MapDump`]s, encoded by
//!   the `prometheus-client` crate through its `Collector` trait, with a cardinality limit.
//! - [`server`]: `GET /metrics` over HTTP/1.1, served by the `tiny_http` crate.
//!
//! The maps are read once per refresh period by the caller, which hands them to
//! [`Exporter::update`] and stores the resulting [`Snapshot`] in a [`Shared`]; every scrape
//! encodes the latest snapshot, so a scrape never touches the kernel.

pub mod format;
pub mod labels;
pub mod server;

pub use format::{Exporter, Snapshot, Update};
pub use labels::{LabelNames, label_names};
pub use server::{Server, ServerError, Shared};
