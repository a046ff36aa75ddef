//! The one place where scry's pipeline is assembled.
//!
//! - [`kernel`]: [`LiveKernel`], the analysis's view of the running kernel (tracefs).
//! - [`compile`]: source text → [`Compiled`](scry_codegen::Compiled), or rendered diagnostics.
//! - [`session`]: creating maps, loading, attaching, the event loop, END, the final map dump.
//! - [`decode`]: kernel bytes → output values and map dumps.
//! - [`verifier`]: verifier logs mapped back to script locations.
//! - [`listing`]: `-l`/`-lv` probe listings.

pub mod compile;
pub mod decode;
pub mod flamegraph;
pub mod kernel;
pub mod listing;
pub mod session;
pub mod uprobe;
pub mod usdt;
pub mod verifier;

pub use compile::{CompileError, CompileOptions, Output, compile};
pub use kernel::LiveKernel;
pub use session::{MapObserver, RunError, RunOptions, run, run_observed};
